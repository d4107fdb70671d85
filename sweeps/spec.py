"""Grid files → the sweep's trials (DESIGN.md section 8). Imports no Ray.

A *grid* is a mapping with a `base:` section (ExperimentConfig keys shared by every trial) and
a `grid:` section of axes. Baselines (retrain, finetune, new_only) are crossed with
dataset × seed × sampler only; `deltaf1` is also crossed with ε × k × after (× c where
`monitor: acquired`). Baselines use no monitor, so with `monitor: acquired` they run with
`monitor: validation`: they train on every label they buy. Every trial's config is validated
here, before Ray starts.

An optional `per_dataset:` section maps a dataset name (aliases resolved) to ExperimentConfig keys
that replace the base's for that dataset's trials only (a nested mapping merges one level deep
with the base's); `--set` still wins over it. An entry for a dataset the sweep does not run is
unused (e.g. `--datasets agnews` on a three-dataset preset).

A `Trial` is a name and an ExperimentConfig; its canonical columns (`hybridal.trial_columns`,
what summary.json calls "trial") are derived once, here.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from hybridal.config import ExperimentConfig, apply_overrides, parse_override
from hybridal.data import ALIASES, NAMED_DATASETS
from hybridal.errors import ConfigError, did_you_mean
from hybridal.strategies import DeltaF1Strategy, build_strategy
from hybridal.trial import trial_columns

from sweeps.trial_names import TrialNaming

TOP_KEYS = ("description", "base", "grid", "per_dataset")
# Axis name → what it sets. The deltaf1-only axes are crossed with deltaf1 trials alone.
GRID_AXES = ("datasets", "seeds", "strategies", "samplers", "epsilons", "ks", "afters", "cs", "guards")
DELTAF1_AXES = ("epsilons", "ks", "afters", "cs", "guards")
# Base keys an axis replaces: setting both would be ambiguous.
_AXIS_BASE_KEY = {"datasets": "data", "seeds": "seed", "strategies": "strategy_class", "samplers": "sampler_class"}


# ---- trials ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Trial:
    """One trial of a sweep: its name (also its folder) and the run's whole config."""
    name: str
    config: ExperimentConfig
    columns: dict = field(default_factory=dict)   # trial_columns(config), filled by `of`

    @classmethod
    def of(cls, name: str, config: ExperimentConfig) -> "Trial":
        return cls(name, config, trial_columns(config))

    def to_json(self) -> dict:
        """What the sweep file stores (the columns follow from the config)."""
        return {"trial_name": self.name, "engine": self.config.to_dict()}

    @classmethod
    def from_json(cls, values: dict) -> "Trial":
        if not isinstance(values.get("engine"), dict):
            raise ConfigError(f"a stored trial has no 'engine' mapping ({str(values)[:80]}); it was not written by sweeps/grid.py.")
        return cls.of(str(values["trial_name"]), ExperimentConfig.from_dict(dict(values["engine"])).validate())


def grid_key(trials: list[Trial]) -> list[str]:
    """A comparable description of a trial list (for 'is this the same sweep?')."""
    return sorted(json.dumps(_identity(t.config), sort_keys=True, default=str) for t in trials)


def _identity(cfg: ExperimentConfig) -> dict:
    """What makes two trials the same run (the name and output folder do not)."""
    values = cfg.to_dict()
    for key in ("experiment_name", "save_dir"):
        values.pop(key, None)
    return values


# ---- grid files -----------------------------------------------------------------------------

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
    guards: Optional[list] = None   # the ΔF1 rule's trivial-plateau guard (committed presets pin [false])
    description: str = ""
    source: str = "grid"
    notes: list = field(default_factory=list)
    per_dataset: dict = field(default_factory=dict)   # canonical dataset name → base keys for its trials

    def with_axes(self, **axes) -> "GridSpec":
        """A copy with the given axes replaced (None values are ignored), e.g. from the CLI."""
        values = {k: list(v) for k, v in axes.items() if v is not None}
        for name in values:
            if name not in GRID_AXES:
                raise ConfigError(f"grid axis {name!r} is not known{did_you_mean(name, GRID_AXES)}; allowed: {', '.join(GRID_AXES)}.")
        # The CLI's axis replaces the base key too (e.g. --datasets with base.data set).
        base = {k: v for k, v in self.base.items() if k not in {_AXIS_BASE_KEY.get(n) for n in values}}
        return dataclasses.replace(self, **values, base=base, notes=list(self.notes))

    def with_overrides(self, overrides: Iterable[str]) -> "GridSpec":
        """A copy whose base has `KEY=VALUE` overrides applied (dots for nested keys).

        The user typed them last, so they win over per_dataset too: each per_dataset entry that
        sets an override's top-level key gets the override as well."""
        overrides = list(overrides)
        if not overrides:
            return self
        per_dataset = {name: apply_overrides(entry, [o for o in overrides if parse_override(o)[0][0] in entry])
                       for name, entry in self.per_dataset.items()}
        return dataclasses.replace(self, base=apply_overrides(self.base, overrides), per_dataset=per_dataset,
                                   notes=list(self.notes))


def parse_grid(values: Any, source: str) -> GridSpec:
    """A GridSpec from a grid mapping (a preset or a --config file), with one-sentence errors."""
    if values is None:
        raise ConfigError(f"{source} is empty; allowed: a mapping with base: (ExperimentConfig keys) and grid: (axes).")
    if not isinstance(values, dict):
        raise ConfigError(f"{source} must hold a mapping with base: and grid:, not a {type(values).__name__}.")
    known_engine = set(ExperimentConfig.__dataclass_fields__)
    if values and not (set(values) & set(TOP_KEYS)) and set(values) <= known_engine:
        values = {"base": values}   # a plain single-run config is a one-trial grid
    for key in values:
        if key not in TOP_KEYS:
            hint = did_you_mean(key, TOP_KEYS + GRID_AXES)
            where = " (grid axes go under grid:, config keys under base:)" if key in GRID_AXES or key in known_engine else ""
            raise ConfigError(f"{source}: top-level key {key!r} is not known{hint}{where}; allowed: {', '.join(TOP_KEYS)}.")
    base = values.get("base") or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{source}: base must be a mapping of ExperimentConfig keys, not a {type(base).__name__}.")
    grid = values.get("grid") or {}
    if not isinstance(grid, dict):
        raise ConfigError(f"{source}: grid must be a mapping of axes ({', '.join(GRID_AXES)}), not a {type(grid).__name__}.")
    axes = {key: _axis_values(source, key, value, known_engine) for key, value in grid.items()}
    for key, base_key in _AXIS_BASE_KEY.items():
        if key in axes and base_key in base:
            raise ConfigError(f"{source}: both base.{base_key} and grid.{key} are set; keep one (grid.{key} crosses every value).")
    per_dataset = _per_dataset(source, values.get("per_dataset"), known_engine)
    return GridSpec(base=dict(base), description=str(values.get("description") or ""), source=source,
                    per_dataset=per_dataset, **axes)


def _dataset_key(name: str) -> str:
    """How per_dataset names a dataset: as written in the grid, aliases resolved (ag_news → agnews)."""
    return ALIASES.get(name, name)


def _per_dataset(source: str, value: Any, known_engine: set) -> dict:
    """per_dataset: {dataset: {config key: value}}, checked; keyed by the canonical dataset name."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: per_dataset must be a mapping of dataset names to ExperimentConfig keys, "
                          f"not a {type(value).__name__}.")
    out: dict = {}
    for dataset, entry in value.items():
        where = f"{source}: per_dataset.{dataset}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a mapping of ExperimentConfig keys, not a {type(entry).__name__}.")
        for key in entry:
            if key not in known_engine:
                raise ConfigError(f"{where}.{key} is not a known config key{did_you_mean(key, known_engine)}; "
                                  "run `hybridal keys` for the list.")
            if key in _AXIS_BASE_KEY.values():
                raise ConfigError(f"{where}.{key} is set by the grid's axes ({', '.join(_AXIS_BASE_KEY.values())}), "
                                  "so it cannot differ per dataset; allowed: other ExperimentConfig keys.")
        name = _dataset_key(str(dataset))
        if name in out:
            raise ConfigError(f"{source}: per_dataset names dataset {name!r} twice ({dataset!r} is an alias); keep one entry.")
        out[name] = dict(entry)
    return out


def _axis_values(source: str, key: str, value: Any, known_engine: set) -> list:
    if key not in GRID_AXES:
        if key in known_engine:
            raise ConfigError(f"{source}: grid key {key!r} is an ExperimentConfig key, not an axis; put it under base: "
                              f"(one value for every trial) or use an axis: {', '.join(GRID_AXES)}.")
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


# ---- expansion ------------------------------------------------------------------------------

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
    "afters": (lambda v: v in ("finetune", "new_only"), "finetune, new_only"),
    "cs": (lambda v: _is_number(v) and 0 <= v < 1, "numbers in [0, 1)"),
    "guards": (lambda v: isinstance(v, bool), "true, false"),
}


def _validate_axes(spec: GridSpec) -> None:
    for name, (ok, allowed) in _AXIS_CHECKS.items():
        for value in getattr(spec, name) or ():
            if not ok(value):
                raise ConfigError(f"{spec.source}: grid.{name} value {value!r} is invalid; allowed: {allowed}.")


def _absolute_data(data: str) -> str:
    """Trials run in their own working folder: a local data path is made absolute."""
    if ALIASES.get(data, data) not in NAMED_DATASETS and Path(data).expanduser().exists():
        return str(Path(data).expanduser().resolve())
    return data


def _base_config(spec: GridSpec) -> ExperimentConfig:
    try:
        return ExperimentConfig.from_dict(spec.base)
    except TypeError as exc:   # e.g. a nested key given a scalar parent
        raise ConfigError(f"{spec.source}: base is invalid ({exc}).") from None
    except ConfigError as exc:
        raise ConfigError(f"{spec.source}: base: {exc}") from None


def _canonical_strategies(spec: GridSpec, names: list) -> list[str]:
    out = []
    for name in names:
        try:
            out.append(build_strategy(name).name)
        except ConfigError as exc:
            raise ConfigError(f"{spec.source}: grid.strategies: {exc}") from None
    return out


def _dataset_config(spec: GridSpec, base_cfg: ExperimentConfig, dataset: str) -> ExperimentConfig:
    """The base with the dataset's per_dataset entry on top (nested mappings merged one level deep)."""
    entry = spec.per_dataset.get(_dataset_key(dataset))
    if not entry:
        return base_cfg
    values = base_cfg.to_dict()
    for key, value in entry.items():
        merge = isinstance(value, dict) and isinstance(values.get(key), dict)
        values[key] = {**values[key], **value} if merge else value
    try:
        return ExperimentConfig.from_dict(values)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(f"{spec.source}: per_dataset.{_dataset_key(dataset)} is invalid ({exc}).") from None


def _unused_note(spec: GridSpec, datasets: list) -> list[str]:
    """A per_dataset entry that names no dataset of this sweep is unused; a note only where it is
    no known dataset either (likely a typo): a named one is simply not run this time."""
    ran = {_dataset_key(d) for d in datasets}
    odd = [name for name in spec.per_dataset if name not in ran and name not in NAMED_DATASETS]
    return [f"per_dataset.{name} names none of this sweep's datasets ({', '.join(sorted(ran))})"
            f"{did_you_mean(name, ran)}: unused." for name in odd]


def _check_cs(spec: GridSpec, bases: dict) -> None:
    """grid.cs needs monitor 'acquired' for every dataset's trials."""
    for dataset, cfg in bases.items() if spec.cs else ():
        if cfg.monitor != "acquired":
            name = _dataset_key(dataset)
            where = f"per_dataset.{name}.monitor" if "monitor" in spec.per_dataset.get(name, {}) else "base.monitor"
            raise ConfigError(f"{spec.source}: grid.cs is only used with monitor 'acquired' but {where} is "
                              f"{cfg.monitor!r}; set {where}: acquired or drop grid.cs.")


def _hybrid_axes(spec: GridSpec, cfg: ExperimentConfig) -> list[tuple]:
    """(ε, k, after, c, guard) of every deltaf1 trial; an axis not in the grid takes `cfg`'s value."""
    defaults = DeltaF1Strategy()
    kwargs = dict(cfg.strategy_kwargs) if cfg.strategy_class in ("deltaf1", DeltaF1Strategy.__name__) else {}
    cs = (spec.cs or [cfg.monitor_fraction]) if cfg.monitor == "acquired" else [None]
    return list(itertools.product(spec.epsilons or [kwargs.get("epsilon", defaults.epsilon)],
                                  spec.ks or [kwargs.get("k", defaults.k)],
                                  spec.afters or [kwargs.get("after", defaults.after)], cs,
                                  spec.guards or [kwargs.get("guard", defaults.guard)]))


def _notes(spec: GridSpec, strategies: list[str], acquired: bool, datasets: list) -> list[str]:
    notes = list(spec.notes)
    if "deltaf1" not in strategies:
        unused = [a for a in DELTAF1_AXES if getattr(spec, a)]
        if unused:
            notes.append(f"grid.{', grid.'.join(unused)} only apply to deltaf1, which is not among the strategies: ignored.")
    if acquired and any(name != "deltaf1" for name in strategies):
        notes.append("baselines run with monitor 'validation': they use no monitor, so they set no labels aside (c applies to deltaf1 only).")
    return notes + _unused_note(spec, datasets)


def expand_grid(spec: GridSpec) -> list[Trial]:
    """Every trial of the conditional grid, deduplicated, each config validated.

    Raises ConfigError (one sentence) for an empty grid, an unknown key or a bad value.
    Sets `spec.notes` (what the grid ignores or changes), which the driver prints.
    """
    _validate_axes(spec)
    base_cfg = _base_config(spec)
    datasets = spec.datasets or [base_cfg.data]
    bases = {d: _dataset_config(spec, base_cfg, d) for d in datasets}   # per_dataset applied
    _check_cs(spec, bases)
    strategies = _canonical_strategies(spec, spec.strategies or [base_cfg.strategy_class])
    spec.notes = _notes(spec, strategies, any(cfg.monitor == "acquired" for cfg in bases.values()), datasets)
    samplers = spec.samplers or [base_cfg.sampler_class]
    hybrid_axes = {d: _hybrid_axes(spec, cfg) for d, cfg in bases.items()}
    name_parts = TrialNaming(len(set(samplers)) > 1, len(set(spec.afters or [])) > 1, DeltaF1Strategy().after,
                            len(set(spec.guards or [])) > 1)
    trials, seen = [], set()
    for dataset, seed, sampler, strategy in itertools.product(datasets, spec.seeds or [base_cfg.seed], samplers, strategies):
        for eps, k, after, c, guard in hybrid_axes[dataset] if strategy == "deltaf1" else [(None,) * 5]:
            cfg = _trial_config(spec, bases[dataset], dataset, seed, sampler, strategy, (eps, k, after, c, guard))
            key = json.dumps(_identity(cfg), sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                name = name_parts.name(dataset, strategy, sampler, seed, eps, k, after, c, guard)
                trials.append(Trial.of(name, cfg.replace(experiment_name=name)))
    if not trials:
        raise ConfigError(f"{spec.source}: the grid has no trials; allowed: at least one dataset, seed and strategy.")
    return trials


def _trial_config(spec: GridSpec, dataset_cfg: ExperimentConfig, dataset: str, seed: int, sampler: str, strategy: str,
                  hybrid: tuple) -> ExperimentConfig:
    """One trial's validated config: the dataset's base (per_dataset applied), then the axes; the engine's
    cross-field checks are in validate()."""
    eps, k, after, c, guard = hybrid
    values = {**dataset_cfg.to_dict(), "data": _absolute_data(dataset), "seed": seed, "sampler_class": sampler,
              "strategy_class": strategy,
              "strategy_kwargs": {"epsilon": eps, "k": k, "after": after, "guard": guard} if strategy == "deltaf1" else {}}
    if c is not None:
        values["monitor_fraction"] = c
    if strategy != "deltaf1":
        values["monitor"] = "validation"   # a baseline never reads a monitor: buy no labels for one
    try:
        return ExperimentConfig.from_dict(values).validate()
    except ConfigError as exc:
        raise ConfigError(f"{spec.source}: trial {dataset}/{strategy}/seed {seed}: {exc}") from None
