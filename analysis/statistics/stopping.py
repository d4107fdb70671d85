"""Stopping criteria paired by seed: what each criterion would have saved had the run stopped where it said.

A run with criteria (summary.json ``stopping``, docs/stopping.md) evaluates each of them every round
and records ``stop_round`` r: the criterion would have stopped the run after round r (None: never).
A run that ran to its budget (``halted_round`` null) is its own counterfactual: stopping after round
r would have kept round r's model, so, against the same seed's end,

- labels saved = ``labels_used`` of the last record − that of record r;
- AL FLOPs saved = ``cum_total_flops`` of the last record − that of record r;
- test F1 given up = the final full-split test F1 (summary.json) − record r's ``test_f1``, in points;
  only where record r's ``test_rows`` is "full": a per-round F1 on a test subsample is not
  comparable to the full split (NA, counted apart).

A seed whose criterion never fired saves 0 and gives up 0. A run that halted on a criterion
(``halted_round`` set) has no end of its own to compare with: it is listed apart.
"""

from __future__ import annotations

import json
import math
from typing import Any, Optional

import pandas as pd

from analysis.reading.tidy_tables import STOPPING_FIELDS

SEED_COLUMNS = (
    "dataset",
    "config",
    "config_id",
    "label",
    "criterion",
    "reads",
    "trial",
    "seed",
    "stop_round",
    "last_round",
    "labels_saved",
    "flops_saved",
    "test_f1_given_up_points",
    "f1_note",
)
_MEASURES = ("stop_round", "labels_saved", "flops_saved", "test_f1_given_up_points")
AGG_COLUMNS = (
    "dataset",
    "config",
    "label",
    "criterion",
    "reads",
    "seeds",
    "seeds_stopped",
    *(f"{m}_{s}" for m in _MEASURES for s in ("median", "min", "max")),
    "f1_seeds",
    "config_id",
)
HALTED_COLUMNS = (
    "dataset",
    "config",
    "trial",
    "seed",
    "halt_on",
    "halted_round",
    "labels_used",
    "al_flops",
    "final_test_f1",
)
SUBSAMPLE_NOTE = "test F1 of the stop round is on a test subsample: not comparable to the full split"


def has_stopping(trials: pd.DataFrame) -> bool:
    """Whether some run says what its stopping criteria did (runs.csv then has the stopping columns)."""
    return "summary_stopping" in trials.columns and bool(trials["summary_stopping"].notna().any())


def _criteria(v: Any) -> Optional[dict]:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    out = json.loads(v) if isinstance(v, str) else v
    return out if isinstance(out, dict) else None


def _num(v: Any) -> float:
    return math.nan if v is None or pd.isna(v) else float(v)


def _seed_row(base: dict, label: str, crit: dict, g: pd.DataFrame, final_f1: float) -> dict:
    """One seed's figures for one criterion (see the module docstring)."""
    last = g.iloc[-1]
    stop = crit.get("stop_round")
    row = base | {
        "label": label,
        "criterion": crit.get("criterion"),
        "reads": crit.get("reads"),
        "last_round": int(last["round"]),
        "stop_round": None,
        "f1_note": None,
    }
    if not isinstance(stop, (int, float)) or isinstance(stop, bool):  # never stopped: nothing saved or given up
        return row | {"labels_saved": 0.0, "flops_saved": 0.0, "test_f1_given_up_points": 0.0}
    at = g[g["round"] == int(stop)]
    row["stop_round"] = int(stop)
    if not len(at):
        return row | {
            "labels_saved": math.nan,
            "flops_saved": math.nan,
            "test_f1_given_up_points": math.nan,
            "f1_note": f"no record of round {int(stop)}",
        }
    s = at.iloc[-1]
    row["labels_saved"] = _num(last["labels_used"]) - _num(s["labels_used"])
    row["flops_saved"] = _num(last["cum_total_flops"]) - _num(s["cum_total_flops"])
    if s.get("test_rows") == "full" and not pd.isna(s["test_f1"]):
        row["test_f1_given_up_points"] = 100.0 * (final_f1 - float(s["test_f1"]))
    else:
        row["test_f1_given_up_points"] = math.nan
        row["f1_note"] = SUBSAMPLE_NOTE if s.get("test_rows") == "subsample" else "no full-split test F1 that round"
    return row


def _runs(trials: pd.DataFrame, used: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The used runs that have criteria, with their stopping columns and configuration label."""
    cols = ["trial", "summary_test_f1", *STOPPING_FIELDS]
    runs = used.drop(columns=[c for c in cols if c != "trial" and c in used.columns]).merge(
        trials[cols], on="trial", how="left"
    )
    runs = runs[runs["summary_stopping"].notna()]
    labels = summary[["dataset", "config_id", "config"]]
    return runs.merge(labels, on=["dataset", "config_id"], how="left").sort_values(
        ["dataset", "config", "seed", "trial"], kind="stable"
    )


def stopping_tables(
    trials: pd.DataFrame, used: pd.DataFrame, rounds: pd.DataFrame, summary: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per seed, per dataset x configuration x criterion, halted runs); empty tables where no run has criteria."""
    if not has_stopping(trials) or not len(used):
        return (
            pd.DataFrame(columns=SEED_COLUMNS),
            pd.DataFrame(columns=AGG_COLUMNS),
            pd.DataFrame(columns=HALTED_COLUMNS),
        )
    by_trial = {t: g.sort_values("round") for t, g in rounds.groupby("trial", sort=False)}
    seeds, halted = [], []
    for _, r in _runs(trials, used, summary).iterrows():
        g = by_trial.get(r["trial"])
        crits = _criteria(r["summary_stopping"])
        if g is None or not len(g) or crits is None:
            continue
        base = {"dataset": r["dataset"], "config": r["config"], "config_id": r["config_id"], "trial": r["trial"]}
        base["seed"] = None if pd.isna(r["seed"]) else int(r["seed"])
        if not pd.isna(r["summary_halted_round"]):
            last = g.iloc[-1]
            halted.append(
                {k: base[k] for k in ("dataset", "config", "trial", "seed")}
                | {
                    "halt_on": r["summary_halt_on"],
                    "halted_round": int(r["summary_halted_round"]),
                    "labels_used": _num(last["labels_used"]),
                    "al_flops": _num(last["cum_total_flops"]),
                    "final_test_f1": _num(r["summary_test_f1"]),
                }
            )
            continue
        for label in sorted(crits):
            if isinstance(crits[label], dict):
                seeds.append(_seed_row(base, label, crits[label], g, _num(r["summary_test_f1"])))
    per_seed = pd.DataFrame(seeds, columns=SEED_COLUMNS)
    per_seed["stop_round"] = per_seed["stop_round"].astype("Int64")
    return per_seed, aggregate(per_seed), pd.DataFrame(halted, columns=HALTED_COLUMNS)


def aggregate(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x configuration x criterion: seeds, seeds stopped, median [min, max] of the stop round
    (stopped seeds) and of the savings and F1 given up (every seed; F1 over the seeds where it is comparable)."""
    rows = []
    for (ds, cid, label), g in per_seed.groupby(["dataset", "config_id", "label"], sort=False):
        first = g.iloc[0]
        row = {
            "dataset": ds,
            "config": first["config"],
            "label": label,
            "criterion": first["criterion"],
            "reads": first["reads"],
            "seeds": len(g),
            "seeds_stopped": int(g["stop_round"].notna().sum()),
            "f1_seeds": int(g["test_f1_given_up_points"].notna().sum()),
            "config_id": cid,
        }
        for m in _MEASURES:
            v = g[m].astype(float).dropna()
            row |= {f"{m}_median": v.median(), f"{m}_min": v.min(), f"{m}_max": v.max()}
            if not len(v):
                row |= {f"{m}_{s}": math.nan for s in ("median", "min", "max")}
        rows.append(row)
    return pd.DataFrame(rows, columns=AGG_COLUMNS)
