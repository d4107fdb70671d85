"""Analysis of hybridal sweeps: cost-vs-accuracy frontiers, seed-aggregated tables, plots, reports.

Entry point: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR`` (see analysis/report.py).
Modules, one job each:

- ``problems``  : the error types and the "data problems" log;
- ``storage``   : local folders and URLs (pyarrow.fs, fsspec);
- ``discover``  : which folders of an experiment are trials;
- ``trial``     : one trial as read, and the readers its sources share;
- ``schema``    : the record fields kept, and schema-2 cost and label fields derived from schema-1 records;
- ``rounds``    : rounds.jsonl as clean rows of the record schema (hybridal.records, no torch);
- ``run``       : one run folder (summary.json, rounds.jsonl; config.yaml for older runs);
- ``ray_errors``: Ray's files, only for trials that stopped before writing summary.json;
- ``load``      : every trial of an experiment folder, read concurrently from object stores;
- ``configuration``: what a configuration is (canonical columns but the seed, plus engine settings);
- ``tables``    : the trials table and the tidy trial x round table;
- ``config_names``: short unique configuration names;
- ``aggregate`` : per-trial metrics (AULC, AL cost, labels used, degenerate), seed aggregation, mean curves;
- ``frontier``  : Pareto sets, hypervolume, savings at matched accuracy on the AL cost (pure functions);
- ``choice``    : best and cheapest within tolerance among every arm, on paired means over retrain's seeds;
- ``headline``  : the paired headline, unranked configurations, switches, samplers;
- ``noise``     : the validation F1's per-seed standard error beside the tolerance;
- ``pipeline``  : from a folder to every table (no files written);
- ``plots``     : the PNG figures;
- ``content``   : what the report says (findings, method notes, CLI summary); ``dataset_tables`` and
  ``headline_content`` its tables;
- ``render``    : report.md and a self-contained report.html;
- ``outputs``   : atomic file writes;
- ``report``    : the command line.
"""
from analysis.problems import AnalysisError, NoUsableDataError

__all__ = ["AnalysisError", "NoUsableDataError"]
