"""A stopping criterion in a pre-registered study: had each run stopped where the criterion said, what
it would have saved and given up against the same run's end (analysis/statistics/preregistered.py
has the rest of the comparisons; docs/analysis.md the definitions)."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pandas as pd

from analysis.reading.protocol import Protocol
from analysis.statistics.preregistered import Interval, given_up


def _criterion_cost(run: pd.DataFrame, reads: str, trigger_reads_stop_set: bool) -> pd.Series:
    """Per round, the AL FLOPs a run would add by using a criterion: the pass it reads where the run's own
    policy does not already pay for it (a label-free trigger pays the stop set before its switch; the
    validation-monitor rule pays validation, which its records then leave out of flops_validation)."""
    if reads == "stop_set":
        cost = run["flops_stop_set"].astype(float).fillna(0.0)
        return cost.where(run["flops_policy"].astype(float) <= 0, 0.0) if trigger_reads_stop_set else cost
    if reads == "labels":
        return run["flops_validation"].astype(float).fillna(0.0)
    return pd.Series(0.0, index=run.index)


def stopping_table(
    runs: pd.DataFrame, rounds: pd.DataFrame, stopping_seeds: Optional[pd.DataFrame], p: Protocol
) -> pd.DataFrame:
    """Per dataset x arm x criterion, paired with the same run's end: labels and AL FLOPs saved net of what
    the criterion itself reads, and validation F1 given up (see the module docstring)."""
    if stopping_seeds is None or not len(stopping_seeds):
        return pd.DataFrame()
    keep = ["trial", "arm", "total_flops", "labels_used", "validation_rows", "strategy_kwargs.trigger"]
    seeds = stopping_seeds.merge(runs[[c for c in keep if c in runs.columns]], on="trial")
    by_trial = {t: g.sort_values("round").set_index("round") for t, g in rounds.groupby("trial", sort=False)}
    rows = []
    for (ds, arm, label), g in seeds.groupby(["dataset", "arm", "label"], sort=True):
        saved_pct, labels_saved, up = [], [], []
        reads = str(g["reads"].iloc[0])
        for _, s in g.iterrows():
            run = by_trial[s["trial"]]
            last = int(run.index.max())
            stop = last if pd.isna(s["stop_round"]) else int(s["stop_round"])
            trigger = s.get("strategy_kwargs.trigger")
            cost = _criterion_cost(run, reads, isinstance(trigger, str) and bool(trigger))
            spent = float(run.loc[stop, "cum_total_flops"]) + float(cost.loc[:stop].sum())
            saved_pct.append(100.0 * (1.0 - spent / float(s["total_flops"])))
            paid_labels = reads == "labels" and not float(run.loc[last, "labels_read_by_policy"] or 0)
            extra = float(s.get("validation_rows") or 0) if paid_labels else 0.0
            labels_saved.append(float(s["labels_used"]) - float(run.loc[stop, "labels_used"]) - extra)
            up.append(100.0 * (float(run.loc[last, "val_f1"]) - float(run.loc[stop, "val_f1"])))
        stopped = int(g["stop_round"].notna().sum())
        given = Interval.of(pd.Series(up, dtype=float))
        saved = Interval.of(pd.Series(saved_pct, dtype=float))
        rows.append(
            {
                "dataset": ds,
                "arm": arm,
                "label": label,
                "criterion": g["criterion"].iloc[0],
                "reads": reads,
                "seeds": len(g),
                "seeds_stopped": stopped,
                "stop_round_median": float(g["stop_round"].median()) if stopped else math.nan,
                "labels_saved_mean": float(np.mean(labels_saved)),
                "al_flops_saved_pct_mean": saved.mean,
                "al_flops_saved_pct_ci95": saved.half,
                "f1_given_up_points_mean": given.mean,
                "f1_given_up_points_lo": given.lo,
                "f1_given_up_points_hi": given.hi,
                "verdict": given_up(given, p.margin_points) if stopped else f"never stopped (0/{len(g)} seeds)",
            }
        )
    return pd.DataFrame(rows)
