"""The headline comparison: HybridAL against retrain and finetune, paired by seed.

For each retrain configuration (a dataset, model, sampler and settings; see
`frontier.savings`) the HybridAL (deltaf1) configurations compared with it are chosen on
validation F1 only (DESIGN.md section 9):

- **best**: the highest mean final validation macro-F1 (ties: fewer training FLOPs);
- **cheapest matched**: the fewest mean training FLOPs among those within the tolerance
  (0.5 validation-F1 points) of retrain's mean (ties: higher validation F1).

Each chosen configuration, and the finetune configuration of the same group, is then compared
seed by seed with retrain (and the HybridAL ones with finetune): a seed fixes the splits, the
initial pool and the sampler's randomness, so the per-seed differences remove the variation
the seeds share. Differences are reported as mean ± 95% t-interval half-width over the seeds
both configurations finished (`aggregate.mean_std_ci`).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pandas as pd

from analysis.aggregate import mean_std_ci

ROLES = ("retrain", "finetune", "HybridAL best (val)", "HybridAL cheapest matched (val)")
COLUMNS = ["dataset", "sampler", "baseline", "role", "config", "n_seeds", "val_f1_mean", "test_f1_mean", "test_f1_ci95",
           "test_accuracy_mean", "test_accuracy_ci95", "train_flops_mean", "n_paired",
           "flops_saved_pct_mean", "flops_saved_pct_ci95", "test_gap_points_mean", "test_gap_points_ci95",
           "val_gap_points_mean", "vs_finetune_test_gap_points_mean", "vs_finetune_test_gap_points_ci95",
           "vs_finetune_flops_ratio_mean", "switched", "switch_round_median"]


def per_seed(used: pd.DataFrame, dataset: str, config_id: str, column: str) -> pd.Series:
    """One configuration's per-seed values of `column` (index: seed)."""
    t = used[(used["dataset"] == dataset) & (used["config_id"] == config_id) & used["seed"].notna()]
    return pd.Series(t[column].astype(float).to_numpy(), index=t["seed"].astype(int).to_numpy())


def paired(used: pd.DataFrame, dataset: str, a: str, b: str, column: str, how: str) -> tuple[float, float, int]:
    """Mean, 95% half-width and n over seeds of `how` applied to (a's value, b's value).

    `how`: "points" = 100 (a − b) (F1 differences in points); "saved_pct" = 100 (1 − a / b)
    (training FLOPs saved by a against b, in percent).
    """
    x, y = per_seed(used, dataset, a, column), per_seed(used, dataset, b, column)
    common = x.index.intersection(y.index)
    x, y = x[common], y[common]
    diff = 100.0 * (x - y) if how == "points" else 100.0 * (1.0 - x / y.replace(0, np.nan))
    mean, _, ci, n = mean_std_ci(diff.tolist())
    return mean, ci, n


def choose(group: pd.DataFrame, retrain: pd.Series, tolerance_points: float) -> dict[str, Optional[pd.Series]]:
    """The HybridAL configurations of `group` (summary rows) chosen on validation F1."""
    hybrids = group[group["strategy"] == "deltaf1"]
    if not len(hybrids):
        return {ROLES[2]: None, ROLES[3]: None}
    best = hybrids.sort_values(["final_val_f1_mean", "total_train_flops_mean"], ascending=[False, True],
                               kind="stable").iloc[0]
    floor = retrain["final_val_f1_mean"] - tolerance_points / 100.0 - 1e-12
    matched = hybrids[hybrids["final_val_f1_mean"] >= floor]
    cheapest = (matched.sort_values(["total_train_flops_mean", "final_val_f1_mean"], ascending=[True, False],
                                    kind="stable").iloc[0] if len(matched) else None)
    return {ROLES[2]: best, ROLES[3]: cheapest}


def headline_table(summary: pd.DataFrame, used: pd.DataFrame, tolerance_points: float = 0.5) -> pd.DataFrame:
    """One row per (retrain group, role): see the module docstring. Empty without retrain runs."""
    rows = []
    for _, retrain in summary[summary["strategy"] == "retrain"].sort_values(["dataset", "config"]).iterrows():
        ds = retrain["dataset"]
        group = summary[(summary["dataset"] == ds) & (summary["baseline"] == retrain["config"])]
        finetunes = group[group["strategy"] == "finetune"].sort_values("final_val_f1_mean", ascending=False)
        finetune = finetunes.iloc[0] if len(finetunes) else None
        chosen = {ROLES[0]: retrain, ROLES[1]: finetune, **choose(group, retrain, tolerance_points)}
        for role, r in chosen.items():
            rows.append(_row(used, ds, retrain, finetune, role, r))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(used: pd.DataFrame, ds: str, retrain: pd.Series, finetune: Optional[pd.Series], role: str,
         r: Optional[pd.Series]) -> dict:
    row = {c: math.nan for c in COLUMNS} | {"dataset": ds, "sampler": retrain["sampler"], "baseline": retrain["config"],
                                            "role": role, "config": None, "n_seeds": 0, "n_paired": 0,
                                            "switched": math.nan}
    if r is None:
        return row
    cid, rid = r["config_id"], retrain["config_id"]
    row |= {"config": r["config"], "n_seeds": int(r["n_seeds"]), "val_f1_mean": r["final_val_f1_mean"],
            "test_f1_mean": r["final_test_f1_mean"], "test_f1_ci95": r["final_test_f1_ci95"],
            "test_accuracy_mean": r["final_test_accuracy_mean"], "test_accuracy_ci95": r["final_test_accuracy_ci95"],
            "train_flops_mean": r["total_train_flops_mean"]}
    if cid != rid:
        saved, saved_ci, n = paired(used, ds, cid, rid, "total_train_flops", "saved_pct")
        gap, gap_ci, _ = paired(used, ds, cid, rid, "final_test_f1", "points")
        vgap, _, _ = paired(used, ds, cid, rid, "final_val_f1", "points")
        row |= {"n_paired": n, "flops_saved_pct_mean": saved, "flops_saved_pct_ci95": saved_ci,
                "test_gap_points_mean": gap, "test_gap_points_ci95": gap_ci, "val_gap_points_mean": vgap}
    if r["strategy"] == "deltaf1":
        if finetune is not None:
            fgap, fgap_ci, _ = paired(used, ds, cid, finetune["config_id"], "final_test_f1", "points")
            ratio = r["total_train_flops_mean"] / finetune["total_train_flops_mean"]
            row |= {"vs_finetune_test_gap_points_mean": fgap, "vs_finetune_test_gap_points_ci95": fgap_ci,
                    "vs_finetune_flops_ratio_mean": ratio}
        sw = per_seed(used, ds, cid, "switch_round")
        row |= {"switched": int(sw.notna().sum()), "switch_round_median": float(sw.median()) if sw.notna().any()
                else math.nan}
    return row


PAIRED_COLUMNS = ["dataset", "sampler", "baseline", "config", "strategy", "epsilon", "k", "n_paired",
                  "flops_saved_pct_mean", "flops_saved_pct_ci95", "test_gap_points_mean", "test_gap_points_ci95",
                  "val_gap_points_mean"]


def paired_table(summary: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """Every configuration against its retrain baseline, paired by seed: FLOPs saved (%) and the
    test- and validation-F1 differences (points)."""
    rows = []
    retrains = {(r["dataset"], r["config"]): r for _, r in summary[summary["strategy"] == "retrain"].iterrows()}
    for _, r in summary.sort_values(["dataset", "sampler", "strategy", "epsilon", "k", "config"]).iterrows():
        base = retrains.get((r["dataset"], r.get("baseline")))
        if base is None or r["strategy"] == "retrain":
            continue
        ds, cid, rid = r["dataset"], r["config_id"], base["config_id"]
        saved, saved_ci, n = paired(used, ds, cid, rid, "total_train_flops", "saved_pct")
        gap, gap_ci, _ = paired(used, ds, cid, rid, "final_test_f1", "points")
        vgap, _, _ = paired(used, ds, cid, rid, "final_val_f1", "points")
        rows.append({"dataset": ds, "sampler": r["sampler"], "baseline": base["config"], "config": r["config"],
                     "strategy": r["strategy"], "epsilon": r["epsilon"], "k": r["k"], "n_paired": n,
                     "flops_saved_pct_mean": saved, "flops_saved_pct_ci95": saved_ci, "test_gap_points_mean": gap,
                     "test_gap_points_ci95": gap_ci, "val_gap_points_mean": vgap})
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def switch_table(summary: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """Per HybridAL configuration: where each seed switched (the first round trained with `after`)."""
    rows = []
    hyb = summary[summary["strategy"] == "deltaf1"].sort_values(["dataset", "sampler", "epsilon", "k", "config"])
    for _, r in hyb.iterrows():
        sw = per_seed(used, r["dataset"], r["config_id"], "switch_round").sort_index()
        rows.append({"dataset": r["dataset"], "sampler": r["sampler"], "config": r["config"], "epsilon": r["epsilon"],
                     "k": r["k"], "n_seeds": len(sw), "switched": int(sw.notna().sum()),
                     "switch_rounds": " ".join("never" if pd.isna(v) else str(int(v)) for v in sw.to_numpy()),
                     "seeds": " ".join(str(s) for s in sw.index),
                     "median": float(sw.median()) if sw.notna().any() else math.nan,
                     "flops_saved_pct": r.get("flops_saved_pct", math.nan)})
    cols = ["dataset", "sampler", "config", "epsilon", "k", "n_seeds", "switched", "switch_rounds", "seeds", "median",
            "flops_saved_pct"]
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
                continue   # several configurations of one strategy per sampler: no single pairing
            for s in samplers[1:]:
                this, other = by[s].iloc[0]["config_id"], by[ref].iloc[0]["config_id"]
                gap, ci, n = paired(used, ds, this, other, "final_test_f1", "points")
                x, y = per_seed(used, ds, this, "final_test_f1"), per_seed(used, ds, other, "final_test_f1")
                common = x.index.intersection(y.index)   # both means over the seeds the difference pairs
                rows.append({"dataset": ds, "strategy": strategy, "sampler": s, "reference": ref,
                             "test_f1": float(x[common].mean()), "reference_test_f1": float(y[common].mean()),
                             "test_gap_points_mean": gap, "test_gap_points_ci95": ci, "n_paired": n})
    cols = ["dataset", "strategy", "sampler", "reference", "test_f1", "reference_test_f1", "test_gap_points_mean",
            "test_gap_points_ci95", "n_paired"]
    return pd.DataFrame(rows, columns=cols)
