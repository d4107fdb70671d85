"""The per-dataset cost-vs-accuracy figures: validation F1 against the AL cost per round (with the
Pareto front over every configuration and round) and at the end of the run (with the Pareto set)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from analysis.presentation.formatting import f1_name
from analysis.presentation.plot_style import (
    add_legend,
    new_figure,
    save_figure,
    strategies_present,
    strategy_line,
    style_axes,
)
from analysis.statistics.frontier import FRONT_COST, FRONT_F1, ROUND_FRONT_COST, ROUND_FRONT_F1, pareto_mask


def f1_vs_flops(dataset: str, summary: pd.DataFrame, curves: pd.DataFrame, path: Path) -> Path:
    """Per-round seed-mean validation F1 (what the front is chosen on) against the cumulative AL cost
    (training + scoring + policy FLOPs), with the Pareto front over all (configuration, round) points as a staircase."""
    fig, ax = new_figure(figsize=(8.5, 5.2))
    pts = curves[curves[ROUND_FRONT_F1].notna() & (curves[ROUND_FRONT_COST] > 0)]
    handles = []
    few = len(summary) <= 5  # few lines: draw them boldly; many: keep the front readable on top
    for strategy in strategies_present(summary["strategy"]):
        line = strategy_line(strategy, lw=1.8 if few else 1.0, ms=5 if few else 3)
        for cid in summary.loc[summary["strategy"] == strategy, "config_id"]:
            c = pts[pts["config_id"] == cid].sort_values("round")
            ax.plot(c[ROUND_FRONT_COST], c[ROUND_FRONT_F1], alpha=0.9 if few else 0.55, zorder=2, **line)
        handles.append(Line2D([], [], **line, label=strategy))
    if len(pts):
        front = pts[pareto_mask(pts[ROUND_FRONT_COST], pts[ROUND_FRONT_F1])].sort_values(ROUND_FRONT_COST)
        fx, fy = front[ROUND_FRONT_COST].to_numpy(float), front[ROUND_FRONT_F1].to_numpy(float)
        ax.plot(
            np.r_[fx, pts[ROUND_FRONT_COST].max()],
            np.r_[fy, fy[-1]],
            drawstyle="steps-post",
            color="black",
            lw=1.6,
            zorder=3,
        )
        ax.scatter(fx, fy, s=40, facecolors="none", edgecolors="black", lw=1.3, zorder=4)
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                lw=1.6,
                marker="o",
                mfc="none",
                label="Pareto front on validation F1 (all rounds)",
            )
        )
    ax.set_xscale("log")
    _pad_log_x(ax, pts[ROUND_FRONT_COST])
    style_axes(
        ax,
        f"{dataset}: validation {f1_name(dataset)} vs cumulative AL FLOPs (per round, seed means)",
        "cumulative AL FLOPs: training + scoring + policy (log scale)",
        f"validation {f1_name(dataset)} (the front's F1)",
    )
    add_legend(ax, handles, loc="lower right")
    return save_figure(fig, path)


def final_scatter(dataset: str, summary: pd.DataFrame, pareto: pd.Series, path: Path) -> Path:
    """Final validation F1 (what the Pareto set is chosen on) against the AL cost (FLOPs) per
    configuration (seed means, ±1 std bars), the Pareto set ringed, joined and named with its
    test F1 beside it."""
    fig, ax = new_figure(figsize=(8.5, 5.2))
    handles = []
    ok = summary[summary[FRONT_F1].notna() & (summary[FRONT_COST] > 0)]
    for strategy in strategies_present(ok["strategy"]):
        g = ok[ok["strategy"] == strategy]
        line = strategy_line(strategy, lw=1.0, ms=7)
        ax.errorbar(
            g[FRONT_COST],
            g[FRONT_F1],
            yerr=np.nan_to_num(g["final_val_f1_std"].to_numpy(float)),
            fmt=line["marker"],
            color=line["color"],
            ms=line["ms"],
            alpha=0.85,
            elinewidth=1,
            capsize=2,
            zorder=3,
        )
        handles.append(
            Line2D([], [], color=line["color"], marker=line["marker"], ms=line["ms"] * 0.8, ls="", label=strategy)
        )
    front = ok[pareto.reindex(ok.index).fillna(False).astype(bool)].sort_values(FRONT_COST)
    if len(front):
        fx, fy = front[FRONT_COST].to_numpy(float), front[FRONT_F1].to_numpy(float)
        ax.plot(
            np.r_[fx, ok[FRONT_COST].max()], np.r_[fy, fy[-1]], drawstyle="steps-post", color="black", lw=1.3, zorder=2
        )
        ax.scatter(fx, fy, s=150, facecolors="none", edgecolors="black", lw=1.6, zorder=4)
        # number the Pareto points and name them in a key beside the axes: long names never collide
        # configurations at the same point (e.g. a HybridAL run that never switched, and retrain)
        # share one label, "4,5", instead of printing on top of each other
        numbers: dict[tuple[float, float], list[str]] = {}
        for i, (x, y) in enumerate(zip(fx, fy), start=1):
            numbers.setdefault((x, y), []).append(str(i))
        for (x, y), ids in numbers.items():
            ax.annotate(
                ",".join(ids),
                (x, y),
                xytext=(-4, 9),
                textcoords="offset points",
                fontsize=9,
                fontweight="bold",
                ha="right",
                zorder=5,
            )
        key = "\n".join(
            f"{i}  {name} (test {_f1(test)})"
            for i, (name, test) in enumerate(zip(front["config"], front["final_test_f1_mean"]), start=1)
        )
        ax.text(
            1.02,
            1.0,
            "Pareto set on validation F1 (cheapest first)\n" + key,
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize=8,
            family="monospace",
            bbox=dict(boxstyle="round", fc="white", ec="#999"),
        )
        handles.append(
            Line2D([], [], color="black", marker="o", mfc="none", ms=10, lw=1.3, label="Pareto set (validation F1)")
        )
    ax.set_xscale("log")
    _pad_log_x(ax, ok[FRONT_COST])
    style_axes(
        ax,
        f"{dataset}: final validation {f1_name(dataset)} vs AL FLOPs (seed means ± 1 std)",
        "AL FLOPs per run: training + scoring + policy (log scale)",
        f"final validation {f1_name(dataset)} (the front's F1)",
    )
    add_legend(ax, handles, loc="lower right")
    return save_figure(fig, path)


def _f1(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.3f}"


def _pad_log_x(ax, x: pd.Series) -> None:
    """A log x-axis spanning at least 1.2 decades, so it always shows a labelled power of ten,
    with a margin around the data; under two decades the 2x and 5x ticks are named too."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    x = x[x > 0]
    if not len(x):
        return
    lo, hi = math.log10(float(x.min())), math.log10(float(x.max()))
    pad = max(0.08 * (hi - lo), (1.2 - (hi - lo)) / 2)
    ax.set_xlim(10 ** (lo - pad), 10 ** (hi + pad))
    if hi - lo + 2 * pad >= 2:
        ax.xaxis.set_minor_formatter(NullFormatter())
        return

    def minor(v: float, _pos) -> str:
        e = math.floor(math.log10(v) + 1e-9)
        m = v / 10**e
        return f"${round(m)}\\times10^{{{e}}}$" if abs(m - round(m)) < 1e-6 and round(m) in (2, 5) else ""

    ax.xaxis.set_minor_formatter(FuncFormatter(minor))
