"""Record schema versions: the fields the analysis keeps, and schema-2 quantities derived from schema-1 records.

Schema 2 (hybridal/records.py, docs/accounting.md) splits inference into AL cost and measurement:
``cum_total_flops`` = training + scoring + policy passes, the validation pass is measurement
unless the ΔF1 rule reads it to decide, and ``labels_used`` counts the validation rows a
validation-monitor rule reads. Schema-1 records (no ``schema_version``; the committed study) have
``infer_flops`` = every non-test pass and counted all of it as AL cost. So that every table
compares runs of both versions on one definition, schema-1 rows get the schema-2 cost fields
derived here (the rule of the issue 21 contract), and only those: diagnostics they never
recorded (loss, class counts, degenerate) stay missing.

The derivation reads only ``train_flops``, ``infer_flops`` and ``n_labeled``, so applying it to
rows it already filled (a report's own tables read back) gives the same values.
"""

from __future__ import annotations

from typing import Any, Optional

from analysis.reading.problems import ProblemLog
from hybridal.records import LIST_FIELDS as RECORD_LIST_FIELDS
from hybridal.records import MULTILABEL_FIELDS, RECORD_FIELDS, STOP_SET_FIELDS

# The schema-2 fields of the contract, in its order.
SCHEMA2_FIELDS = (
    "schema_version",
    "flops_scoring",
    "flops_policy",
    "flops_validation",
    "flops_monitor",
    "labels_acquired",
    "labels_read_by_policy",
    "labels_used",
    "train_loss",
    "train_loss_per_epoch",
    "labels_per_class",
    "val_pred_counts",
    "test_pred_counts",
    "degenerate",
    "monitor_degenerate",
)
# Every field the tidy tables hold: the engine's record, and the schema-2 fields whatever the engine's version.
ANALYSIS_FIELDS = (*RECORD_FIELDS, *(f for f in SCHEMA2_FIELDS if f not in RECORD_FIELDS))
# Stop-set signals and their pass (docs/stopping.md), added to the record after reports were committed.
# A table holds their columns only when some run's records carry them (`record_columns`): reports of
# runs that never wrote them (docs/results/study, docs/results/demo) regenerate byte for byte, and a
# report's own tables read back give the same columns (a column is written iff its input had it).
# A multi-label run's metrics (docs/multilabel.md) are later fields in the same way.
LATER_RECORD_FIELDS = STOP_SET_FIELDS + MULTILABEL_FIELDS
# Fields a schema-1 record never had: their absence is no data problem.
SCHEMA1_ABSENT = frozenset(SCHEMA2_FIELDS)
# Fields holding lists (per epoch, per class): JSON text in the tidy tables, so CSV and Parquet agree.
LIST_FIELDS = RECORD_LIST_FIELDS

V1_CONVERSION_NOTE = (
    "Schema-1 records (no `schema_version`, e.g. the committed study) are read on the schema-2 definitions: the "
    "validation pass costs round 0's `infer_flops` (round 0 scores nothing), constant per seed; the rest of "
    "`infer_flops` is scoring; the pass is policy cost in the ΔF1 rule's rounds before its decision (monitor = "
    "validation) and measurement otherwise; `labels_used` adds the validation rows for that rule. Their loss, class "
    "counts and `degenerate` were never recorded and stay empty."
)


def schema_version(row: dict) -> int:
    """The record's schema version; records written before versions existed are 1."""
    v = row.get("schema_version")
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else 1


def validation_rows(summary: Optional[dict], settings: Optional[dict]) -> Optional[int]:
    """How many validation rows a run had: summary.json's ``data.validation``, else an integer ``val_size`` setting."""
    data = (summary or {}).get("data")
    n = data.get("validation") if isinstance(data, dict) else None
    if isinstance(n, int) and not isinstance(n, bool):
        return n
    v = (settings or {}).get("val_size")
    return (
        int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 1 and float(v).is_integer() else None
    )


def decided_round(rows: list[dict], config: dict, summary: Optional[dict]) -> Optional[int]:
    """The round the ΔF1 rule chose (the first round not to read the monitor to decide); None: never.

    summary.json's ``switch_decided_round`` where written; else r + 1 for the first round whose
    stable count reached k (the rule fires after reading round r); else the trained switch round.
    """
    if summary and isinstance(summary.get("switch_decided_round"), int):
        return summary["switch_decided_round"]
    k = config.get("k")
    if isinstance(k, (int, float)) and k == k:
        for r in rows:
            count = r.get("stable_count")
            if isinstance(count, (int, float)) and count == count and count >= k:
                return int(r["round"]) + 1
    switch = (summary or {}).get("switch_round")
    return int(switch) if isinstance(switch, (int, float)) and switch == switch else None


def derive_schema2(
    rows: list[dict], config: dict, summary: Optional[dict], settings: Optional[dict], trial: str, problems: ProblemLog
) -> list[dict]:
    """Schema-1 rows (in round order) with the schema-2 cost and label fields derived; schema-2 rows as they are.

    V = round 0's ``infer_flops`` is the validation pass; ``flops_scoring`` = ``infer_flops`` − V.
    With the acquired monitor the monitor pass is inside that rest and cannot be told apart from
    scoring: both are AL cost, so ``cum_total_flops`` is still exact, but the split stays empty (noted).
    """
    if not rows or any(schema_version(r) >= 2 for r in rows):
        return rows
    first = rows[0]
    if (
        first.get("round") != 0
        or not _number(first.get("infer_flops"))
        or any(not _number(r.get("train_flops")) for r in rows)
    ):
        problems.add(
            "schema-1 records without round 0's inference or every round's training FLOPs: their AL cost "
            "(training + scoring + policy) cannot be derived and is left empty",
            trial,
        )
        return [r | {"schema_version": 1, "cum_total_flops": None} for r in rows]
    v = float(first["infer_flops"])
    rule_reads_validation = config.get("strategy") == "deltaf1" and config.get("monitor") == "validation"
    acquired = config.get("strategy") == "deltaf1" and config.get("monitor") == "acquired"
    if acquired:
        problems.add(
            "schema-1 records with the acquired monitor: its passes cannot be told apart from scoring, so "
            "flops_scoring and flops_policy are empty (their sum is charged as AL cost)",
            trial,
        )
    decided = decided_round(rows, config, summary) if rule_reads_validation else None
    n_val = validation_rows(summary, settings) if rule_reads_validation else 0
    out, cum = [], 0.0
    for r in rows:
        rest = float(r["infer_flops"] or 0) - v if _number(r.get("infer_flops")) else 0.0
        policy = v if rule_reads_validation and (decided is None or r["round"] < decided) else 0.0
        cum += float(r["train_flops"]) + rest + policy
        labels = r.get("n_labeled")
        read = n_val if n_val is not None else None
        out.append(
            r
            | {
                "schema_version": 1,
                "cum_total_flops": cum,
                "flops_scoring": None if acquired else rest,
                "flops_policy": None if acquired else policy,
                "flops_validation": v - policy,
                "flops_monitor": v if config.get("monitor") == "validation" else None,
                "labels_acquired": labels,
                "labels_read_by_policy": read,
                "labels_used": None if labels is None or read is None else labels + read,
            }
        )
    if rule_reads_validation and n_val is None:
        problems.add(
            "schema-1 records of the validation-monitor rule without a known validation size: labels_used "
            "is left empty",
            trial,
        )
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
