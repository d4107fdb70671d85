"""An Experiment as two tables: one row per trial, and the tidy one row per trial x round."""

from __future__ import annotations

import json
import math
from typing import Any, Optional

import pandas as pd

from analysis.reading.configuration import SETTINGS, config_key, setting_columns, varying_settings, with_setting_columns
from analysis.reading.experiment import Experiment
from analysis.reading.round_records import is_number
from analysis.reading.schema_versions import ANALYSIS_FIELDS, LATER_RECORD_FIELDS, LIST_FIELDS
from hybridal.records import TRIAL_COLUMNS

FLOAT_CONFIG = ("epsilon", "c")
INT_CONFIG = ("k", "seed", "epochs", "finetune_epochs", "replay")
STR_CONFIG = ("dataset", "strategy", "after", "monitor", "model", "sampler")
BOOL_RECORD_FIELDS = ("switched", "short_batch", "degenerate", "monitor_degenerate", "stop_degenerate")
STR_RECORD_FIELDS = ("strategy_used", "test_rows", "precision")
# Integer counters become nullable Int64; FLOPs stay float64 (no overflow on huge sweeps).
INT_RECORD_FIELDS = (
    "round",
    "n_labeled",
    "n_new",
    "stable_count",
    "train_samples",
    "train_tokens",
    "monitor_classes",
    "test_n",
    "schema_version",
    "labels_acquired",
    "labels_read_by_policy",
    "labels_used",
    "stop_changed",
)
_SUMMARY_COLUMNS = ("summary_test_f1", "summary_test_accuracy", "summary_switch_round", "summary_validation_rows")
# What summary.json says about a run's end beyond the records (runs.csv keeps it, so tidy tables read back alone).
SUMMARY_FIELDS = (
    "summary_test_f1",
    "summary_test_accuracy",
    "summary_has_switch_round",
    "summary_switch_round",
    "summary_validation_rows",
    "summary_test_degenerate",
)
# What summary.json says about stopping criteria (docs/stopping.md): runs.csv holds these columns only when
# some run has a "stopping" block, so reports of runs before criteria existed regenerate byte for byte.
STOPPING_FIELDS = ("summary_stop_set_size", "summary_stopping", "summary_halt_on", "summary_halted_round")


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _coerce_config(df: pd.DataFrame) -> pd.DataFrame:
    """Give config columns stable dtypes: floats, nullable ints, strings (None for unknown)."""
    for c in FLOAT_CONFIG:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for c in INT_CONFIG:
        num = pd.to_numeric(df[c], errors="coerce")
        whole = num.dropna()
        df[c] = num.astype("Int64") if (whole == whole.round()).all() else num.astype("float64")
    for c in STR_CONFIG:
        df[c] = df[c].map(lambda v: None if _missing(v) else str(v)).astype(object)
    return df


def _summary_fields(summary: dict) -> dict[str, Any]:
    """What a finished run's summary.json says about its end (None where it does not say)."""
    final = summary.get("final_test") if isinstance(summary.get("final_test"), dict) else {}
    data = summary.get("data") if isinstance(summary.get("data"), dict) else {}
    number = lambda v: v if is_number(v) else None  # noqa: E731
    degenerate = final.get("degenerate")
    return {
        "summary_test_f1": number(final.get("f1")),
        "summary_test_accuracy": number(final.get("accuracy")),
        "summary_has_switch_round": "switch_round" in summary,
        "summary_switch_round": number(summary.get("switch_round")),
        "summary_validation_rows": number(data.get("validation")),
        "summary_test_degenerate": degenerate if isinstance(degenerate, bool) else None,
    }


def _stopping_fields(summary: dict) -> dict[str, Any]:
    """summary.json's stop set size, criteria (canonical JSON text), halt_on and halted_round (None where unsaid)."""
    stop_set = summary.get("stop_set")
    stop_set = stop_set if isinstance(stop_set, dict) else {}
    stopping = summary.get("stopping")
    halted = summary.get("halted_round")
    return {
        "summary_stop_set_size": stop_set.get("size") if is_number(stop_set.get("size")) else None,
        "summary_stopping": json.dumps(stopping, sort_keys=True) if isinstance(stopping, dict) else None,
        "summary_halt_on": summary.get("halt_on") if isinstance(summary.get("halt_on"), str) else None,
        "summary_halted_round": halted if is_number(halted) else None,
    }


def _has_stopping(exp: Experiment) -> bool:
    return any(isinstance((t.summary or {}).get("stopping"), dict) for t in exp.trials if t.status == "finished")


def record_columns(exp: Experiment) -> list[str]:
    """The record fields the tidy table holds: every one, but a LATER_RECORD_FIELDS field only where some
    trial's records carry it (see analysis/reading/schema_versions.py)."""
    carried = {f for t in exp.trials if t.rounds for f in LATER_RECORD_FIELDS if f not in t.missing_fields}
    return [f for f in ANALYSIS_FIELDS if f not in LATER_RECORD_FIELDS or f in carried]


def trials_table(exp: Experiment) -> pd.DataFrame:
    """One row per trial: name, source, status, config, settings (JSON, and a column per setting
    that varies between trials), and what a finished run's summary.json says."""
    rows = []
    for t in exp.trials:
        rows.append(
            {
                "trial": t.trial,
                "source": t.source,
                "status": t.status,
                **t.config,
                SETTINGS: None if t.settings is None else json.dumps(t.settings, sort_keys=True),
                "n_rounds": len(t.rounds),
                **_summary_fields(t.summary if t.status == "finished" and t.summary else {}),
                **_stopping_fields(t.summary if t.status == "finished" and t.summary else {}),
            }
        )
    stopping = list(STOPPING_FIELDS) if _has_stopping(exp) else []
    cols = ["trial", "source", "status", *TRIAL_COLUMNS, SETTINGS, "n_rounds", *SUMMARY_FIELDS, *stopping]
    df = _coerce_config(pd.DataFrame(rows, columns=cols))
    for c in _SUMMARY_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["summary_has_switch_round"] = df["summary_has_switch_round"].astype(bool)
    df["summary_test_degenerate"] = (
        df["summary_test_degenerate"].map(lambda v: pd.NA if _missing(v) else bool(v)).astype("boolean")
    )
    df["n_rounds"] = df["n_rounds"].astype("int64")
    for c in ("summary_stop_set_size", "summary_halted_round"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").round().astype("Int64")
    df["config_id"] = [config_key(r) for _, r in df.iterrows()] if len(df) else pd.Series(dtype=object)
    return with_setting_columns(df, varying_settings(df), after=TRIAL_COLUMNS[-1])


def _typed_record_column(f: str, values: pd.Series) -> pd.Series:
    if f in LIST_FIELDS:  # JSON text (a report's own tables hold it as text already)
        return values.map(
            lambda v: (
                None
                if v is None or (isinstance(v, float) and math.isnan(v))
                else v
                if isinstance(v, str)
                else json.dumps(list(v))
            )
        ).astype(object)
    if f in STR_RECORD_FIELDS:
        return values.map(lambda v: None if _missing(v) else str(v)).astype(object)
    if f in BOOL_RECORD_FIELDS:
        return values.map(lambda v: pd.NA if _missing(v) else bool(v)).astype("boolean")
    num = pd.to_numeric(values, errors="coerce")
    if f in INT_RECORD_FIELDS:
        return num.astype("int64") if f == "round" else num.round().astype("Int64")
    return num.astype("float64")


def rounds_table(exp: Experiment, trials: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """The tidy long table: one row per trial x round, config and varying-setting columns + every record field."""
    trials = trials_table(exp) if trials is None else trials
    fields = record_columns(exp)
    frames = [pd.DataFrame(t.rounds, columns=fields).assign(trial=t.trial) for t in exp.trials if t.rounds]
    front = ["trial", "status", "source", *TRIAL_COLUMNS, *setting_columns(trials)]
    if not frames:
        return pd.DataFrame(columns=front + fields)
    rec = pd.concat(frames, ignore_index=True)
    for f in fields:
        rec[f] = _typed_record_column(f, rec[f])
    out = trials[front].merge(rec, on="trial", how="right")
    return out[front + fields].sort_values(["trial", "round"], kind="stable").reset_index(drop=True)
