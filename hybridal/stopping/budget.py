"""Stop after a fixed number of rounds or labels (small-text 1.4.1's MaxIterations, baal 2.1.0's
LabellingBudgetStoppingCriterion): limits that need no model signal at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from .base import StoppingCriterion, check_int
from .history import StopHistory


@dataclass(frozen=True)
class MaxIterations(StoppingCriterion):
    """Stop at round `max_iterations` − 1, i.e. after `max_iterations` trained models.

    small-text's `stop()` says True on its `max_iterations`-th call (it counts calls from 1)."""

    max_iterations: int

    name: ClassVar[str] = "max_iterations"
    peer: ClassVar[str] = "small_text.stopping_criteria.MaxIterations"

    def __post_init__(self) -> None:
        check_int(self.name, "max_iterations", self.max_iterations, 1)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        return self.max_iterations - 1 if len(history) >= self.max_iterations else None


@dataclass(frozen=True)
class LabellingBudget(StoppingCriterion):
    """Stop at the first round whose labels bought since round 0 reach `labelling_budget`.

    baal counts from the labelled set's size when the criterion is built, i.e. the initial labels,
    which here are round 0's. baal's loop asks after buying the next batch; here round r is asked
    about the labels it trained on, so a stop at round r buys nothing after it."""

    labelling_budget: int

    name: ClassVar[str] = "labelling_budget"
    peer: ClassVar[str] = "baal.active.stopping_criteria.LabellingBudgetStoppingCriterion"

    def __post_init__(self) -> None:
        check_int(self.name, "labelling_budget", self.labelling_budget, 0)

    def stop_round(self, history: StopHistory) -> Optional[int]:
        labels = history.require("n_labeled", self.name)
        for r, n in enumerate(labels):
            if n - labels[0] >= self.labelling_budget:
                return r
        return None
