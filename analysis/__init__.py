"""Analysis of hybridal sweeps: cost-vs-accuracy frontiers, seed-aggregated tables, plots, reports.

Entry point: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR`` (see analysis/report.py).
Modules, one job each:

- ``problems``  : the error types and the "data problems" log;
- ``schema``    : the round-record fields (hybridal.records, which imports no torch);
- ``storage``   : local folders and URLs (pyarrow.fs, fsspec);
- ``load``      : find the runs of an experiment and read both layouts into tables;
- ``aggregate`` : per-trial metrics (AULC, totals), seed aggregation with t-intervals, mean curves;
- ``frontier``  : Pareto sets, hypervolume, savings at matched accuracy (pure functions);
- ``pipeline``  : from a folder to every table (no files written);
- ``plots``     : the PNG figures;
- ``content``   : what the report says (findings, formatted tables, method notes, CLI summary);
- ``render``    : report.md and a self-contained report.html;
- ``outputs``   : atomic file writes;
- ``report``    : the command line.
"""
from analysis.problems import AnalysisError, NoUsableDataError

__all__ = ["AnalysisError", "NoUsableDataError"]
