"""Named arms of a grid file (`arms:`): read, checked, selected and applied. Imports no Ray.

An *arm* is a named set of ExperimentConfig overrides (docs/sweeps.md, "Named arms"), run per
dataset × seed (× sampler where the arm sets no `sampler_class`) beside the grid's axes. An arm
applies on top of the dataset's base (per_dataset applied); a nested mapping merges one level
deep with the base's, except the arm's strategy and sampler, which it brings whole: an arm that
sets `strategy_class` or `strategy_kwargs` runs with its own `strategy_kwargs` alone (none: the
strategy's defaults), likewise `sampler_class`/`sampler_kwargs`. Expansion into trials:
sweeps/grid_expansion.py.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from hybridal.errors import ConfigError, did_you_mean

# Keys an arm cannot set: the sweep sets them per trial.
SET_BY_SWEEP = {"data": "grid.datasets", "seed": "grid.seeds", "experiment_name": "the trial's name"}
# A component an arm brings whole: its class key → its kwargs key.
OWN_KWARGS = {"strategy_class": "strategy_kwargs", "sampler_class": "sampler_kwargs"}
# Folder-safe and readable: letters, digits, '_', '.', '-', starting and ending with a letter or digit.
ARM_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\Z")
ALLOWED = "a mapping of arm names to ExperimentConfig keys, or a list of mappings each with name:"


def parse_arms(source: str, value: Any, known_engine: set) -> dict[str, dict]:
    """arms: {name: {config key: value}} or [{name: ..., config key: value}], checked; name → overrides."""
    if value is None:
        return {}
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for i, entry in enumerate(value):
            if not isinstance(entry, dict) or "name" not in entry:
                raise ConfigError(
                    f"{source}: arms[{i}] must be a mapping with name: and ExperimentConfig keys, not {entry!r}."
                )
            items.append((entry["name"], {k: v for k, v in entry.items() if k != "name"}))
    else:
        raise ConfigError(f"{source}: arms must be {ALLOWED}, not a {type(value).__name__}.")
    if not items:
        raise ConfigError(f"{source}: arms is empty; allowed: {ALLOWED} (or leave arms: out).")
    out: dict[str, dict] = {}
    for name, entry in items:
        if not isinstance(name, str) or not ARM_NAME.match(name):
            raise ConfigError(
                f"{source}: arm name {name!r} is invalid; allowed: letters, digits, '_', '.' and '-' "
                "(starting with a letter or digit), as it becomes part of each trial's folder name."
            )
        if name in out:
            raise ConfigError(f"{source}: arms names {name!r} twice; keep one arm of each name.")
        out[name] = _arm_entry(f"{source}: arms.{name}", entry, known_engine)
    return out


def _arm_entry(where: str, entry: Any, known_engine: set) -> dict:
    if entry is None:
        return {}  # the dataset's base as it is
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping of ExperimentConfig keys, not a {type(entry).__name__}.")
    for key in entry:
        if key in SET_BY_SWEEP:
            raise ConfigError(
                f"{where}: {key} is set per trial by {SET_BY_SWEEP[key]}, so an arm cannot set it; "
                "allowed: other ExperimentConfig keys."
            )
        if key not in known_engine:
            raise ConfigError(
                f"{where}: {key!r} is not a known config key{did_you_mean(str(key), known_engine)}; "
                "run `hybridal keys` for the list."
            )
    return dict(entry)


def select_arms(arms: dict[str, dict], names: Iterable[str], source: str) -> dict[str, dict]:
    """The arms named (--arms), in the grid file's order; an unknown name fails in one sentence."""
    names = list(names)
    if not arms:
        raise ConfigError(f"--arms needs a grid with an arms: section; {source} has none.")
    for name in names:
        if name not in arms:
            raise ConfigError(
                f"--arms {name!r} is not an arm of {source}{did_you_mean(name, list(arms))}; "
                f"allowed: {', '.join(arms)}."
            )
    return {name: entry for name, entry in arms.items() if name in names}


def overrides_for(entry: dict, overrides: list[str], parse) -> list[str]:
    """The --set overrides that reach an arm: those of the keys it sets (the user typed them last)."""
    return [o for o in overrides if parse(o)[0][0] in entry]


def apply_arm(values: dict, arm: dict, sampler: Optional[str]) -> dict:
    """A dataset's config values (per_dataset applied) with the arm on top, and the sampler of the
    grid's samplers axis where the arm sets none."""
    out = dict(values)
    for class_key, kwargs_key in OWN_KWARGS.items():
        if class_key in arm or kwargs_key in arm:
            out[kwargs_key] = {}  # the arm brings the component whole
    for key, value in arm.items():
        merge = isinstance(value, dict) and isinstance(out.get(key), dict) and key not in OWN_KWARGS.values()
        out[key] = {**out[key], **value} if merge else value
    if sampler is not None and "sampler_class" not in arm:
        out["sampler_class"] = sampler
    return out
