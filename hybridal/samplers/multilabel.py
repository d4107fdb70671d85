"""Multi-label acquisition scores over independent per-label sigmoid outputs (docs/multilabel.md);
the samplers that use them: hybridal.samplers.multilabel_samplers.

`proba` is an (N, L) matrix with proba[i, j] = P(label j present | x_i), labels independent.

1. Per-label binary uncertainty, aggregated over labels; higher score = more informative, and
   the Sampler classes break exact ties with the run's generator (`top_n`), like uncertainty.py.
2. Mirrors of small-text's multi-label query strategies, operation for operation, so that the
   picks (positions, in small-text's order) equal small-text's on the same matrices:
   CategoryVectorInconsistencyAndRanking (in small-text 1.4.1), LabelCardinalityInconsistency and
   AdaptiveActiveLearning (both added in small-text 2.0.0, absent from 1.4.1). Ties are left to
   small-text's own `np.argpartition(-scores, n)[:n]`, so the generator is not used.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .base import n_picks

_AGGREGATES: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "max": np.max, "min": np.min}


def check_proba(proba: np.ndarray) -> np.ndarray:
    """proba as an (N, L) float array with finite entries in [0, 1] (float dtypes are kept), or a ValueError."""
    p = np.asarray(proba)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"multi-label probabilities must be an (n_candidates, n_labels) matrix, got shape {p.shape}.")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError("multi-label probabilities must be finite and lie in [0, 1] (sigmoid outputs, one per label).")
    return p


def check_labels(y_labeled: np.ndarray, n_labels: int, allow_empty: bool = False) -> np.ndarray:
    """y_labeled as an (M, n_labels) int64 0/1 matrix, or a ValueError (M == 0 only if allow_empty)."""
    y = np.asarray(y_labeled)
    if y.ndim != 2 or y.shape[1] != n_labels:
        raise ValueError(f"y_labeled must be an (n_labeled, {n_labels}) 0/1 matrix, got shape {y.shape}.")
    if y.shape[0] == 0 and not allow_empty:
        raise ValueError("y_labeled has no rows; this strategy needs at least one labelled example.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_labeled must contain only 0 and 1 (label absent / present).")
    return y.astype(np.int64)


def _aggregate(per_label: np.ndarray, aggregate: str, allowed: tuple[str, ...]) -> np.ndarray:
    if aggregate not in allowed:
        raise ValueError(f"aggregate={aggregate!r} is not allowed; use one of {', '.join(allowed)}.")
    # Sorting each row first makes rows that are permutations of each other tie bit-exactly.
    return _AGGREGATES[aggregate](np.sort(per_label, axis=1), axis=1)


# ---- 1. per-label binary uncertainty -----------------------------------------------------------


def binary_entropy(proba: np.ndarray) -> np.ndarray:
    """Per-label Bernoulli entropy in bits, H(p) = -p log2 p - (1-p) log2(1-p), 0 log 0 = 0; in [0, 1]."""
    p = check_proba(proba).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0) + np.where(p < 1, -(1 - p) * np.log2(1 - p), 0.0)
    return terms


def multilabel_entropy(proba: np.ndarray, aggregate: str = "mean") -> np.ndarray:
    """Per-label binary entropy aggregated over labels by `mean` (default) or `max`; (N,) scores in [0, 1].

    Why mean: under the model's own independence assumption the entropy of the whole label vector
    is the sum of the per-label entropies, so the mean is that joint entropy divided by L and ranks
    candidates exactly as the joint entropy would. `max` saturates: any candidate with one label at
    p = 0.5 scores the maximum 1.0 whatever its other labels say, so with a few labels (Jigsaw's six)
    large groups tie at the top and the ranking degenerates into the tie-breaker.
    """
    return _aggregate(binary_entropy(proba), aggregate, ("mean", "max"))


def multilabel_least_confidence(proba: np.ndarray) -> np.ndarray:
    """1 - P(most probable label vector) = 1 - prod_j max(p_j, 1 - p_j); (N,) scores in [0, 1 - 2**-L].

    The exact analogue of multi-class least confidence over the 2**L label vectors: with independent
    labels the most probable vector is the 0.5-thresholded prediction, whose probability is the product.
    (Per-label least confidence min(p, 1 - p) is margin's per-label term up to 1 - 2x; see margin.)
    """
    p = check_proba(proba).astype(np.float64)
    conf = np.sort(np.maximum(p, 1 - p), axis=1)  # sorted: permuted rows tie bit-exactly
    return 1 - np.prod(conf, axis=1)


def multilabel_margin(proba: np.ndarray, aggregate: str = "mean") -> np.ndarray:
    """1 - (per-label margin |2p - 1| aggregated by `mean` (default) or `min`); (N,) scores in [0, 1].

    |2p - 1| = |p - (1 - p)| is the gap between a label's two outcomes, the binary breaking-ties
    margin; small is informative, so the score is 1 minus the aggregate. Per label this equals
    1 - 2 min(p, 1 - p), so `mean` ranks like mean per-label least confidence and `min` like max.
    """
    p = check_proba(proba).astype(np.float64)
    return 1 - _aggregate(np.abs(2 * p - 1), aggregate, ("mean", "min"))


# ---- 2. small-text mirrors ---------------------------------------------------------------------


def _smalltext_pick(scores: np.ndarray, n: int) -> np.ndarray:
    """small-text's selection: all rows when n == N, else np.argpartition(-scores, n)[:n] (its order)."""
    k = n_picks(n, scores.shape[0])
    if k == scores.shape[0]:
        return np.arange(k, dtype=np.intp)
    return np.argpartition(-scores, k)[:k].astype(np.intp)


def lci_scores(proba: np.ndarray, y_labeled: np.ndarray, prediction_threshold: float = 0.5) -> np.ndarray:
    """|#(proba > threshold) - mean #labels per labelled row| per candidate (small-text 2.0 LCI, Li & Guo 2013)."""
    p = check_proba(proba)
    y = check_labels(y_labeled, p.shape[1])
    average_count_per_labeled_instance = (y > 0).sum(axis=1).mean()
    count_per_unlabeled_instance = np.asarray((p > prediction_threshold).sum(axis=1)).ravel()
    return np.sqrt(np.power(count_per_unlabeled_instance - average_count_per_labeled_instance, 2))


def lci_select(proba: np.ndarray, y_labeled: np.ndarray, n: int, prediction_threshold: float = 0.5) -> np.ndarray:
    """Positions of the n candidates small-text's LabelCardinalityInconsistency would query."""
    return _smalltext_pick(lci_scores(proba, y_labeled, prediction_threshold), n)


def aal_scores(
    proba: np.ndarray, y_labeled: np.ndarray, uncertainty_weight: float = 0.5, eps: float = 0.01
) -> np.ndarray:
    """(1 / max(top1 - top2 of the row, eps))**w * (LCI + 1)**(1 - w) (small-text 2.0 AdaptiveActiveLearning).

    As in small-text, LCI here always thresholds at 0.5 and the margin is taken across labels.
    """
    p = check_proba(proba)
    if p.shape[1] < 2 or not 0.0 <= uncertainty_weight <= 1.0:
        raise ValueError("adaptive active learning needs at least 2 labels and uncertainty_weight in [0, 1].")
    lci = lci_scores(p, y_labeled) + 1
    top2 = np.sort(p, axis=1)[:, -2:]
    inverse_uncertainty = 1 / np.maximum(top2[:, 1] - top2[:, 0], eps)
    return inverse_uncertainty**uncertainty_weight * lci ** (1 - uncertainty_weight)


def aal_select(
    proba: np.ndarray, y_labeled: np.ndarray, n: int, uncertainty_weight: float = 0.5, eps: float = 0.01
) -> np.ndarray:
    """Positions of the n candidates small-text's AdaptiveActiveLearning would query."""
    return _smalltext_pick(aal_scores(proba, y_labeled, uncertainty_weight, eps), n)


def cvirs_scores(
    proba: np.ndarray, y_labeled: np.ndarray, prediction_threshold: float = 0.5, batch_size: int = 2048
) -> np.ndarray:
    """small-text's CategoryVectorInconsistencyAndRanking scores, its arithmetic reproduced as written.

    Vector inconsistency: small-text computes an entropy distance but discards it and returns the
    Hamming distance between the thresholded prediction and each labelled row, summed over labelled
    rows and divided by the number of candidates in the `batch_size` chunk (not by M). Ranking: per
    label, margin = |p_j - sum_k p_k| and ranks = argsort(margin) (sort order, not each row's rank),
    then score_i = sum_j (N - ranks[j, i]) / (L (N - 1)). The product of the two is the score.
    """
    p = check_proba(proba)
    n_rows, n_labels = p.shape
    y = check_labels(y_labeled, n_labels, allow_empty=True)
    if n_rows < 2 or batch_size < 1:
        raise ValueError("CVIRS scores need at least 2 candidates and batch_size >= 1.")
    y_pred = (p > prediction_threshold).astype(int)
    inconsistency = np.array([], dtype=np.float32)
    for batch_idx in np.array_split(np.arange(n_rows), int(np.ceil(n_rows / batch_size)), axis=0):
        sub = y_pred[batch_idx]
        b = np.logical_not(sub).dot(y.T)
        c = sub.dot(np.logical_not(y).T)
        hamming_distance = (b + c) / n_labels
        inconsistency = np.append(inconsistency, hamming_distance.sum(axis=1) / sub.shape[0])
    margin = np.absolute(p - np.tile(p.sum(axis=1)[:, np.newaxis], (1, n_labels)))
    ranks = np.array([np.argsort(margin[:, j]) for j in range(n_labels)])
    ranking = (n_rows - ranks).sum(axis=0) / (n_labels * (n_rows - 1))
    return inconsistency * ranking


def cvirs_select(
    proba: np.ndarray, y_labeled: np.ndarray, n: int, prediction_threshold: float = 0.5, batch_size: int = 2048
) -> np.ndarray:
    """Positions of the n candidates small-text's CategoryVectorInconsistencyAndRanking would query."""
    p = check_proba(proba)
    k = n_picks(n, p.shape[0])
    if k in (0, p.shape[0]):  # nothing to rank (small-text returns every candidate before scoring)
        check_labels(y_labeled, p.shape[1], allow_empty=True)
        return np.arange(k, dtype=np.intp)
    return _smalltext_pick(cvirs_scores(p, y_labeled, prediction_threshold, batch_size), n)
