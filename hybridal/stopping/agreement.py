"""Stop when consecutive models predict the stop set alike (small-text 1.4.1's KappaAverage, DeltaFScore,
ClassificationChange).

Each reads a signal comparing round r with round r-1, so none can stop at round 0. The windowed
ones need `window_size` such comparisons (rounds 1..window_size) before they can stop at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

from .base import StoppingCriterion, check_int, check_number
from .history import StopHistory


@dataclass(frozen=True)
class KappaAverage(StoppingCriterion):
    """Stop when the mean κ of the last `window_size` consecutive-round comparisons is ≥ `kappa`
    (Bloodgood & Vijay-Shanker 2009). Identical predictions count as κ = 1 (docs/stopping.md)."""

    window_size: int = 3
    kappa: float = 0.99

    name: ClassVar[str] = "kappa_average"
    peer: ClassVar[str] = "small_text.stopping_criteria.KappaAverage"

    def __post_init__(self) -> None:
        check_int(self.name, "window_size", self.window_size, 1)
        check_number(self.name, "kappa", self.kappa, -1.0, 1.0)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        kappas = history.require("kappa", self.name, first_round=1)  # kappas[i] compares rounds i+1 and i
        for r in range(self.window_size, len(history)):
            if np.mean(kappas[r - self.window_size : r]) >= self.kappa:
                return r
        return None


@dataclass(frozen=True)
class DeltaFScore(StoppingCriterion):
    """Stop when small-text's predicted change of F, ΔF, stays below `threshold` for `window_size`
    consecutive rounds (Altschuler & Bloodgood 2019). Binary tasks only, class 1 positive; a round
    whose ΔF is undefined (no positive predictions in either round: nan) is below no threshold."""

    window_size: int = 3
    threshold: float = 0.05

    name: ClassVar[str] = "delta_f_score"
    peer: ClassVar[str] = "small_text.stopping_criteria.DeltaFScore"
    binary_only: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_int(self.name, "window_size", self.window_size, 1)
        check_number(self.name, "threshold", self.threshold, 0.0, 1.0, low_open=True)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        self.check_task(history.num_classes)
        deltas = history.require("delta_f", self.name, first_round=1)  # deltas[i] compares rounds i+1 and i
        for r in range(self.window_size, len(history)):
            if all(d < self.threshold for d in deltas[r - self.window_size : r]):  # nan (undefined) is never below
                return r
        return None


@dataclass(frozen=True)
class ClassificationChange(StoppingCriterion):
    """Stop when at most a `threshold` share of the stop set changed its predicted label since the
    previous round (Zhu, Wang & Hovy 2008; `threshold` = 0: no prediction changed)."""

    threshold: float = 0.0

    name: ClassVar[str] = "classification_change"
    peer: ClassVar[str] = "small_text.stopping_criteria.ClassificationChange"

    def __post_init__(self) -> None:
        check_number(self.name, "threshold", self.threshold, 0.0, 1.0)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        changed = history.require("n_changed", self.name, first_round=1)
        n = history.n_rows
        for r, n_changed in enumerate(changed, start=1):
            if n - n_changed >= n * (1 - self.threshold):  # small-text's exact comparison, in unchanged rows
                return r
        return None
