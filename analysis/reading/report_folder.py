"""Read a report's own tables back: ``runs.csv`` and ``rounds.parquet`` are the whole input.

`python -m analysis.report` writes, beside its report, one row per trial as read (``runs.csv``:
status, config columns, settings JSON, what summary.json said at the end) and the tidy
per-round records (``rounds.parquet``). Together they hold everything the analysis reads from
run folders, so a folder of them (e.g. the committed docs/results/study) regenerates every
table and plot without the raw Ray results. ``sweep_summary.json``, where present, is read as
for an experiment folder.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, Optional

import pandas as pd

from analysis.reading.configuration import SETTINGS
from analysis.reading.filesystem import Reader
from analysis.reading.problems import AnalysisError
from analysis.reading.schema_versions import ANALYSIS_FIELDS, LATER_RECORD_FIELDS, SCHEMA2_FIELDS
from analysis.reading.trial_as_read import Trial
from hybridal.records import TRIAL_COLUMNS

RUNS_FILE = "runs.csv"
ROUNDS_FILE = "rounds.parquet"
TIDY_FILES = frozenset({RUNS_FILE, ROUNDS_FILE})


def is_tidy(files: list[str]) -> bool:
    """True for a folder written by the report: its tables at the root, no run folders."""
    return TIDY_FILES <= set(files)


def _plain(v: Any) -> Any:
    """A pandas cell as the JSON value the engine wrote (None for missing, Python scalars)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def _summary(row: pd.Series) -> Optional[dict]:
    """The parts of summary.json the analysis reads, as the report recorded them."""
    if row["status"] != "finished":
        return None
    summary: dict[str, Any] = {
        "status": "finished",
        "final_test": {"f1": _plain(row["summary_test_f1"]), "accuracy": _plain(row["summary_test_accuracy"])},
    }
    if bool(row["summary_has_switch_round"]):
        summary["switch_round"] = _plain(row["summary_switch_round"])
    # written by reports since schema 2; tables of older reports lack them
    degenerate = _plain(row.get("summary_test_degenerate"))
    if degenerate is not None:
        summary["final_test"]["degenerate"] = bool(degenerate)
    validation = _plain(row.get("summary_validation_rows"))
    if validation is not None:
        summary["data"] = {"validation": int(validation)}
    return summary | _stopping(row)


def _stopping(row: pd.Series) -> dict[str, Any]:
    """summary.json's stopping keys, from the columns runs.csv has where some run had criteria."""
    stopping = _plain(row.get("summary_stopping"))
    if stopping is None:
        return {}
    size, halted = _plain(row.get("summary_stop_set_size")), _plain(row.get("summary_halted_round"))
    return {
        "stop_set": {"size": 0 if size is None else int(size)},
        "stopping": json.loads(stopping),
        "halt_on": _plain(row.get("summary_halt_on")),
        "halted_round": None if halted is None else int(halted),
    }


def read_tidy(reader: Reader) -> list[Trial]:
    """The trials of a folder of report tables, in runs.csv's order."""
    try:
        runs = pd.read_csv(io.BytesIO(reader.read_bytes(RUNS_FILE)))
        rounds = pd.read_parquet(io.BytesIO(reader.read_bytes(ROUNDS_FILE)), engine="pyarrow")
    except (OSError, ValueError) as exc:
        raise AnalysisError(
            f"Cannot read the report tables under {reader.uri} ({exc}); "
            f"allowed: a folder written by `python -m analysis.report`."
        ) from None
    if "guard" not in runs.columns:  # tables written before the guard existed: every rule ran unguarded
        runs.insert(
            list(runs.columns).index("c") + 1, "guard", [False if s == "deltaf1" else None for s in runs["strategy"]]
        )
    needed = [
        "trial",
        "source",
        "status",
        *TRIAL_COLUMNS,
        SETTINGS,
        "summary_test_f1",
        "summary_test_accuracy",
        "summary_has_switch_round",
        "summary_switch_round",
    ]
    # tables of older reports lack the schema-2 fields; those of runs without a stop set the stop-set ones
    schema1 = [f for f in ANALYSIS_FIELDS if f not in SCHEMA2_FIELDS and f not in LATER_RECORD_FIELDS]
    for name, df, cols in ((RUNS_FILE, runs, needed), (ROUNDS_FILE, rounds, ["trial", *schema1])):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise AnalysisError(
                f"{reader.uri}/{name} lacks column(s) {', '.join(missing)}; "
                "allowed: the tables `python -m analysis.report` writes."
            )
    by_trial = {t: g.sort_values("round") for t, g in rounds.groupby("trial", sort=False)}
    trials = []
    for _, row in runs.iterrows():
        g = by_trial.get(row["trial"])
        fields = [f for f in ANALYSIS_FIELDS if f in rounds.columns]
        records = (
            []
            if g is None
            else [
                {f: None for f in ANALYSIS_FIELDS} | {f: _plain(v) for f, v in zip(fields, values)}
                for values in g[fields].itertuples(index=False)
            ]
        )
        settings = None if _plain(row[SETTINGS]) is None else json.loads(row[SETTINGS])
        trials.append(
            Trial(
                trial=str(row["trial"]),
                source=str(row["source"]),
                status=str(row["status"]),
                config={c: _plain(row[c]) for c in TRIAL_COLUMNS},
                rounds=records,
                settings=settings,
                summary=_summary(row),
                missing_fields=tuple(f for f in LATER_RECORD_FIELDS if f not in rounds.columns),
            )
        )
    return trials
