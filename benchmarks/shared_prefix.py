"""Shared-prefix sweeps against standalone runs, measured side by side in one run (issue 12).

1. The `demo` grid widened to ε ∈ {0.002, 0.005, 0.01, 0.02, 0.05} × k ∈ {1, 2} (13
   configurations, packaged MiniLM on AG News) runs shared, then with `--no-share`, on this
   machine: spent training FLOPs and wall time of each, and whether every configuration's
   records (timings aside), selections and final metrics are identical.
2. Ray's overhead per fork: a fork trial's Tune time minus the wall time of the rounds it ran.
3. The `paper` grid's shape (285 configurations, 40 rounds, DistilBERT): spent against
   standalone training FLOPs from the pre-launch estimate, with switch rounds from simulated
   trunk F1 series (a saturating learning curve plus seeded noise of a few sizes).

    HYBRIDAL_DATA_DIR=../shared/data python -m benchmarks.shared_prefix [--quick] [--skip-sweeps]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

TIMING = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")
WIDE = ["--epsilons", "0.002", "0.005", "0.01", "0.02", "0.05", "--ks", "1", "2"]


def outcome(root: Path) -> tuple[dict, dict]:
    """Per configuration: records (timings aside), selections, final metrics; and per trial its Tune timing."""
    configs, timing = {}, {}
    for folder in sorted(p for p in root.iterdir() if (p / "summary.json").is_file()):
        summary = json.loads((folder / "summary.json").read_text())
        shared = summary.get("shared_prefix") or {}
        records = [json.loads(line) for line in (folder / "rounds.jsonl").read_text().splitlines()]
        results = (
            [json.loads(line) for line in (folder / "result.json").read_text().splitlines()]
            if (folder / "result.json").is_file()
            else []
        )
        own = (
            [r for r in records if r["round"] >= (shared.get("fork_round") or 0)]
            if shared.get("role") != "copy"
            else []
        )
        timing[folder.name] = {
            "role": shared.get("role"),
            "tune_seconds": results[-1].get("time_total_s") if results else None,
            "round_seconds": sum(r["wall_seconds"] for r in own),
        }
        if shared.get("reported") is False:
            continue
        configs[folder.name] = {
            "records": [{k: v for k, v in r.items() if k not in TIMING} for r in records],
            "selected": summary["selected_indices"],
            "final": summary["final_test"],
        }
    return configs, timing


def run_sweep(storage: Path, name: str, extra: list[str]) -> tuple[float, dict]:
    from sweeps import grid

    started = time.perf_counter()
    rc = grid.main(["--preset", "demo", *WIDE, "--storage-path", str(storage), "--name", name, "-q", *extra])
    seconds = time.perf_counter() - started
    if rc != 0:
        raise SystemExit(f"the {name} sweep exited {rc}")
    return seconds, json.loads((storage / name / "sweep_summary.json").read_text())


def measure_sweeps(storage: Path, quick: bool) -> dict:
    extra = ["--set", "total_rounds=3", "--set", "max_train_size=1500"] if quick else []
    shared_s, shared = run_sweep(storage, "wide-shared", extra)
    alone_s, alone = run_sweep(storage, "wide-alone", ["--no-share", *extra])
    a, timing = outcome(storage / "wide-shared")
    b, _ = outcome(storage / "wide-alone")
    overhead = [
        t["tune_seconds"] - t["round_seconds"] for t in timing.values() if t["role"] == "fork" and t["tune_seconds"]
    ]
    work = [t["round_seconds"] for t in timing.values() if t["role"] == "fork"]
    return {
        "configurations": len(a),
        "identical": a == b,
        "differing": sorted(n for n in a if a.get(n) != b.get(n)),
        "spent_shared": shared["spent_train_flops"],
        "spent_alone": alone["spent_train_flops"],
        "spent_ratio": shared["spent_train_flops"] / alone["spent_train_flops"],
        "attributed_equal": math.isclose(shared["attributed_train_flops"], alone["attributed_train_flops"]),
        "wall_shared_s": shared_s,
        "wall_alone_s": alone_s,
        "wall_ratio": shared_s / alone_s,
        "runs": shared["runs"],
        "fork_overhead_s_median": float(np.median(overhead)) if overhead else None,
        "fork_work_s_median": float(np.median(work)) if work else None,
    }


def simulated_f1s(rounds: int, noise: float, seed: int) -> list[float]:
    """A saturating learning curve (0.55 → 0.90) with seeded Gaussian noise."""
    rng = np.random.default_rng(seed)
    r = np.arange(rounds)
    return list(0.90 - 0.35 * np.exp(-r / 6.0) + rng.normal(0.0, noise, rounds))


def measure_paper_shape(noises: tuple[float, ...]) -> list[dict]:
    from sweeps.grid_expansion import expand_grid
    from sweeps.grid_file import load_grid_file
    from sweeps.share_cost import cost_of, estimated_round_flops, scenario_switches, switches_in_plan
    from sweeps.share_simulation import simulate
    from sweeps.sharing import SharePlan

    trials = expand_grid(load_grid_file(ROOT / "sweeps" / "presets" / "paper.yaml"))
    round_flops, rounds = estimated_round_flops()
    out = []
    for noise in noises:
        plan = SharePlan(trials)
        series = {t: simulated_f1s(rounds(plan.jobs[t].config), noise, i) for i, t in enumerate(plan.groups)}
        simulate(plan, series)
        cost = cost_of(plan, switches_in_plan(plan), round_flops)
        out.append({"noise": noise, "spent_ratio": cost.ratio, "forks": cost.forks, "trunks": cost.trunks})
    plan = SharePlan(trials)
    for distinct in (False, True):
        cost = cost_of(plan, scenario_switches(plan, rounds, distinct), round_flops)
        out.append(
            {
                "scenario": "each at its own round" if distinct else "all at one round",
                "spent_ratio": cost.ratio,
                "forks": cost.forks,
                "trunks": cost.trunks,
            }
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 rounds on a 1,500-row slice (a smoke test, not results)")
    p.add_argument("--skip-sweeps", action="store_true", help="only the paper-grid estimate")
    p.add_argument("--storage", help="where the two sweeps go (default: a temporary folder)")
    p.add_argument("--out", help="write the figures as JSON here too")
    args = p.parse_args()
    figures: dict = {}
    if not args.skip_sweeps:
        storage = Path(args.storage or tempfile.mkdtemp(prefix="hybridal-share-"))
        figures["demo_wide"] = measure_sweeps(storage, args.quick)
        d = figures["demo_wide"]
        print(
            f"demo grid widened ({d['configurations']} configurations): identical records {d['identical']}; "
            f"spent training FLOPs {d['spent_shared']:.3e} shared vs {d['spent_alone']:.3e} alone = "
            f"{d['spent_ratio']:.2f}x; "
            f"wall {d['wall_shared_s']:.0f} s vs {d['wall_alone_s']:.0f} s = {d['wall_ratio']:.2f}x; runs {d['runs']}; "
            f"Ray overhead per fork {d['fork_overhead_s_median']:.1f} s (median) against "
            f"{d['fork_work_s_median']:.1f} s of rounds"
        )
    figures["paper_shape"] = measure_paper_shape((0.003, 0.01, 0.02))
    for row in figures["paper_shape"]:
        what = f"simulated F1, noise {row['noise']}" if "noise" in row else row["scenario"]
        print(
            f"paper grid ({what}): spent {row['spent_ratio']:.2f} of standalone, {row['trunks']} trunks, "
            f"{row['forks']} forks"
        )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
