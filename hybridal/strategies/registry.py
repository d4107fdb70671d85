"""Strategies by name, and the one factory the engine, the estimate and the sweeps build them with."""

from __future__ import annotations

from typing import Protocol

from hybridal.errors import ConfigError, choice_error

from .base import FineTuneStrategy, NewOnlyStrategy, RetrainStrategy, ShrinkPerturbStrategy, TrainingStrategy
from .deltaf1 import DELTAF1_KEYS, DeltaF1Strategy

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
            "(epsilon, k, after, guard, trigger and threshold belong to deltaf1; epochs, finetune_epochs, replay, "
            "shrink and perturb are top-level keys)."
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
