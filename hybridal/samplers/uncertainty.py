"""Samplers that rank candidates by one score of the softmax output (plus the random baseline).

Each is a pure function of the scoring pass: higher score = more informative, and `top_n`
breaks exact ties with the run's generator so a seed fixes the picks.
"""

from __future__ import annotations

import numpy as np

from .base import LOG_PROBS, PROBS, PoolScores, Sampler, n_picks, required_scores, top_n


def entropy_from_log_probs(log_probs: np.ndarray) -> np.ndarray:
    """Predictive entropy per row, -sum(p log p) from log-softmax (p=0 terms count as 0).

    Each row's terms are sorted before summing so that rows which are permutations of each
    other get bit-identical entropies and tie exactly (ties then go to the generator).
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.where(np.isneginf(lp), 0.0, -np.exp(lp) * lp)
    return np.sort(terms, axis=1).sum(axis=1)


class RandomSampler(Sampler):
    """Uniform sample without replacement: the baseline every strategy must beat."""

    name = "random"
    requires = frozenset()

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        n_candidates = len(scores.candidates)
        k = n_picks(n, n_candidates)
        return rng.choice(n_candidates, size=k, replace=False).astype(np.intp)


class EntropySampler(Sampler):
    """Max predictive entropy (Shannon 1948; Settles 2009 survey), stable from log-softmax."""

    name = "entropy"
    requires = frozenset({LOG_PROBS})

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        log_probs = required_scores(scores, LOG_PROBS, self.name, ndim=2)
        k = n_picks(n, log_probs.shape[0])
        return top_n(entropy_from_log_probs(log_probs), k, rng)


class LeastConfidenceSampler(Sampler):
    """Min probability of the predicted class (Lewis & Gale 1994; Culotta & McCallum 2005)."""

    name = "least_confidence"
    requires = frozenset({PROBS})

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        probs = required_scores(scores, PROBS, self.name, ndim=2)
        k = n_picks(n, probs.shape[0])
        return top_n(-probs.max(axis=1), k, rng)


class MarginSampler(Sampler):
    """Min gap between the two most probable classes (Scheffer et al. 2001, 'breaking ties')."""

    name = "margin"
    requires = frozenset({PROBS})

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        probs = required_scores(scores, PROBS, self.name, ndim=2)
        k = n_picks(n, probs.shape[0])
        if probs.shape[1] < 2:
            raise ValueError(
                f"PoolScores.probs has {probs.shape[1]} class column(s); sampler 'margin' needs at least 2."
            )
        top2 = np.partition(probs, -2, axis=1)[:, -2:]
        return top_n(-(top2[:, 1] - top2[:, 0]), k, rng)
