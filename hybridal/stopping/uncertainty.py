"""Stop when the model is confident on the stop set (small-text 1.4.1's OverallUncertainty, baal 2.1.0's
LowAverageUncertaintyStoppingCriterion).

Both read one round alone, so both can stop at round 0. They differ in the scale: small-text's
entropy is normalised by log K (so one threshold fits any number of classes), baal's is in nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Optional

from .base import StoppingCriterion, check_number
from .history import StopHistory


@dataclass(frozen=True)
class OverallUncertainty(StoppingCriterion):
    """Stop when the stop set's mean normalised entropy is below `threshold` (Zhu, Wang & Hovy 2008).

    small-text reads the rows given as `indices_stopping` (the original uses the unlabelled pool);
    here they are the stop set's rows."""

    threshold: float = 0.05

    name: ClassVar[str] = "overall_uncertainty"
    peer: ClassVar[str] = "small_text.stopping_criteria.OverallUncertainty"

    def __post_init__(self) -> None:
        check_number(self.name, "threshold", self.threshold, 0.0, 1.0, high_open=True)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        for r, value in enumerate(history.require("mean_normalised_entropy", self.name)):
            if value < self.threshold:
                return r
        return None


@dataclass(frozen=True)
class LowAverageUncertainty(StoppingCriterion):
    """Stop when the stop set's mean predictive entropy, in nats, is below `avg_uncertainty_thresh`.

    baal averages whatever uncertainty its heuristic scored over the pool; here the uncertainty is
    the stop set's entropy (baal's Entropy heuristic), so the criterion does not depend on the
    sampler. No default: baal has none, and a threshold in nats depends on the number of classes."""

    avg_uncertainty_thresh: float

    name: ClassVar[str] = "low_average_uncertainty"
    peer: ClassVar[str] = "baal.active.stopping_criteria.LowAverageUncertaintyStoppingCriterion"

    def __post_init__(self) -> None:
        check_number(self.name, "avg_uncertainty_thresh", self.avg_uncertainty_thresh, 0.0, math.inf, True, True)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        for r, value in enumerate(history.require("mean_entropy", self.name)):
            if value < self.avg_uncertainty_thresh:
                return r
        return None
