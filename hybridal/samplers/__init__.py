"""Samplers (acquisition functions; small-text calls them query strategies) by name:
`build_sampler("entropy")`, never eval.

Keys are the registry names (`sampler_names()`) plus the class names the seed prototype used
(`EntropySampler`, ... and `UncertaintySampler` for least confidence).
"""

from __future__ import annotations

import inspect

from hybridal.errors import ConfigError, did_you_mean

from .badge import BADGESampler
from .bald import BALDSampler
from .base import PoolScores, Sampler, top_n
from .coreset import CoresetSampler
from .uncertainty import EntropySampler, LeastConfidenceSampler, MarginSampler, RandomSampler

_CLASSES: tuple[type[Sampler], ...] = (
    RandomSampler,
    EntropySampler,
    LeastConfidenceSampler,
    MarginSampler,
    BALDSampler,
    CoresetSampler,
    BADGESampler,
)

SAMPLERS: dict[str, type[Sampler]] = {
    **{cls.name: cls for cls in _CLASSES},
    **{cls.__name__: cls for cls in _CLASSES},
    "UncertaintySampler": LeastConfidenceSampler,
}

# Accepted by every sampler and dropped here: the engine reads it to seed the run's generator.
IGNORED_KWARGS = ("seed",)


def sampler_names() -> list[str]:
    """The registry names (e.g. 'entropy'), sorted; class-name aliases are not listed."""
    return sorted(cls.name for cls in _CLASSES)


def sampler_kwargs(cls: type[Sampler]) -> list[str]:
    """Keyword arguments `cls`'s constructor takes (besides the ignored `seed`)."""
    params = inspect.signature(cls.__init__).parameters
    return [
        name for name, p in params.items() if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def build_sampler(name: str, **kwargs) -> Sampler:
    """The sampler registered under `name`, constructed with `kwargs` (`seed` is ignored)."""
    if not isinstance(name, str) or name not in SAMPLERS:
        raise ConfigError(
            f"sampler={name!r} is not known{did_you_mean(str(name), SAMPLERS)}; allowed: {', '.join(sampler_names())}."
        )
    cls = SAMPLERS[name]
    for key in IGNORED_KWARGS:
        kwargs.pop(key, None)
    allowed = sampler_kwargs(cls)
    for key in kwargs:
        if key not in allowed:
            shown = ", ".join(allowed + list(IGNORED_KWARGS))
            same_case = [a for a in allowed if a.lower() == str(key).lower()]
            hint = f' (did you mean "{same_case[0]}"?)' if same_case else did_you_mean(key, allowed)
            raise ConfigError(f"sampler {cls.name!r} got an unknown keyword argument {key!r}{hint}; allowed: {shown}.")
    return cls(**kwargs)


__all__ = [
    "BADGESampler",
    "BALDSampler",
    "CoresetSampler",
    "EntropySampler",
    "LeastConfidenceSampler",
    "MarginSampler",
    "PoolScores",
    "RandomSampler",
    "SAMPLERS",
    "Sampler",
    "build_sampler",
    "sampler_kwargs",
    "sampler_names",
    "top_n",
]
