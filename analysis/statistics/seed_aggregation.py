"""Seed aggregation: mean, std and 95% t-interval per dataset x configuration, and mean learning curves.

Conventions:
- 95% CI: half-width t(0.975, n-1) * std / sqrt(n) with the sample std (ddof=1); n = 1 gives
  NaN std and CI (a single seed is a smoke test, not a finding).
- A switch round is averaged over the trials that switched; ``switched`` counts them.
- Only finished trials with rounds enter (`trial_metrics.finished_unique`).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from analysis.reading.configuration import GROUP_COLUMNS, SETTINGS, setting_columns
from analysis.reading.problems import ProblemLog
from analysis.statistics.config_labels import config_labels
from analysis.statistics.trial_metrics import METRICS, finished_unique

# t(0.975, df) for df = 1..30, used when scipy is not installed.
_T975 = (
    12.7062,
    4.3027,
    3.1824,
    2.7764,
    2.5706,
    2.4469,
    2.3646,
    2.3060,
    2.2622,
    2.2281,
    2.2010,
    2.1788,
    2.1604,
    2.1448,
    2.1314,
    2.1199,
    2.1098,
    2.1009,
    2.0930,
    2.0860,
    2.0796,
    2.0739,
    2.0687,
    2.0639,
    2.0595,
    2.0555,
    2.0518,
    2.0484,
    2.0452,
    2.0423,
)


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (NaN for df < 1)."""
    if df < 1:
        return math.nan
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, df))
    except ImportError:
        pass
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959963984540054  # Cornish-Fisher expansion, accurate to 1e-4 beyond df = 30
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def mean_std_ci(values: Sequence[float]) -> tuple[float, float, float, int]:
    """Mean, sample std, 95% t-interval half-width and n of the non-NaN values."""
    x = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    std = float(x.std(ddof=1))
    return mean, std, t975(n - 1) * std / math.sqrt(n), n


def seed_summary(metrics: pd.DataFrame, problems: Optional[ProblemLog] = None) -> pd.DataFrame:
    """Per dataset x configuration, over seeds of finished trials: mean, std, ci95, n per metric."""
    fin = finished_unique(metrics, problems)
    varying = setting_columns(metrics)  # the settings that vary in the sweep, finished or not
    rows = []
    for (_, _), g in fin.groupby(["dataset", "config_id"], sort=True, dropna=False):
        first = g.iloc[0]
        row = {c: first.get(c) for c in (*GROUP_COLUMNS, *varying, SETTINGS)} | {"config_id": first["config_id"]}
        seeds = sorted(int(s) if float(s).is_integer() else s for s in g["seed"].dropna())
        row["n_seeds"] = len(g)
        row["seeds"] = ",".join(str(s) for s in seeds)
        for m in METRICS:
            mean, std, ci, n = mean_std_ci(g[m].tolist())
            row |= {f"{m}_mean": mean, f"{m}_std": std, f"{m}_ci95": ci, f"{m}_n": n}
        row["switched"] = int(g["switch_round"].notna().sum())
        deg = g["ended_degenerate"]
        row["degenerate_seeds"] = int(deg.fillna(False).sum()) if deg.notna().any() else math.nan
        row["trials"] = ";".join(g["trial"])
        rows.append(row)
    metric_cols = [f"{m}_{s}" for m in METRICS for s in ("mean", "std", "ci95", "n")]
    cols = [
        "dataset",
        *[c for c in GROUP_COLUMNS if c != "dataset"],
        *varying,
        SETTINGS,
        "config_id",
        "n_seeds",
        "seeds",
        *metric_cols,
        "switched",
        "degenerate_seeds",
        "trials",
    ]
    out = pd.DataFrame(rows, columns=cols)
    for c in metric_cols:
        out[c] = out[c].astype("int64" if c.endswith("_n") else "float64")
    out.insert(1, "config", config_labels(out) if len(out) else pd.Series(dtype=object))
    return out.reset_index(drop=True)


def mean_curves(rounds: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x configuration x round, over the `used` trials: mean labels, F1 and FLOPs.

    Seeds are aligned by round index (every seed of a configuration follows the same label
    schedule); a round some seeds did not test is averaged over those that did.
    """
    cols = [
        "dataset",
        "config_id",
        "strategy",
        "round",
        "n_trials",
        "n_labeled",
        "labels_used",
        "test_f1_mean",
        "test_f1_std",
        "test_f1_n",
        "val_f1_mean",
        "cum_train_flops",
        "cum_total_flops",
    ]
    ids = dict(zip(used["trial"], used["config_id"]))
    r = rounds[rounds["trial"].isin(ids.keys())]
    if not len(r):
        return pd.DataFrame(columns=cols)
    r = r.assign(config_id=r["trial"].map(ids))
    g = r.groupby(["dataset", "config_id", "round"], sort=True, dropna=False)
    out = pd.DataFrame(
        {
            "strategy": g["strategy"].first(),
            "n_trials": g["trial"].nunique(),
            "n_labeled": g["n_labeled"].mean().astype(float),
            "test_f1_mean": g["test_f1"].mean(),
            "test_f1_std": g["test_f1"].std(ddof=1),
            "test_f1_n": g["test_f1"].count(),
            "val_f1_mean": g["val_f1"].mean(),
            "cum_train_flops": g["cum_train_flops"].mean(),
            "cum_total_flops": g["cum_total_flops"].mean(),
            "labels_used": g["labels_used"].mean().astype(float),
        }
    ).reset_index()
    return out[cols]
