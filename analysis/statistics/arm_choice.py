"""Which configuration of a retrain group is best, and which is cheapest within tolerance: every arm, paired by seed.

A group is one retrain configuration (a dataset, model, sampler and settings; see
`frontier.savings`) and every configuration compared with it: finetune, new_only and every
HybridAL one. All of them are candidates, so a plain arm that passes the test (finetune, say)
is chosen over HybridAL when it is cheaper. Each candidate is measured on the seeds it shares
with retrain, as paired means: a seed fixes the splits, the initial pool and the sampler, so a
mean over another set of seeds would compare different draws. A candidate missing any of
retrain's seeds cannot be measured on retrain's draws: it is listed with the missing seeds and
not ranked, never ranked on a mean over the seeds it happens to have.

- best: the highest mean validation F1 over retrain's seeds (ties: lower AL cost);
- cheapest within tolerance: the largest paired AL-cost saving against retrain among those whose
  paired validation-F1 gap is at least −tolerance points (ties: the higher validation F1).
  Retrain itself always passes, so every group has an answer.
Test F1 is never used to choose (docs/design.md §9).
"""

from __future__ import annotations

import math
from typing import Optional

import pandas as pd

from analysis.statistics.seed_pairing import paired, per_seed

ARM_COLUMNS = [
    "index",
    "config",
    "strategy",
    "n_paired",
    "missing_seeds",
    "ranked",
    "val_f1_mean",
    "val_gap_points",
    "al_flops_mean",
    "al_saved_pct",
]


def arm_table(group: pd.DataFrame, used: pd.DataFrame, retrain: pd.Series) -> pd.DataFrame:
    """Every configuration of `group` (summary rows, retrain's included) measured on retrain's seeds."""
    ds, rid = retrain["dataset"], retrain["config_id"]
    base_seeds = per_seed(used, ds, rid, "final_val_f1").index
    rows = []
    for i, r in group.iterrows():
        seeds = per_seed(used, ds, r["config_id"], "final_val_f1").index
        missing = sorted(set(base_seeds) - set(seeds))
        shared = base_seeds.intersection(seeds)
        val = per_seed(used, ds, r["config_id"], "final_val_f1")[shared]
        cost = per_seed(used, ds, r["config_id"], "total_flops")[shared]
        gap, _, n = paired(used, ds, r["config_id"], rid, "final_val_f1", "points")
        saved, _, _ = paired(used, ds, r["config_id"], rid, "total_flops", "saved_pct")
        if r["config_id"] == rid:
            gap, saved, n = 0.0, 0.0, len(base_seeds)
        rows.append(
            {
                "index": i,
                "config": r["config"],
                "strategy": r["strategy"],
                "n_paired": n,
                "missing_seeds": " ".join(str(s) for s in missing),
                "ranked": not missing and len(shared) > 0,
                "val_f1_mean": float(val.mean()) if len(val) else math.nan,
                "val_gap_points": gap,
                "al_flops_mean": float(cost.mean()) if len(cost) else math.nan,
                "al_saved_pct": saved,
            }
        )
    return pd.DataFrame(rows, columns=ARM_COLUMNS)


def choose(
    arms: pd.DataFrame, tolerance_points: float, strategy: Optional[str] = None
) -> tuple[Optional[int], Optional[int]]:
    """(best, cheapest within tolerance): summary indices chosen among ranked arms (of `strategy` only, if given)."""
    ok = arms[arms["ranked"].astype(bool) & arms["val_f1_mean"].notna()]
    if strategy is not None:
        ok = ok[ok["strategy"] == strategy]
    if not len(ok):
        return None, None
    best = ok.sort_values(["val_f1_mean", "al_flops_mean"], ascending=[False, True], kind="stable").iloc[0]
    within = ok[ok["val_gap_points"] >= -tolerance_points - 1e-9]
    cheapest = (
        within.sort_values(["al_saved_pct", "val_gap_points"], ascending=[False, False], kind="stable").iloc[0]
        if len(within)
        else None
    )
    return int(best["index"]), None if cheapest is None else int(cheapest["index"])
