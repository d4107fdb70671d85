#!/usr/bin/env python
"""Run a grid of active-learning runs as Ray Tune trials (docs/design.md §8).

    python sweeps/grid.py --preset smoke                   # local Ray, ./ray_results/smoke
    python sweeps/grid.py --preset paper --address auto --storage-path s3://bucket/hybridal
    python sweeps/grid.py --preset demo --dry-run          # list the trials, run nothing
    python sweeps/grid.py --resume --name demo             # continue an interrupted sweep

One trial per AL run: `sweeps.trainable.run_trial` runs it and reports every round's record
(F1, FLOPs, ...) with a checkpoint, so a failed trial is retried from its last finished round
and an interrupted sweep resumes without re-running finished trials. Exit status: 0 all
trials finished, 1 some failed, 2 bad input (nothing started, or a trial reported a
data/config error), 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

from hybridal.errors import ConfigError, DataError, did_you_mean
from sweeps import dry_run
from sweeps.checks import quiet_datasets
from sweeps.errors import SweepError
from sweeps.grid_expansion import expand_grid
from sweeps.grid_file import GridSpec, load_grid_file
from sweeps.launch import launch
from sweeps.sweep_folder import DEFAULT_STORAGE

PRESETS_DIR = Path(__file__).resolve().parent / "presets"


# ---- arguments ------------------------------------------------------------------------------


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {'number' if kind is float else 'whole number'}"
            ) from None
        if not value >= 0 or (isinstance(value, float) and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
        return value

    return parse


def _boolean(text: str) -> bool:
    """--guards values: true/false (argparse's bool() would read "false" as True)."""
    if text.lower() in ("true", "on", "yes", "1"):
        return True
    if text.lower() in ("false", "off", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean; allowed: true, false.")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sweeps/grid.py",
        description="Run a grid of hybridal AL runs as Ray Tune trials (one trial per run).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
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
    what.add_argument(
        "--afters", nargs="+", help="replace grid.afters (deltaf1 only: finetune, new_only, shrink_perturb)"
    )
    what.add_argument(
        "--guards",
        nargs="+",
        type=_boolean,
        help="replace grid.guards (deltaf1 only: true, false; the ΔF1 rule's trivial-plateau guard)",
    )
    what.add_argument("--cs", nargs="+", type=float, help="replace grid.cs (deltaf1 with monitor 'acquired' only)")
    what.add_argument("--arms", nargs="+", metavar="NAME", help="run only these of the grid file's named arms (arms:)")
    what.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a base key for every trial (dots for nested keys, e.g. tokenizer_kwargs.max_length=64); "
        "repeatable",
    )
    what.add_argument(
        "--no-share",
        action="store_true",
        help="run every configuration standalone, from round 0 (default: HybridAL variants and baselines fork "
        "from one retrain trunk per group, with identical results)",
    )
    what.add_argument(
        "--keep-prefixes",
        action="store_true",
        help="keep <experiment>/.prefixes/ (trunk states, finished runs) after every job has finished",
    )
    what.add_argument(
        "--dry-run",
        action="store_true",
        help="print every trial's config, the count and the FLOPs/GPU-hour estimate; run nothing",
    )
    what.add_argument(
        "--no-estimate", action="store_true", help="with --dry-run: skip the cost estimate (it reads the data)"
    )
    where = p.add_argument_group("where")
    where.add_argument("--name", help="experiment folder under --storage-path (default: the preset or grid file name)")
    where.add_argument("--storage-path", default=DEFAULT_STORAGE, help="local folder, s3://... or gs://...")
    where.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep stored under --storage-path/--name (finished trials are not re-run)",
    )
    ray_ = p.add_argument_group("Ray")
    ray_.add_argument("--address", help="join a running cluster ('auto' or HOST:PORT); default: start Ray locally")
    ray_.add_argument(
        "--gpus-per-trial",
        type=_positive(float),
        help="GPUs per trial, fractions allowed (default: 1 where the cluster has GPUs, else 0)",
    )
    ray_.add_argument(
        "--cpus-per-trial", type=_positive(float), default=1.0, help="CPUs per trial (also its torch threads)"
    )
    ray_.add_argument(
        "--max-concurrent",
        type=_positive(int),
        default=0,
        help="at most this many trials at once (0: as resources allow)",
    )
    ray_.add_argument(
        "--max-failures",
        type=int,
        default=3,
        help="retries of a failed trial, each from its last checkpoint (-1: forever)",
    )
    ray_.add_argument(
        "--checkpoint-every",
        type=_positive(int),
        default=1,
        help="checkpoint every N rounds (and always after the last); a retry resumes at the last checkpoint",
    )
    ray_.add_argument("--num-cpus", type=_positive(int), help="CPUs of the local Ray instance (not with --address)")
    ray_.add_argument("--num-gpus", type=_positive(int), help="GPUs of the local Ray instance (not with --address)")
    ray_.add_argument(
        "--no-data-check",
        action="store_true",
        help="skip loading each dataset in the driver before trials start (e.g. when only workers see the data)",
    )
    ray_.add_argument(
        "--no-warm-cache",
        action="store_true",
        help="do not tokenize the datasets into this machine's cache before local trials start",
    )
    ray_.add_argument("-q", "--quiet", action="store_true", help="no per-round progress lines")
    ray_.add_argument("--ray-verbose", type=int, choices=(0, 1, 2), default=0, help="Ray Tune's own progress output")
    return p


def load_spec(args) -> Optional[GridSpec]:
    """The grid of --preset/--config with the CLI's axes and overrides; None for a bare --resume."""
    if args.preset:
        path = PRESETS_DIR / f"{args.preset}.yaml"
        if not path.is_file():
            raise SweepError(
                f"preset {args.preset!r} is not known{did_you_mean(args.preset, preset_names())}; "
                f"allowed: {', '.join(preset_names())}."
            )
        spec = load_grid_file(path, source=f"preset {args.preset}")
    elif args.config:
        spec = load_grid_file(args.config)
    else:
        given = [
            f"--{k}"
            for k in ("datasets", "seeds", "strategies", "samplers", "epsilons", "ks", "afters", "cs", "guards")
            + ("arms", "set")
            if getattr(args, k)
        ]
        if given:
            raise SweepError(
                f"{given[0]} changes a grid, so it needs --preset or --config; a resumed sweep keeps its stored grid."
            )
        return None
    spec = spec.with_axes(
        datasets=args.datasets,
        seeds=args.seeds,
        strategies=args.strategies,
        samplers=args.samplers,
        epsilons=args.epsilons,
        ks=args.ks,
        afters=args.afters,
        cs=args.cs,
        guards=args.guards,
    )
    return spec.with_arms(args.arms).with_overrides(args.set)


def _experiment_name(args) -> str:
    name = args.name or (args.preset or (Path(args.config).stem if args.config else None))
    if not name:
        raise SweepError("--resume needs --name (the experiment folder under --storage-path).")
    if "/" in name or name in (".", "..") or not name.strip():
        raise SweepError(f"--name {name!r} is invalid; allowed: a folder name without '/'.")
    return name


# ---- the sweep ------------------------------------------------------------------------------


def run(args, trainable: Optional[Callable] = None, callbacks: Sequence = ()) -> int:
    """The whole sweep: grid → checks → Ray → trials → closing table; returns the exit status.

    `trainable` replaces `sweeps.trainable.run_trial` and `callbacks` are added to Tune's
    (both for tests: a trainable that crashes once, a callback that interrupts the sweep).
    """
    started, started_utc = time.perf_counter(), datetime.datetime.now(datetime.timezone.utc)
    quiet_datasets()
    spec = load_spec(args)
    if spec is None and not args.resume:
        raise SweepError(
            f"nothing to run: pass --preset ({', '.join(preset_names())}), --config GRID.yaml, or --resume with --name."
        )
    trials = expand_grid(spec) if spec is not None else None
    if args.dry_run:
        if trials is None:
            raise SweepError("--dry-run needs --preset or --config.")
        dry_run.print_trials(trials, spec.notes)
        if not args.no_estimate:
            dry_run.print_estimate(trials, share=not args.no_share)
        return 0
    for note in spec.notes if spec else ():
        print(f"note: {note}", file=sys.stderr)
    return launch(args, _experiment_name(args), spec, trials, (started, started_utc), trainable, callbacks)


def keep_local_ray_on_loopback() -> None:
    """A local sweep's Ray (GCS, raylet, object store) listens on 127.0.0.1 only.

    On Linux Ray otherwise binds the machine's interface address and listens on all
    interfaces. The variable is read when `ray` is imported, so this runs before any import
    of it; a value the user set is kept."""
    if "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def main(argv: Optional[list[str]] = None, trainable: Optional[Callable] = None, callbacks: Sequence = ()) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    if args.address is None:
        keep_local_ray_on_loopback()
    try:
        return run(args, trainable, callbacks)
    except (SweepError, ConfigError, DataError) as exc:
        print(f"grid.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
