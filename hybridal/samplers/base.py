"""The sampler interface: one narrow verb over what one scoring pass produced.

The engine runs a single inference pass over the candidate pool that yields whatever
the sampler declares in `requires`, then calls `select`. Samplers never touch the model,
so each is unit-testable on hand-made arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

# What a sampler may ask the scoring pass for.
PROBS = "probs"  # (N, C) softmax probabilities, model.eval()
LOG_PROBS = "log_probs"  # (N, C) log-softmax, for stable entropy
EMBEDDINGS = "embeddings"  # (N, D) input of the final classifier layer
LABELED_EMBEDDINGS = "labeled_embeddings"  # (L, D) the same for the labeled set
MC_PROBS = "mc_probs"  # (T, N, C) probabilities with dropout on
LABELED_LABELS = "labeled_labels"  # (M, L) 0/1 label matrix of the labelled set (multi-label samplers)


@dataclass
class PoolScores:
    """What the scoring pass computed for the candidates (rows align with `candidates`)."""

    candidates: np.ndarray  # pool indices scored, shape (N,)
    probs: Optional[np.ndarray] = None
    log_probs: Optional[np.ndarray] = None
    embeddings: Optional[np.ndarray] = None
    labeled_embeddings: Optional[np.ndarray] = None
    mc_probs: Optional[np.ndarray] = None
    labeled_labels: Optional[np.ndarray] = None


class Sampler(ABC):
    """Picks `n` distinct candidates. Ties are broken with the run's seeded generator."""

    name: ClassVar[str]
    requires: ClassVar[frozenset[str]] = frozenset()
    mc_passes: int = 0  # stochastic passes the scoring pass must run (BALD)
    # A multi-label run reads `probs` and `mc_probs` as independent per-label sigmoid outputs (N, L);
    # samplers that support it say so (hybridal.samplers.multilabel_samplers).

    @abstractmethod
    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return positions into `scores.candidates` (not pool indices) of min(n, N) distinct rows."""


def top_n(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the n largest values, ties broken at random by `rng` (deterministic per seed)."""
    values = np.asarray(values, dtype=np.float64)
    n = min(int(n), values.shape[0])
    tie_break = rng.random(int(values.shape[0]))
    # lexsort sorts by the last key first: descending value, then the random key.
    order = np.lexsort((tie_break, -values))
    return order[:n]


def n_picks(n: int, n_candidates: int) -> int:
    """min(n, N) after checking that n is a non-negative integer."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n={n!r} is not allowed; n must be an integer >= 0.")
    return min(int(n), int(n_candidates))


def required_scores(scores: PoolScores, field: str, sampler: str, ndim: int, axis: int = 0) -> np.ndarray:
    """scores.<field> as an array whose `axis` aligns with the candidates, or a clear ValueError."""
    value: Optional[np.ndarray] = getattr(scores, field)
    if value is None:
        raise ValueError(
            f"sampler {sampler!r} needs PoolScores.{field}, but the scoring pass left it as None "
            f"(the pass must compute every field in the sampler's `requires`)."
        )
    value = np.asarray(value)
    n_candidates = len(scores.candidates)
    if value.ndim != ndim or value.shape[axis] != n_candidates:
        raise ValueError(
            f"PoolScores.{field} has shape {value.shape}; sampler {sampler!r} needs {ndim} dimensions "
            f"with {n_candidates} candidate rows on axis {axis}."
        )
    return value
