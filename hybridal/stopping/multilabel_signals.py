"""The stop set's stability signals for a multi-label task (docs/multilabel.md).

Predictions are (rows, labels) 0/1 matrices, probabilities independent per label. Each signal
reduces to the single-label one per label or per row, so the criteria and triggers keep their
meaning and thresholds:
- κ: the mean over labels of each label's binary κ between the two rounds (small-text's reading
  per label: identical columns give 1.0);
- changed predictions: rows whose predicted label *set* changed (any label flipped), so
  `classification_change`'s threshold is still a share of rows;
- uncertainty: each label's binary entropy over log 2, averaged over labels and rows, in [0, 1]
  (`overall_uncertainty`'s scale); in nats, the mean per-label entropy (`low_average_uncertainty`).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .history import RoundSignals
from .signals import prediction_kappa


def check_label_predictions(predictions: object, n_labels: int, n_rows: int | None = None) -> np.ndarray:
    """`predictions` as an (n_rows, n_labels) 0/1 integer matrix; one-sentence error otherwise."""
    array = np.asarray(predictions)
    if array.ndim != 2 or array.shape[1] != n_labels or array.shape[0] == 0:
        raise ValueError(f"predictions of shape {array.shape} are invalid; allowed: (rows, {n_labels}) of 0/1.")
    if n_rows is not None and array.shape[0] != n_rows:
        raise ValueError(f"predictions have {array.shape[0]} rows; allowed: the stop set's {n_rows} rows every round.")
    if not np.isin(array, (0, 1)).all():
        raise ValueError("predictions hold values other than 0 and 1; allowed: a 0/1 matrix.")
    return array.astype(np.int64)


def mean_label_kappa(current: np.ndarray, previous: np.ndarray) -> float:
    """The mean over labels of the binary κ between this and the previous round's predictions."""
    n_labels = current.shape[1]
    return float(np.mean([prediction_kappa(current[:, j], previous[:, j], 2) for j in range(n_labels)]))


def changed_label_sets(current: np.ndarray, previous: np.ndarray) -> int:
    """Rows whose predicted label set changed since the previous round (any label flipped)."""
    return int(np.count_nonzero((np.asarray(current) != np.asarray(previous)).any(axis=1)))


def binary_entropy_nats(proba: np.ndarray) -> np.ndarray:
    """Each (row, label)'s Bernoulli entropy in nats; 0 at probabilities 0 and 1."""
    p = np.asarray(proba, dtype=np.float64)
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError("proba is invalid; allowed: finite probabilities in [0, 1], one per (row, label).")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0) + np.where(p < 1, -(1 - p) * np.log1p(-p), 0.0)
    return terms


def mean_normalised_binary_entropy(proba: np.ndarray) -> float:
    """Mean over rows and labels of each label's entropy over log 2, in [0, 1]."""
    return float(np.mean(binary_entropy_nats(proba) / np.log(2)))


def mean_binary_entropy(proba: np.ndarray) -> float:
    """Mean over rows and labels of each label's entropy in nats."""
    return float(np.mean(binary_entropy_nats(proba)))


def multilabel_round_signals(
    predictions: np.ndarray,
    previous: Optional[np.ndarray],
    proba: np.ndarray,
    n_labeled: Optional[int] = None,
    metric: Optional[float] = None,
) -> RoundSignals:
    """One round's signals from its stop-set 0/1 `predictions` (rows, labels) and the previous round's;
    no binary ΔF (`delta_f` None): it is defined for single-label binary tasks only."""
    current = check_label_predictions(predictions, np.shape(predictions)[1] if np.ndim(predictions) == 2 else 0)
    before = None
    if previous is not None:
        before = check_label_predictions(previous, current.shape[1], current.shape[0])
    return RoundSignals(
        n_labeled=n_labeled,
        kappa=None if before is None else mean_label_kappa(current, before),
        n_changed=None if before is None else changed_label_sets(current, before),
        mean_normalised_entropy=mean_normalised_binary_entropy(proba),
        mean_entropy=mean_binary_entropy(proba),
        metric=None if metric is None else float(metric),
    )
