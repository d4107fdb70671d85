"""Analysis of hybridal sweeps: cost-vs-accuracy frontiers, seed-aggregated tables, plots, reports.

Entry points: ``python -m analysis.report EXPERIMENT_DIR --out OUT_DIR`` (report.py; ``python -m
analysis`` is the same) and ``python -m analysis.presentation.readme_findings RESULTS_DIR``.
Three layers, each importing only the ones below it (presentation -> statistics -> reading);
no module imports another's private (underscore) names.

``reading``: run folders, Ray folders and a report's own tables into trials and tidy tables
(hybridal.records only; no torch):

- ``problems``       : the error types and the "data problems" log;
- ``filesystem``     : local folders and URLs (pyarrow.fs, fsspec), and the Reader of their files;
- ``trial_folders``  : which folders of an experiment are trials;
- ``trial_as_read``  : one trial as read (Trial), and the readers its sources share;
- ``schema_versions``: the record fields kept, and schema-2 cost and label fields derived from schema-1 records;
- ``round_records``  : rounds.jsonl as clean rows of the record schema;
- ``configuration``  : what a configuration is (canonical columns but the seed, plus engine settings);
- ``run_folder``     : one run folder (summary.json, rounds.jsonl; config.yaml for older runs);
- ``ray_files``      : Ray's files, only for trials that stopped before writing summary.json;
- ``report_folder``  : a folder the report wrote (runs.csv, rounds.parquet) read back as trials;
- ``experiment``     : every trial of one or several experiment folders (Experiment), read concurrently;
- ``protocol``       : a study's pre-registered comparisons (protocol.json), checked;
- ``tidy_tables``    : the trials table and the tidy trial x round table.

``statistics``: numbers from those tables (pure pandas; no files written):

- ``config_labels``   : short unique configuration names;
- ``trial_metrics``   : per-trial metrics (AULC, AL cost, labels used, degenerate), the trials used;
- ``seed_aggregation``: t-intervals, seed aggregation per configuration, mean curves;
- ``frontier``        : Pareto sets, hypervolume, savings at matched accuracy on the AL cost;
- ``seed_pairing``    : per-seed values and paired differences of two configurations;
- ``arm_choice``      : best and cheapest within tolerance among every arm, on paired means over retrain's seeds;
- ``headline``        : the paired headline, unranked configurations, paired, switch and sampler tables;
- ``validation_noise``: the validation F1's per-seed standard error beside the tolerance;
- ``preregistered``   : a protocol's named arms against its reference, paired, with verdicts; targets reached;
- ``preregistered_stopping``: each stopping criterion's net saving and validation F1 given up, per arm;
- ``preregistered_findings``: the protocol's findings table (Preregistered: every table of it);
- ``pipeline``        : from experiment folders to every table (Analysis).

``presentation``: what the report shows and the files it writes:

- ``formatting``        : how numbers are written (F1, intervals, percentages, points, FLOPs, seconds);
- ``render``            : report blocks to Markdown and self-contained HTML; notes.md as blocks;
- ``dataset_tables``    : the per-dataset tables (configurations, Pareto set, savings, hypervolume);
- ``study_tables``      : the headline, noise, switch, sampler and compute tables;
- ``findings_sentences``: the findings, as sentences;
- ``report_content``    : the report's blocks in order, the method notes, the terminal summary;
- ``plot_style``        : the figures' look: Agg backend, colour, marker and line per strategy, axes, PNG saving;
- ``frontier_plots``    : validation F1 vs AL cost per dataset, per round (Pareto front) and final (Pareto set);
- ``round_plots``       : learning curves (test F1 vs labels) and HybridAL switch rounds per dataset;
- ``savings_plot``      : AL cost saved vs test-F1 difference against retrain, paired by seed (the headline's);
- ``atomic_files``      : atomic file writes;
- ``report_files``      : every output file of a report (tables, figures, report.md, report.html);
- ``preregistered_tables``: the report's "Pre-registered comparisons" section and its findings sentences;
- ``readme_findings``   : the README's findings table from a report's headline.csv (a protocol's findings.csv).

``report``: the command line (parsing, exit codes).
"""

from analysis.reading.problems import AnalysisError, NoUsableDataError

__all__ = ["AnalysisError", "NoUsableDataError"]
