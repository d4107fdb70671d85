"""The headline's figure, every dataset in one: each configuration's AL cost saved and its test-F1
difference against retrain, paired by seed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from analysis.presentation.formatting import f1_name
from analysis.presentation.plot_style import (
    new_figure,
    save_figure,
    strategies_present,
    strategy_color,
    strategy_line,
    style_axes,
)


def savings_plane(paired: pd.DataFrame, headline: pd.DataFrame, path: Path) -> Optional[Path]:
    """One panel per dataset (and sampler): every configuration's AL FLOPs saved against retrain (x)
    and its test-F1 difference (y), both paired by seed (mean ± 95% interval); retrain is the
    origin, the configurations the headline chose on validation are ringed."""
    groups = [(k, g) for k, g in paired.groupby(["dataset", "sampler"], sort=True) if g["n_paired"].max() > 0]
    if not groups:
        return None
    cols = min(3, len(groups))
    rows = math.ceil(len(groups) / cols)
    fig, axes = new_figure(rows, cols, figsize=(5.2 * cols, 4.3 * rows), squeeze=False)
    chosen = set(
        headline.loc[
            (headline["role"] != "retrain") & headline["config"].notna(), ["dataset", "sampler", "config"]
        ].itertuples(index=False, name=None)
    )
    for ax, ((ds, sampler), g) in zip(axes.flat, groups):
        for strategy in strategies_present(g["strategy"]):
            p = g[g["strategy"] == strategy]
            line = strategy_line(strategy, lw=1.0, ms=6)
            ax.errorbar(
                p["flops_saved_pct_mean"],
                p["test_gap_points_mean"],
                xerr=np.nan_to_num(p["flops_saved_pct_ci95"].to_numpy(float)),
                yerr=np.nan_to_num(p["test_gap_points_ci95"].to_numpy(float)),
                fmt=line["marker"],
                color=line["color"],
                ms=line["ms"],
                alpha=0.8,
                elinewidth=0.8,
                capsize=2,
                label=strategy,
            )
        ring = g[[(ds, sampler, c) in chosen for c in g["config"]]]
        ax.scatter(
            ring["flops_saved_pct_mean"],
            ring["test_gap_points_mean"],
            s=160,
            facecolors="none",
            edgecolors="black",
            lw=1.5,
            zorder=4,
            label="chosen on validation",
        )
        ax.plot([0], [0], marker="o", color=strategy_color("retrain"), ms=9, ls="", label="retrain (reference)")
        ax.axhline(0, color="#555", lw=0.8)
        ax.axvline(0, color="#555", lw=0.8)
        n = int(g["n_paired"].max())
        style_axes(
            ax,
            f"{ds} ({sampler}, {n} seeds)",
            "AL FLOPs saved vs retrain (%)",
            f"test {f1_name(ds)} vs retrain (points)",
        )
        ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    for ax in list(axes.flat)[len(groups) :]:
        ax.axis("off")
    fig.suptitle(
        "What each strategy saves and what it costs in test F1, against retrain (paired by seed, mean ± 95% CI)",
        fontsize=11,
    )
    fig.tight_layout()
    return save_figure(fig, path)
