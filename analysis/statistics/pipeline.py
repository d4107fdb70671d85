"""From an experiment folder to every table the report needs (no files written here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Union

import pandas as pd

from analysis.reading.experiment import load_experiments
from analysis.reading.problems import NoUsableDataError, ProblemLog
from analysis.reading.protocol import Protocol
from analysis.reading.tidy_tables import rounds_table, trials_table
from analysis.statistics import frontier, headline
from analysis.statistics.multilabel import multilabel_rounds
from analysis.statistics.preregistered_findings import Preregistered, preregistered
from analysis.statistics.seed_aggregation import mean_curves, seed_summary
from analysis.statistics.stopping import stopping_tables
from analysis.statistics.trial_metrics import finished_unique, trial_metrics
from analysis.statistics.validation_noise import noise_table


@dataclass
class Analysis:
    """All tables of one experiment."""

    root: str
    trials: pd.DataFrame  # one row per trial as read (status, config, summary fields)
    rounds: pd.DataFrame  # tidy: trial x round
    metrics: pd.DataFrame  # one row per trial: final/total metrics
    used: pd.DataFrame  # the finished trials that enter the aggregates
    summary: pd.DataFrame  # dataset x configuration, seed aggregates + pareto + savings
    curves: pd.DataFrame  # dataset x configuration x round, seed means (+ on_front)
    hypervolume: pd.DataFrame  # dataset x strategy family
    problems: ProblemLog
    tolerance_points: float
    sweep: Optional[dict] = None  # spent vs attributed training FLOPs of a shared-prefix sweep
    headline: Optional[pd.DataFrame] = None  # every arm's choices vs retrain and finetune, paired by seed
    unranked: Optional[pd.DataFrame] = None  # configurations missing some of their retrain's seeds: not ranked
    noise: Optional[pd.DataFrame] = None  # per retrain group: the validation F1's per-seed SE vs the tolerance
    switches: Optional[pd.DataFrame] = None  # per HybridAL configuration: each seed's switch round
    samplers: Optional[pd.DataFrame] = None  # per strategy: samplers compared, paired by seed
    paired: Optional[pd.DataFrame] = None  # every configuration vs its retrain, paired by seed
    # stopping criteria (analysis/statistics/stopping.py), empty where no run has any: per dataset x
    # configuration x criterion, per seed, and the runs that halted on one
    stopping: Optional[pd.DataFrame] = None
    stopping_seeds: Optional[pd.DataFrame] = None
    stopping_halted: Optional[pd.DataFrame] = None
    # multi-label runs' micro/macro F1 and ROC AUC per round (analysis/statistics/multilabel.py), empty if none
    multilabel: Optional[pd.DataFrame] = None
    # a study's pre-registered comparisons (protocol.json; analysis/statistics/preregistered.py), None without one
    prereg: Optional[Preregistered] = None


def analyse(
    uris: Union[str, Sequence[str]], tolerance_points: float = 0.5, protocol: Optional[Protocol] = None
) -> Analysis:
    """Read `uris` (one experiment folder, several analysed as one, or a report's own tables)
    and compute every table (and `protocol`'s comparisons, if given); raise NoUsableDataError when
    nothing is usable."""
    exp = load_experiments([uris] if isinstance(uris, str) else list(uris))
    uri = exp.root
    problems = exp.problems
    if not exp.trials:
        raise NoUsableDataError(
            f"No runs found under {uri}: no folder holds summary.json, rounds.jsonl or Ray's trial files."
        )
    trials = trials_table(exp)
    rounds = rounds_table(exp, trials)
    metrics = trial_metrics(rounds, trials, problems)
    used = finished_unique(metrics, problems)
    if not len(used):
        counts = trials["status"].value_counts()
        raise NoUsableDataError(
            f"Nothing to analyse under {uri}: {len(trials)} run(s) found but none finished with round records "
            f"({counts.get('incomplete', 0)} incomplete, {counts.get('errored', 0)} errored, "
            f"{int(((trials['status'] == 'finished') & (trials['n_rounds'] == 0)).sum())} finished without records)."
        )
    summary = seed_summary(metrics)  # duplicates already noted by finished_unique
    curves = mean_curves(rounds, used)
    curves["on_front"] = frontier.round_front(curves).to_numpy() if len(curves) else pd.Series(dtype=bool)
    summary["pareto"] = frontier.final_front(summary).to_numpy()
    sav = frontier.savings(summary, tolerance_points)
    summary = summary.join(sav)
    for ds in sorted(summary.loc[summary["baseline"].isna(), "dataset"].dropna().unique()):
        problems.add(
            f"dataset {ds}: some configurations have no retrain run with the same model, sampler, epochs "
            "and settings, so their savings are not computed"
        )
    hv = frontier.family_hypervolumes(summary, curves)
    unranked = headline.unranked_table(summary, used)
    for _, u in unranked.iterrows():
        problems.add(
            f"dataset {u['dataset']}: `{u['config']}` lacks seed(s) {u['missing_seeds']} of `{u['baseline']}`, "
            "so it is not ranked (best and cheapest compare configurations on their retrain's seeds)"
        )
    stopping_seeds, stopping, stopping_halted = stopping_tables(trials, used, rounds, summary)
    return Analysis(
        exp.root,
        trials,
        rounds,
        metrics,
        used,
        summary,
        curves,
        hv,
        problems,
        tolerance_points,
        exp.sweep,
        headline.headline_table(summary, used, tolerance_points),
        unranked,
        noise_table(summary, used, tolerance_points),
        headline.switch_table(summary, used),
        headline.sampler_table(summary, used),
        headline.paired_table(summary, used),
        stopping,
        stopping_seeds,
        stopping_halted,
        multilabel_rounds(rounds, used, summary),
        None if protocol is None else preregistered(used, summary, rounds, stopping_seeds, protocol, problems),
    )


def status_counts(trials: pd.DataFrame, dataset: Optional[str] = None) -> dict[str, int]:
    """finished / incomplete / errored counts, for one dataset or all."""
    t = trials if dataset is None else trials[trials["dataset"] == dataset]
    vc = t["status"].value_counts()
    return {s: int(vc.get(s, 0)) for s in ("finished", "incomplete", "errored")}
