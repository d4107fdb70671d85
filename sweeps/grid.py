#!/usr/bin/env python
"""Run a grid of active-learning runs as Ray Tune trials (DESIGN.md section 8).

    python sweeps/grid.py --preset smoke                   # local Ray, ./ray_results/smoke
    python sweeps/grid.py --preset paper --address auto --storage-path s3://bucket/hybridal
    python sweeps/grid.py --preset demo --dry-run          # list the trials, run nothing
    python sweeps/grid.py --resume --name demo             # continue an interrupted sweep

One trial per AL run; each reports every round's record (F1, FLOPs, ...) with a checkpoint,
so a failed trial is retried from its last finished round and an interrupted sweep resumes
without re-running finished trials. Exit status: 0 all trials finished, 1 some failed,
2 bad input (nothing started, or a trial's data/config is invalid), 130 interrupted.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import Optional

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
SWEEP_FILE = "hybridal-sweep.json"   # the trial list, next to Ray's state in the experiment folder
DEFAULT_STORAGE = "./ray_results"
REMOTE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "abfs", "az", "file")


class SweepError(Exception):
    """Bad input for the sweep: one sentence, exit status 2, no traceback."""


# ---- arguments ------------------------------------------------------------------------------

def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'number' if kind is float else 'whole number'}") from None
        if not value >= 0 or (isinstance(value, float) and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sweeps/grid.py", description="Run a grid of hybridal AL runs as Ray Tune trials (one trial per run).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    what = p.add_argument_group("what to run")
    src = what.add_mutually_exclusive_group()
    src.add_argument("--preset", help=f"a grid preset from sweeps/presets/: {', '.join(preset_names())}")
    src.add_argument("--config", metavar="GRID.yaml", help="a grid file (base: ExperimentConfig keys, grid: axes)")
    what.add_argument("--datasets", nargs="+", help="replace grid.datasets")
    what.add_argument("--seeds", nargs="+", type=int, help="replace grid.seeds")
    what.add_argument("--strategies", nargs="+", help="replace grid.strategies (retrain finetune new_only deltaf1)")
    what.add_argument("--samplers", nargs="+", help="replace grid.samplers")
    what.add_argument("--epsilons", nargs="+", type=float, help="replace grid.epsilons (deltaf1 only)")
    what.add_argument("--ks", nargs="+", type=int, help="replace grid.ks (deltaf1 only)")
    what.add_argument("--afters", nargs="+", help="replace grid.afters (deltaf1 only: finetune, new_only)")
    what.add_argument("--cs", nargs="+", type=float, help="replace grid.cs (deltaf1 with monitor 'acquired' only)")
    what.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override a base key for every trial (dots for nested keys, e.g. tokenizer_kwargs.max_length=64); repeatable")
    what.add_argument("--dry-run", action="store_true",
                      help="print every trial's config, the count and the FLOPs/GPU-hour estimate; run nothing")
    what.add_argument("--no-estimate", action="store_true", help="with --dry-run: skip the cost estimate (it reads the data)")
    where = p.add_argument_group("where")
    where.add_argument("--name", help="experiment folder under --storage-path (default: the preset or grid file name)")
    where.add_argument("--storage-path", default=DEFAULT_STORAGE, help="local folder, s3://... or gs://...")
    where.add_argument("--resume", action="store_true",
                       help="continue the sweep stored under --storage-path/--name (finished trials are not re-run)")
    ray_ = p.add_argument_group("Ray")
    ray_.add_argument("--address", help="join a running cluster ('auto' or HOST:PORT); default: start Ray locally")
    ray_.add_argument("--gpus-per-trial", type=_positive(float),
                      help="GPUs per trial, fractions allowed (default: 1 where the cluster has GPUs, else 0)")
    ray_.add_argument("--cpus-per-trial", type=_positive(float), default=1.0, help="CPUs per trial (also its torch threads)")
    ray_.add_argument("--max-concurrent", type=_positive(int), default=0, help="at most this many trials at once (0: as resources allow)")
    ray_.add_argument("--max-failures", type=int, default=3, help="retries of a failed trial, each from its last checkpoint (-1: forever)")
    ray_.add_argument("--checkpoint-every", type=_positive(int), default=1,
                      help="checkpoint every N rounds (and always after the last); a retry resumes at the last checkpoint")
    ray_.add_argument("--num-cpus", type=_positive(int), help="CPUs of the local Ray instance (not with --address)")
    ray_.add_argument("--num-gpus", type=_positive(int), help="GPUs of the local Ray instance (not with --address)")
    ray_.add_argument("--no-data-check", action="store_true",
                      help="skip loading each dataset in the driver before trials start (e.g. when only workers see the data)")
    ray_.add_argument("--no-warm-cache", action="store_true",
                      help="do not tokenize the datasets into this machine's cache before local trials start")
    ray_.add_argument("-q", "--quiet", action="store_true", help="no per-round progress lines")
    ray_.add_argument("--ray-verbose", type=int, choices=(0, 1, 2), default=0, help="Ray Tune's own progress output")
    return p


# ---- the grid -------------------------------------------------------------------------------

def load_spec(args):
    from hybridal.tune import load_grid_file

    if args.preset:
        path = PRESETS_DIR / f"{args.preset}.yaml"
        if not path.is_file():
            from hybridal.errors import did_you_mean

            raise SweepError(f"preset {args.preset!r} is not known{did_you_mean(args.preset, preset_names())}; "
                             f"allowed: {', '.join(preset_names())}.")
        spec = load_grid_file(path, source=f"preset {args.preset}")
    elif args.config:
        spec = load_grid_file(args.config)
    else:
        given = [f"--{k}" for k in ("datasets", "seeds", "strategies", "samplers", "epsilons", "ks", "afters", "cs", "set")
                 if getattr(args, k)]
        if given:
            raise SweepError(f"{given[0]} changes a grid, so it needs --preset or --config; a resumed sweep keeps its stored grid.")
        return None
    spec = spec.with_axes(datasets=args.datasets, seeds=args.seeds, strategies=args.strategies, samplers=args.samplers,
                          epsilons=args.epsilons, ks=args.ks, afters=args.afters, cs=args.cs)
    return spec.with_overrides(args.set)


def absolutize_data(trials: list[dict]) -> None:
    """Trials run in their own working folder: make local data paths absolute."""
    from hybridal.data import ALIASES, NAMED_DATASETS

    for t in trials:
        data = t["engine"]["data"]
        if ALIASES.get(data, data) not in NAMED_DATASETS and Path(data).expanduser().exists():
            t["engine"]["data"] = str(Path(data).expanduser().resolve())


def print_trials(trials: list[dict], notes: list[str]) -> None:
    varying = {k for t in trials for k in t["engine"] if t["engine"][k] != trials[0]["engine"][k]}
    print("engine settings shared by every trial:")
    for key, value in trials[0]["engine"].items():
        if key not in varying and key not in ("experiment_name",):
            print(f"  {key}: {json.dumps(value, default=str)}")
    print("trials:")
    width = len(str(len(trials)))
    for i, t in enumerate(trials, 1):
        flat = {k: v for k, v in t.items() if k not in ("engine", "trial_name")}
        print(f"  {i:>{width}}  {t['trial_name']}  {json.dumps(flat, default=str)}")
    n_hybrid = sum(t["strategy"] == "deltaf1" for t in trials)
    print(f"{len(trials)} trials ({len(trials) - n_hybrid} baseline, {n_hybrid} deltaf1)")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def print_estimate(trials: list[dict]) -> None:
    """The grid's FLOPs and GPU-hours before launch (hybridal.estimate); a note if it cannot be made."""
    from hybridal.estimate import describe

    try:
        import datasets

        datasets.disable_progress_bars()
    except (ImportError, AttributeError):
        pass
    try:
        print(describe(estimate_trials(trials)))
    except Exception as exc:  # noqa: BLE001 - the estimate is advisory; the trial list stands
        print(f"note: no cost estimate ({type(exc).__name__}: {_first_line(exc)}).", file=sys.stderr)


def estimate_trials(trials: list[dict]):
    """The cost estimate (hybridal.estimate.GridEstimate) of every trial of an expanded grid."""
    from hybridal.estimate import GridEstimate, estimate_grid
    from hybridal.tune import engine_config

    # The estimate depends on neither ε nor (beyond sampling noise) the seed: estimate each
    # distinct remaining configuration once, for the first seed of its dataset, and count it
    # once per trial. A 285-trial grid then costs 21 estimates, not 285.
    configs = [engine_config(t) for t in trials]
    first_seed: dict[str, int] = {}
    for cfg in configs:
        first_seed.setdefault(cfg.data, cfg.seed)
    keys, unique = [], {}
    for cfg in configs:
        hybrid = bool(cfg.strategy_kwargs)   # only deltaf1 trials carry strategy kwargs
        rep = cfg.replace(seed=first_seed[cfg.data], strategy_kwargs={**cfg.strategy_kwargs, "epsilon": 0.0} if hybrid else {})
        key = json.dumps({**rep.to_dict(), "experiment_name": None}, sort_keys=True, default=str)
        unique.setdefault(key, rep)
        keys.append(key)
    runs = dict(zip(unique, estimate_grid(list(unique.values())).runs))
    return GridEstimate([runs[key] for key in keys])


# ---- storage --------------------------------------------------------------------------------

def resolve_storage(path: str) -> str:
    if "://" in path:
        scheme = path.split("://", 1)[0].lower()
        if scheme not in REMOTE_SCHEMES:
            raise SweepError(f"--storage-path {path!r} has scheme {scheme!r}; allowed: a local folder or "
                             f"{', '.join(s + '://' for s in REMOTE_SCHEMES)}.")
        return path.rstrip("/")
    return str(Path(path).expanduser().resolve())


def experiment_uri(storage: str, name: str) -> str:
    return f"{storage}/{name}" if "://" in storage else str(Path(storage) / name)


def open_fs(uri: str):
    import pyarrow.fs as pafs

    if "://" not in uri:
        return pafs.LocalFileSystem(), uri
    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as exc:  # noqa: BLE001 - reported as one sentence
        raise SweepError(f"cannot open the storage path {uri} ({type(exc).__name__}: {_first_line(exc)}).") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_writable(fs, path: str, uri: str) -> None:
    probe = f"{path}/.hybridal-write-test-{os.getpid()}"
    try:
        fs.create_dir(path, recursive=True)
        with fs.open_output_stream(probe) as handle:
            handle.write(b"ok")
        fs.delete_file(probe)
    except Exception as exc:  # noqa: BLE001 - permission, read-only, a file in the way, credentials...
        raise SweepError(f"cannot write to the storage path {uri} ({type(exc).__name__}: {_first_line(exc)}); "
                         "pass a writable --storage-path.") from None


def read_sweep_file(fs, path: str) -> Optional[dict]:
    import pyarrow.fs as pafs

    target = f"{path}/{SWEEP_FILE}"
    if fs.get_file_info(target).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(target) as handle:
        return json.loads(handle.read().decode())


def write_sweep_file(fs, path: str, content: dict) -> None:
    with fs.open_output_stream(f"{path}/{SWEEP_FILE}") as handle:
        handle.write(json.dumps(content, indent=1, default=str).encode())


# ---- Ray ------------------------------------------------------------------------------------

def _runtime_env(env_vars: dict) -> dict:
    """env_vars for every trial, minus keys a submitted job already sets (Ray refuses conflicts)."""
    job = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    if job:
        try:
            taken = (json.loads(job).get("runtime_env") or {}).get("env_vars") or {}
            env_vars = {k: v for k, v in env_vars.items() if k not in taken}
        except (ValueError, AttributeError):
            pass
    return {"env_vars": env_vars} if env_vars else {}


def _check_reachable(address: str) -> None:
    if address.startswith(("ray://", "http://", "https://")) or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except (OSError, ValueError) as exc:
        raise SweepError(f"cannot reach a Ray cluster at {address} ({type(exc).__name__}: {_first_line(exc)}); "
                         "start one with `ray start --head` or leave out --address to run Ray locally.") from None


def connect(args, env_vars: dict) -> None:
    import ray

    if os.environ.get("RAY_TMPDIR"):
        (Path(os.environ["RAY_TMPDIR"]) / "ray").mkdir(parents=True, exist_ok=True)
    runtime_env = _runtime_env(env_vars)
    if args.address is None:
        ray.init(num_cpus=args.num_cpus, num_gpus=args.num_gpus, runtime_env=runtime_env or None,
                 log_to_driver=True, configure_logging=True, logging_level="WARNING")
        return
    if args.num_cpus is not None or args.num_gpus is not None:
        raise SweepError("--num-cpus/--num-gpus size a local Ray instance and cannot be used with --address; "
                         "the cluster's nodes declare their own resources.")
    target = os.environ.get("RAY_ADDRESS") if args.address == "auto" else args.address
    if target:
        _check_reachable(target)
    try:
        ray.init(address=args.address, runtime_env=runtime_env or None, log_to_driver=True, logging_level="WARNING")
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        raise SweepError(f"cannot connect to a Ray cluster at --address {args.address} ({_first_line(exc)}); "
                         "start one with `ray start --head` or leave out --address to run Ray locally.") from None


def _node_maxima() -> tuple[float, float]:
    """The most CPUs and GPUs one node has or (with an autoscaler) can have."""
    import ray

    cpu = gpu = 0.0
    for node in ray.nodes():
        if node.get("Alive"):
            cpu = max(cpu, node["Resources"].get("CPU", 0.0))
            gpu = max(gpu, node["Resources"].get("GPU", 0.0))
    try:  # autoscaling clusters start without their GPU workers: ask the autoscaler's config
        from ray._private.state import state

        config = state.get_cluster_config()
        for group in getattr(config, "node_group_configs", None) or ():
            if group.max_count != 0:
                cpu = max(cpu, float(group.resources.get("CPU", 0)))
                gpu = max(gpu, float(group.resources.get("GPU", 0)))
    except Exception:  # noqa: BLE001 - private API: without it, only live nodes count
        pass
    return cpu, gpu


def plan_resources(args) -> tuple[float, float]:
    node_cpu, node_gpu = _node_maxima()
    gpus = args.gpus_per_trial if args.gpus_per_trial is not None else (1.0 if node_gpu > 0 else 0.0)
    if gpus > 0 and node_gpu <= 0:
        raise SweepError(f"--gpus-per-trial {gpus:g} asks for GPUs but the cluster has none; "
                         "pass --gpus-per-trial 0 to run trials on CPUs.")
    if gpus > 1 and not float(gpus).is_integer():
        raise SweepError(f"--gpus-per-trial {gpus:g} is invalid; allowed: a fraction up to 1 or a whole number.")
    if gpus > node_gpu:
        raise SweepError(f"--gpus-per-trial {gpus:g} is more than any node has ({node_gpu:g} GPUs), so no trial could start; "
                         f"allowed: at most {node_gpu:g}.")
    cpus = args.cpus_per_trial
    if cpus <= 0:
        raise SweepError("--cpus-per-trial 0 is invalid; allowed: a number > 0.")
    if cpus > node_cpu:
        raise SweepError(f"--cpus-per-trial {cpus:g} is more than any node has ({node_cpu:g} CPUs), so no trial could start; "
                         f"allowed: at most {node_cpu:g}.")
    return cpus, gpus


# ---- the sweep ------------------------------------------------------------------------------

def run(args) -> int:
    from hybridal.tune import expand_grid, grid_key

    started = time.perf_counter()
    spec = load_spec(args)
    if spec is None and not args.resume:
        raise SweepError(f"nothing to run: pass --preset ({', '.join(preset_names())}), --config GRID.yaml, "
                         "or --resume with --name.")
    trials = None
    if spec is not None:
        trials = expand_grid(spec)
        absolutize_data(trials)
    if args.dry_run:
        if trials is None:
            raise SweepError("--dry-run needs --preset or --config.")
        print_trials(trials, spec.notes)
        if not args.no_estimate:
            print_estimate(trials)
        return 0
    for note in spec.notes if spec else ():
        print(f"note: {note}", file=sys.stderr)

    name = args.name or (args.preset or (Path(args.config).stem if args.config else None))
    if not name:
        raise SweepError("--resume needs --name (the experiment folder under --storage-path).")
    if "/" in name or name in (".", "..") or not name.strip():
        raise SweepError(f"--name {name!r} is invalid; allowed: a folder name without '/'.")
    storage = resolve_storage(args.storage_path)
    uri = experiment_uri(storage, name)
    fs, fs_path = open_fs(uri)
    from ray import tune

    try:
        restorable = tune.Tuner.can_restore(uri)
    except Exception as exc:  # noqa: BLE001 - e.g. missing cloud credentials
        raise SweepError(f"cannot read the storage path {uri} ({type(exc).__name__}: {_first_line(exc)}).") from None
    if args.resume and not restorable:
        raise SweepError(f"nothing to resume at {uri}: no Tune state there; leave out --resume to start the sweep.")
    check_writable(fs, fs_path, uri)
    stored = read_sweep_file(fs, fs_path)
    if restorable and stored is None:
        raise SweepError(f"{uri} holds a Ray Tune experiment that sweeps/grid.py did not start; pass another --name.")
    if stored is not None and trials is not None and restorable and grid_key(stored["trials"]) != grid_key(trials):
        raise SweepError(f"{uri} holds a sweep with a different grid ({len(stored['trials'])} trials there, {len(trials)} "
                         "asked for now); pass a new --name, or --resume without --preset/--config to continue it.")
    if restorable:
        trials = stored["trials"]
    resume = restorable

    from hybridal.tune import check_trial_data, passthrough_env

    local = args.address is None
    if not args.no_data_check:
        warm = local and not args.no_warm_cache
        print(f"checking the data of {len(trials)} trials{' and warming the token cache' if warm else ''} ...", flush=True)
        check_trial_data(trials, warm_cache=warm)

    import ray

    connect(args, {**passthrough_env(), "HYBRIDAL_CHECKPOINT_EVERY": str(args.checkpoint_every)})
    try:
        cpus, gpus = plan_resources(args)
        if not resume:
            write_sweep_file(fs, fs_path, {
                "hybridal_sweep": 1, "name": name, "created": datetime.datetime.now().isoformat(timespec="seconds"),
                "source": spec.source, "set": list(args.set), "argv": args.argv, "trials": trials})
        print(f"{'resuming' if resume else 'starting'} sweep {name!r}: {len(trials)} trials, {cpus:g} CPU + {gpus:g} GPU "
              f"per trial, results in {uri}", flush=True)
        results = fit(args, trials, uri, storage, name, cpus, gpus, resume)
        return report(results, trials, uri, time.perf_counter() - started)
    finally:
        ray.shutdown()


def fit(args, trials, uri, storage, name, cpus, gpus, resume):
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    from hybridal.tune import FATAL, SweepCallback, TrialNames, param_space, run_trial

    FATAL.clear()
    resources = {"cpu": cpus, "gpu": gpus}
    trainable = tune.with_resources(run_trial, resources)
    if resume:
        tuner = tune.Tuner.restore(uri, trainable, resume_unfinished=True, resume_errored=True, param_space=param_space(trials))
    else:
        names = [t["trial_name"] for t in trials]
        callbacks = [SweepCallback(names, [t["total_rounds"] for t in trials], args.quiet), CSVLoggerCallback(), JsonLoggerCallback()]
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(trials),
            tune_config=tune.TuneConfig(
                # Reused actors keep torch/transformers imported: ~10 s less per trial on a CPU.
                num_samples=1, max_concurrent_trials=args.max_concurrent or None, reuse_actors=True,
                trial_name_creator=TrialNames(names), trial_dirname_creator=TrialNames(names, with_id=True)),
            run_config=tune.RunConfig(
                name=name, storage_path=storage, callbacks=callbacks, verbose=args.ray_verbose,
                checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
                failure_config=tune.FailureConfig(max_failures=args.max_failures),
                sync_config=tune.SyncConfig(sync_artifacts=True)),
        )
    # Our trials write their own TensorBoard events (per round, plus an HParams session);
    # Tune's TBX logger would add a second, differently-stepped copy of every metric. A forced
    # experiment snapshot after every num_to_keep checkpoints is intended (each round is one
    # checkpoint); Tune's warning about it is noise for short rounds.
    warn = "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"
    with _environ(TUNE_DISABLE_AUTO_CALLBACK_LOGGERS="1", **{warn: os.environ.get(warn, "0")}):
        return tuner.fit()


@contextlib.contextmanager
def _environ(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _num(value, fmt: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _switch_cell(metrics: dict) -> str:
    """The first round a trial trained with `after`. Results reported before `switch_round`
    meant that could hold a switch decided after the last round, which never trained: "-"."""
    from hybridal.strategies import trained_switch_round

    rounds = metrics.get("round")
    switch = metrics.get("switch_round")
    return _num(trained_switch_round(switch, rounds + 1) if isinstance(rounds, int) else switch, "d")


def report(results, trials, uri: str, seconds: float) -> int:
    from hybridal.tune import FATAL

    rows = {}
    for r in results:
        index = (r.config or {}).get("trial_index")
        metrics = r.metrics or {}
        status = "errored" if r.error is not None else ("finished" if metrics.get("done") else "unfinished")
        rows[index] = (metrics, status, r.path)
    header = ("trial", "dataset", "strategy", "ε", "k", "seed", "test F1", "train FLOPs", "switch", "status")
    table = []
    for i, t in enumerate(trials):
        metrics, status, _ = rows.get(i, ({}, "not started", None))
        table.append((t["trial_name"], t["dataset"], t["strategy"], _num(t["epsilon"], "g"), _num(t["k"], "d"), str(t["seed"]),
                      _num(metrics.get("test_f1"), ".4f"), _num(metrics.get("cum_train_flops"), ".3e"),
                      _switch_cell(metrics), status))
    widths = [max(len(h), *(len(row[j]) for row in table)) for j, h in enumerate(header)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    counts = {s: sum(row[-1] == s for row in table) for s in ("finished", "errored", "unfinished", "not started")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"\n{len(trials)} trials: {summary}; sweep wall time {seconds:.0f} s")
    print(f"results: {uri}  (one folder per trial: params.json, result.json, rounds.jsonl, summary.json, tensorboard/)")
    print(f"compare: tensorboard --logdir {uri}")
    print(f"report:  python -m analysis.report {uri} --out reports/{Path(uri).name}")
    if FATAL:
        print(f"grid.py: error: trial {FATAL['trial']} failed for its input, so the sweep was stopped: {FATAL['message']}",
              file=sys.stderr)
        return 2
    if counts["finished"] == len(trials):
        return 0
    if counts["errored"]:
        print(f"grid.py: {counts['errored']} trial(s) failed after their retries; see error.txt in their folders, "
              f"and rerun with --resume --name {Path(uri).name} to retry them.", file=sys.stderr)
        return 1
    print(f"grid.py: the sweep was interrupted; continue it with: python sweeps/grid.py --resume --name {Path(uri).name} "
          f"--storage-path {uri.rsplit('/', 1)[0]}", file=sys.stderr)
    return 130


def keep_local_ray_on_loopback() -> None:
    """A local sweep's Ray (GCS, raylet, object store) listens on 127.0.0.1 only.

    On Linux Ray otherwise binds the machine's interface address and listens on all
    interfaces. The variable is read when `ray` is imported, so this runs before any import
    of it; a value the user set is kept."""
    if "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    if args.address is None:
        keep_local_ray_on_loopback()
    from hybridal.errors import ConfigError, DataError

    try:
        return run(args)
    except (SweepError, ConfigError, DataError) as exc:
        print(f"grid.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
