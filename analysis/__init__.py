"""Analysis of hybridal sweeps: cost-vs-accuracy frontiers, seed-aggregated tables, plots, reports.

Entry point: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR`` (see analysis/report.py).
Modules, one job each:

- ``problems``  : the error types and the "data problems" log;
- ``load``      : find runs under a local/remote folder and read both layouts into tables;
- ``aggregate`` : per-trial metrics (AULC, totals), seed aggregation with t-intervals, mean curves;
- ``frontier``  : Pareto sets, hypervolume, savings at matched accuracy (pure functions);
- ``plots``     : the PNG figures;
- ``render``    : report.md and a self-contained report.html;
- ``outputs``   : atomic file writes;
- ``report``    : the command line.
"""
from analysis.problems import AnalysisError, NoUsableDataError

__all__ = ["AnalysisError", "NoUsableDataError"]
