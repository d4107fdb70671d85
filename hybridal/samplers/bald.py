"""BALD: Bayesian Active Learning by Disagreement with MC dropout.

Houlsby, Huszár, Ghahramani & Lengyel (2011), "Bayesian Active Learning for Classification
and Preference Learning"; Gal, Islam & Ghahramani (2017), "Deep Bayesian Active Learning
with Image Data" (dropout at inference time as the approximate posterior).
"""

from __future__ import annotations

import numpy as np

from .base import MC_PROBS, PoolScores, Sampler, n_picks, required_scores, top_n


def _plogp_sum(p: np.ndarray) -> np.ndarray:
    """sum over the last axis of p·log p, with 0·log 0 = 0 (the log argument is clipped)."""
    return (p * np.log(np.maximum(p, np.finfo(np.float64).tiny))).sum(axis=-1)


def mutual_information(mc_probs: np.ndarray) -> np.ndarray:
    """I[y; w] = H(mean_t p_t) - mean_t H(p_t) per candidate, from (T, N, C) probabilities.

    Computed in float64. Values within rounding noise of 0 (|MI| < 1e-12) are set to exactly 0,
    so candidates on which all passes agree tie and the generator, not noise, orders them.
    """
    p = np.clip(np.asarray(mc_probs, dtype=np.float64), 0.0, 1.0)
    entropy_of_mean = -_plogp_sum(p.mean(axis=0))
    mean_entropy = -_plogp_sum(p).mean(axis=0)
    mi = entropy_of_mean - mean_entropy
    mi[mi < 1e-12] = 0.0
    return mi


class BALDSampler(Sampler):
    """Max mutual information between the label and the weights, over T dropout passes.

    Points where the stochastic passes disagree confidently score high; points that are merely
    ambiguous (every pass says 50/50) score near 0, unlike entropy. The engine seeds the passes'
    dropout masks from (sampler seed, round) (`training.seeded_dropout`).
    """

    name = "bald"
    requires = frozenset({MC_PROBS})

    def __init__(self, T: int = 10) -> None:
        if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
            raise ValueError(f"T={T!r} is not allowed; T (MC dropout passes) must be an integer >= 1.")
        self.mc_passes = int(T)

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        mc_probs = required_scores(scores, MC_PROBS, self.name, ndim=3, axis=1)
        k = n_picks(n, mc_probs.shape[1])
        if mc_probs.shape[0] < 1:
            raise ValueError("PoolScores.mc_probs has 0 passes on axis 0; sampler 'bald' needs T >= 1.")
        return top_n(mutual_information(mc_probs), k, rng)
