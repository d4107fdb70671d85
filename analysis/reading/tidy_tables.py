"""An Experiment as two tables: one row per trial, and the tidy one row per trial x round."""

from __future__ import annotations

import json
import math
from typing import Any, Optional

import pandas as pd

from analysis.reading.configuration import SETTINGS, config_key, setting_columns, varying_settings, with_setting_columns
from analysis.reading.experiment import Experiment
from analysis.reading.round_records import is_number
from analysis.reading.schema_versions import ANALYSIS_FIELDS, LIST_FIELDS
from hybridal.records import TRIAL_COLUMNS

FLOAT_CONFIG = ("epsilon", "c")
INT_CONFIG = ("k", "seed", "epochs", "finetune_epochs", "replay")
STR_CONFIG = ("dataset", "strategy", "after", "monitor", "model", "sampler")
BOOL_RECORD_FIELDS = ("switched", "short_batch", "degenerate", "monitor_degenerate")
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
            }
        )
    cols = ["trial", "source", "status", *TRIAL_COLUMNS, SETTINGS, "n_rounds", *SUMMARY_FIELDS]
    df = _coerce_config(pd.DataFrame(rows, columns=cols))
    for c in _SUMMARY_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["summary_has_switch_round"] = df["summary_has_switch_round"].astype(bool)
    df["summary_test_degenerate"] = (
        df["summary_test_degenerate"].map(lambda v: pd.NA if _missing(v) else bool(v)).astype("boolean")
    )
    df["n_rounds"] = df["n_rounds"].astype("int64")
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
    frames = [
        pd.DataFrame(t.rounds, columns=list(ANALYSIS_FIELDS)).assign(trial=t.trial) for t in exp.trials if t.rounds
    ]
    front = ["trial", "status", "source", *TRIAL_COLUMNS, *setting_columns(trials)]
    if not frames:
        return pd.DataFrame(columns=front + list(ANALYSIS_FIELDS))
    rec = pd.concat(frames, ignore_index=True)
    for f in ANALYSIS_FIELDS:
        rec[f] = _typed_record_column(f, rec[f])
    out = trials[front].merge(rec, on="trial", how="right")
    return out[front + list(ANALYSIS_FIELDS)].sort_values(["trial", "round"], kind="stable").reset_index(drop=True)
