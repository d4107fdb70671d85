"""The validation metric's per-seed noise, printed beside the tolerance the choices use.

"Within the tolerance of retrain" (``--tolerance``, 0.5 validation-F1 points by default) is a
test on one validation set per seed; a tolerance far below that set's sampling noise separates
configurations by noise. The records keep no per-row predictions, so the noise is the analytic
binomial standard error of a proportion measured on n rows, applied to F1:
SE ≈ sqrt(F1 (1 − F1) / n), with n the validation rows and F1 retrain's mean final validation
macro-F1. It is approximate for macro-F1: exact for accuracy, close for balanced classes, and an
underestimate where a small class carries half the macro average (its F1 rests on its own few
rows). The between-seed standard deviation of retrain's final validation F1 is shown beside it:
it adds training noise and the seeds' different validation draws.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.statistics.seed_pairing import per_seed

NOISE_COLUMNS = [
    "dataset",
    "sampler",
    "baseline",
    "validation_rows",
    "val_f1_mean",
    "se_points",
    "seed_std_points",
    "tolerance_points",
    "tolerance_below_noise",
]
SE_FORMULA = "sqrt(F1 (1 − F1) / n)"


def binomial_se_points(f1: float, n: float) -> float:
    """100 × sqrt(F1 (1 − F1) / n): the binomial standard error of a proportion, in F1 points (NaN if unknown)."""
    if not (n and n > 0) or f1 is None or math.isnan(f1) or math.isnan(n):
        return math.nan
    return 100.0 * math.sqrt(max(f1 * (1.0 - f1), 0.0) / n)


def noise_table(summary: pd.DataFrame, used: pd.DataFrame, tolerance_points: float) -> pd.DataFrame:
    """Per retrain configuration: validation rows, per-seed SE, seed std and whether the tolerance is below the SE."""
    rows = []
    for _, r in summary[summary["strategy"] == "retrain"].sort_values(["dataset", "config"]).iterrows():
        n = per_seed(used, r["dataset"], r["config_id"], "validation_rows").median()
        se = binomial_se_points(r["final_val_f1_mean"], n)
        rows.append(
            {
                "dataset": r["dataset"],
                "sampler": r["sampler"],
                "baseline": r["config"],
                "validation_rows": n,
                "val_f1_mean": r["final_val_f1_mean"],
                "se_points": se,
                "seed_std_points": 100.0 * r["final_val_f1_std"],
                "tolerance_points": tolerance_points,
                "tolerance_below_noise": bool(tolerance_points < se) if not math.isnan(se) else False,
            }
        )
    return pd.DataFrame(rows, columns=NOISE_COLUMNS)
