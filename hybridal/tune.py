"""Sweeps on Ray Tune (DESIGN.md section 8): grid files → trial configs, and the trainable.

A *grid* is a mapping with a `base:` section (ExperimentConfig keys shared by every trial) and
a `grid:` section of axes. Baselines (retrain, finetune, new_only) are crossed with
dataset × seed × sampler only; `deltaf1` is also crossed with ε × k × after (× c where
`monitor: acquired`). Baselines use no monitor, so with `monitor: acquired` they run with
`monitor: validation`: they train on every label they buy. Every trial is validated here,
before Ray starts.

A trial's Ray config is flat: the canonical columns of `trial_columns` (what analysis groups
by), `total_rounds`, `trial_name`, and `engine` (the full ExperimentConfig as a dict, which
is all `run_trial` needs). `run_trial` is a plain function trainable: it restores from
`tune.get_checkpoint()`, runs one round at a time and reports each round's record with a
checkpoint, so a retried trial resumes at its last finished round.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import re
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from .config import ExperimentConfig, apply_overrides
from .errors import ConfigError, DataError, did_you_mean

# ---- grid files ---------------------------------------------------------------------------

TOP_KEYS = ("description", "base", "grid")
# Axis name → what it sets. The deltaf1-only axes are crossed with deltaf1 trials alone.
GRID_AXES = ("datasets", "seeds", "strategies", "samplers", "epsilons", "ks", "afters", "cs")
DELTAF1_AXES = ("epsilons", "ks", "afters", "cs")
# Base keys an axis replaces: setting both would be ambiguous.
_AXIS_BASE_KEY = {"datasets": "data", "seeds": "seed", "strategies": "strategy_class", "samplers": "sampler_class"}
BASELINES = ("retrain", "finetune", "new_only")
# Columns the sweep table and TensorBoard's HParams tab show, in order.
HPARAM_COLUMNS = ("dataset", "strategy", "after", "epsilon", "k", "c", "monitor", "seed", "sampler",
                  "model", "epochs", "finetune_epochs", "replay")


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
    description: str = ""
    source: str = "grid"
    notes: list = field(default_factory=list)

    def with_axes(self, **axes) -> "GridSpec":
        """A copy with the given axes replaced (None values are ignored), e.g. from the CLI."""
        import dataclasses

        values = {k: list(v) for k, v in axes.items() if v is not None}
        for name in values:
            if name not in GRID_AXES:
                raise ConfigError(f"grid axis {name!r} is not known{did_you_mean(name, GRID_AXES)}; allowed: {', '.join(GRID_AXES)}.")
        spec = dataclasses.replace(self, **values, notes=list(self.notes))
        # The CLI's axis replaces the base key too (e.g. --datasets with base.data set).
        base = dict(spec.base)
        for name in values:
            base.pop(_AXIS_BASE_KEY.get(name, ""), None)
        spec.base = base
        return spec

    def with_overrides(self, overrides: Iterable[str]) -> "GridSpec":
        """A copy whose base has `KEY=VALUE` overrides applied (dots for nested keys)."""
        import dataclasses

        overrides = list(overrides)
        return dataclasses.replace(self, base=apply_overrides(self.base, overrides), notes=list(self.notes)) if overrides else self


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
    axes: dict[str, list] = {}
    for key, value in grid.items():
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
        axes[key] = items
    for key in ("datasets", "seeds", "strategies", "samplers"):
        base_key = _AXIS_BASE_KEY[key]
        if key in axes and base_key in base:
            raise ConfigError(f"{source}: both base.{base_key} and grid.{key} are set; keep one (grid.{key} crosses every value).")
    description = values.get("description") or ""
    return GridSpec(base=dict(base), description=str(description), source=source, **axes)


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

def _check_axis(spec: GridSpec, name: str, check) -> None:
    for value in getattr(spec, name) or ():
        problem = check(value)
        if problem:
            raise ConfigError(f"{spec.source}: grid.{name} value {value!r} is invalid; allowed: {problem}.")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _validate_axes(spec: GridSpec) -> None:
    _check_axis(spec, "seeds", lambda v: None if _is_int(v) and v >= 0 else "integers >= 0")
    _check_axis(spec, "datasets", lambda v: None if isinstance(v, str) and v.strip() else "dataset names or paths")
    _check_axis(spec, "strategies", lambda v: None if isinstance(v, str) else "strategy names")
    _check_axis(spec, "samplers", lambda v: None if isinstance(v, str) else "sampler names")
    _check_axis(spec, "epsilons", lambda v: None if _is_number(v) and v >= 0 else "finite numbers >= 0")
    _check_axis(spec, "ks", lambda v: None if _is_int(v) and v >= 1 else "integers >= 1")
    _check_axis(spec, "afters", lambda v: None if v in ("finetune", "new_only") else "finetune, new_only")
    _check_axis(spec, "cs", lambda v: None if _is_number(v) and 0 <= v < 1 else "numbers in [0, 1)")


def _fmt(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _short(name: str) -> str:
    """A folder-safe short form of a dataset name or path."""
    stem = Path(name).stem if ("/" in name or "." in name) else name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "data"


def expand_grid(spec: GridSpec) -> list[dict]:
    """Every trial of the conditional grid, deduplicated, each validated; flat Ray configs.

    Raises ConfigError (one sentence) for an empty grid, an unknown key or a bad value.
    """
    from .active_learning import ActiveLearning
    from .trial import trial_columns
    from .strategies import DeltaF1Strategy, build_strategy

    _validate_axes(spec)
    try:
        base_cfg = ExperimentConfig.from_dict(spec.base)
    except TypeError as exc:   # e.g. a nested key given a scalar parent
        raise ConfigError(f"{spec.source}: base is invalid ({exc}).") from None
    except ConfigError as exc:
        raise ConfigError(f"{spec.source}: base: {exc}") from None
    defaults = DeltaF1Strategy()
    base_kwargs = dict(base_cfg.strategy_kwargs) if base_cfg.strategy_class in ("deltaf1", DeltaF1Strategy.__name__) else {}
    datasets = spec.datasets or [base_cfg.data]
    seeds = spec.seeds or [base_cfg.seed]
    strategies = spec.strategies or [base_cfg.strategy_class]
    samplers = spec.samplers or [base_cfg.sampler_class]
    epsilons = spec.epsilons or [base_kwargs.get("epsilon", defaults.epsilon)]
    ks = spec.ks or [base_kwargs.get("k", defaults.k)]
    afters = spec.afters or [base_kwargs.get("after", defaults.after)]
    acquired = base_cfg.monitor == "acquired"
    if spec.cs and not acquired:
        raise ConfigError(f"{spec.source}: grid.cs is only used with monitor 'acquired' but base.monitor is "
                          f"{base_cfg.monitor!r}; set base.monitor: acquired or drop grid.cs.")
    cs = spec.cs or [base_cfg.monitor_fraction]

    canonical = []
    for name in strategies:
        try:
            canonical.append(build_strategy(name).name)
        except ConfigError as exc:
            raise ConfigError(f"{spec.source}: grid.strategies: {exc}") from None
    notes = list(spec.notes)
    if "deltaf1" not in canonical:
        unused = [a for a in DELTAF1_AXES if getattr(spec, a)]
        if unused:
            notes.append(f"grid.{', grid.'.join(unused)} only apply to deltaf1, which is not among the strategies: ignored.")
    if acquired and any(name != "deltaf1" for name in canonical):
        notes.append("baselines run with monitor 'validation': they use no monitor, so they set no labels aside (c applies to deltaf1 only).")
    spec.notes = notes

    trials, seen = [], set()
    multi_sampler, multi_after = len(set(samplers)) > 1, len(set(afters)) > 1
    hybrid_axes = list(itertools.product(epsilons, ks, afters, cs if acquired else [None]))
    for dataset, seed, sampler, strategy in itertools.product(datasets, seeds, samplers, canonical):
        for eps, k, after, c in hybrid_axes if strategy == "deltaf1" else [(None, None, None, None)]:
            values = {**base_cfg.to_dict(), "data": dataset, "seed": seed, "sampler_class": sampler, "strategy_class": strategy,
                      "strategy_kwargs": {"epsilon": eps, "k": k, "after": after} if strategy == "deltaf1" else {}}
            if c is not None:
                values["monitor_fraction"] = c
            if strategy != "deltaf1":
                values["monitor"] = "validation"   # a baseline never reads a monitor: buy no labels for one
            try:
                cfg = ExperimentConfig.from_dict(values).validate()
                ActiveLearning(cfg)   # the engine's cross-field checks; loads no data or model
            except ConfigError as exc:
                raise ConfigError(f"{spec.source}: trial {dataset}/{strategy}/seed {seed}: {exc}") from None
            key = json.dumps(_identity(cfg), sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            parts = [_short(dataset), strategy]
            if strategy == "deltaf1":
                parts += [after] if multi_after or after != defaults.after else []
                parts += [f"e{_fmt(float(eps))}", f"k{k}"] + ([f"c{_fmt(float(c))}"] if c is not None else [])
            parts += [_short(sampler)] if multi_sampler else []
            name = "-".join(parts + [f"s{seed}"])
            cfg = cfg.replace(experiment_name=name)
            trials.append(trial_config(cfg, name, trial_columns(cfg)))
    if not trials:
        raise ConfigError(f"{spec.source}: the grid has no trials; allowed: at least one dataset, seed and strategy.")
    return trials


def _identity(cfg: ExperimentConfig) -> dict:
    """What makes two trials the same run (the name and output folder do not)."""
    values = cfg.to_dict()
    for key in ("experiment_name", "save_dir"):
        values.pop(key, None)
    return values


def trial_config(cfg: ExperimentConfig, name: str, columns: dict) -> dict:
    """The flat Ray config of one trial: canonical columns first, then what rebuilds the run."""
    return {**columns, "total_rounds": cfg.total_rounds, "trial_name": name, "engine": cfg.to_dict()}


def engine_config(config: dict) -> ExperimentConfig:
    """The ExperimentConfig a trial config describes."""
    if "engine" not in config or not isinstance(config["engine"], dict):
        raise ConfigError("the trial config has no 'engine' mapping; build trial configs with hybridal.tune.expand_grid.")
    return ExperimentConfig.from_dict(dict(config["engine"])).validate()


def grid_key(trials: list[dict]) -> list[str]:
    """A comparable description of a trial list (for 'is this the same sweep?')."""
    return sorted(json.dumps(_identity(engine_config(t)), sort_keys=True, default=str) for t in trials)


# ---- checks the driver makes before any trial starts ---------------------------------------

def check_trial_data(trials: list[dict], warm_cache: bool = False, log=print) -> None:
    """Check each distinct model name, load each distinct dataset once and check every trial's
    splits fit its rounds.

    Raises ConfigError/DataError (naming the trial) so a bad model or dataset stops the sweep
    before it starts.
    With `warm_cache`, also tokenizes each distinct (splits, tokenizer, max_length) into the
    machine's cache, so trials starting together read it instead of waiting on each other.
    """
    from .data import load_named_or_path, make_run_splits
    from .models import check_model

    try:  # one progress bar per split file is noise in a sweep's log
        import datasets

        datasets.disable_progress_bars()
    except (ImportError, AttributeError):
        pass
    loaded: dict[str, Any] = {}
    checked: set[str] = set()
    tokenizers: dict[str, Any] = {}
    warmed: set[str] = set()
    models: set[str] = set()
    for t in trials:
        cfg = engine_config(t)
        if cfg.model_name_or_path not in models:
            models.add(cfg.model_name_or_path)
            try:
                check_model(cfg.model_name_or_path)
            except ConfigError as exc:
                raise ConfigError(f"trial {t['trial_name']}: {exc}") from None
        data_key = json.dumps([cfg.data, cfg.text_column, cfg.label_column, cfg.data_kwargs, cfg.num_labels], default=str)
        needs_seed = warm_cache   # splits (and holdout tests) depend on the seed: warm per seed
        load_key = data_key + (f"|{cfg.seed}" if needs_seed else "")
        if load_key not in loaded:
            try:
                loaded[load_key] = load_named_or_path(cfg.data, cfg.text_column, cfg.label_column, cfg.data_kwargs, cfg.seed, cfg.num_labels)
            except (ConfigError, DataError) as exc:
                raise type(exc)(f"trial {t['trial_name']}: {exc}") from None
        split_key = json.dumps([load_key, cfg.seed if needs_seed else None, cfg.val_size, cfg.max_train_size, cfg.max_test_size,
                                cfg.initial_pool_size, cfg.acquisition_batch_size, cfg.total_rounds], default=str)
        if split_key in checked:
            continue
        checked.add(split_key)
        try:
            splits = make_run_splits(loaded[load_key], cfg.seed, cfg.val_size, cfg.max_train_size, cfg.max_test_size)
        except (ConfigError, DataError) as exc:
            raise type(exc)(f"trial {t['trial_name']}: {exc}") from None
        n_pool = len(splits.pool)
        if cfg.initial_pool_size > n_pool:
            raise DataError(f"trial {t['trial_name']}: initial_pool_size={cfg.initial_pool_size} is larger than the training pool "
                            f"({n_pool} rows of {cfg.data}); allowed: at most {n_pool}.")
        if cfg.total_rounds > 1 and cfg.acquisition_batch_size > n_pool - cfg.initial_pool_size:
            raise DataError(f"trial {t['trial_name']}: acquisition_batch_size={cfg.acquisition_batch_size} is larger than the "
                            f"unlabeled pool left after round 0 ({n_pool - cfg.initial_pool_size} rows); allowed: at most "
                            f"{n_pool - cfg.initial_pool_size}.")
        if warm_cache:
            from .models import load_tokenizer
            from .tokenization import tokenize_cached

            if cfg.model_name_or_path not in tokenizers:
                tokenizers[cfg.model_name_or_path] = load_tokenizer(cfg.model_name_or_path)
            warm_key = json.dumps([split_key, cfg.model_name_or_path, cfg.max_length], default=str)
            if warm_key not in warmed:
                warmed.add(warm_key)
                for split in ("pool", "validation", "test"):
                    tokenize_cached(getattr(splits, split).texts, tokenizers[cfg.model_name_or_path], cfg.max_length)


# ---- the trainable --------------------------------------------------------------------------

# Test hooks (read in the trial): crash once after reporting round N, to exercise retries.
CRASH_AFTER_ROUND_ENV = "HYBRIDAL_TEST_CRASH_AFTER_ROUND"
CRASH_MARKER_DIR_ENV = "HYBRIDAL_TEST_CRASH_MARKER_DIR"   # one marker file per trial: crash only once
CRASH_KIND_ENV = "HYBRIDAL_TEST_CRASH_KIND"               # "raise" (default) or "exit" (the process dies)
# Test hook (read in the driver): interrupt the sweep after N trials have finished.
STOP_AFTER_TRIALS_ENV = "HYBRIDAL_TEST_STOP_AFTER_TRIALS"


def run_trial(config: dict) -> None:
    """Ray Tune trainable: one AL run, one `tune.report` (record + checkpoint) per round.

    Writes rounds.jsonl, summary.json, config.yaml and TensorBoard events into the trial's
    working directory, which Tune syncs to the trial's folder in storage
    (`SyncConfig(sync_artifacts=True)`; forced on every checkpoint).
    """
    import logging
    import time

    import ray
    import torch
    from ray import tune

    from .active_learning import ActiveLearning
    from .trial import trial_columns

    started = time.time()
    logging.getLogger("ray.train").setLevel(logging.WARNING)   # "Checkpoint successfully created" every round
    context = tune.get_context()
    resources = context.get_trial_resources().required_resources
    cpus = float(resources.get("CPU", 1) or 1)
    gpu_ids = [str(g) for g in ray.get_gpu_ids()]
    torch.set_num_threads(max(1, int(cpus)))
    cfg = engine_config(config)
    if cfg.device == "auto" and not gpu_ids:
        cfg = cfg.replace(device="cpu")   # no GPU was assigned to this trial: never grab one
    checkpoint_every = max(1, int(os.environ.get("HYBRIDAL_CHECKPOINT_EVERY", "1") or 1))
    run_dir = Path(os.getcwd()) if os.environ.get("RAY_CHDIR_TO_TRIAL_DIR", "1") != "0" else Path(context.get_trial_dir())
    al = ActiveLearning(cfg, run_dir=run_dir)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            al.load_checkpoint(folder)
    else:
        al.prepare()
    extra = {
        "trial_name": config.get("trial_name", cfg.experiment_name),
        "node_ip": ray.util.get_node_ip_address(),
        "gpu_ids": ",".join(gpu_ids),
        "resumed_from_round": al.next_round,
        "started_at": started,
    }
    columns = trial_columns(cfg)
    if al.finished:   # the last report was made and checkpointed before the trial stopped
        al.save_experiment()
        write_hparams(run_dir, columns, al)
        return
    for record in al.iter_rounds():
        last = al.finished
        if last:
            al.save_experiment()   # summary.json before the final report, so it is synced with it
            write_hparams(run_dir, columns, al)
        metrics = {**record.to_dict(), **extra, **al.switch_columns(), "done": last}
        if last or (record.round + 1) % checkpoint_every == 0:
            with tempfile.TemporaryDirectory(prefix="hybridal-ckpt-") as tmp:
                al.save_checkpoint(tmp)
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))
        else:
            tune.report(metrics)
        _maybe_crash(record.round, context.get_trial_id())
        if last:
            return


def _maybe_crash(round_idx: int, trial_id: str) -> None:
    value = os.environ.get(CRASH_AFTER_ROUND_ENV)
    marker_dir = os.environ.get(CRASH_MARKER_DIR_ENV)
    if value is None or not marker_dir or str(round_idx) != value.strip():
        return
    marker = Path(marker_dir) / f"{trial_id}.crashed"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"crashed after round {round_idx}\n")
    if os.environ.get(CRASH_KIND_ENV, "raise") == "exit":
        os._exit(1)
    raise RuntimeError(f"injected crash after round {round_idx} ({CRASH_AFTER_ROUND_ENV})")


def hparam_values(columns: dict) -> dict:
    """HParams-tab values: the canonical columns with None shown as 'none'.

    The deltaf1-only columns (None for baselines) are always strings ('0.01', '2', 'none'), so
    TensorBoard shows the same text whether a grid mixes strategies or not.
    """
    out = {}
    for key in HPARAM_COLUMNS:
        value = columns.get(key)
        if value is None:
            value = "none"
        elif key in ("epsilon", "k", "c"):
            value = _fmt(float(value)) if key != "k" else str(value)
        out[key] = value
    return out


def write_hparams(run_dir: Path, columns: dict, al) -> None:
    """One HParams session per trial in `<run_dir>/tensorboard/hparams` (final test F1, FLOPs, ...).

    Only session start/end summaries are written, never an experiment summary, so TensorBoard
    derives the hyperparameter domains from all trials together (a per-trial experiment
    summary would make it pick one trial's types for everyone).
    """
    if not al.cfg.tensorboard or not al.records:
        return
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams

    last = al.records[-1]
    final = al.final_metrics()
    metrics = {
        "hparams/final_test_f1": final.get("f1_score"),
        "hparams/final_test_accuracy": final.get("accuracy"),
        "hparams/final_val_f1": last.val_f1,
        "hparams/total_train_flops": float(last.cum_train_flops),
        "hparams/total_flops": float(last.cum_total_flops),
        "hparams/n_labeled": float(last.n_labeled),
        "hparams/switch_round": al.switch_round,   # the first round trained with `after`; absent if none
    }
    metrics = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
    _, start, end = hparams(hparam_values(columns), metrics)
    folder = Path(run_dir) / "tensorboard" / "hparams"
    for old in folder.glob("events.out.tfevents.*") if folder.exists() else ():
        old.unlink()
    writer = SummaryWriter(log_dir=str(folder))
    try:
        file_writer = writer._get_file_writer()
        file_writer.add_summary(start)
        file_writer.add_summary(end)
        for name, value in metrics.items():
            writer.add_scalar(name, value, last.round)
    finally:
        writer.close()


# ---- driver-side helpers --------------------------------------------------------------------

class TrialNames:
    """Trial (dir) names by trial_index; picklable, so a restored Tuner names trials the same."""

    def __init__(self, names: list[str], with_id: bool = False):
        self.names, self.with_id = list(names), with_id

    def __call__(self, trial) -> str:
        index = trial.config.get("trial_index")
        name = self.names[index] if isinstance(index, int) and 0 <= index < len(self.names) else trial.trainable_name
        return f"{name}_{trial.trial_id}" if self.with_id else name


def pick(trials: list[dict], key: str, config: dict) -> Any:
    """`tune.sample_from` helper: the value of `key` for the trial at `config["trial_index"]`."""
    return trials[config["trial_index"]].get(key)


def param_space(trials: list[dict]) -> dict:
    """A Tune param space whose trials are exactly `trials`, with flat (top-level) keys."""
    import functools

    from ray import tune

    keys: list[str] = []
    for t in trials:
        keys += [k for k in t if k not in keys]
    space = {"trial_index": tune.grid_search(list(range(len(trials))))}
    space.update({k: tune.sample_from(functools.partial(pick, trials, k)) for k in keys})
    return space


FATAL_PATTERN = re.compile(r"hybridal\.errors\.(ConfigError|DataError): (.+)")
# Set by SweepCallback in the driver when a trial fails for its input (not worth retrying).
FATAL: dict[str, str] = {}


def input_error_in(text: str) -> Optional[str]:
    """The last hybridal ConfigError/DataError message in a trial's error text, if any."""
    found = FATAL_PATTERN.findall(text or "")
    return f"{found[-1][0]}: {found[-1][1].strip()}" if found else None


def _tune_callback_base():
    from ray import tune

    return tune.Callback


class SweepCallback(_tune_callback_base()):
    """Driver-side: one progress line per round, and a stop (no retries) on input errors.

    A trial that fails with hybridal's ConfigError/DataError would fail the same way on every
    retry, so the sweep is interrupted (SIGUSR1, Tune's graceful stop: trial states are saved,
    so `--resume` works once the input is fixed) and the driver reports the error.
    """

    def __init__(self, names: list[str], total_rounds: list[int], quiet: bool = False):
        self.names, self.total_rounds, self.quiet = list(names), list(total_rounds), quiet
        self.finished = 0

    def _name(self, trial) -> str:
        index = trial.config.get("trial_index")
        return self.names[index] if isinstance(index, int) and 0 <= index < len(self.names) else str(trial)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.quiet or "round" not in result:
            return
        from .cli import format_record
        from .records import RoundRecord

        index = trial.config.get("trial_index")
        total = self.total_rounds[index] if isinstance(index, int) and 0 <= index < len(self.total_rounds) else "?"
        try:
            line = format_record(RoundRecord.from_dict(result))
        except Exception:  # noqa: BLE001 - progress output must never stop a sweep
            line = f"round {result.get('round')}"
        print(f"[{self._name(trial)}] {line} ({result.get('round', 0) + 1}/{total})", flush=True)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.finished += 1
        if not self.quiet:
            print(f"[{self._name(trial)}] finished", flush=True)
        limit = os.environ.get(STOP_AFTER_TRIALS_ENV)
        if limit and self.finished >= int(limit):
            os.kill(os.getpid(), signal.SIGUSR1)   # Tune's graceful stop (test hook)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._check_input_error(trial)

    def on_trial_recover(self, iteration, trials, trial, **info):
        self._check_input_error(trial)

    def _check_input_error(self, trial) -> None:
        try:
            text = Path(trial.error_file).read_text(errors="replace") if trial.error_file else ""
        except OSError:
            text = ""
        message = input_error_in(text)
        if message and not FATAL:
            FATAL.update(trial=self._name(trial), message=message)
            os.kill(os.getpid(), signal.SIGUSR1)   # stop now: a retry would fail the same way


# Environment variables a trial needs from the driver (a cluster's workers do not inherit it).
PASSTHROUGH_PREFIXES = ("HYBRIDAL_",)
PASSTHROUGH_NAMES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "HF_DATASETS_CACHE",
                     "TOKENIZERS_PARALLELISM")
PATH_VARS = ("HYBRIDAL_DATA_DIR", "HYBRIDAL_CACHE_DIR", "HYBRIDAL_TEST_CRASH_MARKER_DIR", "HF_HOME", "HF_DATASETS_CACHE")


def passthrough_env(environ: Optional[dict] = None) -> dict:
    """The driver's hybridal/HF variables, relative paths made absolute, for runtime_env."""
    environ = dict(os.environ if environ is None else environ)
    out = {}
    for key, value in environ.items():
        if key.startswith(PASSTHROUGH_PREFIXES) or key in PASSTHROUGH_NAMES:
            if key in PATH_VARS and value and "://" not in value:
                value = str(Path(value).expanduser().resolve())
            out[key] = value
    return out
