"""The per-dataset figures over rounds: test F1 against labels (the learning curves) and the round in
which each HybridAL (deltaf1) trial switched."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from analysis.presentation.formatting import f1_name
from analysis.presentation.plot_style import (
    add_legend,
    new_figure,
    save_figure,
    strategies_present,
    strategy_color,
    strategy_line,
    style_axes,
)
from analysis.statistics.frontier import FRONT_COST


def _best_per_strategy(summary: pd.DataFrame) -> set[str]:
    """config_ids of each strategy's best configuration by mean validation F1."""
    best = set()
    for _, g in summary.groupby("strategy", dropna=False):
        g = g.sort_values(["final_val_f1_mean", FRONT_COST], ascending=[False, True], na_position="last")
        best.add(g.iloc[0]["config_id"])
    return best


def learning_curves(dataset: str, summary: pd.DataFrame, curves: pd.DataFrame, path: Path) -> Path:
    """Test F1 against labels: each strategy's best configuration (by validation F1) bold with a
    ±1 std band over seeds; its other configurations thin."""
    fig, ax = new_figure(figsize=(8.5, 5.2))
    best = _best_per_strategy(summary)
    handles = []
    thin_done = set()
    for strategy in strategies_present(summary["strategy"]):
        color = strategy_color(strategy)
        sg = summary[summary["strategy"] == strategy]
        for _, cfg in sg.iterrows():
            c = curves[(curves["config_id"] == cfg["config_id"]) & curves["test_f1_mean"].notna()].sort_values(
                "n_labeled"
            )
            if not len(c):
                continue
            x, y = c["n_labeled"].to_numpy(float), c["test_f1_mean"].to_numpy(float)
            if cfg["config_id"] in best:
                line = strategy_line(strategy, lw=2.2, ms=4.5)
                ax.plot(x, y, zorder=3, **line)
                sd = c["test_f1_std"].to_numpy(float)
                if np.isfinite(sd).any():
                    sd = np.nan_to_num(sd)
                    ax.fill_between(x, y - sd, y + sd, color=color, alpha=0.15, lw=0, zorder=2)
                n = int(cfg["n_seeds"])
                handles.append(Line2D([], [], **line, label=f"{cfg['config']} (n={n} seed{'s' if n != 1 else ''})"))
            else:
                ax.plot(x, y, color=color, lw=0.9, alpha=0.35, zorder=1)
                thin_done.add(strategy)
        if strategy in thin_done:
            n_other = int(len(sg) - sg["config_id"].isin(best).sum())
            handles.append(
                Line2D(
                    [],
                    [],
                    color=color,
                    lw=0.9,
                    alpha=0.5,
                    label=f"{n_other} other {strategy} config{'s' if n_other != 1 else ''}",
                )
            )
    style_axes(
        ax,
        f"{dataset}: test {f1_name(dataset)} vs labels (mean ± 1 std over seeds)",
        "labeled examples (count)",
        f"test {f1_name(dataset)}",
    )
    add_legend(ax, handles, loc="best", title="bold: best per strategy by validation F1", title_fontsize=8)
    return save_figure(fig, path)


def switch_rounds(dataset: str, summary: pd.DataFrame, trials: pd.DataFrame, path: Path) -> Optional[Path]:
    """Counts of HybridAL (deltaf1) trials per configuration x switch round, "never" last.

    `trials` are the finished trials (one row each, with ``config_id`` and ``switch_round``).
    Returns None when the dataset has no deltaf1 trials.
    """
    cfgs = summary[summary["strategy"] == "deltaf1"].sort_values(["epsilon", "k"], na_position="last")
    t = trials[trials["config_id"].isin(set(cfgs["config_id"]))]
    if not len(t):
        return None
    seen = [int(r) for r in t["switch_round"].dropna()]
    cols = [str(r) for r in (range(min(seen), max(seen) + 1) if seen else [])] + ["never"]
    counts = np.zeros((len(cfgs), len(cols)), dtype=int)
    for i, cid in enumerate(cfgs["config_id"]):
        for sr in t.loc[t["config_id"] == cid, "switch_round"]:
            counts[i, cols.index("never" if pd.isna(sr) else str(int(sr)))] += 1
    labels = [lbl.replace("deltaf1", "", 1).strip() or "deltaf1" for lbl in cfgs["config"]]
    fig, ax = new_figure(figsize=(max(6.0, 1.6 + 0.55 * len(cols)), max(2.6, 1.4 + 0.42 * len(cfgs))))
    ax.imshow(counts, cmap="Reds", aspect="auto", vmin=0, vmax=max(1, counts.max()))
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                dark = counts[i, j] > 0.6 * counts.max()
                ax.text(
                    j, i, str(counts[i, j]), ha="center", va="center", fontsize=9, color="white" if dark else "black"
                )
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(labels)), labels)
    ax.axvline(len(cols) - 1.5, color="black", lw=1.2)
    ax.set_title(f"{dataset}: HybridAL switch round per configuration (trials per cell)", fontsize=12)
    ax.set_xlabel("switch round (first round trained with the cheaper strategy)", fontsize=10)
    ax.set_ylabel("deltaf1 configuration", fontsize=10)
    ax.set_xticks(np.arange(-0.5, len(cols), 1), minor=True)
    ax.set_yticks(np.arange(-0.5, len(labels), 1), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    return save_figure(fig, path)
