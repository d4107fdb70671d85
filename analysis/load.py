"""Read every trial under an experiment folder (local or remote) into an Experiment.

Each trial is a run folder (the engine's ``summary.json`` and ``rounds.jsonl``; see
analysis/run.py) or, where a sweep trial stopped before its run wrote anything, a folder of
Ray's files alone (analysis/ray_errors.py). Remote folders (``s3://``, ``gs://``, ``hdfs://``)
go through ``pyarrow.fs``; other URL schemes (``memory://``, ...) through fsspec.
"""
from __future__ import annotations

import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import pyarrow.fs as pafs

from analysis.discover import Folder, discover
from analysis.problems import ProblemLog
from analysis.ray_errors import note_unseen_trials, read_ray_only
from analysis.run import read_run
from analysis.storage import Reader
from analysis.trial import Trial

SWEEP_SUMMARY = "sweep_summary.json"   # written by sweeps/grid.py at the experiment's root


@dataclass
class Experiment:
    """Everything read from one experiment folder."""

    root: str
    trials: list[Trial]
    problems: ProblemLog
    sweep: Optional[dict] = None   # sweep_summary.json of a sweep (spent vs attributed training FLOPs)


def load_experiment(uri: str) -> Experiment:
    """Read every trial under `uri` (a local folder or a URL); problems are logged, not raised.

    Raises AnalysisError only when the folder cannot be listed at all.
    """
    reader = Reader(uri)
    problems = ProblemLog()
    layout = discover(reader.list_files())
    root_name = posixpath.basename(reader.root.rstrip("/")) or reader.root

    def read(folder: Folder) -> tuple[Optional[Trial], ProblemLog]:
        display = folder.path or root_name
        log = ProblemLog()
        try:
            if folder.is_run:
                return read_run(reader, folder, display, log), log
            return read_ray_only(reader, folder, display, log), log
        except OSError as exc:  # e.g. deleted between listing and reading
            log.add(f"could not be read ({exc}) and was skipped", display)
            return None, log

    if isinstance(reader.fs, pafs.LocalFileSystem) or len(layout.trials) < 4:
        results = [read(f) for f in layout.trials]
    else:  # object stores: one round trip per file, so read trials concurrently
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(read, layout.trials))
    trials: list[Trial] = []
    for trial, log in results:  # merged in folder order, so reports are deterministic
        problems.extend(log)
        if trial is not None and not is_hidden_trunk(trial):
            trials.append(trial)
    note_unseen_trials(reader, layout.state_files, {f.path for f in layout.trials}, problems)
    return Experiment(root=uri, trials=trials, problems=problems, sweep=_sweep_summary(reader, problems))


def is_hidden_trunk(trial: Trial) -> bool:
    """A shared sweep's trunk that is no configuration of its grid (its rounds reach the
    configurations that share them through their own records)."""
    shared = (trial.summary or {}).get("shared_prefix")
    return isinstance(shared, dict) and shared.get("reported") is False


def _sweep_summary(reader: Reader, problems: ProblemLog) -> Optional[dict]:
    import json

    try:
        text = reader.read_text(SWEEP_SUMMARY)
    except (OSError, FileNotFoundError):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        problems.add(f"{SWEEP_SUMMARY} is not valid JSON and was ignored", reader.root)
        return None
    return value if isinstance(value, dict) else None
