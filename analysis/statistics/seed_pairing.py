"""Two configurations compared seed by seed: the per-seed values of one, and paired differences.

A seed fixes the splits, the initial pool and the sampler's randomness, so differences taken
seed by seed remove the variation the seeds share; every paired figure in the report (choices,
headline, switches, samplers, noise) is taken here, over the seeds both configurations finished.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.statistics.seed_aggregation import mean_std_ci


def per_seed(used: pd.DataFrame, dataset: str, config_id: str, column: str) -> pd.Series:
    """One configuration's per-seed values of `column` (index: seed)."""
    t = used[(used["dataset"] == dataset) & (used["config_id"] == config_id) & used["seed"].notna()]
    return pd.Series(t[column].astype(float).to_numpy(), index=t["seed"].astype(int).to_numpy())


def paired_differences(used: pd.DataFrame, dataset: str, a: str, b: str, column: str, how: str) -> pd.Series:
    """Per seed both ran (index: seed), `how` applied to (a's value, b's value) of `column`.

    `how`: "points" = 100 (a − b) (F1 differences in points); "saved_pct" = 100 (1 − a / b)
    (FLOPs saved by a against b, in percent); "saved" = b − a (e.g. labels saved by a).
    """
    x, y = per_seed(used, dataset, a, column), per_seed(used, dataset, b, column)
    common = x.index.intersection(y.index)
    x, y = x[common], y[common]
    if how == "points":
        return 100.0 * (x - y)
    if how == "saved_pct":
        return 100.0 * (1.0 - x / y.replace(0, np.nan))
    if how == "saved":
        return y - x
    raise ValueError(f"how is {how!r}; allowed: points, saved_pct, saved.")


def paired(used: pd.DataFrame, dataset: str, a: str, b: str, column: str, how: str) -> tuple[float, float, int]:
    """Mean, 95% half-width and n over the seeds both ran of `how` applied to (a's value, b's value)
    (paired_differences)."""
    mean, _, ci, n = mean_std_ci(paired_differences(used, dataset, a, b, column, how).tolist())
    return mean, ci, n
