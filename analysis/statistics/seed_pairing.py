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


def paired(used: pd.DataFrame, dataset: str, a: str, b: str, column: str, how: str) -> tuple[float, float, int]:
    """Mean, 95% half-width and n over the seeds both ran of `how` applied to (a's value, b's value).

    `how`: "points" = 100 (a − b) (F1 differences in points); "saved_pct" = 100 (1 − a / b)
    (FLOPs saved by a against b, in percent).
    """
    x, y = per_seed(used, dataset, a, column), per_seed(used, dataset, b, column)
    common = x.index.intersection(y.index)
    x, y = x[common], y[common]
    diff = 100.0 * (x - y) if how == "points" else 100.0 * (1.0 - x / y.replace(0, np.nan))
    mean, _, ci, n = mean_std_ci(diff.tolist())
    return mean, ci, n
