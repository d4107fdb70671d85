"""Training strategies (docs/design.md §3-4): which weights a round starts from and what it trains on.

A strategy is a small policy over the round history: `plan(round)` says how to train,
`observe(round, f1, degenerate)` feeds it the monitor F1 after training (and whether the monitor's
predictions were degenerate, for the guard). The ΔF1 rule itself is a pure function so it can be
pinned by a table of F1 sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Optional, Protocol, Sequence

from hybridal.errors import ConfigError, choice_error

MODES = ("retrain", "finetune", "new_only", "shrink_perturb")
AFTER_MODES = ("finetune", "new_only", "shrink_perturb")
DELTAF1_KEYS = ("epsilon", "k", "after", "guard")


@dataclass(frozen=True)
class RoundPlan:
    mode: str  # retrain | finetune | new_only | shrink_perturb
    switched: bool  # HybridAL has switched and this round trains with `after`


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
        self, round_idx: int, f1: Optional[float], degenerate: Optional[bool] = None
    ) -> tuple[Optional[float], int]:
        """Record the monitor F1 after round `round_idx` (and whether the monitor's predictions were
        degenerate); returns (Δ, stable count) for the record.

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

    def __init__(self, epsilon: float = 0.01, k: int = 2, after: str = "finetune", guard: bool = True):
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
        super().__init__()
        self.epsilon, self.k, self.after, self.guard = float(epsilon), k, after, guard
        self._switch_decided: Optional[int] = None
        self._prev_degenerate = False

    def plan_for(self, round_idx: int, switch_round: Optional[int]) -> RoundPlan:
        if switch_round is not None and round_idx >= switch_round:
            return RoundPlan(self.after, True)
        return RoundPlan("retrain", False)

    def observe(
        self, round_idx: int, f1: Optional[float], degenerate: Optional[bool] = None
    ) -> tuple[Optional[float], int]:
        trivial = self.guard and (bool(degenerate) or self._prev_degenerate)
        if round_idx == 0:
            delta, count = None, 0
        else:
            delta, count = delta_f1_step(self._prev_f1, f1, self._count, self.epsilon, trivial)
        self._prev_f1, self._count, self._prev_degenerate = f1, count, bool(degenerate)
        if self._switch_decided is None and count >= self.k:
            self._switch_decided = round_idx + 1
        return delta, count

    @property
    def switch_decided_round(self) -> Optional[int]:
        return self._switch_decided

    @property
    def reads_monitor(self) -> bool:
        return self._switch_decided is None

    def state_dict(self) -> dict:
        return {
            **super().state_dict(),
            "switch_decided_round": self._switch_decided,
            "prev_degenerate": self._prev_degenerate,
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self._prev_degenerate = bool(state.get("prev_degenerate", False))
        # Checkpoints written before the rename stored the decision as "switch_round".
        self._switch_decided = state.get("switch_decided_round", state.get("switch_round"))


STRATEGIES: dict[str, type[TrainingStrategy]] = {}
_ALL = (RetrainStrategy, FineTuneStrategy, NewOnlyStrategy, ShrinkPerturbStrategy, DeltaF1Strategy)
for _cls in _ALL:
    STRATEGIES[_cls.name] = _cls
    STRATEGIES[_cls.__name__] = _cls
# The prototype's class names.
STRATEGIES["FineTuningStrategy"] = FineTuneStrategy
STRATEGIES["RetrainingStrategy"] = RetrainStrategy
STRATEGIES["NewOnlyTrainingStrategy"] = NewOnlyStrategy


def strategy_names() -> list[str]:
    return [cls.name for cls in _ALL]


def with_resolved_guard(strategy: TrainingStrategy, kwargs: dict) -> dict:
    """`kwargs` with the ΔF1 rule's guard written out (a deltaf1 strategy only), so every recorded
    config says which rule ran."""
    return {**kwargs, "guard": strategy.guard} if isinstance(strategy, DeltaF1Strategy) else dict(kwargs)


def build_strategy(name: str, **kwargs) -> TrainingStrategy:
    if name not in STRATEGIES:
        raise choice_error("strategy_class", name, strategy_names())
    cls = STRATEGIES[name]
    if cls is not DeltaF1Strategy and kwargs:
        raise ConfigError(
            f"strategy_kwargs={kwargs!r} is not accepted by {cls.name}; allowed: {{}} "
            "(epsilon, k, after and guard belong to deltaf1; epochs, finetune_epochs, replay, shrink and perturb "
            "are top-level keys)."
        )
    if cls is DeltaF1Strategy:
        unknown = set(kwargs) - set(DELTAF1_KEYS)
        if unknown:
            raise choice_error("strategy_kwargs key", sorted(unknown)[0], DELTAF1_KEYS)
    return cls(**kwargs)


class StrategyConfig(Protocol):
    """What a strategy is built from: an ExperimentConfig, or anything holding its two keys."""

    strategy_class: str
    strategy_kwargs: dict


def strategy_for(config: StrategyConfig) -> TrainingStrategy:
    """The training strategy a config describes: the one factory the engine, the estimate and the
    sweeps build strategies with (a fresh one each call: a strategy holds its run's rule state)."""
    return build_strategy(config.strategy_class, **config.strategy_kwargs)


def canonical_strategy_name(name: str) -> str:
    """`name` as records write it (the prototype's class names resolve to ours)."""
    return build_strategy(name).name
