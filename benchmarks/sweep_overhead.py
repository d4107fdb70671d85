#!/usr/bin/env python
"""Ray Tune's overhead per trial: a grid run in-process, one run after another, vs the same grid as a sweep.

    python -m benchmarks.sweep_overhead --preset smoke
    python -m benchmarks.sweep_overhead --preset demo --strategies retrain deltaf1 --ks 1

Both passes use one CPU thread per run and run one trial at a time (the sweep with
`--max-concurrent 1 --cpus-per-trial 1`), so the difference is what Ray adds per trial:
starting (or re-using) a worker, importing the library there, per-round checkpoints and
result reporting, artifact syncing, and the driver's own start-up (reported separately).
The in-process pass pays its imports once, before timing starts; the token cache is warmed
first, so neither pass pays for tokenization. Writes JSON to benchmarks/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="smoke")
    p.add_argument("--strategies", nargs="+")
    p.add_argument("--epsilons", nargs="+", type=float)
    p.add_argument("--ks", nargs="+", type=int)
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "sweep_overhead.json"))
    args = p.parse_args()
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("HF_DATASETS_OFFLINE", "1"),
        ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0"),
    ):
        os.environ.setdefault(key, value)
    tmp = Path(tempfile.mkdtemp(prefix="hysb", dir="/tmp"))
    (tmp / "ray").mkdir()
    os.environ.setdefault("RAY_TMPDIR", str(tmp))
    try:
        return run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp: Path) -> int:
    import torch

    from hybridal import ActiveLearning
    from sweeps import grid
    from sweeps.checks import check_trial_data
    from sweeps.grid_expansion import expand_grid

    spec = grid.load_spec(
        grid.build_parser().parse_args(
            [
                "--preset",
                args.preset,
                *sum((["--set", s] for s in args.set), []),
                *(["--strategies", *args.strategies] if args.strategies else []),
                *(["--epsilons", *map(str, args.epsilons)] if args.epsilons else []),
                *(["--ks", *map(str, args.ks)] if args.ks else []),
            ]
        )
    )
    trials = expand_grid(spec)
    print(f"{len(trials)} trials of preset {args.preset}; warming the token cache ...", flush=True)
    check_trial_data(trials, warm_cache=True)

    # In-process, one after another, 1 thread: what the runs cost without Ray.
    torch.set_num_threads(1)
    per_trial = {}
    start_all = time.perf_counter()
    for t in trials:
        start = time.perf_counter()
        al = ActiveLearning(t.config.replace(device="cpu"), run_dir=tmp / "inprocess" / t.name)
        al.run_full_pipeline()
        per_trial[t.name] = {
            "inprocess_s": time.perf_counter() - start,
            "rounds_s": sum(r.wall_seconds for r in al.records),
        }
        print(f"  in-process {t.name}: {per_trial[t.name]['inprocess_s']:.1f} s", flush=True)
    inprocess = time.perf_counter() - start_all

    # The same grid as a sweep, one trial at a time.
    argv = [
        "--preset",
        args.preset,
        "--storage-path",
        str(tmp / "res"),
        "--name",
        "overhead",
        "--num-cpus",
        "1",
        "--cpus-per-trial",
        "1",
        "--max-concurrent",
        "1",
        "--quiet",
        *sum((["--set", s] for s in args.set), []),
    ]
    argv += ["--strategies", *args.strategies] if args.strategies else []
    argv += ["--epsilons", *map(str, args.epsilons)] if args.epsilons else []
    argv += ["--ks", *map(str, args.ks)] if args.ks else []
    buffer = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        rc = grid.main(argv)
    sweep = time.perf_counter() - start
    if rc != 0:
        print(buffer.getvalue()[-3000:])
        raise SystemExit(f"the sweep exited {rc}")
    first_start = last_end = None
    for folder in (tmp / "res" / "overhead").iterdir():
        if not (folder / "result.json").is_file():
            continue
        rows = [json.loads(line) for line in (folder / "result.json").read_text().splitlines()]
        name = rows[-1]["trial_name"]
        per_trial[name]["ray_trainable_s"] = rows[-1]["time_total_s"]
        per_trial[name]["ray_rounds_s"] = sum(r["wall_seconds"] for r in rows)
        begin = rows[0]["started_at"]
        first_start = begin if first_start is None else min(first_start, begin)
        last_end = rows[-1]["timestamp"] if last_end is None else max(last_end, rows[-1]["timestamp"])
    n = len(trials)
    driver_s = sweep - (last_end - first_start) if first_start is not None else None
    result = {
        "preset": args.preset,
        "trials": n,
        "set": args.set,
        "inprocess_total_s": inprocess,
        "sweep_total_s": sweep,
        "overhead_per_trial_s": (sweep - inprocess) / n,
        "driver_startup_and_teardown_s": driver_s,
        "overhead_per_trial_excluding_driver_s": (sweep - (driver_s or 0) - inprocess) / n,
        "per_trial": per_trial,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_1m": os.getloadavg()[0]},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"\nin-process, one after another: {inprocess:.1f} s for {n} runs ({inprocess / n:.1f} s each)")
    print(f"Ray Tune sweep, one at a time: {sweep:.1f} s (driver start-up/teardown ~{driver_s:.0f} s of it)")
    print(
        f"overhead per trial: {result['overhead_per_trial_s']:.1f} s "
        f"({result['overhead_per_trial_excluding_driver_s']:.1f} s without the driver's fixed start-up); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; written to {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
