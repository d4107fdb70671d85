"""The report's per-dataset tables: configurations, Pareto set, savings against retrain, hypervolume.

Cost columns are the AL cost (training + scoring + policy FLOPs, what the fronts and savings
rank on), with training FLOPs and labels used beside it so a reader sees what the cost is made of.
"""

from __future__ import annotations

import pandas as pd

from analysis.presentation.formatting import count, f1_points, f3, flops, has_value, pm, points, ratio, seconds
from analysis.presentation.render import Table
from analysis.reading.configuration import parse_settings, setting_column, setting_text, varying_settings


def _switch_cell(r: pd.Series) -> str:
    n, k = int(r["n_seeds"]), int(r["switched"])
    if k == 0:
        return f"never (0/{n})"
    m, ci = r["switch_round_mean"], r["switch_round_ci95"]
    mean = f"{m:.1f} ± {ci:.1f}" if has_value(ci) else f"{m:.1f}"
    return f"{mean} ({k}/{n} switched)"


def _setting_cell(v) -> str:
    return "–" if v is None else setting_text(v)


def config_table(s: pd.DataFrame) -> Table:
    """Every configuration of a dataset; an "ended degenerate" column only where some run recorded it (schema 2)."""
    keys = varying_settings(s)  # the settings that tell this dataset's configurations apart
    show_degenerate = bool(s["degenerate_seeds"].notna().any())
    rows = []
    for _, r in s.sort_values(
        ["final_val_f1_mean", "total_flops_mean"], ascending=[False, True], kind="stable"
    ).iterrows():
        sw = _switch_cell(r) if r["strategy"] == "deltaf1" else "–"
        settings = parse_settings(r.get("settings")) or {}
        degenerate = [
            "–" if not has_value(r["degenerate_seeds"]) else f"{int(r['degenerate_seeds'])}/{int(r['n_seeds'])}"
        ]
        rows.append(
            [
                f"`{r['config']}`",
                *[_setting_cell(settings.get(k)) for k in keys],
                str(int(r["n_seeds"])),
                pm(r["final_val_f1_mean"], r["final_val_f1_ci95"]),
                pm(r["final_test_f1_mean"], r["final_test_f1_ci95"]),
                pm(r["final_test_accuracy_mean"], r["final_test_accuracy_ci95"]),
                pm(r["aulc_mean"], r["aulc_ci95"]),
                count(r["labels_used_mean"]),
                flops(r["total_flops_mean"]),
                ratio(r.get("flops_ratio")),
                flops(r["total_train_flops_mean"]),
                seconds(r["wall_seconds_mean"]),
                sw,
                *(degenerate if show_degenerate else []),
                "yes" if r["pareto"] else "",
            ]
        )
    cols = [
        "configuration",
        *[setting_column(k) for k in keys],
        "seeds",
        "val F1",
        "test F1",
        "test accuracy",
        "AULC",
        "labels used",
        "AL FLOPs",
        "vs retrain",
        "train FLOPs",
        "wall time",
        "switch round",
        *(["ended degenerate"] if show_degenerate else []),
        "Pareto (val F1)",
    ]
    return Table(
        cols,
        rows,
        "Seed means ± 95% t-interval half-width (no interval where n = 1); sorted by validation F1. "
        "AL FLOPs (training + scoring + the passes a policy reads to decide), training FLOPs, labels used "
        "(acquired + read by a policy) and wall time are per run; vs retrain: AL FLOPs over those of the "
        "matching retrain configuration. Pareto: on the front of AL FLOPs vs validation F1.",
        set(range(1 + len(keys), 12 + len(keys) + show_degenerate)),
    )


def savings_table(s: pd.DataFrame, tol: float) -> Table:
    rows = []
    for _, r in s.sort_values(["total_flops_mean"], kind="stable").iterrows():
        saved = f"{r['flops_saved_pct']:.0f}%" if has_value(r["flops_saved_pct"]) else "–"
        known = has_value(r["baseline"])
        rows.append(
            [
                f"`{r['config']}`",
                f"`{r['baseline']}`" if known else "–",
                ratio(r["flops_ratio"]),
                saved,
                ratio(r["train_flops_ratio"]),
                count(r["labels_used_mean"]),
                points(r["val_gap_points"]),
                points(r["test_gap_points"]),
                ("yes" if r["matched"] else "no") if known else "–",
            ]
        )
    cols = [
        "configuration",
        "retrain baseline",
        "AL FLOPs vs baseline",
        "saved",
        "train FLOPs vs baseline",
        "labels used",
        "Δ val F1 (pts)",
        "Δ test F1 (pts)",
        f"within {tol:g} pts (val)",
    ]
    return Table(
        cols,
        rows,
        "AL FLOPs (training + scoring + policy) and training FLOPs relative to the retrain run with the "
        f"same model, sampler, epochs and settings, seed means; F1 gaps in points ({f1_points(s['dataset'])}), "
        "negative = worse than retrain. Sorted by AL FLOPs. The headline's choices use the paired versions.",
        {2, 3, 4, 5, 6, 7},
    )


def pareto_table(s: pd.DataFrame) -> Table:
    rows = [
        [
            f"`{r['config']}`",
            flops(r["total_flops_mean"]),
            flops(r["total_train_flops_mean"]),
            count(r["labels_used_mean"]),
            pm(r["final_val_f1_mean"], r["final_val_f1_ci95"]),
            pm(r["final_test_f1_mean"], r["final_test_f1_ci95"]),
            str(int(r["n_seeds"])),
        ]
        for _, r in s[s["pareto"]].sort_values("total_flops_mean").iterrows()
    ]
    return Table(
        ["configuration", "AL FLOPs", "train FLOPs", "labels used", "val F1 (front)", "test F1 (reported)", "seeds"],
        rows,
        "Configurations no other configuration beats on both AL FLOPs (lower) and final validation F1 "
        "(higher), seed means. Test F1 is shown beside them, never used to choose.",
        {1, 2, 3, 4, 5, 6},
    )


def hv_table(hv: pd.DataFrame) -> Table:
    rows = [
        [
            str(r["strategy"]),
            str(int(r["configs"])),
            str(int(r["front_size"])),
            f3(r["hv_final"]),
            f3(r["hv_rounds"]),
            f3(r["hv_final_test"]),
        ]
        for _, r in hv.sort_values("hv_final", ascending=False).iterrows()
    ]
    return Table(
        [
            "strategy family",
            "configs",
            "on its front",
            "hypervolume (final, val F1)",
            "hypervolume (per round, val F1)",
            "hypervolume (final, test F1; reported)",
        ],
        rows,
        "Normalised hypervolume in (log10 AL FLOPs, validation F1) space; higher is better; the test-F1 "
        "value is shown beside it, never used to choose; see Method.",
        {1, 2, 3, 4, 5},
    )
