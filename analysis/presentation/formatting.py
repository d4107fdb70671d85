"""How the report writes numbers: F1, intervals, percentages, points, FLOPs, seconds."""

from __future__ import annotations

import math

import pandas as pd


def has_value(x) -> bool:
    """False for None, NaN, pd.NA and infinities: what the report shows as "–"."""
    return x is not None and not pd.isna(x) and not (isinstance(x, float) and math.isinf(x))


def f3(x) -> str:
    return f"{x:.3f}" if has_value(x) else "–"


def _interval(mean, half, spec: str, unit: str = "") -> str:
    """`mean` in format `spec` (with `unit`) ± the half-width, or the mean alone where the interval is undefined."""
    if not has_value(mean):
        return "–"
    text = f"{mean:{spec}}{unit}"
    return f"{text} ± {half:{spec.lstrip('+')}}" if has_value(half) else text


def pm(mean, half) -> str:
    """An F1 (or accuracy, AULC) ± its interval: ``0.812 ± 0.010``."""
    return _interval(mean, half, ".3f")


def percent_pm(mean, half) -> str:
    """A percentage ± its interval (``48% ± 1``); `half` None or NaN: the percentage alone."""
    return _interval(mean, half, ".0f", "%")


def points_pm(mean, half) -> str:
    """Signed F1 points ± their interval (``-0.57 ± 0.93``)."""
    return _interval(mean, half, "+.2f")


def ratio(x) -> str:
    """A ratio of costs: ``0.52×``."""
    return f"{x:.2f}×" if has_value(x) else "–"


def flops(x) -> str:
    if not has_value(x):
        return "–"
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    return f"{x / 10**e:.2f}e{e}"


def seconds(x) -> str:
    if not has_value(x):
        return "–"
    if x < 120:
        return f"{x:.1f} s"
    if x < 7200:
        return f"{x / 60:.1f} min"
    return f"{x / 3600:.2f} h"


def points(x) -> str:
    return f"{x:+.2f}" if has_value(x) else "–"


def count(x) -> str:
    """A count (labels, rows): a whole number with thousands separators; a non-whole seed mean keeps one decimal."""
    if not has_value(x):
        return "–"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def f1_name(dataset) -> str:
    """The F1 a dataset's `val_f1`/`test_f1` hold: macro-F1, or a multi-label run's monitored metric."""
    return "monitored F1" if str(dataset).endswith(" (multi-label)") else "macro-F1"


def f1_points(datasets) -> str:
    """What an F1 point is in the tables of `datasets`: 100 × macro-F1, or, where a dataset is multi-label,
    its run's monitored metric (analysis.reading.trial_as_read.MULTI_LABEL_SUFFIX; docs/multilabel.md)."""
    if any(str(d).endswith(" (multi-label)") for d in datasets):
        return "100 × F1: macro-F1, or the monitored metric (micro-F1 by default) of a multi-label dataset"
    return "100 × macro-F1"
