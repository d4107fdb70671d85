"""Ray's files, read only to list the trials that stopped before their run wrote summary.json.

Such a trial is listed with its name, its status (errored where Ray wrote ``error.txt``,
incomplete otherwise), the last line of ``error.txt`` and the canonical columns of its
``params.json``, so that the report counts it under its dataset. ``experiment_state-*.json``
is read as plain JSON to count the trials Ray lists that have no folder at all; nothing is
ever unpickled (``tuner.pkl``, ``params.pkl`` and ``basic-variant-state-*.json`` are pickles).
"""

from __future__ import annotations

import json
import posixpath

from analysis.reading.filesystem import Reader
from analysis.reading.problems import ProblemLog
from analysis.reading.trial_as_read import Trial, canonical_columns, is_multi_label, note_status, read_json
from analysis.reading.trial_folders import Folder

_COLOUR_CODES = ("\x1b[36m", "\x1b[39m", "\x1b[0m", "\x1b[31m")


def last_error_line(reader: Reader, rel: str) -> str:
    """The exception line that ends Ray's error.txt, without terminal colour codes."""
    try:
        text = reader.read_text(rel)
    except OSError:
        return "error.txt unreadable"
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    msg = lines[-1] if lines else "no message"
    for code in _COLOUR_CODES:
        msg = msg.replace(code, "")
    return msg[:200]


def read_ray_only(reader: Reader, folder: Folder, display: str, problems: ProblemLog) -> Trial:
    """A Ray trial folder without the engine's files: errored before its run began, or not begun."""
    join = (lambda n: posixpath.join(folder.path, n)) if folder.path else (lambda n: n)
    params = read_json(reader, join("params.json"), display, problems) if "params.json" in folder.names else None
    config = canonical_columns(params, display, problems, is_multi_label(None, params))
    if "error.txt" in folder.names:
        status, reason = "errored", last_error_line(reader, join("error.txt"))
    else:
        status, reason = "incomplete", "a Ray trial without summary.json: pending, or stopped before its run began"
    note_status(status, reason, display, problems)
    return Trial(trial=display, source="ray", status=status, config=config, rounds=[])


def note_unseen_trials(reader: Reader, state_files: list[str], seen: set[str], problems: ProblemLog) -> None:
    """Count the trials in Ray's newest experiment state (per folder) that have no folder here."""
    newest: dict[str, str] = {}
    for rel in sorted(state_files):  # names carry a sortable timestamp
        newest[posixpath.dirname(rel)] = rel
    listed: set[str] = set()
    for d, rel in newest.items():
        try:
            for entry in json.loads(reader.read_text(rel)).get("trial_data", []):
                # each entry is a pair of JSON strings; only relative_logdir is used
                meta = json.loads(entry[0]) if isinstance(entry[0], str) else entry[0]
                if meta.get("relative_logdir"):
                    listed.add(posixpath.join(d, meta["relative_logdir"]) if d else meta["relative_logdir"])
        except Exception:  # noqa: BLE001 - a half-written state file is only a note
            problems.add(f"Ray state file {rel} could not be read as JSON and was ignored")
    unseen = listed - seen
    if unseen:
        problems.add(
            f"{len(unseen)} trial(s) listed in Ray's experiment state have no result folder yet (pending or lost)"
        )
