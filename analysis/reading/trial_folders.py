"""Find the trial folders of an experiment from the list of its files.

A run folder holds the engine's files (``summary.json``, ``rounds.jsonl``); a sweep trial's
folder is one, with Ray's files beside them. A folder with Ray's files alone is a trial that
stopped (or has not started) before its run wrote anything. Hidden folders and Ray's
``checkpoint_*`` copies are skipped; of nested run folders the outermost is the trial.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

RUN_FILES = frozenset({"rounds.jsonl", "summary.json"})
RAY_FILES = frozenset({"params.json", "result.json", "progress.csv", "error.txt"})


@dataclass(frozen=True)
class Folder:
    """One trial folder: its path relative to the experiment folder ('' = the folder itself) and file names."""

    path: str
    names: frozenset[str]

    @property
    def is_run(self) -> bool:
        return bool(self.names & RUN_FILES)

    @property
    def source(self) -> str:
        return "ray" if self.names & RAY_FILES else "run"


@dataclass
class Layout:
    """What an experiment folder holds."""

    trials: list[Folder]  # run folders (analysis.reading.run_folder) and Ray-only ones (analysis.reading.ray_files)
    state_files: list[str]  # Ray's experiment_state-*.json


def _skipped(folder: str) -> bool:
    return any(p.startswith((".", "checkpoint_", "__pycache__")) for p in folder.split("/") if p)


def _ancestors(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:i]) for i in range(len(parts))]


def discover(files: list[str]) -> Layout:
    """Sort the experiment's files (relative paths) into trial folders; Ray trials come first."""
    by_dir: dict[str, set[str]] = {}
    states = []
    for rel in files:
        folder, name = posixpath.split(rel)
        if _skipped(folder):
            continue
        by_dir.setdefault(folder, set()).add(name)
        if name.startswith("experiment_state-") and name.endswith(".json"):
            states.append(rel)
    folders = [Folder(d, frozenset(n)) for d, n in by_dir.items() if n & (RUN_FILES | RAY_FILES)]
    run_paths = {f.path for f in folders if f.is_run}
    above_runs = {a for p in run_paths for a in _ancestors(p)}
    runs = [f for f in folders if f.is_run and not any(a in run_paths for a in _ancestors(f.path))]
    # A Ray folder around or inside a run folder is part of that run.
    ray_only = [
        f
        for f in folders
        if not f.is_run and f.path not in above_runs and not any(a in run_paths for a in _ancestors(f.path))
    ]
    return Layout(sorted(runs + ray_only, key=lambda f: (f.source != "ray", f.path)), sorted(states))
