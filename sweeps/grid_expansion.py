"""A grid → the sweep's trials (docs/design.md §8). Imports no Ray.

Baselines (retrain, finetune, new_only) are crossed with dataset × seed × sampler only;
`deltaf1` is also crossed with ε × k × after × guard (× c where `monitor: acquired`). Baselines
use no monitor, so with `monitor: acquired` they run with `monitor: validation`: they train on
every label they buy. Every trial's config is validated here, before Ray starts. An entry of
`per_dataset:` for a dataset the sweep does not run is unused (e.g. `--datasets agnews` on a
three-dataset preset).

Named arms (`arms:`, sweeps/arms.py) are expanded per dataset × seed (× sampler where the arm sets
none) beside the axes: a grid with arms and no `grid.strategies` runs its arms only, with both the
union. Axes trials come first; an arm's trial identical to an earlier trial is run once, under the
earlier name (a note says so).

A `Trial`'s canonical columns (`hybridal.trial_columns`, what summary.json calls "trial") are
derived once, here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hybridal.config import ExperimentConfig
from hybridal.data.datasets import ALIASES, NAMED_DATASETS
from hybridal.errors import ConfigError, did_you_mean
from hybridal.stopping.configured import parse_stopping
from hybridal.strategies import DELTAF1_KEYS, DeltaF1Strategy, canonical_strategy_name
from sweeps.arms import apply_arm
from sweeps.grid_file import DELTAF1_AXES, GridSpec, dataset_key, validate_axes
from sweeps.trial_names import TrialNaming, check_unique
from sweeps.trials import Trial, trial_identity


def _halt_reads_monitor(values: dict) -> bool:
    """Whether halt_on's criterion reads the monitor's F1 (early_stopping): then a baseline reads a
    monitor too and keeps the one its config names (an invalid stopping list fails in validation)."""
    try:
        configured = parse_stopping(values.get("stopping"), values.get("halt_on"))
    except ConfigError:
        return False
    return any(c.label == values.get("halt_on") and c.reads == "labels" for c in configured)


def _absolute_data(data: str) -> str:
    """Trials run in their own working folder: a local data path is made absolute."""
    if ALIASES.get(data, data) not in NAMED_DATASETS and Path(data).expanduser().exists():
        return str(Path(data).expanduser().resolve())
    return data


def _base_config(spec: GridSpec) -> ExperimentConfig:
    try:
        return ExperimentConfig.from_dict(spec.base)
    except TypeError as exc:  # e.g. a nested key given a scalar parent
        raise ConfigError(f"{spec.source}: base is invalid ({exc}).") from None
    except ConfigError as exc:
        raise ConfigError(f"{spec.source}: base: {exc}") from None


def _canonical_strategies(spec: GridSpec, names: list) -> list[str]:
    out = []
    for name in names:
        try:
            out.append(canonical_strategy_name(name))
        except ConfigError as exc:
            raise ConfigError(f"{spec.source}: grid.strategies: {exc}") from None
    return out


def _dataset_config(spec: GridSpec, base_cfg: ExperimentConfig, dataset: str) -> ExperimentConfig:
    """The base with the dataset's per_dataset entry on top (nested mappings merged one level deep)."""
    entry = spec.per_dataset.get(dataset_key(dataset))
    if not entry:
        return base_cfg
    values = base_cfg.to_dict()
    for key, value in entry.items():
        merge = isinstance(value, dict) and isinstance(values.get(key), dict)
        values[key] = {**values[key], **value} if merge else value
    try:
        return ExperimentConfig.from_dict(values)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(f"{spec.source}: per_dataset.{dataset_key(dataset)} is invalid ({exc}).") from None


def _unused_note(spec: GridSpec, datasets: list) -> list[str]:
    """A per_dataset entry that names no dataset of this sweep is unused; a note only where it is
    no known dataset either (likely a typo): a named one is simply not run this time."""
    ran = {dataset_key(d) for d in datasets}
    odd = [name for name in spec.per_dataset if name not in ran and name not in NAMED_DATASETS]
    return [
        f"per_dataset.{name} names none of this sweep's datasets ({', '.join(sorted(ran))})"
        f"{did_you_mean(name, ran)}: unused."
        for name in odd
    ]


def _check_cs(spec: GridSpec, bases: dict) -> None:
    """grid.cs needs monitor 'acquired' for every dataset's trials."""
    for dataset, cfg in bases.items() if spec.cs else ():
        if cfg.monitor != "acquired":
            name = dataset_key(dataset)
            where = f"per_dataset.{name}.monitor" if "monitor" in spec.per_dataset.get(name, {}) else "base.monitor"
            raise ConfigError(
                f"{spec.source}: grid.cs is only used with monitor 'acquired' but {where} is "
                f"{cfg.monitor!r}; set {where}: acquired or drop grid.cs."
            )


def _hybrid_axes(spec: GridSpec, cfg: ExperimentConfig) -> list[tuple]:
    """(ε, k, after, c, guard) of every deltaf1 trial; an axis not in the grid takes `cfg`'s value."""
    defaults = DeltaF1Strategy()
    kwargs = dict(cfg.strategy_kwargs) if cfg.strategy_class in ("deltaf1", DeltaF1Strategy.__name__) else {}
    cs = (spec.cs or [cfg.monitor_fraction]) if cfg.monitor == "acquired" else [None]
    return list(
        itertools.product(
            spec.epsilons or [kwargs.get("epsilon", defaults.epsilon)],
            spec.ks or [kwargs.get("k", defaults.k)],
            spec.afters or [kwargs.get("after", defaults.after)],
            cs,
            spec.guards or [kwargs.get("guard", defaults.guard)],
        )
    )


def _notes(spec: GridSpec, strategies: list[str], acquired: bool, datasets: list) -> list[str]:
    notes = list(spec.notes)
    if "deltaf1" not in strategies:
        unused = [a for a in DELTAF1_AXES if getattr(spec, a)]
        if unused and not strategies:
            notes.append(
                f"grid.{', grid.'.join(unused)} only apply to the axes' deltaf1 trials, and a grid with arms: and "
                "no grid.strategies runs its arms only: ignored (an arm sets its own strategy_kwargs)."
            )
        elif unused:
            notes.append(
                f"grid.{', grid.'.join(unused)} only apply to deltaf1, which is not among the strategies: ignored."
            )
    if acquired and any(name != "deltaf1" for name in strategies):
        notes.append(
            "baselines run with monitor 'validation': they use no monitor, so they set no labels aside (c applies to "
            "deltaf1 only)."
        )
    return notes + _unused_note(spec, datasets)


def expand_grid(spec: GridSpec) -> list[Trial]:
    """Every trial of the conditional grid, deduplicated, each config validated.

    Raises ConfigError (one sentence) for an empty grid, an unknown key or a bad value.
    Sets `spec.notes` (what the grid ignores or changes), which the driver prints.
    """
    validate_axes(spec)
    base_cfg = _base_config(spec)
    datasets = spec.datasets or [base_cfg.data]
    bases = {d: _dataset_config(spec, base_cfg, d) for d in datasets}  # per_dataset applied
    _check_cs(spec, bases)
    # With arms:, the axes run only where grid.strategies (or --strategies) asks for them.
    axes = spec.strategies or ([] if spec.arms else [base_cfg.strategy_class])
    strategies = _canonical_strategies(spec, axes)
    spec.notes = _notes(spec, strategies, any(cfg.monitor == "acquired" for cfg in bases.values()), datasets)
    samplers, seeds = spec.samplers or [base_cfg.sampler_class], spec.seeds or [base_cfg.seed]
    hybrid_axes = {d: _hybrid_axes(spec, cfg) for d, cfg in bases.items()}
    name_parts = TrialNaming(
        len(set(samplers)) > 1,
        len(set(spec.afters or [])) > 1,
        DeltaF1Strategy().after,
        len(set(spec.guards or [])) > 1,
    )
    trials, seen = [], {}  # seen: a config's identity → the name of the trial that runs it
    for dataset, seed, sampler, strategy in itertools.product(datasets, seeds, samplers, strategies):
        for eps, k, after, c, guard in hybrid_axes[dataset] if strategy == "deltaf1" else [(None,) * 5]:
            cfg = _trial_config(spec, bases[dataset], dataset, seed, sampler, strategy, (eps, k, after, c, guard))
            key = json.dumps(trial_identity(cfg), sort_keys=True, default=str)
            if key not in seen:
                seen[key] = name = name_parts.name(dataset, strategy, sampler, seed, eps, k, after, c, guard)
                trials.append(Trial.of(name, cfg.replace(experiment_name=name)))
    for arm, overrides in spec.arms.items():
        arm_samplers = [None] if "sampler_class" in overrides else samplers
        same = []  # the earlier trials this arm's trials duplicate
        for dataset, seed, sampler in itertools.product(datasets, seeds, arm_samplers):
            cfg = _arm_config(spec, arm, bases[dataset], dataset, seed, sampler)
            key = json.dumps(trial_identity(cfg), sort_keys=True, default=str)
            if key in seen:
                same.append(seen[key])
                continue
            seen[key] = name = name_parts.arm_name(dataset, arm, sampler, seed)
            trials.append(Trial.of(name, cfg.replace(experiment_name=name), arm=arm))
        if same:
            spec.notes.append(
                f"arms.{arm}: {len(same)} of its trials are configurations already in the grid "
                f"({', '.join(same[:3])}{', ...' if len(same) > 3 else ''}): run once, under those names."
            )
    if not trials:
        raise ConfigError(f"{spec.source}: the grid has no trials; allowed: at least one dataset, seed and strategy.")
    check_unique((t.name for t in trials), spec.source)
    return trials


def _arm_config(
    spec: GridSpec, arm: str, dataset_cfg: ExperimentConfig, dataset: str, seed: int, sampler
) -> ExperimentConfig:
    """An arm's trial: the dataset's base (per_dataset applied), the arm on top, as the axes' trials are
    written (strategy named canonically, deltaf1's ε, k, after, guard filled in from its defaults,
    a baseline on monitor 'validation' unless the arm sets monitor), validated; --set is already in."""
    overrides = spec.arms[arm]
    values = {**apply_arm(dataset_cfg.to_dict(), overrides, sampler), "data": _absolute_data(dataset), "seed": seed}
    has_entry = dataset_key(dataset) in spec.per_dataset
    where = f"{spec.source}: arms.{arm}" + (f" (with per_dataset.{dataset_key(dataset)})" if has_entry else "")
    try:
        values["strategy_class"] = strategy = canonical_strategy_name(values["strategy_class"])
        if strategy != "deltaf1" and "monitor" not in overrides and not _halt_reads_monitor(values):
            values["monitor"] = "validation"  # a baseline never reads a monitor: buy no labels for one
        elif strategy == "deltaf1" and isinstance(values["strategy_kwargs"], dict):
            defaults = DeltaF1Strategy()
            # The trial columns' knobs, written out; a label-free trigger and its threshold pass through as set.
            knobs = {n: getattr(defaults, n) for n in DELTAF1_KEYS if n not in ("trigger", "threshold")}
            values["strategy_kwargs"] = {**knobs, **values["strategy_kwargs"]}  # what else it sets passes through
        return ExperimentConfig.from_dict(values).validate()
    except TypeError as exc:  # e.g. a nested key given a scalar parent
        raise ConfigError(f"{where} is invalid ({exc}).") from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _trial_config(
    spec: GridSpec, dataset_cfg: ExperimentConfig, dataset: str, seed: int, sampler: str, strategy: str, hybrid: tuple
) -> ExperimentConfig:
    """One trial's validated config: the dataset's base (per_dataset applied), then the axes; the engine's
    cross-field checks are in validate()."""
    eps, k, after, c, guard = hybrid
    values = {
        **dataset_cfg.to_dict(),
        "data": _absolute_data(dataset),
        "seed": seed,
        "sampler_class": sampler,
        "strategy_class": strategy,
        "strategy_kwargs": {"epsilon": eps, "k": k, "after": after, "guard": guard} if strategy == "deltaf1" else {},
    }
    if c is not None:
        values["monitor_fraction"] = c
    if strategy != "deltaf1" and not _halt_reads_monitor(values):
        values["monitor"] = "validation"  # a baseline never reads a monitor: buy no labels for one
    try:
        return ExperimentConfig.from_dict(values).validate()
    except ConfigError as exc:
        raise ConfigError(f"{spec.source}: trial {dataset}/{strategy}/seed {seed}: {exc}") from None
