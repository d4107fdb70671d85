"""The report's figures (PNG, matplotlib Agg), one set per dataset, one colour per strategy."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from analysis.presentation.atomic_files import atomic_path  # noqa: E402
from analysis.statistics.frontier import (FRONT_COST, FRONT_F1, ROUND_FRONT_COST, ROUND_FRONT_F1,  # noqa: E402
                                          pareto_mask)

STRATEGY_COLORS = {
    "retrain": "#1f77b4",   # blue
    "finetune": "#ff7f0e",  # orange
    "new_only": "#2ca02c",  # green
    "deltaf1": "#d62728",   # red
}
_EXTRA_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
STRATEGY_ORDER = ("retrain", "finetune", "new_only", "deltaf1")
DPI = 110


def strategy_color(strategy: Optional[str]) -> str:
    """A fixed colour per strategy; unknown names get a stable colour of their own."""
    if strategy in STRATEGY_COLORS:
        return STRATEGY_COLORS[strategy]
    return _EXTRA_COLORS[sum(map(ord, str(strategy))) % len(_EXTRA_COLORS)]


# Marker, line style and width per strategy, so that curves which coincide stay visible: a
# HybridAL run that never switches is retrain, and its dashed line lies on retrain's wide one.
STRATEGY_LINES = {
    "retrain": dict(marker="o", ls="-", width=1.8),
    "finetune": dict(marker="s", ls="-", width=1.0),
    "new_only": dict(marker="^", ls="-", width=1.0),
    "deltaf1": dict(marker="D", ls="--", width=1.0),
}
_OTHER_LINE = dict(marker="v", ls="-.", width=1.0)


def strategy_line(strategy: Optional[str], lw: float, ms: float) -> dict:
    """matplotlib keywords for a strategy's lines: marker, linestyle and scaled widths."""
    style = STRATEGY_LINES.get(strategy, _OTHER_LINE)
    return dict(color=strategy_color(strategy), marker=style["marker"], ls=style["ls"],
                lw=lw * style["width"], ms=ms * (1.4 if style["width"] > 1 else 1.0))


def _strategies(values) -> list[str]:
    present = [s for s in pd.unique(pd.Series(values, dtype=object)) if s is not None and not pd.isna(s)]
    return [s for s in STRATEGY_ORDER if s in present] + sorted(str(s) for s in present if s not in STRATEGY_ORDER)


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _style(ax, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=12)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def _legend(ax, handles, **kw) -> None:
    if handles:
        ax.legend(handles=handles, fontsize=8, framealpha=0.9, **kw)


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
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    best = _best_per_strategy(summary)
    handles = []
    thin_done = set()
    for strategy in _strategies(summary["strategy"]):
        color = strategy_color(strategy)
        sg = summary[summary["strategy"] == strategy]
        for _, cfg in sg.iterrows():
            c = curves[(curves["config_id"] == cfg["config_id"]) & curves["test_f1_mean"].notna()].sort_values("n_labeled")
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
            handles.append(Line2D([], [], color=color, lw=0.9, alpha=0.5,
                                  label=f"{n_other} other {strategy} config{'s' if n_other != 1 else ''}"))
    _style(ax, f"{dataset}: test macro-F1 vs labels (mean ± 1 std over seeds)",
           "labeled examples (count)", "test macro-F1")
    _legend(ax, handles, loc="best", title="bold: best per strategy by validation F1", title_fontsize=8)
    return _save(fig, path)


def f1_vs_flops(dataset: str, summary: pd.DataFrame, curves: pd.DataFrame, path: Path) -> Path:
    """Per-round seed-mean validation F1 (what the front is chosen on) against the cumulative AL cost
    (training + scoring + policy FLOPs), with the Pareto front over all (configuration, round) points as a staircase."""
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    pts = curves[curves[ROUND_FRONT_F1].notna() & (curves[ROUND_FRONT_COST] > 0)]
    handles = []
    few = len(summary) <= 5  # few lines: draw them boldly; many: keep the front readable on top
    for strategy in _strategies(summary["strategy"]):
        line = strategy_line(strategy, lw=1.8 if few else 1.0, ms=5 if few else 3)
        for cid in summary.loc[summary["strategy"] == strategy, "config_id"]:
            c = pts[pts["config_id"] == cid].sort_values("round")
            ax.plot(c[ROUND_FRONT_COST], c[ROUND_FRONT_F1], alpha=0.9 if few else 0.55, zorder=2, **line)
        handles.append(Line2D([], [], **line, label=strategy))
    if len(pts):
        front = pts[pareto_mask(pts[ROUND_FRONT_COST], pts[ROUND_FRONT_F1])].sort_values(ROUND_FRONT_COST)
        fx, fy = front[ROUND_FRONT_COST].to_numpy(float), front[ROUND_FRONT_F1].to_numpy(float)
        ax.plot(np.r_[fx, pts[ROUND_FRONT_COST].max()], np.r_[fy, fy[-1]], drawstyle="steps-post",
                color="black", lw=1.6, zorder=3)
        ax.scatter(fx, fy, s=40, facecolors="none", edgecolors="black", lw=1.3, zorder=4)
        handles.append(Line2D([], [], color="black", lw=1.6, marker="o", mfc="none",
                              label="Pareto front on validation F1 (all rounds)"))
    ax.set_xscale("log")
    _pad_log_x(ax, pts[ROUND_FRONT_COST])
    _style(ax, f"{dataset}: validation macro-F1 vs cumulative AL FLOPs (per round, seed means)",
           "cumulative AL FLOPs: training + scoring + policy (log scale)", "validation macro-F1 (the front's F1)")
    _legend(ax, handles, loc="lower right")
    return _save(fig, path)


def final_scatter(dataset: str, summary: pd.DataFrame, pareto: pd.Series, path: Path) -> Path:
    """Final validation F1 (what the Pareto set is chosen on) against the AL cost (FLOPs) per
    configuration (seed means, ±1 std bars), the Pareto set ringed, joined and named with its
    test F1 beside it."""
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    handles = []
    ok = summary[summary[FRONT_F1].notna() & (summary[FRONT_COST] > 0)]
    for strategy in _strategies(ok["strategy"]):
        g = ok[ok["strategy"] == strategy]
        line = strategy_line(strategy, lw=1.0, ms=7)
        ax.errorbar(g[FRONT_COST], g[FRONT_F1],
                    yerr=np.nan_to_num(g["final_val_f1_std"].to_numpy(float)), fmt=line["marker"],
                    color=line["color"], ms=line["ms"], alpha=0.85, elinewidth=1, capsize=2, zorder=3)
        handles.append(Line2D([], [], color=line["color"], marker=line["marker"], ms=line["ms"] * 0.8, ls="", label=strategy))
    front = ok[pareto.reindex(ok.index).fillna(False).astype(bool)].sort_values(FRONT_COST)
    if len(front):
        fx, fy = front[FRONT_COST].to_numpy(float), front[FRONT_F1].to_numpy(float)
        ax.plot(np.r_[fx, ok[FRONT_COST].max()], np.r_[fy, fy[-1]], drawstyle="steps-post",
                color="black", lw=1.3, zorder=2)
        ax.scatter(fx, fy, s=150, facecolors="none", edgecolors="black", lw=1.6, zorder=4)
        # number the Pareto points and name them in a key beside the axes: long names never collide
        # configurations at the same point (e.g. a HybridAL run that never switched, and retrain)
        # share one label, "4,5", instead of printing on top of each other
        numbers: dict[tuple[float, float], list[str]] = {}
        for i, (x, y) in enumerate(zip(fx, fy), start=1):
            numbers.setdefault((x, y), []).append(str(i))
        for (x, y), ids in numbers.items():
            ax.annotate(",".join(ids), (x, y), xytext=(-4, 9), textcoords="offset points", fontsize=9,
                        fontweight="bold", ha="right", zorder=5)
        key = "\n".join(f"{i}  {name} (test {_f1(test)})"
                        for i, (name, test) in enumerate(zip(front["config"], front["final_test_f1_mean"]), start=1))
        ax.text(1.02, 1.0, "Pareto set on validation F1 (cheapest first)\n" + key, transform=ax.transAxes, va="top", ha="left",
                fontsize=8, family="monospace", bbox=dict(boxstyle="round", fc="white", ec="#999"))
        handles.append(Line2D([], [], color="black", marker="o", mfc="none", ms=10, lw=1.3,
                              label="Pareto set (validation F1)"))
    ax.set_xscale("log")
    _pad_log_x(ax, ok[FRONT_COST])
    _style(ax, f"{dataset}: final validation macro-F1 vs AL FLOPs (seed means ± 1 std)",
           "AL FLOPs per run: training + scoring + policy (log scale)", "final validation macro-F1 (the front's F1)")
    _legend(ax, handles, loc="lower right")
    return _save(fig, path)


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
        m = v / 10 ** e
        return f"${round(m)}\\times10^{{{e}}}$" if abs(m - round(m)) < 1e-6 and round(m) in (2, 5) else ""

    ax.xaxis.set_minor_formatter(FuncFormatter(minor))


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
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 + 0.55 * len(cols)), max(2.6, 1.4 + 0.42 * len(cfgs))))
    ax.imshow(counts, cmap="Reds", aspect="auto", vmin=0, vmax=max(1, counts.max()))
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                dark = counts[i, j] > 0.6 * counts.max()
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=9,
                        color="white" if dark else "black")
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
    return _save(fig, path)


def savings_plane(paired: pd.DataFrame, headline: pd.DataFrame, path: Path) -> Optional[Path]:
    """One panel per dataset (and sampler): every configuration's AL FLOPs saved against retrain (x)
    and its test-F1 difference (y), both paired by seed (mean ± 95% interval); retrain is the
    origin, the configurations the headline chose on validation are ringed."""
    groups = [(k, g) for k, g in paired.groupby(["dataset", "sampler"], sort=True) if g["n_paired"].max() > 0]
    if not groups:
        return None
    cols = min(3, len(groups))
    rows = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.3 * rows), squeeze=False)
    chosen = set(headline.loc[(headline["role"] != "retrain") & headline["config"].notna(),
                              ["dataset", "sampler", "config"]].itertuples(index=False, name=None))
    for ax, ((ds, sampler), g) in zip(axes.flat, groups):
        for strategy in _strategies(g["strategy"]):
            p = g[g["strategy"] == strategy]
            line = strategy_line(strategy, lw=1.0, ms=6)
            ax.errorbar(p["flops_saved_pct_mean"], p["test_gap_points_mean"],
                        xerr=np.nan_to_num(p["flops_saved_pct_ci95"].to_numpy(float)),
                        yerr=np.nan_to_num(p["test_gap_points_ci95"].to_numpy(float)), fmt=line["marker"],
                        color=line["color"], ms=line["ms"], alpha=0.8, elinewidth=0.8, capsize=2, label=strategy)
        ring = g[[(ds, sampler, c) in chosen for c in g["config"]]]
        ax.scatter(ring["flops_saved_pct_mean"], ring["test_gap_points_mean"], s=160, facecolors="none",
                   edgecolors="black", lw=1.5, zorder=4, label="chosen on validation")
        ax.plot([0], [0], marker="o", color=strategy_color("retrain"), ms=9, ls="", label="retrain (reference)")
        ax.axhline(0, color="#555", lw=0.8)
        ax.axvline(0, color="#555", lw=0.8)
        n = int(g["n_paired"].max())
        _style(ax, f"{ds} ({sampler}, {n} seeds)", "AL FLOPs saved vs retrain (%)",
               "test macro-F1 vs retrain (points)")
        ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    fig.suptitle("What each strategy saves and what it costs in test F1, against retrain (paired by seed, mean ± 95% CI)",
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
