"""A run's round records (rounds.jsonl) as clean rows of the record schema."""

from __future__ import annotations

import json
import math
from typing import Any, Optional

from analysis.reading.problems import ProblemLog
from analysis.reading.schema_versions import ANALYSIS_FIELDS, LATER_RECORD_FIELDS, SCHEMA1_ABSENT, schema_version

# Record fields added after the first runs were made; their absence is only a note.
OPTIONAL_RECORD_FIELDS = (
    "monitor_f1",
    "short_batch",
    "test_flops",
    "cum_test_flops",
    "test_rows",
    "test_n",
    "monitor_classes",
    "precision",
    *LATER_RECORD_FIELDS,
)


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not (isinstance(x, float) and math.isnan(x))


def parse_json_lines(text: str, name: str, trial: str, problems: ProblemLog) -> list[dict]:
    """Parse JSON lines; an unparsable line (a half-written last line) is skipped and noted."""
    rows: list[dict] = []
    lines = text.splitlines()
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            where = "its last line" if i == len(lines) else f"line {i}"
            problems.add(f"{name}: {where} is not valid JSON (half-written?) and was skipped", trial)
            continue
        if isinstance(obj, dict):
            rows.append(obj)
        else:
            problems.add(f"{name}: line {i} is not a JSON object and was skipped", trial)
    return rows


def normalise_rounds(rows: list[dict], trial: str, problems: ProblemLog) -> tuple[list[dict], tuple[str, ...]]:
    """Keep the record fields, fill missing ones with None, dedupe rounds (last record wins).

    Returns the rows in round order and the record fields no row had (for schema-1 records, the
    schema-2 fields are not counted as missing: analysis.reading.schema_versions derives or leaves them).
    """
    if not rows:
        return [], ()
    present = set().union(*(r.keys() for r in rows))
    schema1 = all(schema_version(r) < 2 for r in rows)
    missing = tuple(f for f in ANALYSIS_FIELDS if f not in present and not (schema1 and f in SCHEMA1_ABSENT))
    by_round: dict[int, dict] = {}
    dupes = 0
    for r in rows:
        rnd = r.get("round")
        if not is_number(rnd):
            problems.add("rounds.jsonl: a record without a numeric 'round' was skipped", trial)
            continue
        rnd = int(rnd)
        dupes += rnd in by_round
        by_round[rnd] = {f: r.get(f) for f in ANALYSIS_FIELDS} | {"round": rnd}
    if dupes:
        problems.add(
            "rounds.jsonl reports some rounds twice (a resumed trial?): the last report of each round is kept", trial
        )
    out = [by_round[k] for k in sorted(by_round)]
    return out, _derive_cumulative(out, missing)


def _derive_cumulative(rows: list[dict], missing: tuple[str, ...]) -> tuple[str, ...]:
    """Fill the cumulative FLOP counters from the per-round ones where only those were recorded."""
    derived = {"cum_train_flops": ("train_flops",), "cum_total_flops": ("train_flops", "infer_flops")}
    for cum, parts in derived.items():
        if cum not in missing or any(p in missing for p in parts):
            continue
        acc = 0.0
        for r in rows:
            acc += sum(r[p] or 0 for p in parts)
            r[cum] = acc
        missing = tuple(m for m in missing if m != cum)
    return missing


def missing_fields_note(missing: tuple[str, ...]) -> Optional[str]:
    """The problem line for record fields a run's rows lack; None when that is no problem.

    The stop-set fields (LATER_RECORD_FIELDS) are absent from every run without a stop set and
    from every run before they existed: their absence only means nothing was measured.
    """
    missing = tuple(m for m in missing if m not in LATER_RECORD_FIELDS)
    if not missing:
        return None
    core = [m for m in missing if m not in OPTIONAL_RECORD_FIELDS]
    if core:
        return f"records lack fields {', '.join(core)} (older run?): those columns are empty"
    return f"records lack the newer fields {', '.join(missing)} (older run)"
