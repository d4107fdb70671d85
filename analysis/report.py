"""Command line: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR``.

Reads a Ray Tune experiment folder or a folder of ``hybridal run`` outputs (local, or a URL
such as ``s3://bucket/exp``), and writes to OUT_DIR (every file atomically):

- ``rounds.parquet`` / ``rounds.csv``: one row per trial x round (config, status, record fields);
- ``trials.csv``: one row per trial with its final metrics and status;
- ``summary.csv``: dataset x configuration, seed mean/std/ci95/n, Pareto flag, savings vs retrain;
- ``frontier_rounds.csv``: per-round seed-mean points with their Pareto flag;
- ``hypervolume.csv``: per dataset x strategy family;
- ``plots/*.png``, ``report.md`` and a self-contained ``report.html``.

Exit codes: 0 done (data problems are reported, not fatal), 2 nothing usable or bad input.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

if __package__ in (None, ""):  # run as `python analysis/report.py`: import from the repo root, not
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # from analysis/ (its module names are generic)

from analysis import plots  # noqa: E402
from analysis.content import cli_summary, plot_name, report_blocks  # noqa: E402
from analysis.outputs import atomic_path, write_text  # noqa: E402
from analysis.pipeline import Analysis, analyse  # noqa: E402
from analysis.problems import AnalysisError  # noqa: E402
from analysis.render import to_html, to_markdown  # noqa: E402


def write_tables(a: Analysis, out: Path) -> list[str]:
    """Write the CSV/Parquet tables; return their names."""
    tables = {
        "rounds.csv": a.rounds,
        "trials.csv": a.metrics,
        "summary.csv": a.summary.drop(columns=["config_id"]),
        "frontier_rounds.csv": a.curves.merge(a.summary[["dataset", "config_id", "config"]], on=["dataset", "config_id"],
                                              how="left").drop(columns=["config_id"]),
        "hypervolume.csv": a.hypervolume,
    }
    for name, df in tables.items():
        with atomic_path(out / name) as tmp:
            df.to_csv(tmp, index=False)
    with atomic_path(out / "rounds.parquet") as tmp:
        a.rounds.to_parquet(tmp, index=False, engine="pyarrow")
    return ["rounds.parquet", *tables]


def write_plots(a: Analysis, out: Path) -> dict[str, dict[str, str]]:
    """Draw every figure per dataset; return dataset -> kind -> path relative to `out`."""
    made: dict[str, dict[str, str]] = {}
    for ds in sorted(a.summary["dataset"].dropna().unique()):
        s = a.summary[a.summary["dataset"] == ds]
        cv = a.curves[a.curves["dataset"] == ds]
        used = a.used[a.used["dataset"] == ds]
        paths = {
            "learning_curves": plot_name(ds, "learning_curves"),
            "f1_vs_training_flops": plot_name(ds, "f1_vs_training_flops"),
            "final_f1_vs_training_flops": plot_name(ds, "final_f1_vs_training_flops"),
            "switch_rounds": plot_name(ds, "switch_rounds"),
        }
        plots.learning_curves(ds, s, cv, out / paths["learning_curves"])
        plots.f1_vs_flops(ds, s, cv, out / paths["f1_vs_training_flops"])
        plots.final_scatter(ds, s, s["pareto"], out / paths["final_f1_vs_training_flops"])
        if plots.switch_rounds(ds, s, used, out / paths["switch_rounds"]) is None:
            del paths["switch_rounds"]
        made[str(ds)] = paths
    return made


def build_report(experiment: str, out_dir: str, tolerance_points: float = 0.5) -> Analysis:
    """Analyse `experiment` and write every output to `out_dir`; return the analysis."""
    a = analyse(experiment, tolerance_points)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnalysisError(f"Cannot create the output folder {out_dir}: {exc.strerror or exc}.") from None
    for stale in [*out.glob(".*.tmp"), *out.glob("plots/.*.tmp")]:  # left by a run that was killed
        stale.unlink(missing_ok=True)
    files = write_tables(a, out)
    made = write_plots(a, out)
    files += sorted(p for d in made.values() for p in d.values())
    files += ["report.md", "report.html"]
    blocks = report_blocks(a, made, files)
    write_text(out / "report.md", to_markdown(blocks))
    write_text(out / "report.html", to_html(blocks, f"hybridal sweep report: {a.root}", out))
    return a


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis.report",
        description="Cost-vs-accuracy frontiers, seed-aggregated tables, plots and a report from a hybridal sweep.",
    )
    p.add_argument("experiment_dir", help="Ray Tune experiment folder or folder of `hybridal run` outputs "
                   "(local path or URL such as s3://bucket/path, gs://bucket/path)")
    p.add_argument("--out", default=None, help="output folder (default: reports/<experiment name>)")
    p.add_argument("--tolerance", type=float, default=0.5,
                   help="matched accuracy: validation macro-F1 points below retrain still counted as matched (default 0.5)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; return the exit code (0 done, 2 nothing usable or bad input)."""
    args = _parser().parse_args(argv)
    out = args.out or os.path.join("reports", os.path.basename(args.experiment_dir.rstrip("/")) or "experiment")
    try:
        a = build_report(args.experiment_dir, out, args.tolerance)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(cli_summary(a, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
