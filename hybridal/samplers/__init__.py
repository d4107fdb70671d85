"""Samplers (acquisition functions; small-text calls them query strategies) by name:
`build_sampler("entropy")`, never eval.

Keys are the registry names (`sampler_names()`) plus the class names the seed prototype used
(`EntropySampler`, ... and `UncertaintySampler` for least confidence). A multi-label run
(`multi_label=True`) gets the same names read over per-label sigmoid outputs, plus small-text's
`cvirs`, `lci` and `aal` (docs/multilabel.md); `badge` is single-label only.
"""

from __future__ import annotations

import inspect

from hybridal.errors import ConfigError, did_you_mean

from .badge import BADGESampler
from .bald import BALDSampler
from .base import PoolScores, Sampler, top_n
from .coreset import CoresetSampler
from .multilabel_samplers import (
    AALSampler,
    CVIRSSampler,
    LCISampler,
    MultiLabelBALDSampler,
    MultiLabelEntropySampler,
    MultiLabelLeastConfidenceSampler,
    MultiLabelMarginSampler,
)
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

# A multi-label run's samplers by registry name; BADGE's gradient embedding assumes one softmax.
MULTI_LABEL_SAMPLERS: dict[str, type[Sampler]] = {
    "random": RandomSampler,
    "entropy": MultiLabelEntropySampler,
    "least_confidence": MultiLabelLeastConfidenceSampler,
    "margin": MultiLabelMarginSampler,
    "bald": MultiLabelBALDSampler,
    "coreset": CoresetSampler,
    "cvirs": CVIRSSampler,
    "lci": LCISampler,
    "aal": AALSampler,
}

# Accepted by every sampler and dropped here: the engine reads it to seed the run's generator.
IGNORED_KWARGS = ("seed",)


def sampler_names(multi_label: bool = False) -> list[str]:
    """The registry names (e.g. 'entropy') of the task's samplers, sorted; class-name aliases are not listed."""
    return sorted(MULTI_LABEL_SAMPLERS) if multi_label else sorted(cls.name for cls in _CLASSES)


def sampler_kwargs(cls: type[Sampler]) -> list[str]:
    """Keyword arguments `cls`'s constructor takes (besides the ignored `seed`)."""
    params = inspect.signature(cls.__init__).parameters
    return [
        name for name, p in params.items() if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def build_sampler(name: str, multi_label: bool = False, **kwargs) -> Sampler:
    """The sampler registered under `name` for the run's task, constructed with `kwargs` (`seed` is ignored)."""
    # A prototype class name (EntropySampler) names its registry entry; a multi-label run reads that name
    # over per-label outputs (MULTI_LABEL_SAMPLERS), a single-label run as registered.
    registered = SAMPLERS[name].name if isinstance(name, str) and name in SAMPLERS else name
    if not isinstance(name, str) or registered not in {**SAMPLERS, **MULTI_LABEL_SAMPLERS}:
        allowed = sampler_names(multi_label)
        raise ConfigError(
            f"sampler={name!r} is not known{did_you_mean(str(name), allowed)}; allowed: {', '.join(allowed)}."
        )
    if multi_label and registered not in MULTI_LABEL_SAMPLERS:
        raise ConfigError(
            f"sampler={name!r} does not support a multi-label task; allowed: {', '.join(sampler_names(True))}."
        )
    if not multi_label and registered not in SAMPLERS:
        raise ConfigError(
            f"sampler={name!r} needs a multi-label task (label_columns, or jigsaw's six labels); allowed here: "
            f"{', '.join(sampler_names())}."
        )
    cls = MULTI_LABEL_SAMPLERS[registered] if multi_label else SAMPLERS[name]
    for key in IGNORED_KWARGS:
        kwargs.pop(key, None)
    allowed = sampler_kwargs(cls)
    for key in kwargs:
        if key not in allowed:
            shown = ", ".join(allowed + list(IGNORED_KWARGS))
            same_case = [a for a in allowed if a.lower() == str(key).lower()]
            hint = f' (did you mean "{same_case[0]}"?)' if same_case else did_you_mean(key, allowed)
            raise ConfigError(f"sampler {cls.name!r} got an unknown keyword argument {key!r}{hint}; allowed: {shown}.")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except ValueError as exc:  # a sampler's own argument check: said as a config error, naming the sampler
        raise ConfigError(f"sampler {cls.name!r}: {exc}") from None


__all__ = [
    "BADGESampler",
    "BALDSampler",
    "CoresetSampler",
    "EntropySampler",
    "LeastConfidenceSampler",
    "MULTI_LABEL_SAMPLERS",
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
