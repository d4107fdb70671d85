"""A study's pre-registered comparisons (analysis/reading/protocol.py), named arm against named arm,
paired by seed, each with its 95% t-interval and a verdict that says "not resolved" where the
interval is too wide to decide.

Final quality is the final test F1 on the full test split. Comparisons between rounds of one run use
validation F1: the same 500 rows every round, never trained on, while the per-round test F1 is on a
subsample until the last round, which is measured on the full split (two different test sets).

Three tables, per dataset:
- ``arms``: every arm's final test F1, AULC and costs, and against the reference arm, paired by seed:
  Δ test F1, Δ AULC (points), AL FLOPs saved (%), labels saved, and non-inferiority at the margin;
- ``targets``: labels used and AL FLOPs when an arm's validation F1 first reaches a fraction of the
  reference's final validation F1 (the same seed's), and the difference to the reference's own;
- ``stopping`` (analysis/statistics/preregistered_stopping.py): per arm and stopping criterion, had the
  run stopped where the criterion said, against the same run's end: labels and AL FLOPs saved net of
  what the criterion itself reads (every round's stop-set pass, or the validation pass and labels,
  where the run's own policy does not already pay for them; a criterion that never fires only
  costs), and validation F1 given up.
The findings built on them are in analysis/statistics/preregistered_findings.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from analysis.reading.problems import ProblemLog
from analysis.reading.protocol import Protocol
from analysis.statistics.seed_aggregation import mean_std_ci
from analysis.statistics.seed_pairing import paired_differences, per_seed

ARM_MARK = "-arm-"  # a named arm's trial: <dataset>-arm-<arm>-s<seed> (sweeps/trial_names.py)
ONE_SEED = "one seed: no interval"


def arm_of(trial: str, seed: object) -> Optional[str]:
    """The named arm a trial ran, from its name; None for a trial of the grid's axes."""
    name = str(trial).rsplit("/", 1)[-1]
    try:
        suffix = f"-s{int(float(str(seed)))}"
    except ValueError:
        return None
    if ARM_MARK not in name or not name.endswith(suffix):
        return None
    return name[: -len(suffix)].split(ARM_MARK, 1)[1] or None


@dataclass(frozen=True)
class Interval:
    """A paired mean and its 95% t-interval over n seeds (half-width NaN with one seed)."""

    mean: float
    half: float
    n: int

    @property
    def lo(self) -> float:
        return self.mean - self.half

    @property
    def hi(self) -> float:
        return self.mean + self.half

    @classmethod
    def of(cls, values: pd.Series) -> "Interval":
        mean, _, half, n = mean_std_ci(values.tolist())
        return cls(mean, half, n)

    @classmethod
    def bonferroni(cls, values: pd.Series, comparisons: int) -> "Interval":
        """The t-interval at family-wise 95% over `comparisons` intervals (each at 1 − 0.05 / comparisons)."""
        from scipy.stats import t  # scikit-learn's own dependency

        mean, std, _, n = mean_std_ci(values.tolist())
        half = float(t.ppf(1 - 0.025 / comparisons, n - 1)) * std / math.sqrt(n) if n > 1 else math.nan
        return cls(mean, half, n)


def non_inferiority(d: Interval, margin: float) -> str:
    """Verdict on Δ (points) against −margin."""
    if d.n < 2:
        return ONE_SEED
    if d.lo > -margin:
        return "non-inferior"
    return "inferior" if d.hi < -margin else "not resolved"


def difference(d: Interval) -> str:
    """Verdict on Δ (points) against 0."""
    if d.n < 2:
        return ONE_SEED
    if d.lo > 0:
        return "better"
    return "worse" if d.hi < 0 else "not resolved"


def given_up(d: Interval, margin: float) -> str:
    """Verdict on F1 given up (points) against the margin."""
    if d.n < 2:
        return ONE_SEED
    if d.hi < margin:
        return "within the margin"
    return "more than the margin" if d.lo > margin else "not resolved"


def named_arms(used: pd.DataFrame, problems: ProblemLog) -> pd.DataFrame:
    """The finished trials of named arms, with an "arm" column; an arm that is several configurations
    within one dataset is noted and left out (its trials would not be one arm)."""
    arms = [arm_of(t, s) for t, s in zip(used["trial"], used["seed"])]
    out = used.assign(arm=arms).dropna(subset=["arm"])
    keep = []
    for (ds, arm), g in out.groupby(["dataset", "arm"], sort=True):
        if g["config_id"].nunique() > 1:
            problems.add(f"dataset {ds}: arm {arm} ran {g['config_id'].nunique()} configurations; left out")
        else:
            keep.append(g)
    return pd.concat(keep) if keep else out.iloc[0:0]


def _config(runs: pd.DataFrame, ds: str, arm: str) -> str:
    """The configuration an arm ran on a dataset (named_arms keeps only arms that ran one)."""
    ids = runs.loc[(runs["dataset"] == ds) & (runs["arm"] == arm), "config_id"]
    return str(ids.iloc[0]) if len(ids) else ""


def _by_seed(runs: pd.DataFrame, ds: str, arm: str, column: str) -> pd.Series:
    return per_seed(runs, ds, _config(runs, ds, arm), column)


def paired_points(runs: pd.DataFrame, ds: str, a: str, b: str, column: str, comparisons: int = 1) -> Interval:
    """a − b in points over the seeds both ran; with `comparisons` > 1 its Bonferroni interval."""
    d = paired_differences(runs, ds, _config(runs, ds, a), _config(runs, ds, b), column, "points")
    return Interval.bonferroni(d, comparisons) if comparisons > 1 else Interval.of(d)


def paired_saved_pct(runs: pd.DataFrame, ds: str, a: str, b: str, column: str) -> Interval:
    """AL FLOPs (or another cost) saved by a against b, percent, over the seeds both ran."""
    return Interval.of(paired_differences(runs, ds, _config(runs, ds, a), _config(runs, ds, b), column, "saved_pct"))


def mean_saved(runs: pd.DataFrame, ds: str, a: str, b: str, column: str) -> float:
    """b − a (labels saved by a), mean over the seeds both ran; NaN where none."""
    d = paired_differences(runs, ds, _config(runs, ds, a), _config(runs, ds, b), column, "saved")
    return float(d.mean()) if len(d) else math.nan


def arms_table(runs: pd.DataFrame, p: Protocol) -> pd.DataFrame:
    """Per dataset x arm: seed means and, against the reference arm, paired differences and the verdict."""
    rows = []
    for (ds, arm), g in runs.groupby(["dataset", "arm"], sort=True):
        f1, aulc = Interval.of(g["final_test_f1"].astype(float)), Interval.of(g["aulc"].astype(float))
        row = {
            "dataset": ds,
            "arm": arm,
            "config": g["config"].iloc[0],
            "exploratory": ds in p.exploratory,
            "seeds": " ".join(str(int(s)) for s in sorted(g["seed"])),
            "n_seeds": len(g),
            "test_f1_mean": f1.mean,
            "test_f1_ci95": f1.half,
            "aulc_mean": aulc.mean,
            "aulc_ci95": aulc.half,
            "labels_used_mean": float(g["labels_used"].mean()),
            "al_flops_mean": float(g["total_flops"].mean()),
            "train_flops_mean": float(g["total_train_flops"].mean()),
            "wall_seconds_mean": float(g["wall_seconds"].mean()),
            "switched": int(g["switch_round"].notna().sum()),
        }
        has_reference = arm != p.reference and ((runs["dataset"] == ds) & (runs["arm"] == p.reference)).any()
        d = (
            paired_points(runs, ds, arm, p.reference, "final_test_f1")
            if has_reference
            else Interval(math.nan, math.nan, 0)
        )
        da = paired_points(runs, ds, arm, p.reference, "aulc") if has_reference else d
        saved = paired_saved_pct(runs, ds, arm, p.reference, "total_flops") if has_reference else d
        row |= {
            "n_paired": d.n,
            "d_test_f1_points_mean": d.mean,
            "d_test_f1_points_lo": d.lo,
            "d_test_f1_points_hi": d.hi,
            "d_aulc_points_mean": da.mean,
            "d_aulc_points_lo": da.lo,
            "d_aulc_points_hi": da.hi,
            "al_flops_saved_pct_mean": saved.mean,
            "al_flops_saved_pct_ci95": saved.half,
            "labels_saved_mean": mean_saved(runs, ds, arm, p.reference, "labels_used") if has_reference else math.nan,
            "verdict": non_inferiority(d, p.margin_points) if has_reference else "",
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _first_reach(curve: pd.DataFrame, target: float) -> tuple[float, float]:
    """(labels used, AL FLOPs) at the first round whose validation F1 reaches `target`; inf where none does."""
    hit = curve[curve["val_f1"].astype(float) >= target]
    if not len(hit):
        return math.inf, math.inf
    first = hit.sort_values("round").iloc[0]
    return float(first["labels_used"]), float(first["cum_total_flops"])


def _median(values: list[float]) -> float:
    """Median where a seed that never reached counts as infinite; NaN if half or more never reached."""
    m = float(np.median(values)) if values else math.nan
    return m if math.isfinite(m) else math.nan


def targets_table(runs: pd.DataFrame, rounds: pd.DataFrame, p: Protocol) -> pd.DataFrame:
    """Per dataset x arm x target: when the arm's validation F1 first reaches target x the reference's final
    validation F1 (same seed), and against the reference's own, paired by seed over the seeds both reached."""
    rows = []
    curves = rounds[rounds["trial"].isin(runs["trial"]) & rounds["val_f1"].notna()]
    reach: dict[tuple, tuple[float, float]] = {}  # (dataset, arm, fraction, seed) -> (labels, AL FLOPs)
    finals = {ds: _by_seed(runs, ds, p.reference, "final_val_f1") for ds in runs["dataset"].unique()}
    for _, run in runs.iterrows():
        final = finals[run["dataset"]].get(int(run["seed"]), math.nan)
        for fraction in p.targets if not pd.isna(final) else ():
            key = (run["dataset"], run["arm"], fraction, int(run["seed"]))
            reach[key] = _first_reach(curves[curves["trial"] == run["trial"]], fraction * final)
    for (ds, arm), g in runs.groupby(["dataset", "arm"], sort=True):
        for fraction in p.targets:
            mine = {s: reach[(ds, arm, fraction, s)] for s in g["seed"].astype(int) if (ds, arm, fraction, s) in reach}
            ref = {s: reach[(ds, p.reference, fraction, s)] for s in mine if (ds, p.reference, fraction, s) in reach}
            both = [s for s in ref if math.isfinite(mine[s][0]) and math.isfinite(ref[s][0])]
            d_labels = Interval.of(pd.Series([mine[s][0] - ref[s][0] for s in both], dtype=float))
            saved = Interval.of(pd.Series([100.0 * (1 - mine[s][1] / ref[s][1]) for s in both], dtype=float))
            rows.append(
                {
                    "dataset": ds,
                    "arm": arm,
                    "target": fraction,
                    "seeds": len(mine),
                    "seeds_reached": int(sum(math.isfinite(v[0]) for v in mine.values())),
                    "labels_to_reach_median": _median([v[0] for v in mine.values()]),
                    "al_flops_to_reach_median": _median([v[1] for v in mine.values()]),
                    "n_paired": d_labels.n,
                    "d_labels_mean": d_labels.mean,
                    "d_labels_ci95": d_labels.half,
                    "al_flops_saved_pct_mean": saved.mean,
                    "al_flops_saved_pct_ci95": saved.half,
                }
            )
    return pd.DataFrame(rows)
