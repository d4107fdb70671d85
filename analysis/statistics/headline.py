"""The headline comparison: every arm of a retrain group against retrain and finetune, paired by seed.

For each retrain configuration (a dataset, model, sampler and settings; see `frontier.savings`)
the rows are retrain, finetune, the best HybridAL (deltaf1) configuration, and the best and the
cheapest-within-tolerance configuration among every arm of the group (analysis/statistics/arm_choice.py: chosen
on validation F1 and AL cost, paired means over retrain's seeds; configurations missing one of
retrain's seeds are listed in `unranked_table`, not ranked).

Each row is compared seed by seed with retrain (and, if neither retrain nor finetune, with
finetune): a seed fixes the splits, the initial pool and the sampler's randomness, so the
per-seed differences remove the variation the seeds share. Differences are reported as mean ±
95% t-interval half-width over the seeds both configurations finished (`seed_aggregation.mean_std_ci`).
Cost is the AL cost (``total_flops``: training + scoring + policy); training FLOPs and labels
used are columns beside it.
"""

from __future__ import annotations

import math
from typing import Optional

import pandas as pd

from analysis.statistics.arm_choice import arm_table, choose
from analysis.statistics.seed_pairing import paired, per_seed

ROLES = ("retrain", "finetune", "HybridAL best (val)", "best (val)", "cheapest within tolerance (val)")
COLUMNS = [
    "dataset",
    "sampler",
    "baseline",
    "role",
    "config",
    "strategy",
    "n_seeds",
    "val_f1_mean",
    "test_f1_mean",
    "test_f1_ci95",
    "test_accuracy_mean",
    "test_accuracy_ci95",
    "labels_used_mean",
    "al_flops_mean",
    "train_flops_mean",
    "n_paired",
    "flops_saved_pct_mean",
    "flops_saved_pct_ci95",
    "train_flops_saved_pct_mean",
    "test_gap_points_mean",
    "test_gap_points_ci95",
    "val_gap_points_mean",
    "vs_finetune_test_gap_points_mean",
    "vs_finetune_test_gap_points_ci95",
    "vs_finetune_flops_ratio_mean",
    "degenerate_seeds",
    "switched",
    "switch_round_median",
]
UNRANKED_COLUMNS = ["dataset", "sampler", "baseline", "config", "seeds", "missing_seeds"]


def groups(summary: pd.DataFrame):
    """(retrain row, its group's summary rows) per retrain configuration, in dataset and name order."""
    for _, retrain in summary[summary["strategy"] == "retrain"].sort_values(["dataset", "config"]).iterrows():
        ds = retrain["dataset"]
        yield retrain, summary[(summary["dataset"] == ds) & (summary["baseline"] == retrain["config"])]


def headline_table(summary: pd.DataFrame, used: pd.DataFrame, tolerance_points: float = 0.5) -> pd.DataFrame:
    """One row per (retrain group, role): see the module docstring. Empty without retrain runs."""
    rows = []
    for retrain, group in groups(summary):
        arms = arm_table(group, used, retrain)
        finetunes = group[group["strategy"] == "finetune"].sort_values("final_val_f1_mean", ascending=False)
        finetune = finetunes.iloc[0] if len(finetunes) else None
        hybrid_best, _ = choose(arms, tolerance_points, "deltaf1")
        best, cheapest = choose(arms, tolerance_points)
        pick = lambda i: None if i is None else group.loc[i]  # noqa: E731
        chosen = dict(zip(ROLES, (retrain, finetune, pick(hybrid_best), pick(best), pick(cheapest))))
        for role, r in chosen.items():
            rows.append(_row(used, retrain, finetune, role, r))
    return pd.DataFrame(rows, columns=COLUMNS)


def unranked_table(summary: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """The configurations not ranked because they miss some of their retrain's seeds."""
    rows = []
    for retrain, group in groups(summary):
        arms = arm_table(group, used, retrain)
        for _, a in arms[~arms["ranked"].astype(bool)].iterrows():
            rows.append(
                {
                    "dataset": retrain["dataset"],
                    "sampler": retrain["sampler"],
                    "baseline": retrain["config"],
                    "config": a["config"],
                    "seeds": group.loc[a["index"], "seeds"],
                    "missing_seeds": a["missing_seeds"],
                }
            )
    return pd.DataFrame(rows, columns=UNRANKED_COLUMNS)


def _row(
    used: pd.DataFrame, retrain: pd.Series, finetune: Optional[pd.Series], role: str, r: Optional[pd.Series]
) -> dict:
    ds = retrain["dataset"]
    row = {c: math.nan for c in COLUMNS} | {
        "dataset": ds,
        "sampler": retrain["sampler"],
        "baseline": retrain["config"],
        "role": role,
        "config": None,
        "strategy": None,
        "n_seeds": 0,
        "n_paired": 0,
        "switched": math.nan,
    }
    if r is None:
        return row
    cid, rid = r["config_id"], retrain["config_id"]
    row |= {
        "config": r["config"],
        "strategy": r["strategy"],
        "n_seeds": int(r["n_seeds"]),
        "val_f1_mean": r["final_val_f1_mean"],
        "test_f1_mean": r["final_test_f1_mean"],
        "test_f1_ci95": r["final_test_f1_ci95"],
        "test_accuracy_mean": r["final_test_accuracy_mean"],
        "test_accuracy_ci95": r["final_test_accuracy_ci95"],
        "labels_used_mean": r["labels_used_mean"],
        "al_flops_mean": r["total_flops_mean"],
        "train_flops_mean": r["total_train_flops_mean"],
        "degenerate_seeds": r["degenerate_seeds"],
    }
    if cid != rid:
        saved, saved_ci, n = paired(used, ds, cid, rid, "total_flops", "saved_pct")
        train_saved, _, _ = paired(used, ds, cid, rid, "total_train_flops", "saved_pct")
        gap, gap_ci, _ = paired(used, ds, cid, rid, "final_test_f1", "points")
        vgap, _, _ = paired(used, ds, cid, rid, "final_val_f1", "points")
        row |= {
            "n_paired": n,
            "flops_saved_pct_mean": saved,
            "flops_saved_pct_ci95": saved_ci,
            "train_flops_saved_pct_mean": train_saved,
            "test_gap_points_mean": gap,
            "test_gap_points_ci95": gap_ci,
            "val_gap_points_mean": vgap,
        }
    if finetune is not None and r["strategy"] not in ("retrain", "finetune"):
        fgap, fgap_ci, _ = paired(used, ds, cid, finetune["config_id"], "final_test_f1", "points")
        row |= {
            "vs_finetune_test_gap_points_mean": fgap,
            "vs_finetune_test_gap_points_ci95": fgap_ci,
            "vs_finetune_flops_ratio_mean": r["total_flops_mean"] / finetune["total_flops_mean"],
        }
    if r["strategy"] == "deltaf1":
        sw = per_seed(used, ds, cid, "switch_round")
        row |= {
            "switched": int(sw.notna().sum()),
            "switch_round_median": float(sw.median()) if sw.notna().any() else math.nan,
        }
    return row


PAIRED_COLUMNS = [
    "dataset",
    "sampler",
    "baseline",
    "config",
    "strategy",
    "epsilon",
    "k",
    "n_paired",
    "flops_saved_pct_mean",
    "flops_saved_pct_ci95",
    "train_flops_saved_pct_mean",
    "test_gap_points_mean",
    "test_gap_points_ci95",
    "val_gap_points_mean",
]


def paired_table(summary: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """Every configuration against its retrain baseline, paired by seed: AL-cost and training FLOPs
    saved (%) and the test- and validation-F1 differences (points)."""
    rows = []
    retrains = {(r["dataset"], r["config"]): r for _, r in summary[summary["strategy"] == "retrain"].iterrows()}
    for _, r in summary.sort_values(["dataset", "sampler", "strategy", "epsilon", "k", "config"]).iterrows():
        base = retrains.get((r["dataset"], r.get("baseline")))
        if base is None or r["strategy"] == "retrain":
            continue
        ds, cid, rid = r["dataset"], r["config_id"], base["config_id"]
        saved, saved_ci, n = paired(used, ds, cid, rid, "total_flops", "saved_pct")
        train_saved, _, _ = paired(used, ds, cid, rid, "total_train_flops", "saved_pct")
        gap, gap_ci, _ = paired(used, ds, cid, rid, "final_test_f1", "points")
        vgap, _, _ = paired(used, ds, cid, rid, "final_val_f1", "points")
        rows.append(
            {
                "dataset": ds,
                "sampler": r["sampler"],
                "baseline": base["config"],
                "config": r["config"],
                "strategy": r["strategy"],
                "epsilon": r["epsilon"],
                "k": r["k"],
                "n_paired": n,
                "flops_saved_pct_mean": saved,
                "flops_saved_pct_ci95": saved_ci,
                "train_flops_saved_pct_mean": train_saved,
                "test_gap_points_mean": gap,
                "test_gap_points_ci95": gap_ci,
                "val_gap_points_mean": vgap,
            }
        )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def switch_table(summary: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """Per HybridAL configuration: where each seed switched (the first round trained with `after`)."""
    rows = []
    hyb = summary[summary["strategy"] == "deltaf1"].sort_values(["dataset", "sampler", "epsilon", "k", "config"])
    for _, r in hyb.iterrows():
        sw = per_seed(used, r["dataset"], r["config_id"], "switch_round").sort_index()
        rows.append(
            {
                "dataset": r["dataset"],
                "sampler": r["sampler"],
                "config": r["config"],
                "epsilon": r["epsilon"],
                "k": r["k"],
                "n_seeds": len(sw),
                "switched": int(sw.notna().sum()),
                "switch_rounds": " ".join("never" if pd.isna(v) else str(int(v)) for v in sw.to_numpy()),
                "seeds": " ".join(str(s) for s in sw.index),
                "median": float(sw.median()) if sw.notna().any() else math.nan,
                "flops_saved_pct": r.get("flops_saved_pct", math.nan),
            }
        )
    cols = [
        "dataset",
        "sampler",
        "config",
        "epsilon",
        "k",
        "n_seeds",
        "switched",
        "switch_rounds",
        "seeds",
        "median",
        "flops_saved_pct",
    ]
    return pd.DataFrame(rows, columns=cols)


def sampler_table(summary: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """For datasets run with several samplers: each strategy's test F1 per sampler and the paired
    difference of every sampler against the first (alphabetical) one, all over the seeds both ran."""
    rows = []
    for ds, g in summary.groupby("dataset", sort=True):
        samplers = sorted(g["sampler"].dropna().unique())
        if len(samplers) < 2:
            continue
        ref = samplers[0]
        for strategy in ("retrain", "finetune", "new_only"):
            by = {s: g[(g["strategy"] == strategy) & (g["sampler"] == s)] for s in samplers}
            if any(len(v) != 1 for v in by.values()):
                continue  # several configurations of one strategy per sampler: no single pairing
            for s in samplers[1:]:
                this, other = by[s].iloc[0]["config_id"], by[ref].iloc[0]["config_id"]
                gap, ci, n = paired(used, ds, this, other, "final_test_f1", "points")
                x, y = per_seed(used, ds, this, "final_test_f1"), per_seed(used, ds, other, "final_test_f1")
                common = x.index.intersection(y.index)  # both means over the seeds the difference pairs
                rows.append(
                    {
                        "dataset": ds,
                        "strategy": strategy,
                        "sampler": s,
                        "reference": ref,
                        "test_f1": float(x[common].mean()),
                        "reference_test_f1": float(y[common].mean()),
                        "test_gap_points_mean": gap,
                        "test_gap_points_ci95": ci,
                        "n_paired": n,
                    }
                )
    cols = [
        "dataset",
        "strategy",
        "sampler",
        "reference",
        "test_f1",
        "reference_test_f1",
        "test_gap_points_mean",
        "test_gap_points_ci95",
        "n_paired",
    ]
    return pd.DataFrame(rows, columns=cols)
