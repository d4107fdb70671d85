"""Read one run folder: the engine's summary.json (the trial record) and rounds.jsonl.

summary.json holds ``status`` (running | finished | error, with ``error``), ``trial`` (the
canonical columns) and ``config`` (the whole engine config). config.yaml is read only when
summary.json is absent, unreadable or lacks those keys: runs made before summary.json was
written from the start. Ray's error.txt is read only while summary.json does not say how the
run ended (a run killed mid-round leaves "running").
"""

from __future__ import annotations

import posixpath
from typing import Any, Optional

from analysis.reading.configuration import engine_settings
from analysis.reading.filesystem import Reader
from analysis.reading.problems import ProblemLog
from analysis.reading.ray_files import last_error_line
from analysis.reading.round_records import missing_fields_note, normalise_rounds, parse_json_lines
from analysis.reading.trial_as_read import Trial, canonical_columns, is_multi_label, note_status, read_json
from analysis.reading.trial_folders import Folder

# Canonical column -> the engine config key holding it (config.yaml fallback).
_ENGINE_KEYS = {
    "dataset": "data",
    "strategy": "strategy_class",
    "monitor": "monitor",
    "seed": "seed",
    "model": "model_name_or_path",
    "sampler": "sampler_class",
    "epochs": "epochs",
    "replay": "replay",
}


def read_run(reader: Reader, folder: Folder, display: str, problems: ProblemLog) -> Trial:
    """Read one run folder into a Trial; every oddity becomes a problem line, not an error."""
    join = (lambda n: posixpath.join(folder.path, n)) if folder.path else (lambda n: n)
    names = folder.names
    summary = read_json(reader, join("summary.json"), display, problems) if "summary.json" in names else None
    rows = []
    if "rounds.jsonl" in names:
        rows = parse_json_lines(reader.read_text(join("rounds.jsonl")), "rounds.jsonl", display, problems)
    rounds, missing = normalise_rounds(rows, display, problems)

    described = _dict(summary, "trial")
    engine = _dict(summary, "config")
    if (described is None or engine is None) and "config.yaml" in names:
        yaml_config = _read_yaml(reader, join("config.yaml"), display, problems)
        engine = engine if engine is not None else yaml_config
        described = described if described is not None else _columns_from_engine(yaml_config)
    config = canonical_columns(described, display, problems, is_multi_label(summary))
    settings = engine_settings(engine)
    if settings is None:
        problems.add(
            "has no full run config (summary.json 'config' or config.yaml): grouped by its config columns alone",
            display,
        )

    status, reason = _status(summary, "summary.json" in names)
    if status == "incomplete" and "error.txt" in names:  # Ray gave up on the trial mid-run
        status, reason = "errored", last_error_line(reader, join("error.txt"))
    note_status(status, reason, display, problems)
    if status == "finished" and not rounds:
        problems.add("finished but has no readable round records: left out", display)
    note = missing_fields_note(missing) if rounds else None
    if note:
        problems.add(note, display)
    return Trial(
        trial=display,
        source=folder.source,
        status=status,
        config=config,
        rounds=rounds,
        settings=settings,
        summary=summary,
        missing_fields=missing,
    )


def _dict(summary: Optional[dict], key: str) -> Optional[dict]:
    value = summary.get(key) if summary else None
    return value if isinstance(value, dict) else None


def _status(summary: Optional[dict], listed: bool) -> tuple[str, Optional[str]]:
    """(status, why it is not finished) from summary.json; one written without a status is finished."""
    if summary is None:
        why = "summary.json unreadable" if listed else "no summary.json: an older unfinished or crashed run"
        return "incomplete", why
    status = str(summary.get("status", "finished")).lower()
    if status == "finished":
        return "finished", None
    if status in ("error", "errored"):
        error = summary.get("error")
        return "errored", str(error) if error else None
    return "incomplete", "summary.json says running: still running, or stopped"


def _columns_from_engine(cfg: Optional[dict]) -> Optional[dict[str, Any]]:
    """The canonical columns an engine config spells out (older runs without summary.json 'trial')."""
    if not cfg:
        return None
    out = {c: cfg[k] for c, k in _ENGINE_KEYS.items() if k in cfg}
    kwargs = cfg.get("strategy_kwargs")
    if isinstance(kwargs, dict):
        out |= {c: kwargs.get(c) for c in ("after", "epsilon", "k")}
    if "epochs" in cfg:  # unset finetune_epochs: finetuning runs `epochs` (ExperimentConfig.steady_finetune_epochs)
        out["finetune_epochs"] = cfg["epochs"] if cfg.get("finetune_epochs") is None else cfg["finetune_epochs"]
    if "monitor_fraction" in cfg:
        out["c"] = cfg["monitor_fraction"] if cfg.get("monitor") == "acquired" else None
    return out


def _read_yaml(reader: Reader, rel: str, trial: str, problems: ProblemLog) -> Optional[dict]:
    try:
        import yaml
    except ImportError:
        return None
    try:
        obj = yaml.safe_load(reader.read_text(rel))
    except Exception:  # noqa: BLE001 - a damaged file is only a note
        problems.add("config.yaml could not be parsed and was ignored", trial)
        return None
    return obj if isinstance(obj, dict) else None
