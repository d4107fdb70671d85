"""A multi-label evaluation pass's `EvalResult` (docs/multilabel.md): the metrics of
hybridal.model.multilabel_metrics, with `f1` the metric the run monitors (`monitor_metric`), so the
ΔF1 rule, the records' `val_f1`/`test_f1` and every reader of `EvalResult` work unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from hybridal.model.metrics import EvalResult
from hybridal.model.multilabel_metrics import MultiLabelEval, multilabel_metrics, predict_labels


@dataclass(frozen=True)
class MultiLabelTask:
    """How a multi-label run turns per-label probabilities into predictions and one number."""

    threshold: float
    metric: str  # micro_f1 | macro_f1
    label_names: tuple[str, ...]


def multilabel_result(
    log_probs: np.ndarray, y: np.ndarray, task: MultiLabelTask, flops: int, seconds: float, present_only: bool
) -> EvalResult:
    """The pass's result from per-label log-probabilities and true 0/1 labels.

    With `present_only` (the acquired monitor set, a few rows) macro-F1 averages the labels with a
    positive among the rows, as single-label macro-F1 averages the classes present. Accuracy is
    subset accuracy; loss the mean binary cross-entropy over (row, label) cells; the majority
    predictor the guard compares with predicts each label's majority value among the rows."""
    y = np.asarray(y, dtype=np.int8)
    probs = np.exp(log_probs.astype(np.float64))
    ml = multilabel_metrics(y, probs, task.threshold, task.label_names)
    present = y.sum(axis=0) > 0
    majority = np.broadcast_to((y.mean(axis=0) > 0.5).astype(np.float64), y.shape)
    # log(1 - p) from log p without forming 1 - p, which rounds to 0 for a confident label (exact to |logit| ~ 87)
    log_not = np.log(np.maximum(-np.expm1(log_probs.astype(np.float64)), np.finfo(np.float64).tiny))
    return EvalResult(
        f1=monitored(ml, task.metric, present if present_only else None),
        accuracy=ml.subset_accuracy,
        loss=float(-(y * log_probs.astype(np.float64) + (1 - y) * log_not).mean()),
        per_class_f1=list(ml.per_label_f1),
        flops=flops,
        seconds=seconds,
        n=len(y),
        predictions=predict_labels(probs, task.threshold),
        classes_present=int(present.sum()),
        pred_counts=list(ml.predicted_positive),
        majority_f1=monitored(
            multilabel_metrics(y, majority, 0.5, task.label_names), task.metric, present if present_only else None
        ),
        multilabel=summary(ml),
    )


def monitored(ml: MultiLabelEval, metric: str, averaged: Optional[np.ndarray]) -> float:
    """The monitored metric; macro-F1 over the labels in `averaged` when given (NaN if none is)."""
    if metric == "micro_f1":
        return ml.micro_f1
    if averaged is None:
        return ml.macro_f1
    chosen = np.asarray(ml.per_label_f1)[averaged]
    return float(chosen.mean()) if chosen.size else float("nan")


def summary(ml: MultiLabelEval) -> dict[str, Any]:
    """The metrics as JSON-ready values, with `undefined` naming what could not be measured:
    `roc_auc:<label>` (its true column is constant: left out of mean_auc) and `f1:<label>` (no positive,
    true or predicted: F1 0.0, averaged into macro-F1 as scikit-learn's zero_division=0 does)."""
    undefined = [f"roc_auc:{name}" for name in ml.auc_left_out] + [
        f"f1:{name}" for name, ok in zip(ml.label_names, ml.per_label_f1_defined) if not ok
    ]
    return {
        "micro_f1": ml.micro_f1,
        "macro_f1": ml.macro_f1,
        "mean_auc": ml.mean_auc,
        "subset_accuracy": ml.subset_accuracy,
        "hamming_loss": ml.hamming_loss,
        "per_label_f1": list(ml.per_label_f1),
        "per_label_auc": list(ml.per_label_auc),
        "support": list(ml.support),
        "predicted_positive": list(ml.predicted_positive),
        "undefined": undefined,
        "degenerate": ml.degenerate,
        "degenerate_reason": ml.degenerate_reason,
    }
