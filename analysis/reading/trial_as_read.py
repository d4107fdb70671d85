"""One trial as read from disk, and the small readers its two sources (run folder, Ray folder) share."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any, Optional

from analysis.reading.filesystem import Reader
from analysis.reading.problems import ProblemLog
from hybridal.records import TRIAL_COLUMNS


@dataclass
class Trial:
    """One AL run as read from disk."""

    trial: str  # folder path relative to the experiment folder
    source: str  # "ray" (the folder holds Ray's files too) or "run" (a plain hybridal run)
    status: str  # finished | incomplete | errored
    config: dict[str, Any]  # the canonical columns (TRIAL_COLUMNS; None where unknown)
    rounds: list[dict[str, Any]]
    settings: Optional[dict[str, Any]] = None  # the other engine settings; None: no engine config found
    summary: Optional[dict[str, Any]] = None  # summary.json as read
    missing_fields: tuple[str, ...] = ()


def read_json(reader: Reader, rel: str, trial: str, problems: ProblemLog) -> Optional[dict]:
    """A JSON object file, or None (noted) when it is half-written, unreadable or not an object."""
    name = posixpath.basename(rel)
    try:
        obj = json.loads(reader.read_text(rel))
    except json.JSONDecodeError:
        problems.add(f"{name} is not valid JSON (half-written?) and was ignored", trial)
        return None
    except OSError as exc:
        problems.add(f"{name} could not be read ({exc})", trial)
        return None
    if not isinstance(obj, dict):
        problems.add(f"{name} is not a JSON object and was ignored", trial)
        return None
    return obj


# Appended to a multi-label run's dataset, so a report never pools a multi-label configuration with a
# single-label one on the same data (Jigsaw's six labels vs its binary `toxic` task; docs/multilabel.md).
MULTI_LABEL_SUFFIX = " (multi-label)"


def canonical_columns(
    found: Optional[dict], trial: str, problems: ProblemLog, multi_label: bool = False
) -> dict[str, Any]:
    """The canonical columns from `found` (absent ones noted and None; dataset/strategy "unknown")."""
    found = dict(found or {})
    if "guard" not in found and "strategy" in found:  # written before the guard existed: the rule ran unguarded
        found["guard"] = False if found["strategy"] == "deltaf1" else None
    absent = [c for c in TRIAL_COLUMNS if c not in found]
    if absent:
        problems.add(f"config lacks {', '.join(absent)} (filled as unknown)", trial)
    config = {c: found.get(c) for c in TRIAL_COLUMNS}
    for c in ("dataset", "strategy"):  # every trial belongs to some dataset and strategy in the report
        if config[c] is None:
            config[c] = "unknown"
    if multi_label and not str(config["dataset"]).endswith(MULTI_LABEL_SUFFIX):
        config["dataset"] = f"{config['dataset']}{MULTI_LABEL_SUFFIX}"
    return config


def is_multi_label(summary: Optional[dict], params: Optional[dict] = None) -> bool:
    """Whether a run was multi-label: summary.json's data.task, or (a Ray trial without one) its params' task."""
    data = (summary or {}).get("data")
    task = data.get("task") if isinstance(data, dict) else None
    if isinstance(task, dict):
        return task.get("type") == "multi_label"
    return (params or {}).get("task") == "multi_label"


def note_status(status: str, reason: Optional[str], trial: str, problems: ProblemLog) -> None:
    """The problem line of a trial that did not finish."""
    if status == "errored":
        problems.add(f"errored: {reason}" if reason else "errored (status in summary.json)", trial)
    elif status == "incomplete":
        problems.add(f"incomplete, left out of the aggregates ({reason})", trial)
