"""Per-trial metrics: final and total metrics of each trial, AULC, and the trials that enter the aggregates.

Conventions:
- Cost is the AL cost (``total_flops``, the last ``cum_total_flops``: training + scoring +
  policy passes; analysis/reading/schema_versions.py derives it for schema-1 records); training FLOPs and
  ``labels_used`` (acquired + read by a policy) are kept beside it.
- A trial ended degenerate when summary.json's final test pass or its last round's validation
  pass predicted one class; unknown (NaN) for records that never said (schema 1).
- F1 and accuracy are fractions in [0, 1] as recorded; "points" elsewhere are 100 x F1.
- AULC: area under test macro-F1 against the number of labels, by the trapezoid rule over the
  rounds where test F1 was evaluated, divided by the label range (so it lies in [0, 1]); one
  evaluated point gives that point's F1.
- Wall time of a trial is the sum of its per-round ``wall_seconds``.
- A switch decided after a finished run's last round (``switch_round`` = total rounds) counts
  as never: no round trained with the cheaper strategy.
- Of trials repeating a configuration and seed, the first (by name) is used.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from analysis.reading.configuration import SETTINGS, parse_settings, setting_columns
from analysis.reading.problems import ProblemLog
from analysis.reading.schema_versions import validation_rows
from hybridal.records import TRIAL_COLUMNS

# metric column -> human name (used by tables and the report)
METRICS: dict[str, str] = {
    "final_test_f1": "final test macro-F1",
    "final_test_accuracy": "final test accuracy",
    "final_val_f1": "final validation macro-F1",
    "aulc": "AULC (test F1 vs labels)",
    "total_train_flops": "total training FLOPs",
    "total_flops": "AL cost FLOPs (training + scoring + policy)",
    "labels_used": "labels used (acquired + read by a policy)",
    "wall_seconds": "wall time (s)",
    "switch_round": "switch round",
}


def aulc(labels: Sequence[float], f1: Sequence[float]) -> float:
    """Normalised area under the F1-vs-labels curve (trapezoid rule); NaN points are skipped.

    Points are sorted by labels (a repeated label count keeps its last F1). One point, or
    all points at one label count, gives the (last) F1 itself.
    """
    x = np.asarray(labels, dtype=float)
    y = np.asarray(f1, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if x.size == 0:
        return math.nan
    # keep the last F1 for each label count, in label order
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    last = np.r_[x[1:] != x[:-1], True]
    x, y = x[last], y[last]
    if x.size == 1:
        return float(y[0])
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def trial_metrics(rounds: pd.DataFrame, trials: pd.DataFrame, problems: Optional[ProblemLog] = None) -> pd.DataFrame:
    """One row per trial: config, status and its final/total metrics (see module docstring)."""
    problems = problems if problems is not None else ProblemLog()
    by_trial = {t: g.sort_values("round") for t, g in rounds.groupby("trial", sort=False)} if len(rounds) else {}
    varying = setting_columns(trials)
    rows = []
    for _, t in trials.iterrows():
        g = by_trial.get(t["trial"])
        row = {c: t.get(c) for c in ("trial", "status", "source", *TRIAL_COLUMNS, *varying, SETTINGS, "config_id")}
        row |= {m: math.nan for m in METRICS} | {
            "n_rounds": 0,
            "final_round": math.nan,
            "final_n_labeled": math.nan,
            "ended_degenerate": pd.NA,
        }
        summary = (
            {"data": {"validation": int(t["summary_validation_rows"])}}
            if _ok(t.get("summary_validation_rows"))
            else None
        )
        n_val = validation_rows(summary, parse_settings(t.get(SETTINGS)))
        row["validation_rows"] = math.nan if n_val is None else float(n_val)
        if g is not None and len(g):
            last = g.iloc[-1]
            row["n_rounds"] = len(g)
            row["final_round"] = float(last["round"])
            row["final_n_labeled"] = _num(last["n_labeled"])
            row["final_val_f1"] = _num(last["val_f1"])
            tested = g[g["test_f1"].notna()]
            if not pd.isna(t["summary_test_f1"]):
                row["final_test_f1"] = float(t["summary_test_f1"])
                row["final_test_accuracy"] = _num(t["summary_test_accuracy"])
            elif len(tested):
                lt = tested.iloc[-1]
                row["final_test_f1"] = _num(lt["test_f1"])
                row["final_test_accuracy"] = _num(lt["test_accuracy"])
                if lt["round"] != last["round"] and t["status"] == "finished":
                    problems.add(
                        f"the last round has no test F1: final test metrics taken from round {int(lt['round'])}",
                        t["trial"],
                    )
            row["aulc"] = aulc(tested["n_labeled"].astype(float), tested["test_f1"].astype(float))
            row["total_train_flops"] = _last_valid(g["cum_train_flops"])
            row["total_flops"] = _last_valid(g["cum_total_flops"])
            row["labels_used"] = _last_valid(g["labels_used"])
            row["ended_degenerate"] = ended_degenerate(t.get("summary_test_degenerate"), last.get("degenerate"))
            wall = g["wall_seconds"].astype(float)
            row["wall_seconds"] = float(wall.sum()) if wall.notna().any() else math.nan
            if bool(t["summary_has_switch_round"]):
                row["switch_round"] = _num(t["summary_switch_round"])
            else:
                sw = g.loc[g["switched"].fillna(False).astype(bool), "round"]
                row["switch_round"] = float(sw.min()) if len(sw) else math.nan
            if t["status"] == "finished" and row["switch_round"] > last["round"]:
                # the rule fired after the last round: no round ran the cheaper strategy
                row["switch_round"] = math.nan
        rows.append(row)
    cols = [
        "trial",
        "status",
        "source",
        *TRIAL_COLUMNS,
        *varying,
        SETTINGS,
        "config_id",
        "n_rounds",
        "final_round",
        "final_n_labeled",
        *METRICS,
        "validation_rows",
        "ended_degenerate",
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["ended_degenerate"] = out["ended_degenerate"].astype("boolean")
    return out


def ended_degenerate(final_test, last_round) -> object:
    """True if the final test or the last round's validation pass predicted one class; pd.NA if neither was recorded."""
    known = [bool(v) for v in (final_test, last_round) if _ok(v)]
    return pd.NA if not known else any(known)


def _ok(v) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def _num(v) -> float:
    return math.nan if v is None or pd.isna(v) else float(v)


def _last_valid(s: pd.Series) -> float:
    s = s.astype(float).dropna()
    return float(s.iloc[-1]) if len(s) else math.nan


def finished_unique(metrics: pd.DataFrame, problems: Optional[ProblemLog] = None) -> pd.DataFrame:
    """Finished trials with rounds, one per (config, seed): a repeated seed keeps its first trial."""
    problems = problems if problems is not None else ProblemLog()
    fin = metrics[(metrics["status"] == "finished") & (metrics["n_rounds"] > 0)].sort_values("trial", kind="stable")
    # an unknown seed cannot be told apart from another: such trials are all kept
    dup = fin.assign(_s=fin["seed"].astype(object).map(str)).duplicated(["dataset", "config_id", "_s"], keep="first")
    dup &= fin["seed"].notna()
    for trial in fin.loc[dup, "trial"]:
        problems.add("repeats the configuration and seed of an earlier trial: left out of the aggregates", trial)
    return fin[~dup.to_numpy()]
