"""Read every trial under an experiment folder (local or remote) into an Experiment.

Each trial is a run folder (the engine's ``summary.json`` and ``rounds.jsonl``; see
analysis/reading/run_folder.py) or, where a sweep trial stopped before its run wrote anything, a folder of
Ray's files alone (analysis/reading/ray_files.py). Remote folders (``s3://``, ``gs://``, ``hdfs://``)
go through ``pyarrow.fs``; other URL schemes (``memory://``, ...) through fsspec.
"""

from __future__ import annotations

import dataclasses
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Sequence

import pyarrow.fs as pafs

from analysis.reading.filesystem import Reader
from analysis.reading.problems import AnalysisError, ProblemLog
from analysis.reading.ray_files import note_unseen_trials, read_ray_only
from analysis.reading.report_folder import is_tidy, read_tidy
from analysis.reading.run_folder import read_run
from analysis.reading.schema_versions import derive_schema2
from analysis.reading.trial_as_read import Trial, note_status
from analysis.reading.trial_folders import Folder, discover

SWEEP_SUMMARY = "sweep_summary.json"  # written by sweeps/grid.py at the experiment's root


@dataclass
class Experiment:
    """Everything read from one experiment folder."""

    root: str
    trials: list[Trial]
    problems: ProblemLog
    sweep: Optional[dict] = None  # sweep_summary.json of a sweep (spent vs attributed training FLOPs)
    tidy: bool = False  # read back from a report's own tables (runs.csv + rounds.parquet)


def load_experiment(uri: str) -> Experiment:
    """Read every trial under `uri` (a local folder or a URL); problems are logged, not raised.

    Raises AnalysisError only when the folder cannot be listed at all.
    """
    reader = Reader(uri)
    problems = ProblemLog()
    files = reader.list_files()
    if is_tidy(files):  # a report's own tables (e.g. a committed study): read them back
        trials = [on_schema2(t, problems) for t in read_tidy(reader)]
        for t in trials:
            note_status(t.status, None, t.trial, problems)
        return Experiment(root=uri, trials=trials, problems=problems, sweep=_sweep_summary(reader, problems), tidy=True)
    layout = discover(files)
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
            trials.append(on_schema2(trial, problems))
    note_unseen_trials(reader, layout.state_files, {f.path for f in layout.trials}, problems)
    return Experiment(root=uri, trials=trials, problems=problems, sweep=_sweep_summary(reader, problems))


def load_experiments(uris: Sequence[str]) -> Experiment:
    """Read several experiment folders as one (e.g. a study run as one sweep per dataset).

    Trial names get their folder's name in front (``study-agnews/agnews-retrain-s42``), so
    equal names in different sweeps stay apart; the sweeps' summaries are combined by
    `combine_sweeps`. A folder of report tables (e.g. the committed study, extended by a new
    sweep) keeps its trial names and contributes the sweeps it already combines.
    """
    if len(uris) == 1:
        return load_experiment(uris[0])
    names = [posixpath.basename(u.rstrip("/")) or u for u in uris]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise AnalysisError(
            f"two experiment folders are both named {dup!r}; allowed: folders with distinct names "
            "(their names tell the trials apart)."
        )
    trials: list[Trial] = []
    problems = ProblemLog()
    sweeps = []
    for uri, name in zip(uris, names):
        exp = load_experiment(uri)
        prefix = "" if exp.tidy else f"{name}/"
        trials += [dataclasses.replace(t, trial=f"{prefix}{t.trial}") for t in exp.trials]
        for message, named in exp.problems.entries.items():
            if not named:
                problems.add(f"{name}: {message}")
            for t in named:
                problems.add(message, f"{prefix}{t}")
        if exp.sweep and exp.tidy and isinstance(exp.sweep.get("sweeps"), list):
            sweeps += exp.sweep["sweeps"]
        elif exp.sweep:
            sweeps.append({"name": name, **exp.sweep})
    seen = [t.trial for t in trials]
    if len(set(seen)) < len(seen):
        dup = next(t for t in seen if seen.count(t) > 1)
        raise AnalysisError(
            f"trial {dup!r} is in two of the folders; allowed: each trial in one folder (a sweep "
            "already in a report's tables is not given again)."
        )
    return Experiment(root=" + ".join(uris), trials=trials, problems=problems, sweep=combine_sweeps(sweeps))


def combine_sweeps(sweeps: list[dict]) -> Optional[dict]:
    """One sweep_summary for several sweeps: FLOPs, counts and wall time summed; each kept under "sweeps"."""
    if not sweeps:
        return None
    runs: dict[str, int] = {}
    for s in sweeps:
        for role, n in (s.get("runs") or {}).items():
            runs[role] = runs.get(role, 0) + int(n)
    total = lambda key: float(sum(float(s.get(key) or 0) for s in sweeps))  # noqa: E731
    spent, attributed = total("spent_train_flops"), total("attributed_train_flops")
    return {
        "configurations": int(total("configurations")),
        "trials": int(total("trials")),
        "runs": runs,
        "spent_train_flops": spent,
        "attributed_train_flops": attributed,
        "saved_fraction": 1 - spent / attributed if attributed else None,
        "wall_seconds": total("wall_seconds"),
        "sweeps": sweeps,
    }


def on_schema2(trial: Trial, problems: ProblemLog) -> Trial:
    """`trial` with schema-1 rounds given the schema-2 cost fields (analysis/reading/schema_versions.py), so one
    definition of AL cost holds for every trial."""
    rounds = derive_schema2(trial.rounds, trial.config, trial.summary, trial.settings, trial.trial, problems)
    return trial if rounds is trial.rounds else dataclasses.replace(trial, rounds=rounds)


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
