"""Command line: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR``.

Reads a Ray Tune experiment folder, a folder of ``hybridal run`` outputs (local, or a URL
such as ``s3://bucket/exp``), several of them analysed as one (a study run as one sweep per
dataset), or a folder this command wrote (its ``runs.csv`` and ``rounds.parquet``), and writes to OUT_DIR (every file atomically):

- ``rounds.parquet`` / ``rounds.csv``: one row per trial x round (config, status, record fields);
- ``runs.csv``: one row per trial as read (status, config, settings, summary.json's final
  metrics): with ``rounds.parquet`` the whole input, so OUT_DIR can be analysed again alone;
- ``trials.csv``: one row per trial with its final metrics and status;
- ``headline.csv``, ``paired.csv``, ``switches.csv``, ``samplers.csv``: every arm's choices
  against retrain and finetune paired by seed, every configuration against retrain paired by
  seed, each seed's switch round, samplers compared (analysis/headline.py);
- ``noise.csv``: per retrain group, the validation F1's per-seed standard error beside the
  tolerance (analysis/noise.py);
- ``sweep_summary.json``: the sweeps' spent vs attributed FLOPs and environment, combined;
- ``summary.csv``: dataset x configuration, seed mean/std/ci95/n, Pareto flag, savings vs retrain
  (cost: the AL cost, training + scoring + policy FLOPs; training FLOPs and labels used beside it);
- ``frontier_rounds.csv``: per-round seed-mean points with their Pareto flag;
- ``hypervolume.csv``: per dataset x strategy family;
- ``plots/*.png``, ``report.md`` and a self-contained ``report.html``.

Exit codes: 0 done (data problems are reported, not fatal), 2 nothing usable or bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence, Union

if __package__ in (None, ""):  # run as `python analysis/report.py`: import from the repo root, not
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # from analysis/ (its module names are generic)

from analysis import plots  # noqa: E402
from analysis.content import cli_summary, report_blocks  # noqa: E402
from analysis.formatting import plot_name  # noqa: E402
from analysis.load import SWEEP_SUMMARY  # noqa: E402
from analysis.outputs import atomic_path, write_text  # noqa: E402
from analysis.pipeline import Analysis, analyse  # noqa: E402
from analysis.problems import AnalysisError  # noqa: E402
from analysis.render import to_html, to_markdown  # noqa: E402


NOTES_FILE = "notes.md"
SAVINGS_PLOT = "plots/savings_vs_retrain.png"   # every dataset in one figure (the headline's)


def write_tables(a: Analysis, out: Path) -> list[str]:
    """Write the CSV/Parquet tables; return their names."""
    tables = {
        "rounds.csv": a.rounds,
        "runs.csv": a.trials,
        "trials.csv": a.metrics,
        "summary.csv": a.summary.drop(columns=["config_id"]),
        "frontier_rounds.csv": a.curves.merge(a.summary[["dataset", "config_id", "config"]], on=["dataset", "config_id"],
                                              how="left").drop(columns=["config_id"]),
        "hypervolume.csv": a.hypervolume,
        "headline.csv": a.headline,
        "switches.csv": a.switches,
        "samplers.csv": a.samplers,
        "paired.csv": a.paired,
        "noise.csv": a.noise,
    }
    for name, df in tables.items():
        with atomic_path(out / name) as tmp:
            df.to_csv(tmp, index=False)
    with atomic_path(out / "rounds.parquet") as tmp:
        a.rounds.to_parquet(tmp, index=False, engine="pyarrow")
    names = ["rounds.parquet", *tables]
    if a.sweep:
        write_text(out / SWEEP_SUMMARY, json.dumps(a.sweep, indent=2, sort_keys=True) + "\n")
        names.append(SWEEP_SUMMARY)
    return names


def write_plots(a: Analysis, out: Path) -> dict[str, dict[str, str]]:
    """Draw every figure per dataset; return dataset -> kind -> path relative to `out`."""
    made: dict[str, dict[str, str]] = {}
    for ds in sorted(a.summary["dataset"].dropna().unique()):
        s = a.summary[a.summary["dataset"] == ds]
        cv = a.curves[a.curves["dataset"] == ds]
        used = a.used[a.used["dataset"] == ds]
        paths = {
            "learning_curves": plot_name(ds, "learning_curves"),
            "f1_vs_al_flops": plot_name(ds, "f1_vs_al_flops"),
            "final_f1_vs_al_flops": plot_name(ds, "final_f1_vs_al_flops"),
            "switch_rounds": plot_name(ds, "switch_rounds"),
        }
        plots.learning_curves(ds, s, cv, out / paths["learning_curves"])
        plots.f1_vs_flops(ds, s, cv, out / paths["f1_vs_al_flops"])
        plots.final_scatter(ds, s, s["pareto"], out / paths["final_f1_vs_al_flops"])
        if plots.switch_rounds(ds, s, used, out / paths["switch_rounds"]) is None:
            del paths["switch_rounds"]
        made[str(ds)] = paths
    if a.paired is not None and len(a.paired) and plots.savings_plane(a.paired, a.headline, out / SAVINGS_PLOT):
        made[""] = {"savings_vs_retrain": SAVINGS_PLOT}
    return made


def build_report(experiments: Union[str, Sequence[str]], out_dir: str, tolerance_points: float = 0.5,
                 notes: Optional[str] = None) -> Analysis:
    """Analyse `experiments` and write every output to `out_dir`; return the analysis.

    `notes`: Markdown shown as the report's "Scope, limits and notes" section (e.g. a study's
    limits); by default the ``notes.md`` of a single input folder, where it has one.
    """
    notes = notes if notes is not None else _default_notes(experiments)
    a = analyse(experiments, tolerance_points)
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
    blocks = report_blocks(a, made, files, notes)
    write_text(out / "report.md", to_markdown(blocks))
    write_text(out / "report.html", to_html(blocks, f"hybridal sweep report: {a.root}", out))
    return a


def _default_notes(experiments: Union[str, Sequence[str]]) -> Optional[str]:
    folders = [experiments] if isinstance(experiments, str) else list(experiments)
    path = Path(folders[0]) / NOTES_FILE if len(folders) == 1 and "://" not in folders[0] else None
    return path.read_text(encoding="utf-8") if path is not None and path.is_file() else None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis.report",
        description="Cost-vs-accuracy frontiers, seed-aggregated tables, plots and a report from a hybridal sweep.",
    )
    p.add_argument("experiment_dir", nargs="+",
                   help="Ray Tune experiment folder or folder of `hybridal run` outputs (local path or URL such as "
                   "s3://bucket/path, gs://bucket/path); several are analysed as one; a folder this command wrote is "
                   "read back from its runs.csv and rounds.parquet")
    p.add_argument("--out", default=None, help="output folder (default: reports/<experiment name>; required with "
                   "several folders)")
    p.add_argument("--notes", default=None, metavar="FILE.md",
                   help=f"Markdown for the report's 'Scope, limits and notes' section (default: {NOTES_FILE} in the "
                   "experiment folder, if there is one)")
    p.add_argument("--tolerance", type=float, default=0.5,
                   help="matched accuracy: validation macro-F1 points below retrain still counted as matched (default 0.5)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; return the exit code (0 done, 2 nothing usable or bad input)."""
    args = _parser().parse_args(argv)
    folders = args.experiment_dir
    if len(folders) > 1 and not args.out:
        print(f"error: --out is required with {len(folders)} experiment folders; allowed: --out DIR.", file=sys.stderr)
        return 2
    notes = None
    if args.notes is not None:
        try:
            notes = Path(args.notes).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"error: --notes file {args.notes!r} cannot be read ({exc.strerror or exc}); allowed: a Markdown file.",
                  file=sys.stderr)
            return 2
    out = args.out or os.path.join("reports", os.path.basename(folders[0].rstrip("/")) or "experiment")
    try:
        a = build_report(folders, out, args.tolerance, notes)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(cli_summary(a, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
