"""Training strategies (docs/design.md §3-4): the baselines (`base`), HybridAL's switch rule
(`deltaf1`) and the factory (`registry`). Everything is importable from here."""

from .base import (
    AFTER_MODES,
    MODES,
    FineTuneStrategy,
    NewOnlyStrategy,
    RetrainStrategy,
    RoundPlan,
    ShrinkPerturbStrategy,
    StopObservation,
    TrainingStrategy,
)
from .deltaf1 import (
    DEFAULT_THRESHOLDS,
    DELTAF1_KEYS,
    TRIGGERS,
    DeltaF1Strategy,
    delta_f1_step,
    switch_decided_round_for,
    switch_round_for,
    trained_switch_round,
)
from .registry import (
    STRATEGIES,
    StrategyConfig,
    build_strategy,
    canonical_strategy_name,
    strategy_for,
    strategy_names,
    with_resolved_guard,
)

__all__ = [
    "AFTER_MODES",
    "DEFAULT_THRESHOLDS",
    "DELTAF1_KEYS",
    "MODES",
    "STRATEGIES",
    "TRIGGERS",
    "DeltaF1Strategy",
    "FineTuneStrategy",
    "NewOnlyStrategy",
    "RetrainStrategy",
    "RoundPlan",
    "ShrinkPerturbStrategy",
    "StopObservation",
    "StrategyConfig",
    "TrainingStrategy",
    "build_strategy",
    "canonical_strategy_name",
    "delta_f1_step",
    "strategy_for",
    "strategy_names",
    "switch_decided_round_for",
    "switch_round_for",
    "trained_switch_round",
    "with_resolved_guard",
]
