"""Grid files (a preset or a --config file) read and checked: docs/design.md §8. Imports no Ray.

A *grid* is a mapping with a `base:` section (ExperimentConfig keys shared by every trial) and
a `grid:` section of axes, and optionally `per_dataset:`, a mapping from a dataset name (aliases
resolved) to ExperimentConfig keys that replace the base's for that dataset's trials only (a
nested mapping merges one level deep with the base's), and `arms:`, named sets of overrides run
beside the axes (sweeps/arms.py); `--set` still wins over both. Expanding a grid into trials:
sweeps/grid_expansion.py.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from hybridal.config import ExperimentConfig
from hybridal.data.datasets import ALIASES
from hybridal.errors import ConfigError, did_you_mean
from hybridal.overrides import apply_overrides, parse_override
from hybridal.strategies import AFTER_MODES
from sweeps.arms import overrides_for, parse_arms, select_arms

TOP_KEYS = ("description", "base", "grid", "per_dataset", "arms")
# Axis name → what it sets. The deltaf1-only axes are crossed with deltaf1 trials alone.
GRID_AXES = ("datasets", "seeds", "strategies", "samplers", "epsilons", "ks", "afters", "cs", "guards")
DELTAF1_AXES = ("epsilons", "ks", "afters", "cs", "guards")
# Base keys an axis replaces: setting both would be ambiguous.
_AXIS_BASE_KEY = {"datasets": "data", "seeds": "seed", "strategies": "strategy_class", "samplers": "sampler_class"}


@dataclass
class GridSpec:
    """A parsed grid: the base config and the axes (None = take the base's single value)."""

    base: dict
    datasets: Optional[list] = None
    seeds: Optional[list] = None
    strategies: Optional[list] = None
    samplers: Optional[list] = None
    epsilons: Optional[list] = None
    ks: Optional[list] = None
    afters: Optional[list] = None
    cs: Optional[list] = None
    guards: Optional[list] = None  # the ΔF1 rule's trivial-plateau guard (committed presets pin [false])
    description: str = ""
    source: str = "grid"
    notes: list = field(default_factory=list)
    per_dataset: dict = field(default_factory=dict)  # canonical dataset name → base keys for its trials
    arms: dict = field(default_factory=dict)  # arm name → its ExperimentConfig overrides (sweeps/arms.py)

    def with_axes(self, **axes) -> "GridSpec":
        """A copy with the given axes replaced (None values are ignored), e.g. from the CLI."""
        values = {k: list(v) for k, v in axes.items() if v is not None}
        for name in values:
            if name not in GRID_AXES:
                raise ConfigError(
                    f"grid axis {name!r} is not known{did_you_mean(name, GRID_AXES)}; allowed: {', '.join(GRID_AXES)}."
                )
        # The CLI's axis replaces the base key too (e.g. --datasets with base.data set).
        base = {k: v for k, v in self.base.items() if k not in {_AXIS_BASE_KEY.get(n) for n in values}}
        return dataclasses.replace(self, **values, base=base, notes=list(self.notes))

    def with_overrides(self, overrides: Iterable[str]) -> "GridSpec":
        """A copy whose base has `KEY=VALUE` overrides applied (dots for nested keys).

        The user typed them last, so they win over per_dataset and arms too: each per_dataset entry
        and arm that sets an override's top-level key gets the override as well."""
        overrides = list(overrides)
        if not overrides:
            return self
        per_dataset = {
            name: apply_overrides(entry, [o for o in overrides if parse_override(o)[0][0] in entry])
            for name, entry in self.per_dataset.items()
        }
        arms = {
            name: apply_overrides(entry, overrides_for(entry, overrides, parse_override))
            for name, entry in self.arms.items()
        }
        return dataclasses.replace(
            self,
            base=apply_overrides(self.base, overrides),
            per_dataset=per_dataset,
            arms=arms,
            notes=list(self.notes),
        )

    def with_arms(self, names: Optional[Iterable[str]]) -> "GridSpec":
        """A copy with only the named arms (--arms; None: all of them)."""
        if names is None:
            return self
        return dataclasses.replace(self, arms=select_arms(self.arms, names, self.source), notes=list(self.notes))


def parse_grid(values: Any, source: str) -> GridSpec:
    """A GridSpec from a grid mapping (a preset or a --config file), with one-sentence errors."""
    if values is None:
        raise ConfigError(f"{source} is empty; allowed: a mapping with base: (ExperimentConfig keys) and grid: (axes).")
    if not isinstance(values, dict):
        raise ConfigError(f"{source} must hold a mapping with base: and grid:, not a {type(values).__name__}.")
    known_engine = set(ExperimentConfig.__dataclass_fields__)
    if values and not (set(values) & set(TOP_KEYS)) and set(values) <= known_engine:
        values = {"base": values}  # a plain single-run config is a one-trial grid
    for key in values:
        if key not in TOP_KEYS:
            hint = did_you_mean(key, TOP_KEYS + GRID_AXES)
            where = (
                " (grid axes go under grid:, config keys under base:)"
                if key in GRID_AXES or key in known_engine
                else ""
            )
            raise ConfigError(
                f"{source}: top-level key {key!r} is not known{hint}{where}; allowed: {', '.join(TOP_KEYS)}."
            )
    base = values.get("base") or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{source}: base must be a mapping of ExperimentConfig keys, not a {type(base).__name__}.")
    grid = values.get("grid") or {}
    if not isinstance(grid, dict):
        raise ConfigError(
            f"{source}: grid must be a mapping of axes ({', '.join(GRID_AXES)}), not a {type(grid).__name__}."
        )
    axes = {key: _axis_values(source, key, value, known_engine) for key, value in grid.items()}
    for key, base_key in _AXIS_BASE_KEY.items():
        if key in axes and base_key in base:
            raise ConfigError(
                f"{source}: both base.{base_key} and grid.{key} are set; keep one (grid.{key} crosses every value)."
            )
    per_dataset = _per_dataset(source, values.get("per_dataset"), known_engine)
    return GridSpec(
        base=dict(base),
        description=str(values.get("description") or ""),
        source=source,
        per_dataset=per_dataset,
        arms=parse_arms(source, values.get("arms"), known_engine),
        **axes,
    )


def dataset_key(name: str) -> str:
    """How per_dataset names a dataset: as written in the grid, aliases resolved (ag_news → agnews)."""
    return ALIASES.get(name, name)


def _per_dataset(source: str, value: Any, known_engine: set) -> dict:
    """per_dataset: {dataset: {config key: value}}, checked; keyed by the canonical dataset name."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"{source}: per_dataset must be a mapping of dataset names to ExperimentConfig keys, "
            f"not a {type(value).__name__}."
        )
    out: dict = {}
    for dataset, entry in value.items():
        where = f"{source}: per_dataset.{dataset}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a mapping of ExperimentConfig keys, not a {type(entry).__name__}.")
        for key in entry:
            if key not in known_engine:
                raise ConfigError(
                    f"{where}.{key} is not a known config key{did_you_mean(key, known_engine)}; "
                    "run `hybridal keys` for the list."
                )
            if key in _AXIS_BASE_KEY.values():
                raise ConfigError(
                    f"{where}.{key} is set by the grid's axes ({', '.join(_AXIS_BASE_KEY.values())}), "
                    "so it cannot differ per dataset; allowed: other ExperimentConfig keys."
                )
        name = dataset_key(str(dataset))
        if name in out:
            raise ConfigError(
                f"{source}: per_dataset names dataset {name!r} twice ({dataset!r} is an alias); keep one entry."
            )
        out[name] = dict(entry)
    return out


def _axis_values(source: str, key: str, value: Any, known_engine: set) -> list:
    if key not in GRID_AXES:
        if key in known_engine:
            raise ConfigError(
                f"{source}: grid key {key!r} is an ExperimentConfig key, not an axis; put it under base: "
                f"(one value for every trial) or use an axis: {', '.join(GRID_AXES)}."
            )
        hint = did_you_mean(key, list(GRID_AXES) + [a.rstrip("s") for a in GRID_AXES])
        if hint and key + "s" in GRID_AXES:
            hint = f' (did you mean "{key}s"?)'
        raise ConfigError(f"{source}: grid key {key!r} is not known{hint}; allowed: {', '.join(GRID_AXES)}.")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConfigError(f"{source}: grid.{key} is empty, so the grid has no trials; allowed: a non-empty list.")
    return items


def load_grid_file(path: os.PathLike | str, source: Optional[str] = None) -> GridSpec:
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise ConfigError(f"grid file {str(path)!r} does not exist; pass the path of a YAML file with base: and grid:.")
    try:
        values = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"grid file {str(path)!r} is not readable YAML ({str(exc).splitlines()[0]}).") from None
    return parse_grid(values, source)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# Axis → (check, what is allowed).
_AXIS_CHECKS = {
    "seeds": (lambda v: _is_int(v) and v >= 0, "integers >= 0"),
    "datasets": (lambda v: isinstance(v, str) and bool(v.strip()), "dataset names or paths"),
    "strategies": (lambda v: isinstance(v, str), "strategy names"),
    "samplers": (lambda v: isinstance(v, str), "sampler names"),
    "epsilons": (lambda v: _is_number(v) and v >= 0, "finite numbers >= 0"),
    "ks": (lambda v: _is_int(v) and v >= 1, "integers >= 1"),
    "afters": (lambda v: v in AFTER_MODES, ", ".join(AFTER_MODES)),
    "cs": (lambda v: _is_number(v) and 0 <= v < 1, "numbers in [0, 1)"),
    "guards": (lambda v: isinstance(v, bool), "true, false"),
}


def validate_axes(spec: GridSpec) -> None:
    for name, (ok, allowed) in _AXIS_CHECKS.items():
        for value in getattr(spec, name) or ():
            if not ok(value):
                raise ConfigError(f"{spec.source}: grid.{name} value {value!r} is invalid; allowed: {allowed}.")
