"""Stop when a monitored metric stops moving (baal 2.1.0's EarlyStoppingCriterion)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

from .base import StoppingCriterion, check_int, check_number
from .history import StopHistory


@dataclass(frozen=True)
class EarlyStopping(StoppingCriterion):
    """Stop when the recent metric values all lie within `epsilon` of the latest one.

    baal's test, exactly: with values v_1..v_m so far, stop when m ≥ `patience` and every value of
    the last `patience` + 1 (all m when m = `patience`) is `np.isclose` to v_m with `atol=epsilon`
    (and numpy's default `rtol` = 1e-5, i.e. a tolerance of epsilon + 1e-5·|v_m|). So the first stop
    can come after `patience` values, later ones need `patience` + 1. The test does not care whether
    the metric rises or falls. Rounds without a metric are skipped, as if baal were not asked then
    (a monitor that is empty at round 0)."""

    patience: int = 10
    epsilon: float = 1e-4

    name: ClassVar[str] = "early_stopping"
    peer: ClassVar[str] = "baal.active.stopping_criteria.EarlyStoppingCriterion"

    def __post_init__(self) -> None:
        check_int(self.name, "patience", self.patience, 1)
        check_number(self.name, "epsilon", self.epsilon, 0.0, math.inf, high_open=True)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        seen: list[float] = []
        for r, s in enumerate(history.rounds):
            if s.metric is None:
                continue
            seen.append(s.metric)
            if len(seen) < self.patience:
                continue
            recent = np.asarray(seen[-(self.patience + 1) :])
            if bool(np.isclose(recent, seen[-1], atol=self.epsilon).all()):
                return r
        return None
