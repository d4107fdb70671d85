"""From an experiment folder to every table the report needs (no files written here)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pandas as pd

from analysis import aggregate, frontier
from analysis.load import load_experiment, rounds_table, trials_table
from analysis.problems import NoUsableDataError, ProblemLog

# Per-trial parameters that differ between seeds of one configuration by design.
_NOISY_PARAM_HINTS = ("dir", "path", "name", "id", "seed", "time", "date", "host", "node", "pid", "uri", "url")


@dataclass
class Analysis:
    """All tables of one experiment."""

    root: str
    trials: pd.DataFrame         # one row per trial as read (status, config, summary fields)
    rounds: pd.DataFrame         # tidy: trial x round
    metrics: pd.DataFrame        # one row per trial: final/total metrics
    used: pd.DataFrame           # the finished trials that enter the aggregates
    summary: pd.DataFrame        # dataset x configuration, seed aggregates + pareto + savings
    curves: pd.DataFrame         # dataset x configuration x round, seed means (+ on_front)
    hypervolume: pd.DataFrame    # dataset x strategy family
    best: pd.DataFrame           # per dataset: best configuration by validation F1
    cheapest: pd.DataFrame       # per dataset x baseline: cheapest within tolerance
    problems: ProblemLog
    tolerance_points: float


def analyse(uri: str, tolerance_points: float = 0.5) -> Analysis:
    """Read `uri` and compute every table; raise NoUsableDataError when nothing is usable."""
    exp = load_experiment(uri)
    problems = exp.problems
    if not exp.trials:
        raise NoUsableDataError(
            f"No runs found under {uri}: no folder holds rounds.jsonl, summary.json, params.json or result.json."
        )
    trials = trials_table(exp)
    rounds = rounds_table(exp, trials)
    metrics = aggregate.trial_metrics(rounds, trials, problems)
    used = aggregate.finished_unique(metrics, problems)
    if not len(used):
        counts = trials["status"].value_counts()
        raise NoUsableDataError(
            f"Nothing to analyse under {uri}: {len(trials)} run(s) found but none finished with round records "
            f"({counts.get('incomplete', 0)} incomplete, {counts.get('errored', 0)} errored, "
            f"{int(((trials['status'] == 'finished') & (trials['n_rounds'] == 0)).sum())} finished without records)."
        )
    summary = aggregate.seed_summary(metrics)  # duplicates already noted by finished_unique
    _note_pooled_params(trials, used, summary, problems)
    curves = aggregate.mean_curves(rounds, used)
    curves["on_front"] = frontier.round_front(curves).to_numpy() if len(curves) else pd.Series(dtype=bool)
    summary["pareto"] = frontier.final_front(summary).to_numpy()
    sav = frontier.savings(summary, tolerance_points)
    summary = summary.join(sav)
    for ds in sorted(summary.loc[summary["baseline"].isna(), "dataset"].dropna().unique()):
        problems.add(f"dataset {ds}: some configurations have no retrain run with the same model, sampler, epochs "
                     "and settings, so their savings are not computed")
    hv = frontier.family_hypervolumes(summary, curves)
    best = frontier.best_by_validation(summary)
    cheapest = frontier.cheapest_matched(summary.drop(columns=list(sav.columns)), sav)
    return Analysis(uri, trials, rounds, metrics, used, summary, curves, hv, best, cheapest, problems, tolerance_points)


def _note_pooled_params(trials: pd.DataFrame, used: pd.DataFrame, summary: pd.DataFrame, problems: ProblemLog) -> None:
    """Note non-canonical parameters that differ between the seeds pooled into one configuration."""
    t = trials[trials["trial"].isin(set(used["trial"]))]
    label = dict(zip(zip(summary["dataset"], summary["config_id"]), summary["config"]))
    for (ds, cid), g in t.groupby(["dataset", "config_id"], dropna=False):
        params = [json.loads(p) for p in g["extra_params"]]
        keys = set().union(*params) if params else set()
        differing = []
        for key in sorted(keys):
            if any(h in key.lower() for h in _NOISY_PARAM_HINTS):
                continue
            # a parameter one source records and another does not is not a difference
            values = {json.dumps(p[key], sort_keys=True) for p in params if p.get(key) is not None}
            if len(values) > 1:
                differing.append(f"'{key}' ({', '.join(sorted(values)[:4])})")
        if differing:
            problems.add(f"{ds} / {label.get((ds, cid), cid)}: the pooled trials differ in {', '.join(differing)}; "
                         "they are aggregated as one configuration")


def status_counts(trials: pd.DataFrame, dataset: Optional[str] = None) -> dict[str, int]:
    """finished / incomplete / errored counts, for one dataset or all."""
    t = trials if dataset is None else trials[trials["dataset"] == dataset]
    vc = t["status"].value_counts()
    return {s: int(vc.get(s, 0)) for s in ("finished", "incomplete", "errored")}
