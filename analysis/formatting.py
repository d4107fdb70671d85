"""How the report writes numbers: F1, intervals, percentages, points, FLOPs, seconds."""
from __future__ import annotations

import math

import pandas as pd


def _ok(x) -> bool:
    return x is not None and not pd.isna(x) and not (isinstance(x, float) and math.isinf(x))


def f3(x) -> str:
    return f"{x:.3f}" if _ok(x) else "–"


def _interval(mean, half, spec: str, unit: str = "") -> str:
    """`mean` in format `spec` (with `unit`) ± the half-width, or the mean alone where the interval is undefined."""
    if not _ok(mean):
        return "–"
    text = f"{mean:{spec}}{unit}"
    return f"{text} ± {half:{spec.lstrip('+')}}" if _ok(half) else text


def pm(mean, half) -> str:
    return _interval(mean, half, ".3f")


def flops(x) -> str:
    if not _ok(x):
        return "–"
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    return f"{x / 10 ** e:.2f}e{e}"


def seconds(x) -> str:
    if not _ok(x):
        return "–"
    if x < 120:
        return f"{x:.1f} s"
    if x < 7200:
        return f"{x / 60:.1f} min"
    return f"{x / 3600:.2f} h"


def points(x) -> str:
    return f"{x:+.2f}" if _ok(x) else "–"


def plot_name(dataset: str, kind: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(dataset))
    return f"plots/{safe}_{kind}.png"


def _ratio(x) -> str:
    return f"{x:.2f}×" if _ok(x) else "–"


def _pct(mean, half) -> str:
    return _interval(mean, half, ".0f", "%")


def _pts(mean, half) -> str:
    return _interval(mean, half, "+.2f")


def count(x) -> str:
    """A count (labels, rows): a whole number with thousands separators; a seed mean that is not whole keeps one decimal."""
    if not _ok(x):
        return "–"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"
