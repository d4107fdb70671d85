"""Several full benchmark runs as one table: each figure's median over the runs and its spread.

The machine is shared and noisy, so one run's ratios are not a result: `python -m benchmarks.run
--out RUN.json` three or more times, then `python -m benchmarks.repeats RUN1.json RUN2.json
RUN3.json` prints the median [min, max] of every target's figure, with met/missed judged on the
median (the goals are issue 13's, as `reporting.targets` states them).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Sequence

from benchmarks.reporting import G, summarize

# (row, summary key, goal, goal text, applies only where bf16 is native)
FIGURES = (
    ("whole run: our defaults vs prototype (wall)", "run_speedup_default", None, "default_goal", False),
    ("whole run: our defaults vs prototype (CPU time)", "run_speedup_default_cpu_time", None, "default_goal", False),
    ("whole run: ours fp32 vs prototype (wall)", "run_speedup_fp32", 4.0, ">= 4x", False),
    ("whole run: ours fp32 vs prototype (CPU time)", "run_speedup_fp32_cpu_time", 4.0, ">= 4x", False),
    ("bf16 training vs fp32 (samples/s)", "bf16_train_speedup", 1.5, ">= 1.5x where native", True),
    ("bf16 inference vs fp32 (scoring)", "bf16_infer_speedup", 2.0, ">= 2x where native", True),
    ("pool scoring vs prototype's loop (wall)", "scoring_speedup", 3.0, ">= 3x", False),
    ("training, share of the running precision's matmul peak", "train_utilization", 0.5, ">= 0.5", False),
)
SECONDS = ("run_seconds_ours", "run_seconds_ours_fp32", "run_seconds_prototype", "benchmark_seconds")


def spread(values: Sequence[float], digits: int = 2) -> str:
    """`median [min, max]`."""
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]"


def repeated_table(runs: Sequence[dict]) -> list[tuple[str, str, str, str]]:
    """(figure, median [min, max] over the runs, goal, met | missed | n/a on the median) rows."""
    if len(runs) < 3:
        raise SystemExit(f"benchmarks.repeats needs at least 3 runs, got {len(runs)}; allowed: 3 or more JSON files.")
    s = [summarize(f) for f in runs]
    precisions = {x["run_precision_default"] for x in s} | {x["auto_precision"] for x in s}
    if len(precisions) != 1:
        raise SystemExit(
            f"the runs resolved different precisions ({sorted(precisions)}); allowed: runs of one machine."
        )
    running = s[0]["auto_precision"]
    native = all(x["bf16_native"] for x in s)
    rows = []
    for name, key, goal, goal_text, bf16_only in FIGURES:
        if key == "train_utilization":
            values = [x[f"train_utilization_{running}"] for x in s]
            name = f"{name} ({running}, of {statistics.median(x[f'matmul_peak_{running}'] for x in s) / G:.0f} GFLOP/s)"
        else:
            values = [x[key] for x in s]
        if goal_text == "default_goal":
            goal = 6.0 if running == "bf16" else 4.0
            goal_text = f">= {goal:.0f}x"
        assert goal is not None
        status = "n/a" if bf16_only and not native else ("met" if statistics.median(values) >= goal else "missed")
        rows.append((name, spread(values), goal_text, status))
    rss = [max(x["peak_rss_gib_ours"], x["peak_rss_gib_ours_fp32"]) for x in s]
    rows.append(
        ("peak memory of our runs (GiB)", spread(rss), "< 3", "met" if statistics.median(rss) < 3 else "missed")
    )
    for key in SECONDS:
        rows.append((key.replace("_", " "), spread([x[key] for x in s], 0), "", ""))
    for kind in ("ours", "ours_fp32", "prototype"):
        rows.append((f"final test F1, {kind}", spread([x[f"final_test_f1_{kind}"] for x in s], 4), "", ""))
    return rows


def markdown(rows: list[tuple[str, str, str, str]], n_runs: int) -> str:
    lines = [f"| figure | median [min, max] over {n_runs} runs | goal | on the median |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files written by `python -m benchmarks.run --out`")
    args = parser.parse_args(argv)
    runs = [json.loads(p.read_text()) for p in args.runs]
    print(markdown(repeated_table(runs), len(runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
