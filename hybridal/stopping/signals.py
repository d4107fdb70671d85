"""The per-round stopping signals, computed from a fixed stop set's predictions with numpy alone.

The engine records these few numbers every round instead of the stop set's predictions, so a
stopping criterion can be replayed from a run's records (docs/stopping.md). Each function mirrors
the arithmetic of the peer that reads the signal (small-text 1.4.1, baal 2.1.0), operation for
operation, so that a threshold compares the same floating-point number the peer would compare.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np


def check_predictions(predictions: object, num_classes: int, n_rows: Optional[int] = None) -> np.ndarray:
    """`predictions` as a 1-D integer array of labels in 0..num_classes-1 (and `n_rows` long if given).

    The stop set is fixed, so every round must predict the same rows; small-text refuses a size
    change too. Labels outside the classes are refused here: small-text's κ would silently drop them.
    """
    array = np.asarray(predictions)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"predictions of shape {array.shape} and dtype {array.dtype} are invalid; "
            "allowed: a non-empty 1-D array of integer labels."
        )
    if n_rows is not None and array.shape[0] != n_rows:
        raise ValueError(f"predictions have {array.shape[0]} rows; allowed: the stop set's {n_rows} rows every round.")
    if array.min() < 0 or array.max() >= num_classes:
        raise ValueError(
            f"predictions hold labels {int(array.min())}..{int(array.max())}; allowed: 0..{num_classes - 1}."
        )
    return array


def check_proba(proba: object, n_rows: int, num_classes: int) -> np.ndarray:
    """`proba` as an (n_rows, num_classes) array of finite non-negative scores whose rows have a positive sum."""
    array = np.asarray(proba, dtype=np.float64)
    if array.shape != (n_rows, num_classes):
        raise ValueError(f"proba of shape {array.shape} is invalid; allowed: shape ({n_rows}, {num_classes}).")
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array.sum(axis=1) <= 0):
        raise ValueError("proba is invalid; allowed: finite non-negative probabilities, each row with a positive sum.")
    return array


def cohen_kappa(y1: np.ndarray, y2: np.ndarray, num_classes: int) -> float:
    """Cohen's κ between two labelings over classes 0..num_classes-1, as scikit-learn computes it.

    κ = 1 − Σ_{i≠j} C_ij / Σ_{i≠j} E_ij with C the confusion matrix (rows `y1`) and E its
    expected counts under independence. nan (scikit-learn's default `replace_undefined_by`) when
    E has no mass off the diagonal, i.e. both labelings predict one and the same class everywhere.
    The same operations as `sklearn.metrics.cohen_kappa_score(y1, y2, labels=range(num_classes))`,
    so the result is the same float, not merely a close one.
    """
    k = num_classes
    codes = np.asarray(y1, dtype=np.int64) * k + np.asarray(y2, dtype=np.int64)
    confusion = np.bincount(codes, minlength=k * k).reshape(k, k).astype(np.float64)
    sum0 = np.sum(confusion, axis=0)
    sum1 = np.sum(confusion, axis=1)
    total = np.sum(sum0)
    if total == 0:
        return math.nan
    expected = np.outer(sum0, sum1) / total
    off_diagonal = np.ones((k, k), dtype=np.float64)
    np.fill_diagonal(off_diagonal, 0)
    disagreement = np.sum(off_diagonal * confusion)
    chance = np.sum(off_diagonal * expected)
    if chance == 0:
        return math.nan
    return float(1 - disagreement / chance)


def prediction_kappa(current: np.ndarray, previous: np.ndarray, num_classes: int) -> float:
    """κ between this round's and the previous round's stop-set predictions, as small-text's KappaAverage reads it.

    small-text returns 1.0 for identical predictions before asking scikit-learn, so the one case
    where κ is undefined (one class predicted everywhere in both rounds) reads as perfect agreement,
    not nan. Otherwise κ is defined: any two different labelings leave chance mass off the diagonal.
    """
    if np.array_equal(current, previous):
        return 1.0
    return cohen_kappa(current, previous, num_classes)


def changed_count(current: np.ndarray, previous: np.ndarray) -> int:
    """How many stop-set rows changed their predicted label since the previous round (ClassificationChange).

    A count, not a fraction: small-text compares `unchanged >= n * (1 - threshold)`, and a fraction
    would round differently at the threshold.
    """
    return int(np.count_nonzero(np.asarray(current) != np.asarray(previous)))


def changed_fraction(current: np.ndarray, previous: np.ndarray) -> float:
    """The share of stop-set rows whose predicted label changed since the previous round (for reports)."""
    return changed_count(current, previous) / len(current)


def delta_f_binary(current: np.ndarray, previous: np.ndarray) -> float:
    """small-text's ΔF for binary predictions: 1 − 2a / (2a + b + c), class 1 the positive class.

    a = rows positive in both rounds, b = positive only before, c = positive only now (Altschuler &
    Bloodgood 2019): the F-measure of one round's positives against the other's, subtracted from 1.
    nan when no row is positive in either round: small-text then divides 0 by 0 and records nan,
    which is below no threshold, so such a round can never count as stable.
    """
    now, before = np.asarray(current) == 1, np.asarray(previous) == 1
    agreement = int(np.count_nonzero(now & before))
    denominator = 2 * agreement + int(np.count_nonzero(before & ~now)) + int(np.count_nonzero(now & ~before))
    if denominator == 0:
        return math.nan
    return 1 - 2 * agreement / denominator


def row_entropy(proba: np.ndarray) -> np.ndarray:
    """Each row's predictive entropy in nats, the row first scaled to sum 1 (as scipy.stats.entropy does)."""
    p = np.asarray(proba, dtype=np.float64)
    p = p / np.sum(p, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return np.sum(terms, axis=1)


def mean_normalised_entropy(proba: np.ndarray) -> float:
    """The stop set's mean entropy divided by log K, in [0, 1] (small-text's OverallUncertainty).

    Each row is divided by log K before the mean, in small-text's order; scipy's `entr` and numpy's
    `log` may still differ in the last bit, so a value within ~1e-15 of a threshold may decide
    differently from small-text.
    """
    num_classes = np.asarray(proba).shape[1]
    return float(np.mean(row_entropy(proba) / np.log(num_classes)))


def mean_entropy(proba: np.ndarray) -> float:
    """The stop set's mean predictive entropy in nats: the uncertainty baal's Entropy heuristic scores."""
    return float(np.mean(row_entropy(proba)))
