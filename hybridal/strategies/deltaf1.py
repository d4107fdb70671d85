"""HybridAL's switch rule (docs/design.md §4, docs/stopping.md "Triggers"): retrain until a
trigger calls k rounds in a row stable, then the cheaper `after` strategy for good.

The ΔF1 step is a pure function so it can be pinned by a table of F1 sequences.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from hybridal.errors import ConfigError, choice_error

from .base import AFTER_MODES, RoundPlan, StopObservation, TrainingStrategy

DELTAF1_KEYS = ("epsilon", "k", "after", "guard", "trigger", "threshold")
# What the rule reads to call a round stable (docs/stopping.md, "Triggers"): the monitor's ΔF1
# (labels), or the stop set's κ or changed fraction (no labels). Default thresholds: small-text's
# KappaAverage (κ 0.99) and ClassificationChange (0.0: no prediction changed).
TRIGGERS = ("monitor_f1", "kappa", "change")
DEFAULT_THRESHOLDS = {"kappa": 0.99, "change": 0.0}


def delta_f1_step(
    prev_f1: Optional[float], f1: Optional[float], count: int, epsilon: float, trivial: bool = False
) -> tuple[Optional[float], int]:
    """One step of the ΔF1 rule: (Δ_r, count_r) from F1_{r-1}, F1_r and count_{r-1}.

    Δ is undefined (None) while either F1 is missing (e.g. an empty monitor set at round 0);
    an undefined Δ leaves the count at 0, as does any |Δ| ≥ ε. `trivial` (the guard, see
    `DeltaF1Strategy`): round r or r-1 predicted degenerately, so Δ_r measures no learning and
    the count restarts at 0.
    """
    if prev_f1 is None or f1 is None:
        return None, 0
    delta = f1 - prev_f1
    return delta, (count + 1 if abs(delta) < epsilon and not trivial else 0)


def switch_decided_round_for(
    f1s: list[Optional[float]],
    epsilon: float,
    k: int,
    degenerate: Optional[Sequence[Optional[bool]]] = None,
    guard: bool = False,
) -> Optional[int]:
    """The round the ΔF1 rule picks to switch at (r+1 for the first r with count_r ≥ k), given
    F1_0, F1_1, … (and, with `guard`, which rounds' monitor predictions were degenerate); it may
    lie past the last round. None if the rule never fires."""
    strategy = DeltaF1Strategy(epsilon=epsilon, k=k, guard=guard)
    for r, f1 in enumerate(f1s):
        strategy.observe(r, f1, degenerate[r] if degenerate is not None else None)
    return strategy.switch_decided_round


def trained_switch_round(decided: Optional[int], rounds_trained: int) -> Optional[int]:
    """`switch_round`: the first round that trained with `after`, given the decided round and
    how many rounds (0 … rounds_trained-1) trained; None if none did."""
    return decided if decided is not None and decided < rounds_trained else None


def switch_round_for(
    f1s: list[Optional[float]],
    epsilon: float,
    k: int,
    degenerate: Optional[Sequence[Optional[bool]]] = None,
    guard: bool = False,
) -> Optional[int]:
    """The first round HybridAL trains with `after` in a run whose rounds had F1_0, F1_1, …;
    None if it never does (a switch decided after the last round included)."""
    return trained_switch_round(switch_decided_round_for(f1s, epsilon, k, degenerate, guard), len(f1s))


class DeltaF1Strategy(TrainingStrategy):
    """HybridAL: retrain until |ΔF1| < ε for k rounds in a row, then `after` for good.

    The guard (`guard=True`, the default for new runs): a round whose monitor predictions are
    degenerate (one class, or F1 no better than the majority-class predictor's) is not stable,
    and neither is the round after it (its Δ is measured from a trivial predictor). Without it,
    a plateau at the trivial predictor (Jigsaw's first rounds) reads as |Δ| = 0 and switches
    before the model has learned anything. Old presets pin `guard: false`.
    """

    name = "deltaf1"
    steady_mode = "retrain"

    def __init__(
        self,
        epsilon: float = 0.01,
        k: int = 2,
        after: str = "finetune",
        guard: bool = True,
        trigger: str = "monitor_f1",
        threshold: Optional[float] = None,
    ):
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, (int, float))
            or not epsilon >= 0
            or math.isinf(epsilon)
        ):
            raise ConfigError(f"strategy_kwargs.epsilon={epsilon!r} is invalid; allowed: a finite number >= 0.")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"strategy_kwargs.k={k!r} is invalid; allowed: an integer >= 1.")
        if after not in AFTER_MODES:
            raise choice_error("strategy_kwargs.after", after, AFTER_MODES)
        if not isinstance(guard, bool):
            raise ConfigError(f"strategy_kwargs.guard={guard!r} is invalid; allowed: true or false.")
        if trigger not in TRIGGERS:
            raise choice_error("strategy_kwargs.trigger", trigger, TRIGGERS)
        super().__init__()
        self.epsilon, self.k, self.after, self.guard, self.trigger = float(epsilon), k, after, guard, trigger
        self.threshold = _trigger_threshold(trigger, threshold)
        self._switch_decided: Optional[int] = None
        self._prev_degenerate = False
        self._prev_stop_degenerate = False

    def plan_for(self, round_idx: int, switch_round: Optional[int]) -> RoundPlan:
        if switch_round is not None and round_idx >= switch_round:
            return RoundPlan(self.after, True)
        return RoundPlan("retrain", False)

    def observe(
        self,
        round_idx: int,
        f1: Optional[float],
        degenerate: Optional[bool] = None,
        stop: Optional[StopObservation] = None,
    ) -> tuple[Optional[float], int]:
        stop = stop or StopObservation()
        if self.trigger == "monitor_f1":
            trivial = self.guard and (bool(degenerate) or self._prev_degenerate)
            if round_idx == 0:
                delta, count = None, 0
            else:
                delta, count = delta_f1_step(self._prev_f1, f1, self._count, self.epsilon, trivial)
        else:  # label-free: Δ of the monitor is measurement only; the stop set decides
            trivial = self.guard and (bool(stop.degenerate) or self._prev_stop_degenerate)
            delta = None if round_idx == 0 or self._prev_f1 is None or f1 is None else f1 - self._prev_f1
            count = self._count + 1 if round_idx > 0 and not trivial and self._stable(stop) else 0
        self._prev_f1, self._count, self._prev_degenerate = f1, count, bool(degenerate)
        self._prev_stop_degenerate = bool(stop.degenerate)
        if self._switch_decided is None and count >= self.k:
            self._switch_decided = round_idx + 1
        return delta, count

    def _stable(self, stop: StopObservation) -> bool:
        """A label-free trigger's test of one round; a missing or undefined (nan) signal is not stable."""
        value = stop.kappa if self.trigger == "kappa" else stop.changed_fraction
        if value is None or math.isnan(value):
            return False
        return value >= self.threshold if self.trigger == "kappa" else value <= self.threshold

    @property
    def switch_decided_round(self) -> Optional[int]:
        return self._switch_decided

    @property
    def reads_monitor(self) -> bool:
        return self._switch_decided is None and self.trigger == "monitor_f1"

    @property
    def reads_stop_set(self) -> bool:
        return self._switch_decided is None and self.trigger != "monitor_f1"

    def state_dict(self) -> dict:
        return {
            **super().state_dict(),
            "switch_decided_round": self._switch_decided,
            "prev_degenerate": self._prev_degenerate,
            "prev_stop_degenerate": self._prev_stop_degenerate,
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self._prev_degenerate = bool(state.get("prev_degenerate", False))
        self._prev_stop_degenerate = bool(state.get("prev_stop_degenerate", False))
        # Checkpoints written before the rename stored the decision as "switch_round".
        self._switch_decided = state.get("switch_decided_round", state.get("switch_round"))


def _trigger_threshold(trigger: str, threshold: Optional[float]) -> float:
    """The trigger's threshold, its default where unset; ε is the ΔF1 trigger's, so it takes none."""
    if trigger == "monitor_f1":
        if threshold is not None:
            raise ConfigError(
                f"strategy_kwargs.threshold={threshold!r} is read by a label-free trigger only; allowed: "
                "trigger: kappa or change with a threshold, or trigger: monitor_f1 with epsilon."
            )
        return math.nan
    if threshold is None:
        return DEFAULT_THRESHOLDS[trigger]
    low, high = (-1.0, 1.0) if trigger == "kappa" else (0.0, 1.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not low <= threshold <= high:
        raise ConfigError(
            f"strategy_kwargs.threshold={threshold!r} is invalid for trigger {trigger}; allowed: a number in "
            f"[{low:g}, {high:g}] ({'κ at or above it' if trigger == 'kappa' else 'changed fraction at or below it'}"
            " counts as stable)."
        )
    return float(threshold)
