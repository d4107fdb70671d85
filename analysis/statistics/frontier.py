"""Cost-vs-accuracy frontiers: Pareto sets, hypervolume and savings at matched accuracy.

Pure functions on arrays and DataFrames. Cost is minimised, F1 maximised. The cost is the AL cost,
``cum_total_flops`` (training + scoring + the passes a policy reads to decide; analysis/reading/schema_versions.py),
so that an arm charged for the validation set its rule reads is compared on what it spends;
training FLOPs are reported beside it.
Every choice is made on validation macro-F1 (docs/design.md §9): the Pareto flags and the
hypervolume too, since a front says which configurations are worth running. Test F1 is only
reported beside them (``hv_final_test`` is the same measure on test F1, never used to choose).

Hypervolume convention (used in the report): the area dominated by a front in the plane
(log10 AL-cost FLOPs, validation macro-F1), bounded by the reference point
(x_ref, y_ref) = (log10(1.1 x the largest AL cost in the dataset), 0), and divided by
the area of the box [log10(smallest AL cost in the dataset), x_ref] x [0, 1]. It lies
in [0, 1]; every strategy family of a dataset shares one box, so their values compare. Log
space makes a 10x saving count the same anywhere on the axis; a single configuration at the
dataset's cheapest cost has hypervolume equal to its F1.
"""

from __future__ import annotations

import json
import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from analysis.reading.configuration import SETTINGS, parse_settings
from analysis.statistics.config_labels import RELEVANT_KNOBS

HV_REF_FLOPS_FACTOR = 1.1
HV_REF_F1 = 0.0
MATCH_KNOBS = RELEVANT_KNOBS["retrain"]  # a config is compared with retrain on these knobs
# Settings retrain never reads (docs/design.md §8, §11): the kept optimizer, shrink-and-perturb's λ and σ,
# and the switch rule's trigger and threshold; a configuration differing only in them pairs with retrain.
POST_SWITCH_SETTINGS = ("keep_optimizer", "shrink", "perturb", "strategy_kwargs.trigger", "strategy_kwargs.threshold")
FRONT_F1 = "final_val_f1_mean"  # the F1 of the final-configuration front
ROUND_FRONT_F1 = "val_f1_mean"  # the F1 of the per-round front
FRONT_COST = "total_flops_mean"  # the cost of the final-configuration front: AL cost, seed mean
ROUND_FRONT_COST = "cum_total_flops"  # the cost of the per-round front: cumulative AL cost, seed mean


def pareto_mask(cost: Sequence[float], value: Sequence[float]) -> np.ndarray:
    """True for points not dominated: no other point has <= cost and >= value, one strictly.

    Identical points are all kept. NaN points are never on the front. O(n log n).
    """
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    mask = np.zeros(c.shape, dtype=bool)
    ok = np.flatnonzero(~(np.isnan(c) | np.isnan(v)))
    if ok.size == 0:
        return mask
    order = ok[np.lexsort((-v[ok], c[ok]))]  # by cost ascending, then value descending
    best_cheaper = -np.inf  # best value among strictly cheaper points
    i = 0
    while i < order.size:
        j = i
        while j < order.size and c[order[j]] == c[order[i]]:
            j += 1
        group = order[i:j]
        top = v[group].max()
        if top > best_cheaper:
            mask[group[v[group] == top]] = True
        best_cheaper = max(best_cheaper, top)
        i = j
    return mask


def hypervolume(cost: Sequence[float], value: Sequence[float], ref_cost: float, ref_value: float) -> float:
    """Area dominated by the points and bounded by (ref_cost, ref_value), in the given space.

    Points with cost >= ref_cost or value <= ref_value add nothing. No points: 0.
    """
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    keep = ~(np.isnan(c) | np.isnan(v)) & (c < ref_cost) & (v > ref_value)
    c, v = c[keep], v[keep]
    if c.size == 0:
        return 0.0
    front = pareto_mask(c, v)
    c, v = c[front], v[front]
    order = np.lexsort((v, c))
    c, v = c[order], v[order]
    # drop exact duplicates, which add no area
    uniq = np.r_[True, (c[1:] != c[:-1]) | (v[1:] != v[:-1])]
    c, v = c[uniq], v[uniq]
    widths = np.r_[c[1:], ref_cost] - c
    return float(np.sum(widths * (v - ref_value)))


def hv_box(flops: Sequence[float]) -> tuple[float, float]:
    """The (low, reference) log10-FLOPs bounds of a dataset's hypervolume box (see module doc)."""
    f = np.asarray(flops, dtype=float)
    f = f[np.isfinite(f) & (f > 0)]
    if f.size == 0:
        return math.nan, math.nan
    return float(np.log10(f.min())), float(np.log10(HV_REF_FLOPS_FACTOR * f.max()))


def normalised_log_hv(flops: Sequence[float], f1: Sequence[float], box: tuple[float, float]) -> float:
    """Hypervolume in (log10 FLOPs, F1) space with reference (box[1], 0), divided by the box area."""
    lo, ref = box
    if not (np.isfinite(lo) and np.isfinite(ref)) or ref <= lo:
        return math.nan
    f = np.asarray(flops, dtype=float)
    y = np.asarray(f1, dtype=float)
    ok = np.isfinite(f) & (f > 0)
    hv = hypervolume(np.log10(f[ok]), y[ok], ref, HV_REF_F1)
    return hv / ((ref - lo) * (1.0 - HV_REF_F1))


def final_front(summary: pd.DataFrame) -> pd.Series:
    """Per dataset, is each configuration (seed means) on the (AL cost, validation F1) front?"""
    out = pd.Series(False, index=summary.index)
    for _, g in summary.groupby("dataset", dropna=False, sort=False):
        out[g.index] = pareto_mask(g[FRONT_COST], g[FRONT_F1])
    return out


def round_front(curves: pd.DataFrame) -> pd.Series:
    """Per dataset, is each (configuration, round) point on the (cumulative AL cost, validation F1) front?"""
    out = pd.Series(False, index=curves.index)
    for _, g in curves.groupby("dataset", dropna=False, sort=False):
        out[g.index] = pareto_mask(g[ROUND_FRONT_COST], g[ROUND_FRONT_F1])
    return out


def family_hypervolumes(summary: pd.DataFrame, curves: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Normalised log-space hypervolume per dataset x strategy family.

    ``hv_final`` uses the configurations' (AL cost, final validation F1) seed means;
    ``hv_rounds`` (if `curves` is given) the per-round (cumulative AL cost, validation F1) means;
    ``hv_final_test`` is ``hv_final`` on final test F1, reported beside it. Each has its own box per
    dataset, shared by the families.
    """
    rows = []
    for ds, g in summary.groupby("dataset", dropna=False, sort=True):
        box = hv_box(g[FRONT_COST])
        cg = None
        rbox = (math.nan, math.nan)
        if curves is not None and len(curves):
            cg = curves[(curves["dataset"] == ds) & curves[ROUND_FRONT_F1].notna()]
            rbox = hv_box(cg[ROUND_FRONT_COST])
        for fam, fg in g.groupby("strategy", dropna=False, sort=True):
            flops = fg[FRONT_COST]
            row = {
                "dataset": ds,
                "strategy": fam,
                "configs": len(fg),
                "front_size": int(pareto_mask(flops, fg[FRONT_F1]).sum()),
                "hv_final": normalised_log_hv(flops, fg[FRONT_F1], box),
                "hv_final_test": normalised_log_hv(flops, fg["final_test_f1_mean"], box),
                "ref_log10_flops": box[1],
                "low_log10_flops": box[0],
            }
            if cg is not None:
                fc = cg[cg["strategy"] == fam]
                row["hv_rounds"] = normalised_log_hv(fc[ROUND_FRONT_COST], fc[ROUND_FRONT_F1], rbox)
            rows.append(row)
    cols = [
        "dataset",
        "strategy",
        "configs",
        "front_size",
        "hv_final",
        "hv_rounds",
        "hv_final_test",
        "ref_log10_flops",
        "low_log10_flops",
    ]
    return pd.DataFrame(rows, columns=cols)


def _match_key(row: pd.Series) -> tuple:
    """What a configuration shares with its retrain baseline: dataset, retrain's knobs, and every
    setting but the post-switch ones (a run with lr 1e-4 is compared with retrain at lr 1e-4)."""
    settings = parse_settings(row.get(SETTINGS)) or {}
    shared = {k: v for k, v in settings.items() if k not in POST_SWITCH_SETTINGS}
    knobs = tuple(None if pd.isna(row[k]) else str(row[k]) for k in ("dataset", *MATCH_KNOBS))
    return knobs + (json.dumps(shared, sort_keys=True),)


def savings(summary: pd.DataFrame, tolerance_points: float = 0.5) -> pd.DataFrame:
    """Each configuration against its `retrain` baseline, with the matched-accuracy test.

    The baseline is the retrain configuration of the same dataset with the same model,
    sampler and epochs (the knobs retrain has) and the same settings but the post-switch ones;
    if several match, the one with the highest validation F1. Columns: ``flops_ratio`` (AL cost /
    retrain's), ``flops_saved_pct``, ``train_flops_ratio`` (training FLOPs / retrain's),
    ``val_gap_points`` and ``test_gap_points`` (100 x F1 difference of seed means, negative =
    worse), and ``matched`` (validation F1 within `tolerance_points` of retrain or better). The
    headline's choices use the paired version of these (analysis/statistics/arm_choice.py).
    """
    base = summary[summary["strategy"] == "retrain"]
    baselines: dict[tuple, pd.Series] = {}
    for _, b in base.sort_values("final_val_f1_mean", ascending=False, kind="stable").iterrows():
        baselines.setdefault(_match_key(b), b)
    rows = []
    for i, r in summary.iterrows():
        b = baselines.get(_match_key(r))
        row = {"index": i, "baseline": None if b is None else b["config"]}
        if b is None:
            row |= {
                k: math.nan
                for k in ("flops_ratio", "flops_saved_pct", "train_flops_ratio", "val_gap_points", "test_gap_points")
            }
            row["matched"] = False
        else:
            ratio = r[FRONT_COST] / b[FRONT_COST] if b[FRONT_COST] else math.nan
            train = b["total_train_flops_mean"]
            vgap = 100.0 * (r["final_val_f1_mean"] - b["final_val_f1_mean"])
            row |= {
                "flops_ratio": ratio,
                "flops_saved_pct": 100.0 * (1.0 - ratio),
                "train_flops_ratio": r["total_train_flops_mean"] / train if train else math.nan,
                "val_gap_points": vgap,
                "test_gap_points": 100.0 * (r["final_test_f1_mean"] - b["final_test_f1_mean"]),
                "matched": bool(vgap >= -tolerance_points - 1e-9),
            }
        rows.append(row)
    cols = [
        "index",
        "baseline",
        "flops_ratio",
        "flops_saved_pct",
        "train_flops_ratio",
        "val_gap_points",
        "test_gap_points",
        "matched",
    ]
    return pd.DataFrame(rows, columns=cols).set_index("index")
