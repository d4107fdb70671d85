"""Stopping criteria by name, so a config can list them: `build_criterion("kappa_average", window_size=3)`."""

from __future__ import annotations

import dataclasses

from hybridal.errors import ConfigError, did_you_mean

from .agreement import ClassificationChange, DeltaFScore, KappaAverage
from .base import StoppingCriterion
from .budget import LabellingBudget, MaxIterations
from .metric import EarlyStopping
from .uncertainty import LowAverageUncertainty, OverallUncertainty

CRITERIA: dict[str, type[StoppingCriterion]] = {
    cls.name: cls
    for cls in (
        KappaAverage,
        DeltaFScore,
        ClassificationChange,
        OverallUncertainty,
        MaxIterations,
        LabellingBudget,
        LowAverageUncertainty,
        EarlyStopping,
    )
}


def criterion_names() -> list[str]:
    """The registry names, sorted."""
    return sorted(CRITERIA)


def criterion_parameters(name: str) -> dict[str, object]:
    """`name`'s parameters and their defaults (`dataclasses.MISSING` for a required one), in order."""
    return {f.name: f.default for f in dataclasses.fields(CRITERIA[name])}  # type: ignore[arg-type]


def build_criterion(name: str, **params: object) -> StoppingCriterion:
    """The criterion registered under `name`, with `params` (checked: unknown or missing ones are refused)."""
    if not isinstance(name, str) or name not in CRITERIA:
        raise ConfigError(
            f"stopping criterion {name!r} is not known{did_you_mean(str(name), CRITERIA)}; "
            f"allowed: {', '.join(criterion_names())}."
        )
    allowed = criterion_parameters(name)
    for key in params:
        if key not in allowed:
            raise ConfigError(
                f"stopping criterion {name!r} got an unknown parameter {key!r}{did_you_mean(key, allowed)}; "
                f"allowed: {', '.join(allowed)}."
            )
    missing = [key for key, default in allowed.items() if default is dataclasses.MISSING and key not in params]
    if missing:
        raise ConfigError(f"stopping criterion {name!r} needs the parameter {missing[0]!r}; it has no default.")
    return CRITERIA[name](**params)
