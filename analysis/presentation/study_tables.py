"""The report's study tables: the paired headline, the validation noise beside the tolerance, switch
rounds, samplers, and the sweeps' compute and environment (their sentences: findings_sentences.py)."""

from __future__ import annotations

import pandas as pd

from analysis.presentation.formatting import (
    count,
    f1_points,
    f3,
    flops,
    has_value,
    percent_pm,
    pm,
    points_pm,
    ratio,
    seconds,
)
from analysis.presentation.render import Table
from analysis.statistics.validation_noise import SE_FORMULA


def has_config(r: pd.Series) -> bool:
    """Whether a headline row names a configuration (a role no arm filled names none)."""
    return r["config"] is not None and not pd.isna(r["config"])


def _degenerate_cell(r: pd.Series) -> str:
    return "–" if not has_value(r["degenerate_seeds"]) else f"{int(r['degenerate_seeds'])}/{int(r['n_seeds'])}"


def headline_table(h: pd.DataFrame, tol: float) -> Table:
    """The headline rows; an "ended degenerate" column only where some run recorded it (schema 2)."""
    show_degenerate = bool(h["degenerate_seeds"].notna().any()) if len(h) else False
    rows = []
    for _, r in h.iterrows():
        if not has_config(r):
            rows.append(
                [str(r["dataset"]), str(r["sampler"]), r["role"], f"none within {tol:g} val pts"]
                + ["–"] * (15 + show_degenerate)
            )
            continue
        sw = (
            "–"
            if pd.isna(r["switched"])
            else (
                f"{int(r['switched'])}/{int(r['n_seeds'])}"
                + (f", median {r['switch_round_median']:g}" if has_value(r["switch_round_median"]) else "")
            )
        )
        rows.append(
            [
                str(r["dataset"]),
                str(r["sampler"]),
                r["role"],
                f"`{r['config']}`",
                str(int(r["n_seeds"])),
                f3(r["val_f1_mean"]),
                pm(r["test_f1_mean"], r["test_f1_ci95"]),
                pm(r["test_accuracy_mean"], r["test_accuracy_ci95"]),
                count(r["labels_used_mean"]),
                flops(r["al_flops_mean"]),
                flops(r["train_flops_mean"]),
                percent_pm(r["flops_saved_pct_mean"], r["flops_saved_pct_ci95"]),
                percent_pm(r["train_flops_saved_pct_mean"], None),
                points_pm(r["test_gap_points_mean"], r["test_gap_points_ci95"]),
                points_pm(r["vs_finetune_test_gap_points_mean"], r["vs_finetune_test_gap_points_ci95"]),
                ratio(r["vs_finetune_flops_ratio_mean"]),
                *([_degenerate_cell(r)] if show_degenerate else []),
                sw,
            ]
        )
    cols = [
        "dataset",
        "sampler",
        "role",
        "configuration",
        "seeds",
        "val F1",
        "test F1",
        "test accuracy",
        "labels used",
        "AL FLOPs",
        "train FLOPs",
        "AL FLOPs saved vs retrain",
        "train FLOPs saved",
        "Δ test F1 vs retrain (pts)",
        "Δ test F1 vs finetune (pts)",
        "AL FLOPs vs finetune",
        *(["ended degenerate"] if show_degenerate else []),
        "switched (round)",
    ]
    return Table(
        cols,
        rows,
        "Chosen on validation F1 only, among every arm of the group (finetune, new_only, every "
        "HybridAL) and among HybridAL alone: the best, and the cheapest (AL cost) within "
        f"{tol:g} validation-F1 points of retrain, both on paired means over retrain's seeds. AL FLOPs: training "
        "+ scoring + the passes a policy reads to decide; labels used: acquired + labelled rows a policy reads. "
        "Savings and F1 differences are paired by seed (mean ± 95% t-interval over the seeds both finished); "
        f"test F1 and accuracy are seed means ± 95% intervals; F1 differences in points ({f1_points(h['dataset'])}), "
        "negative = worse.",
        set(range(4, len(cols))),
    )


def noise_table(noise: pd.DataFrame) -> Table:
    rows = [
        [
            str(r["dataset"]),
            str(r["sampler"]),
            count(r["validation_rows"]),
            f3(r["val_f1_mean"]),
            f"{r['se_points']:.2f}" if has_value(r["se_points"]) else "–",
            f"{r['seed_std_points']:.2f}" if has_value(r["seed_std_points"]) else "–",
            f"{r['tolerance_points']:g}",
            "yes" if r["tolerance_below_noise"] else "no",
        ]
        for _, r in noise.iterrows()
    ]
    return Table(
        [
            "dataset",
            "sampler",
            "validation rows",
            "retrain val F1",
            f"per-seed SE (pts), {SE_FORMULA}",
            "seed std of retrain val F1 (pts)",
            "tolerance (pts)",
            "tolerance below SE",
        ],
        rows,
        "The validation metric's noise beside the tolerance: the binomial standard error of one seed's "
        f"validation F1, {SE_FORMULA} (n = validation rows; approximate for macro-F1, an underestimate where "
        "a small class carries half the macro average), and the between-seed standard deviation.",
        {2, 3, 4, 5, 6},
    )


def switch_table(sw: pd.DataFrame) -> Table:
    rows = [
        [
            f"`{r['config']}`",
            f"{r['epsilon']:g}",
            str(int(r["k"])),
            f"{int(r['switched'])}/{int(r['n_seeds'])}",
            r["switch_rounds"],
            f"{r['median']:g}" if has_value(r["median"]) else "never",
            f"{r['flops_saved_pct']:.0f}%" if has_value(r["flops_saved_pct"]) else "–",
        ]
        for _, r in sw.iterrows()
    ]
    return Table(
        ["configuration", "ε", "k", "switched", "switch round by seed", "median", "FLOPs saved (mean)"],
        rows,
        "Switch round: the first round trained with the cheaper strategy; never = retrained every round. "
        "Seeds in the order " + (sw["seeds"].iloc[0] if len(sw) else "–") + ".",
        {1, 2, 3, 5, 6},
    )


def sampler_table(st: pd.DataFrame) -> Table:
    rows = [
        [
            str(r["strategy"]),
            f"{r['sampler']} vs {r['reference']}",
            f3(r["test_f1"]),
            f3(r["reference_test_f1"]),
            points_pm(r["test_gap_points_mean"], r["test_gap_points_ci95"]),
            str(int(r["n_paired"])),
        ]
        for _, r in st.iterrows()
    ]
    return Table(
        ["strategy", "samplers", "test F1", "reference test F1", "Δ test F1 (pts, paired)", "seeds"],
        rows,
        "Each strategy's final test macro-F1 under each sampler, means over the seeds both samplers ran, "
        "and the difference paired by seed.",
        {2, 3, 4, 5},
    )


# ----------------------------------------------------------------------------- cost, environment


def _env(sweep: dict, path: str):
    """A value of sweep_summary.json's environment by its dotted path (None where absent)."""
    value = sweep.get("environment")
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def cost_table(sweep: dict) -> Table:
    """Each sweep's wall time, spent vs attributed training FLOPs, machine and versions."""
    parts = sweep.get("sweeps") or [{"name": "sweep", **sweep}]
    rows = []
    for s in parts:
        spent, attributed = s.get("spent_train_flops"), s.get("attributed_train_flops")
        saved = f"{1 - spent / attributed:.0%}" if spent is not None and attributed else "–"
        threads = _env(s, "resources.cpus_per_trial")
        rows.append(
            [
                f"`{s.get('name', 'sweep')}`",
                str(s.get("configurations", "–")),
                seconds(s.get("wall_seconds")),
                _per_group(s),
                flops(spent),
                flops(attributed),
                saved,
                str(_env(s, "cpu.model") or "–"),
                str(_env(s, "cpu.logical_cpus") or "–"),
                "–" if threads is None else f"{threads:g}",
                str(_env(s, "resources.max_concurrent") or "as CPUs allow"),
                str(_env(s, "versions.torch") or "–"),
            ]
        )
    if len(parts) > 1:
        spent, attributed = sweep.get("spent_train_flops"), sweep.get("attributed_train_flops")
        rows.append(
            [
                "**all**",
                str(sweep.get("configurations", "–")),
                seconds(sweep.get("wall_seconds")),
                _per_group(sweep),
                flops(spent),
                flops(attributed),
                f"{1 - spent / attributed:.0%}" if attributed else "–",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return Table(
        [
            "sweep",
            "configurations",
            "wall time",
            "wall per group",
            "spent train FLOPs",
            "attributed train FLOPs",
            "saved by sharing",
            "CPU",
            "logical CPUs",
            "CPUs (threads) per trial",
            "concurrent trials",
            "torch",
        ],
        rows,
        "Spent: what the sweep's trials trained (shared prefixes once); attributed: the sum of every "
        "configuration's own training FLOPs, as if run alone (what the tables charge). Machine and versions "
        "from sweep_summary.json's environment (– where the sweep did not record it). A group is one retrain "
        "trunk: a dataset, seed and sampler with all its configurations.",
        {1, 2, 3, 4, 5, 6, 8, 9, 10},
    )


def _per_group(sweep: dict) -> str:
    runs = sweep.get("runs") or {}
    groups = int(runs.get("trunk", 0)) + int(runs.get("hidden trunk", 0))
    return seconds(sweep["wall_seconds"] / groups) if groups and has_value(sweep.get("wall_seconds")) else "–"
