"""How the report's figures look and are saved: the Agg backend, one colour, marker and line style per
strategy (in a fixed order), the axes' titles, grid and legend, and the atomic PNG write."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.presentation.atomic_files import atomic_path  # noqa: E402

STRATEGY_COLORS = {
    "retrain": "#1f77b4",  # blue
    "finetune": "#ff7f0e",  # orange
    "new_only": "#2ca02c",  # green
    "deltaf1": "#d62728",  # red
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
    return dict(
        color=strategy_color(strategy),
        marker=style["marker"],
        ls=style["ls"],
        lw=lw * style["width"],
        ms=ms * (1.4 if style["width"] > 1 else 1.0),
    )


def strategies_present(values) -> list[str]:
    """The strategies among `values`, the known ones in STRATEGY_ORDER first, then the others sorted."""
    present = [s for s in pd.unique(pd.Series(values, dtype=object)) if s is not None and not pd.isna(s)]
    return [s for s in STRATEGY_ORDER if s in present] + sorted(str(s) for s in present if s not in STRATEGY_ORDER)


def new_figure(*args, **kwargs):
    """``plt.subplots`` on the Agg backend: (figure, axes)."""
    return plt.subplots(*args, **kwargs)


def save_figure(fig, path: Path) -> Path:
    """Write `fig` to `path` as a PNG, atomically, and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def style_axes(ax, title: str, xlabel: str, ylabel: str) -> None:
    """Title, axis labels and a light major and minor grid."""
    ax.set_title(title, fontsize=12)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def add_legend(ax, handles, **kw) -> None:
    """A small legend of `handles`, if there are any."""
    if handles:
        ax.legend(handles=handles, fontsize=8, framealpha=0.9, **kw)
