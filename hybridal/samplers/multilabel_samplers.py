"""The samplers of a multi-label run (docs/multilabel.md), registered under the single-label names
where the idea carries over (`entropy`, `least_confidence`, `margin`, `bald`; `random` and `coreset`
are the single-label classes, unchanged) plus small-text's three multi-label strategies (`cvirs`,
`lci`, `aal`). `probs` holds (N, L) sigmoid probabilities, `mc_probs` (T, N, L)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Optional

import numpy as np

from .bald import BALDSampler
from .base import LABELED_LABELS, MC_PROBS, PROBS, PoolScores, Sampler, n_picks, required_scores, top_n
from .multilabel import (
    aal_select,
    binary_entropy,
    cvirs_select,
    lci_select,
    multilabel_entropy,
    multilabel_least_confidence,
    multilabel_margin,
)

# Kept for callers written before PoolScores carried `labeled_labels` itself.
MultiLabelPoolScores = PoolScores
# How each measure may aggregate its per-label scores (hybridal.samplers.multilabel).
AGGREGATES = {"entropy": ("mean", "max"), "margin": ("mean", "min")}


def _check_probability(name: str, value: object, low_open: bool = True) -> None:
    """A threshold or weight strictly inside (0, 1) (or [0, 1] with low_open=False), checked at construction."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    inside = ok and (0 < value < 1 if low_open else 0 <= value <= 1)  # type: ignore[operator]
    if not inside:
        allowed = "a number strictly between 0 and 1" if low_open else "a number in [0, 1]"
        raise ValueError(f"{name}={value!r} is not allowed; {name} must be {allowed}.")


class MultiLabelUncertaintySampler(Sampler):
    """Top-n by a per-label binary uncertainty: measure 'entropy' | 'least_confidence' | 'margin'."""

    name = "multilabel_uncertainty"
    requires = frozenset({PROBS})

    def __init__(self, measure: str = "entropy", aggregate: Optional[str] = None):
        if measure not in ("entropy", "least_confidence", "margin"):
            raise ValueError(f"measure={measure!r} is not allowed; use entropy, least_confidence or margin.")
        if measure == "least_confidence" and aggregate is not None:
            raise ValueError("least_confidence is the joint score 1 - prod max(p, 1 - p) and takes no aggregate.")
        allowed = AGGREGATES.get(measure, ())
        if aggregate is not None and aggregate not in allowed:
            raise ValueError(f"aggregate={aggregate!r} is not allowed for {measure}; use one of {', '.join(allowed)}.")
        self.measure, self.aggregate = measure, aggregate

    def score(self, proba: np.ndarray) -> np.ndarray:
        if self.measure == "least_confidence":
            return multilabel_least_confidence(proba)
        if self.measure == "entropy":
            return multilabel_entropy(proba, self.aggregate or "mean")
        return multilabel_margin(proba, self.aggregate or "mean")

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        proba = required_scores(scores, PROBS, self.name, ndim=2)
        k = n_picks(n, proba.shape[0])
        return top_n(self.score(proba), k, rng)


class MultiLabelEntropySampler(MultiLabelUncertaintySampler):
    """`entropy` in a multi-label run: the per-label binary entropies' mean (or `aggregate: max`)."""

    name = "entropy"

    def __init__(self, aggregate: str = "mean"):
        super().__init__("entropy", aggregate)


class MultiLabelLeastConfidenceSampler(MultiLabelUncertaintySampler):
    """`least_confidence` in a multi-label run: 1 - prod_j max(p_j, 1 - p_j), the label set's own."""

    name = "least_confidence"

    def __init__(self) -> None:
        super().__init__("least_confidence")


class MultiLabelMarginSampler(MultiLabelUncertaintySampler):
    """`margin` in a multi-label run: 1 - |2p_j - 1| per label, then their mean (or min/max)."""

    name = "margin"

    def __init__(self, aggregate: str = "mean"):
        super().__init__("margin", aggregate)


def bernoulli_mutual_information(mc_probs: np.ndarray) -> np.ndarray:
    """Per candidate, the mean over labels of each label's BALD score from T dropout passes:
    H(mean_t p_tj) - mean_t H(p_tj) with H the binary entropy in bits; (T, N, L) -> (N,)."""
    p = np.clip(np.asarray(mc_probs, dtype=np.float64), 0.0, 1.0)
    t, n, labels = p.shape
    entropy_of_mean = binary_entropy(p.mean(axis=0))
    mean_entropy = binary_entropy(p.reshape(t * n, labels)).reshape(t, n, labels).mean(axis=0)
    mi = (entropy_of_mean - mean_entropy).mean(axis=1)
    mi[mi < 1e-12] = 0.0  # agreement within rounding: a tie the generator orders, not noise
    return mi


class MultiLabelBALDSampler(BALDSampler):
    """`bald` in a multi-label run: per-label Bernoulli mutual information, averaged over labels
    (the labels' outputs are independent given the weights, so each label's BALD is its own)."""

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        mc_probs = required_scores(scores, MC_PROBS, self.name, ndim=3, axis=1)
        return top_n(bernoulli_mutual_information(mc_probs), n_picks(n, mc_probs.shape[1]), rng)


class _SmallTextMultiLabelSampler(Sampler):
    """Reads probs and labeled_labels; picks as small-text does (argpartition), so `rng` is unused."""

    requires = frozenset({PROBS, LABELED_LABELS})

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        proba = required_scores(scores, PROBS, self.name, ndim=2)
        y = getattr(scores, LABELED_LABELS, None)
        if y is None:
            raise ValueError(f"sampler {self.name!r} needs PoolScores.labeled_labels, the labelled set's 0/1 labels.")
        return self._pick(proba, np.asarray(y), n)

    @abstractmethod
    def _pick(self, proba: np.ndarray, y_labeled: np.ndarray, n: int) -> np.ndarray: ...


class LCISampler(_SmallTextMultiLabelSampler):
    """small-text's LabelCardinalityInconsistency (Li & Guo 2013)."""

    name = "lci"

    def __init__(self, prediction_threshold: float = 0.5):
        _check_probability("prediction_threshold", prediction_threshold)
        self.prediction_threshold = prediction_threshold

    def _pick(self, proba: np.ndarray, y_labeled: np.ndarray, n: int) -> np.ndarray:
        return lci_select(proba, y_labeled, n, self.prediction_threshold)


class AALSampler(_SmallTextMultiLabelSampler):
    """small-text's AdaptiveActiveLearning (Li & Guo 2013)."""

    name = "aal"

    def __init__(self, uncertainty_weight: float = 0.5, eps: float = 0.01):
        _check_probability("uncertainty_weight", uncertainty_weight, low_open=False)
        _check_probability("eps", eps)
        self.uncertainty_weight, self.eps = uncertainty_weight, eps

    def _pick(self, proba: np.ndarray, y_labeled: np.ndarray, n: int) -> np.ndarray:
        return aal_select(proba, y_labeled, n, self.uncertainty_weight, self.eps)


class CVIRSSampler(_SmallTextMultiLabelSampler):
    """small-text's CategoryVectorInconsistencyAndRanking (Reyes, Morell & Ventura 2018)."""

    name = "cvirs"

    def __init__(self, prediction_threshold: float = 0.5, batch_size: int = 2048):
        _check_probability("prediction_threshold", prediction_threshold)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} is not allowed; batch_size must be an integer >= 1.")
        self.prediction_threshold, self.batch_size = prediction_threshold, batch_size

    def _pick(self, proba: np.ndarray, y_labeled: np.ndarray, n: int) -> np.ndarray:
        return cvirs_select(proba, y_labeled, n, self.prediction_threshold, self.batch_size)
