"""What an evaluation pass reports: `EvalResult` (macro-F1, accuracy, loss, per-class F1 and the
predictions per class) with the two checks the ΔF1 rule's guard reads (docs/design.md §4: one
predicted class, or no better than always predicting the majority class), and `macro_f1`, averaged
over every class or over the classes present among the labels. The passes that produce these live in
hybridal.model.training; the loop, its records and checkpoints read results without running one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from sklearn.metrics import f1_score


@dataclass
class EvalResult:
    """One evaluation pass over some rows (hybridal.model.training.evaluate); NaN metrics for no rows."""

    f1: float
    accuracy: float
    loss: float
    per_class_f1: list[float]
    flops: int
    seconds: float
    n: int = 0
    predictions: Optional[np.ndarray] = field(default=None, repr=False)
    classes_present: int = 0  # distinct labels among the evaluated rows
    pred_counts: list[int] = field(default_factory=list)  # predicted rows per class
    majority_f1: float = float("nan")  # the same F1 for a predictor that always says the rows' majority class
    # A multi-label pass's metrics (hybridal.model.multilabel_eval.summary); None for single-label.
    multilabel: Optional[dict] = None

    @property
    def degenerate(self) -> bool:
        """Predictions all of one class (a trivial predictor, whatever its F1); multi-label: no label
        predicted anywhere, or one label set predicted for every row."""
        if self.multilabel is not None:
            return self.n > 0 and bool(self.multilabel["degenerate"])
        return self.n > 0 and sum(1 for c in self.pred_counts if c) <= 1

    @property
    def no_better_than_majority(self) -> bool:
        """Degenerate, or an F1 no higher than always predicting the majority class: the switch
        rule's guard counts no stability from such a round (hybridal.strategies)."""
        return self.degenerate or (self.n > 0 and self.f1 <= self.majority_f1 + 1e-12)


def macro_f1(y: np.ndarray, pred: np.ndarray, num_labels: int, averaged: np.ndarray | None) -> tuple[float, np.ndarray]:
    """(macro-F1 over every class, or over the classes in `averaged`; the per-class F1s)."""
    per_class = f1_score(y, pred, labels=list(range(num_labels)), average=None, zero_division=0)
    return float((per_class[averaged] if averaged is not None else per_class).mean()), per_class
