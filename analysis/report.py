"""Command line: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR``.

Reads a Ray Tune experiment folder, a folder of ``hybridal run`` outputs (local, or a URL
such as ``s3://bucket/exp``), several of them analysed as one (a study run as one sweep per
dataset), or a folder this command wrote (its ``runs.csv`` and ``rounds.parquet``), and writes to OUT_DIR (every
file atomically; analysis/presentation/report_files.py):

- ``rounds.parquet`` / ``rounds.csv``: one row per trial x round (config, status, record fields);
- ``runs.csv``: one row per trial as read (status, config, settings, summary.json's final
  metrics): with ``rounds.parquet`` the whole input, so OUT_DIR can be analysed again alone;
- ``trials.csv``: one row per trial with its final metrics and status;
- ``headline.csv``, ``paired.csv``, ``switches.csv``, ``samplers.csv``: every arm's choices
  against retrain and finetune paired by seed, every configuration against retrain paired by
  seed, each seed's switch round, samplers compared (analysis/statistics/headline.py);
- ``noise.csv``: per retrain group, the validation F1's per-seed standard error beside the
  tolerance (analysis/statistics/validation_noise.py);
- ``sweep_summary.json``: the sweeps' spent vs attributed FLOPs and environment, combined;
- ``summary.csv``: dataset x configuration, seed mean/std/ci95/n, Pareto flag, savings vs retrain
  (cost: the AL cost, training + scoring + policy FLOPs; training FLOPs and labels used beside it);
- ``frontier_rounds.csv``: per-round seed-mean points with their Pareto flag;
- ``hypervolume.csv``: per dataset x strategy family;
- ``findings.csv``, ``arms.csv``, ``targets.csv``, ``stopping_paired.csv``: with a study's
  ``protocol.json``, its pre-registered comparisons (analysis/statistics/preregistered.py);
- ``plots/*.png``, ``report.md`` and a self-contained ``report.html``.

Exit codes: 0 done (data problems are reported, not fatal), 2 nothing usable or bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

if __package__ in (None, ""):  # run as `python analysis/report.py`: import from the repo root, not from
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # analysis/ (its `statistics` would hide the stdlib's)

from analysis.presentation.report_content import cli_summary  # noqa: E402
from analysis.presentation.report_files import NOTES_FILE, build_report  # noqa: E402
from analysis.reading.problems import AnalysisError  # noqa: E402
from analysis.reading.protocol import PROTOCOL_FILE, read_protocol  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis.report",
        description="Cost-vs-accuracy frontiers, seed-aggregated tables, plots and a report from a hybridal sweep.",
    )
    p.add_argument(
        "experiment_dir",
        nargs="+",
        help="Ray Tune experiment folder or folder of `hybridal run` outputs (local path or URL such as "
        "s3://bucket/path, gs://bucket/path); several are analysed as one; a folder this command wrote is "
        "read back from its runs.csv and rounds.parquet",
    )
    p.add_argument(
        "--out", default=None, help="output folder (default: reports/<experiment name>; required with several folders)"
    )
    p.add_argument(
        "--notes",
        default=None,
        metavar="FILE.md",
        help=f"Markdown for the report's 'Scope, limits and notes' section (default: {NOTES_FILE} in the "
        "experiment folder, if there is one)",
    )
    p.add_argument(
        "--protocol",
        default=None,
        metavar="FILE.json",
        help=f"a study's pre-registered comparisons (analysis/reading/protocol.py; default: {PROTOCOL_FILE} in the "
        "experiment folder, if there is one): adds their section and findings.csv, arms.csv, targets.csv, "
        "stopping_paired.csv",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="matched accuracy: validation macro-F1 points below retrain still counted as matched (default: the "
        "protocol's margin_points, else 0.5)",
    )
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
            print(
                f"error: --notes file {args.notes!r} cannot be read ({exc.strerror or exc}); allowed: a Markdown file.",
                file=sys.stderr,
            )
            return 2
    out = args.out or os.path.join("reports", os.path.basename(folders[0].rstrip("/")) or "experiment")
    try:
        protocol = read_protocol(args.protocol) if args.protocol is not None else None
        a = build_report(folders, out, args.tolerance, notes, protocol)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(cli_summary(a, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
