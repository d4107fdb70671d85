"""What a multi-label evaluation pass reports (issue 25): `multilabel_metrics` turns a 0/1 indicator
matrix of true labels and a matrix of per-label probabilities into a frozen `MultiLabelEval`.

Conventions, chosen once here so every caller reports the same numbers:

* A label is predicted when its probability is >= the threshold (default 0.5): scikit-learn's
  threshold tuning (`FixedThresholdClassifier`, `metric_at_thresholds`) and `roc_curve` count a
  score equal to the threshold as positive (transformers itself leaves multi-label thresholding to the
  caller).
* F1 follows scikit-learn's `zero_division=0`: a label with no positive and none predicted (no true
  positive, false positive or false negative) gets F1 0.0, which macro-F1 averages in like any other
  label, and `per_label_f1_defined` marks it False. (Scikit-learn's default, "warn", also gives 0.0
  but warns; micro-F1 with nothing positive anywhere is 0.0 by the same rule.)
* ROC AUC is undefined for a label whose true column is all 0 or all 1 among the evaluated rows: it is
  None, the label is listed in `auc_left_out`, and `mean_auc` averages the defined labels only (None
  when none is defined).
* `degenerate`: no positive predicted anywhere, or the same label set predicted for every row (a
  trivial predictor whatever its scores; with one row this is always so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from hybridal.errors import ConfigError, DataError

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class MultiLabelEval:
    """One multi-label evaluation over some rows; lists run over the labels in `label_names` order."""

    n_rows: int
    threshold: float
    label_names: tuple[str, ...]
    micro_f1: float
    macro_f1: float
    per_label_f1: tuple[float, ...]
    per_label_f1_defined: tuple[bool, ...]  # False: no positive and none predicted (F1 0.0 by zero_division=0)
    per_label_auc: tuple[Optional[float], ...]  # None: the label's true column is constant
    mean_auc: Optional[float]  # over the labels with a defined AUC; None if none
    auc_left_out: tuple[str, ...]  # labels left out of mean_auc
    subset_accuracy: float  # rows whose predicted label set equals the true one
    hamming_loss: float  # wrong (row, label) cells over all cells
    support: tuple[int, ...]  # true positives per label among the rows
    predicted_positive: tuple[int, ...]  # rows predicted positive per label
    degenerate: bool
    degenerate_reason: str = ""  # why degenerate ("" when not)


def multilabel_metrics(
    y_true: np.ndarray,
    scores: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    label_names: Optional[Sequence[str]] = None,
) -> MultiLabelEval:
    """Every multi-label metric the engine reports, from true 0/1 labels and per-label probabilities."""
    y, s = _checked_inputs(y_true, scores)
    names = _checked_names(label_names, y.shape[1])
    pred = predict_labels(s, threshold)
    tp, fp, fn = _confusion(y, pred)
    per_f1, defined = _per_label_f1(tp, fp, fn)
    aucs = _per_label_auc(y, s)
    defined_aucs = [a for a in aucs if a is not None]
    reason = _degenerate_reason(pred)
    return MultiLabelEval(
        n_rows=int(y.shape[0]),
        threshold=float(threshold),
        label_names=names,
        micro_f1=_f1(int(tp.sum()), int(fp.sum()), int(fn.sum())),
        macro_f1=float(np.mean(per_f1)),
        per_label_f1=tuple(per_f1),
        per_label_f1_defined=tuple(defined),
        per_label_auc=tuple(aucs),
        mean_auc=float(np.mean(defined_aucs)) if defined_aucs else None,
        auc_left_out=tuple(n for n, a in zip(names, aucs) if a is None),
        subset_accuracy=float(np.mean(np.all(pred == y, axis=1))),
        hamming_loss=float(np.mean(pred != y)),
        support=tuple(int(c) for c in y.sum(axis=0)),
        predicted_positive=tuple(int(c) for c in pred.sum(axis=0)),
        degenerate=bool(reason),
        degenerate_reason=reason,
    )


def predict_labels(scores: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """The 0/1 predictions (score >= threshold), so callers threshold exactly as the metrics do."""
    _check_threshold(threshold)
    return (np.asarray(scores) >= threshold).astype(np.int8)


def _check_threshold(threshold: float) -> None:
    """Thresholds at or beyond 0 or 1 make every prediction the same whatever the model."""
    ok = isinstance(threshold, (int, float, np.floating)) and not isinstance(threshold, bool)
    if not ok or not (0.0 < float(threshold) < 1.0):
        raise ConfigError(f"threshold={threshold!r} is not usable; allowed: a number strictly between 0 and 1.")


def _checked_inputs(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices as arrays of the same (rows, labels) shape, 0/1 labels and probabilities."""
    y, s = np.asarray(y_true), np.asarray(scores)
    if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] == 0:
        raise DataError(f"y_true has shape {y.shape}; allowed: a (rows, labels) matrix with at least one of each.")
    if s.shape != y.shape:
        raise DataError(f"scores has shape {s.shape}; allowed: the shape of y_true, {y.shape}.")
    bad = _first_bad(y, lambda a: np.isin(a, (0, 1)))
    if bad:
        raise DataError(f"y_true has value {bad[0]!r}; allowed: 0 or 1 only.")
    bad = _first_bad(s, lambda a: np.isfinite(a) & (a >= 0) & (a <= 1))
    if bad:
        raise DataError(f"scores has value {bad[0]!r}; allowed: probabilities in [0, 1] (apply a sigmoid to logits).")
    return y.astype(np.float64).astype(np.int8), s.astype(np.float64)


def _first_bad(a: np.ndarray, allowed: Callable[[np.ndarray], np.ndarray]) -> list[object]:
    """[the first value that is not a number or that `allowed` rejects], else []: the error shows it."""
    if a.dtype.kind not in "biuf":
        for value in a.flat:
            try:
                float(value)
            except (TypeError, ValueError):
                return [value]
        a = a.astype(np.float64)
    rejected = a[~allowed(a)]
    return [rejected.flat[0].item()] if rejected.size else []


def _checked_names(label_names: Optional[Sequence[str]], n_labels: int) -> tuple[str, ...]:
    """The label names, or label_0.. when none are given, one per column."""
    if label_names is None:
        return tuple(f"label_{i}" for i in range(n_labels))
    names = tuple(str(n) for n in label_names)
    if len(names) != n_labels:
        raise DataError(f"label_names has {len(names)} names; allowed: one per label column, {n_labels}.")
    return names


def _confusion(y: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-label true positives, false positives and false negatives."""
    tp = ((pred == 1) & (y == 1)).sum(axis=0)
    fp = ((pred == 1) & (y == 0)).sum(axis=0)
    fn = ((pred == 0) & (y == 1)).sum(axis=0)
    return tp, fp, fn


def _f1(tp: int, fp: int, fn: int) -> float:
    """F1 = 2TP / (2TP + FP + FN), 0.0 when nothing is positive (scikit-learn's zero_division=0)."""
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def _per_label_f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[list[float], list[bool]]:
    """Each label's F1 and whether it was defined (some positive, true or predicted)."""
    f1s = [_f1(int(a), int(b), int(c)) for a, b, c in zip(tp, fp, fn)]
    defined = [bool(2 * a + b + c) for a, b, c in zip(tp, fp, fn)]
    return f1s, defined


def _per_label_auc(y: np.ndarray, s: np.ndarray) -> list[Optional[float]]:
    """Each label's ROC AUC, None where its true column is constant (AUC needs both classes)."""
    aucs: list[Optional[float]] = []
    for j in range(y.shape[1]):
        column = y[:, j]
        constant = column.min() == column.max()
        aucs.append(None if constant else float(roc_auc_score(column, s[:, j])))
    return aucs


def _degenerate_reason(pred: np.ndarray) -> str:
    """Why the predictions are trivial: nothing predicted, or one label set for every row."""
    if not pred.any():
        return "no positive predicted"
    if (pred == pred[0]).all():
        return "same label set predicted for every row"
    return ""
