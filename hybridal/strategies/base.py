"""The training strategies' common part (docs/design.md §3-4): which weights a round starts from
and what it trains on, and the four strategies that never switch.

A strategy is a small policy over the round history: `plan(round)` says how to train,
`observe(round, f1, degenerate, stop)` feeds it what was measured after training. HybridAL's
switch rule: hybridal.strategies.deltaf1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional

MODES = ("retrain", "finetune", "new_only", "shrink_perturb")
AFTER_MODES = ("finetune", "new_only", "shrink_perturb")


@dataclass(frozen=True)
class StopObservation:
    """What a label-free trigger reads after a round: the stop set's κ with the previous round's
    predictions, the fraction of them that changed, and whether it predicted one class everywhere."""

    kappa: Optional[float] = None
    changed_fraction: Optional[float] = None
    degenerate: Optional[bool] = None

    @classmethod
    def of(cls, record: Any) -> "StopObservation":
        """From a round record, its dict, or a trial's reported result."""
        get = record.get if isinstance(record, Mapping) else (lambda key: getattr(record, key, None))
        return cls(get("stop_kappa"), get("stop_changed_fraction"), get("stop_degenerate"))


@dataclass(frozen=True)
class RoundPlan:
    mode: str  # retrain | finetune | new_only | shrink_perturb
    switched: bool  # HybridAL has switched and this round trains with `after`


class TrainingStrategy:
    """Base policy: round 0 always trains from the pretrained weights on the initial labels."""

    name: ClassVar[str]
    steady_mode: ClassVar[str]

    def __init__(self) -> None:
        self._prev_f1: Optional[float] = None
        self._count = 0

    def plan_for(self, round_idx: int, switch_round: Optional[int]) -> RoundPlan:
        """How round `round_idx` trains if the ΔF1 rule switches at `switch_round` (None: never);
        a pure function, so the round schedule can be written before the run."""
        return RoundPlan("retrain" if round_idx == 0 else self.steady_mode, False)

    def plan(self, round_idx: int) -> RoundPlan:
        """How round `round_idx` trains, given what the rule has decided so far."""
        return self.plan_for(round_idx, self.switch_decided_round)

    def observe(
        self,
        round_idx: int,
        f1: Optional[float],
        degenerate: Optional[bool] = None,
        stop: Optional[StopObservation] = None,
    ) -> tuple[Optional[float], int]:
        """Record the monitor F1 after round `round_idx` (and whether the monitor's predictions were
        degenerate, and the stop set's signals); returns (Δ, stable count) for the record.

        Baselines never switch, so Δ is reported for comparison and the count stays 0.
        """
        delta = None if round_idx == 0 or self._prev_f1 is None or f1 is None else f1 - self._prev_f1
        self._prev_f1 = f1
        return delta, 0

    @property
    def switch_decided_round(self) -> Optional[int]:
        """The round the ΔF1 rule chose to switch at (possibly after the run's last round)."""
        return None

    @property
    def reads_monitor(self) -> bool:
        """Whether the next `observe` informs a decision: its monitor pass (and, with the validation
        monitor, the validation labels) is then AL cost, not measurement (docs/accounting.md)."""
        return False

    @property
    def reads_stop_set(self) -> bool:
        """Whether the next `observe` reads the stop set's signals to decide (a label-free trigger):
        the stop-set pass is then AL cost."""
        return False

    def state_dict(self) -> dict:
        return {"prev_f1": self._prev_f1, "count": self._count}

    def load_state_dict(self, state: dict) -> None:
        self._prev_f1, self._count = state["prev_f1"], state["count"]


class RetrainStrategy(TrainingStrategy):
    """Every round from the pretrained weights + the run's seeded head init, on all labels."""

    name = "retrain"
    steady_mode = "retrain"


class FineTuneStrategy(TrainingStrategy):
    """Every round continues from the current weights, on all labels (`finetune_epochs`)."""

    name = "finetune"
    steady_mode = "finetune"


class NewOnlyStrategy(TrainingStrategy):
    """Every round continues from the current weights on that round's labels (+ `replay`)."""

    name = "new_only"
    steady_mode = "new_only"


class ShrinkPerturbStrategy(TrainingStrategy):
    """Every round from λ·current + (1−λ)·start + σ·noise (Ash & Adams 2020), on all labels
    (`finetune_epochs`); λ and σ are the top-level keys `shrink` and `perturb`."""

    name = "shrink_perturb"
    steady_mode = "shrink_perturb"
