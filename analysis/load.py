"""Find the runs under an experiment folder (local or remote) and read them into two tables.

Two layouts are read, searched recursively under the experiment folder:

- a plain ``hybridal run`` folder: ``rounds.jsonl`` (one record per round), ``summary.json``
  (``trial``: the canonical config; ``final_test``; ``switch_round``; ``status``) and
  ``config.yaml``. No ``summary.json`` means the run is unfinished or crashed.
- a Ray Tune trial folder: ``params.json`` (the flat trial config) and ``result.json`` (one
  JSON line per ``tune.report``: the round record plus Ray's bookkeeping keys), perhaps
  ``progress.csv`` (read when result.json is absent) and ``error.txt``. A ``rounds.jsonl`` /
  ``summary.json`` in the trial folder (or in a sub-folder other than ``checkpoint_*``) is
  preferred over result.json.

Ray's ``experiment_state-*.json`` is read as plain JSON for each trial's status; nothing is
ever unpickled (``tuner.pkl``, ``params.pkl`` and ``basic-variant-state-*.json`` are pickles).

Remote folders (``s3://``, ``gs://``, ``hdfs://``) go through ``pyarrow.fs``; other URL schemes
(``memory://``, ...) through fsspec.
"""
from __future__ import annotations

import csv
import io
import json
import math
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import pandas as pd
import pyarrow.fs as pafs

from analysis.problems import ProblemLog
from analysis.storage import Reader
from analysis.schema import RECORD_FIELDS

# The canonical config columns of a trial (DESIGN.md section 8); a configuration is all of
# them except the seed.
CONFIG_COLUMNS: tuple[str, ...] = (
    "dataset", "strategy", "after", "epsilon", "k", "c", "monitor", "seed",
    "model", "sampler", "epochs", "finetune_epochs", "replay",
)
GROUP_COLUMNS: tuple[str, ...] = tuple(c for c in CONFIG_COLUMNS if c != "seed")
FLOAT_CONFIG = ("epsilon", "c")
INT_CONFIG = ("k", "seed", "epochs", "finetune_epochs", "replay")
STR_CONFIG = ("dataset", "strategy", "after", "monitor", "model", "sampler")

# Record fields added after the first runs were made; their absence is only a note.
OPTIONAL_RECORD_FIELDS = ("monitor_f1", "short_batch", "test_flops", "cum_test_flops", "test_rows", "test_n")
BOOL_RECORD_FIELDS = ("switched", "short_batch")
STR_RECORD_FIELDS = ("strategy_used", "test_rows")
# Integer counters become nullable Int64; FLOPs stay float64 (no overflow on huge sweeps).
INT_RECORD_FIELDS = (
    "round", "n_labeled", "n_new", "stable_count", "train_samples", "train_tokens", "test_n",
)

STATUSES = ("finished", "incomplete", "errored")
RUN_FILES = ("rounds.jsonl", "summary.json")
RAY_FILES = ("params.json", "result.json")


@dataclass
class Trial:
    """One AL run as read from disk."""

    trial: str                   # folder path relative to the experiment folder
    source: str                  # "run" (plain hybridal run) or "ray" (Ray Tune trial)
    status: str                  # finished | incomplete | errored
    config: dict[str, Any]       # canonical config columns (None where unknown)
    rounds: list[dict[str, Any]]
    summary: Optional[dict[str, Any]] = None
    extra_params: dict[str, Any] = field(default_factory=dict)
    trial_id: Optional[str] = None
    missing_fields: tuple[str, ...] = ()


@dataclass
class Experiment:
    """Everything read from one experiment folder."""

    root: str
    trials: list[Trial]
    problems: ProblemLog


# ----------------------------------------------------------------------------- parsing helpers

def _parse_json_lines(text: str, name: str, trial: str, problems: ProblemLog) -> list[dict]:
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


def _read_json(reader: Reader, rel: str, trial: str, problems: ProblemLog) -> Optional[dict]:
    try:
        obj = json.loads(reader.read_text(rel))
    except json.JSONDecodeError:
        problems.add(f"{posixpath.basename(rel)} is not valid JSON (half-written?) and was ignored", trial)
        return None
    except OSError as exc:
        problems.add(f"{posixpath.basename(rel)} could not be read ({exc})", trial)
        return None
    if not isinstance(obj, dict):
        problems.add(f"{posixpath.basename(rel)} is not a JSON object and was ignored", trial)
        return None
    return obj


def _read_progress_csv(text: str) -> list[dict]:
    """Rows of Ray's progress.csv with numbers, booleans and empty cells (None) decoded."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        rows.append({k: _decode_csv_cell(v) for k, v in row.items() if k is not None})
    return rows


def _decode_csv_cell(v: Optional[str]) -> Any:
    if v is None or v == "":
        return None
    if v in ("True", "true"):
        return True
    if v in ("False", "false"):
        return False
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def _flatten(d: dict, out: Optional[dict] = None, depth: int = 0) -> dict:
    """Leaf name -> value of a nested dict; a shallower leaf wins over a deeper one."""
    out = {} if out is None else out
    nested = []
    for k, v in d.items():
        if isinstance(v, dict):
            nested.append(v)
        elif k not in out:
            out[k] = v
    for v in nested:
        if depth < 4:
            _flatten(v, out, depth + 1)
    return out


# ExperimentConfig field names (config.yaml, summary.json "config") -> canonical columns.
_RUN_CONFIG_ALIASES = {
    "data": "dataset", "model_name_or_path": "model", "strategy_class": "strategy", "sampler_class": "sampler",
}


def _run_config(cfg: Optional[dict]) -> Optional[dict]:
    """A run's full config (config.yaml layout) with its fields renamed to canonical columns."""
    if not cfg:
        return None
    flat = _flatten(cfg)
    out = {_RUN_CONFIG_ALIASES.get(k, k): v for k, v in flat.items() if k not in _RUN_CONFIG_ALIASES.values()}
    return out | {k: v for k, v in flat.items() if k in _RUN_CONFIG_ALIASES.values()}  # canonical names win


def _canonical_config(sources: Iterable[Optional[dict]]) -> tuple[dict, dict]:
    """Canonical config (first source that has each key wins) and the other scalar params."""
    config: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for src in sources:
        if not src:
            continue
        flat = _flatten(src)
        for k, v in flat.items():
            if k in CONFIG_COLUMNS:
                config.setdefault(k, v)
            elif isinstance(v, (str, int, float, bool)) or v is None:
                extra.setdefault(k, v)
    return config, extra


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    # Ray's error.txt ends with the exception line; strip terminal colour codes.
    msg = lines[-1] if lines else "no message"
    for code in ("\x1b[36m", "\x1b[39m", "\x1b[0m", "\x1b[31m"):
        msg = msg.replace(code, "")
    return msg[:200]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not (
        isinstance(x, float) and math.isnan(x)
    )


# ----------------------------------------------------------------------------- discovery

def _skip_dir(parts: list[str]) -> bool:
    return any(p.startswith((".", "checkpoint_", "__pycache__")) for p in parts)


def _discover(files: list[str]) -> tuple[dict[str, set[str]], list[str]]:
    """Map each directory (relative, '' = root) to its file names; return them and state files."""
    by_dir: dict[str, set[str]] = {}
    states = []
    for rel in files:
        d, name = posixpath.split(rel)
        if _skip_dir(d.split("/") if d else []):
            continue
        by_dir.setdefault(d, set()).add(name)
        if name.startswith("experiment_state-") and name.endswith(".json"):
            states.append(rel)
    return by_dir, states


def _ray_states(reader: Reader, state_files: list[str], problems: ProblemLog) -> dict[str, tuple[str, str]]:
    """Trial folder (relative) -> (Ray status, trial_id), from the newest state file per folder.

    The state file is JSON whose ``trial_data`` entries are pairs of JSON strings; only the
    ``trial_id``, ``status`` and ``relative_logdir`` fields are used.
    """
    newest: dict[str, str] = {}
    for rel in sorted(state_files):  # names carry a sortable timestamp
        newest[posixpath.dirname(rel)] = rel
    out: dict[str, tuple[str, str]] = {}
    for d, rel in newest.items():
        try:
            state = json.loads(reader.read_text(rel))
            for entry in state.get("trial_data", []):
                meta = json.loads(entry[0]) if isinstance(entry[0], str) else entry[0]
                logdir = meta.get("relative_logdir")
                if logdir:
                    key = posixpath.join(d, logdir) if d else logdir
                    out[key] = (str(meta.get("status", "")), str(meta.get("trial_id", "")))
        except Exception:  # noqa: BLE001 - a half-written state file is only a note
            problems.add(f"Ray state file {rel} could not be read as JSON and was ignored")
    return out


# ----------------------------------------------------------------------------- one trial

def _normalise_rounds(rows: list[dict], trial: str, problems: ProblemLog, source_name: str) -> tuple[list[dict], tuple[str, ...]]:
    """Keep the record fields, fill missing ones with None, dedupe rounds (last report wins)."""
    if not rows:
        return [], ()
    present = set().union(*(r.keys() for r in rows))
    missing = tuple(f for f in RECORD_FIELDS if f not in present)
    if "round" not in present:
        # Ray's training_iteration counts reports from 1; otherwise use the line order.
        for i, r in enumerate(rows):
            it = r.get("training_iteration")
            r["round"] = int(it) - 1 if _is_number(it) else i
        problems.add(f"{source_name} records have no 'round' field: numbered by report order", trial)
    by_round: dict[int, dict] = {}
    dupes = 0
    for r in rows:
        rnd = r.get("round")
        if not _is_number(rnd):
            problems.add(f"{source_name}: a record without a numeric 'round' was skipped", trial)
            continue
        rnd = int(rnd)
        if rnd in by_round:
            dupes += 1
        by_round[rnd] = {f: r.get(f) for f in RECORD_FIELDS} | {"round": rnd}
    if dupes:
        problems.add(f"{source_name} reports some rounds twice (a resumed trial?): the last report of each round is kept", trial)
    out = [by_round[k] for k in sorted(by_round)]
    # Derive the cumulative counters when only the per-round ones were recorded.
    if "cum_train_flops" in missing and "train_flops" not in missing:
        acc = 0.0
        for r in out:
            acc += r["train_flops"] or 0
            r["cum_train_flops"] = acc
        missing = tuple(m for m in missing if m != "cum_train_flops")
    if "cum_total_flops" in missing and "train_flops" not in missing and "infer_flops" not in missing:
        acc = 0.0
        for r in out:
            acc += (r["train_flops"] or 0) + (r["infer_flops"] or 0)
            r["cum_total_flops"] = acc
        missing = tuple(m for m in missing if m != "cum_total_flops")
    return out, missing


def _status_from_summary(summary: Optional[dict]) -> Optional[str]:
    if summary is None:
        return None
    s = str(summary.get("status", "finished")).lower()
    if s in ("finished", "done", "completed", "terminated"):
        return "finished"
    if s in ("error", "errored", "failed", "crashed"):
        return "errored"
    return "incomplete"


def _read_trial(
    reader: Reader,
    rel_dir: str,
    names: set[str],
    run_dir: Optional[tuple[str, set[str]]],
    ray_state: Optional[tuple[str, str]],
    problems: ProblemLog,
    display: str,
) -> Trial:
    """Read one trial folder; `run_dir` is where its rounds.jsonl/summary.json live, if anywhere."""
    join = (lambda n: posixpath.join(rel_dir, n)) if rel_dir else (lambda n: n)
    is_ray = any(n in names for n in RAY_FILES)
    params = _read_json(reader, join("params.json"), display, problems) if "params.json" in names else None

    results: list[dict] = []
    if "result.json" in names:
        results = _parse_json_lines(reader.read_text(join("result.json")), "result.json", display, problems)
    elif "progress.csv" in names:
        results = _read_progress_csv(reader.read_text(join("progress.csv")))

    summary = None
    run_rows: Optional[list[dict]] = None
    config_yaml = None
    if run_dir is not None:
        rdir, rnames = run_dir
        rjoin = (lambda n: posixpath.join(rdir, n)) if rdir else (lambda n: n)
        if "summary.json" in rnames:
            summary = _read_json(reader, rjoin("summary.json"), display, problems)
        if "rounds.jsonl" in rnames:
            run_rows = _parse_json_lines(reader.read_text(rjoin("rounds.jsonl")), "rounds.jsonl", display, problems)
        if "config.yaml" in rnames:
            config_yaml = _read_yaml(reader, rjoin("config.yaml"), display, problems)

    # Rows: rounds.jsonl is preferred; Ray's result.json is the fallback.
    if run_rows:
        rows, source_name = run_rows, "rounds.jsonl"
    else:
        rows, source_name = results, ("result.json" if "result.json" in names else "progress.csv")
    rounds, missing = _normalise_rounds([dict(r) for r in rows], display, problems, source_name)

    result_config = next((r.get("config") for r in reversed(results) if isinstance(r.get("config"), dict)), None)
    summary_trial = summary.get("trial") if summary and isinstance(summary.get("trial"), dict) else None
    summary_config = summary.get("config") if summary and isinstance(summary.get("config"), dict) else None
    config, extra = _canonical_config([summary_trial, params, result_config, _run_config(summary_config),
                                       _run_config(config_yaml)])
    absent = [c for c in CONFIG_COLUMNS if c not in config]
    if absent:
        problems.add(f"config lacks {', '.join(absent)} (filled as unknown)", display)
    config = {c: config.get(c) for c in CONFIG_COLUMNS}
    for c in ("dataset", "strategy"):  # every trial belongs to some dataset and strategy in the report
        if config[c] is None:
            config[c] = "unknown"

    # Status: the run's own summary, then Ray's state, then error.txt, then the rounds reached.
    status = _status_from_summary(summary)
    note = None
    error_txt = None
    if "error.txt" in names:
        try:
            error_txt = _last_line(reader.read_text(join("error.txt")))
        except OSError:
            error_txt = "error.txt unreadable"
    total_rounds = int(extra["total_rounds"]) if _is_number(extra.get("total_rounds")) else None
    reached = total_rounds is not None and len(rounds) >= total_rounds
    last_done = bool(results and results[-1].get("done") is True)
    ray_status = ray_state[0] if ray_state else ""
    if status is None and ray_status == "TERMINATED":
        status = "finished"
    elif status is None and ray_status == "ERROR":
        status = "errored"
    if status is None and error_txt is not None:
        if reached:
            status = "finished"
            problems.add("has error.txt but reported every round (retried after a failure?): counted as finished", display)
        else:
            status = "errored"
    if status is None and is_ray and (reached or last_done):  # a plain run is finished only by its summary
        status = "finished"
    if status is None:
        if is_ray:
            note = "still running" if ray_status in ("RUNNING", "PENDING", "PAUSED") else "running or crashed"
            if total_rounds is not None:
                note += f": {len(rounds)} of {total_rounds} rounds reported"
            else:
                note += f": {len(rounds)} rounds reported, no total_rounds in params.json and no summary.json"
        else:
            note = f"no summary.json (unfinished or crashed run): {len(rounds)} rounds recorded"
            if total_rounds is not None:
                note += f" of {total_rounds}"
        status = "incomplete"

    if status == "errored":
        problems.add(f"errored: {error_txt}" if error_txt else "errored (status in summary.json or Ray state)", display)
    elif status == "incomplete":
        problems.add(f"incomplete, left out of the aggregates ({note.split(':')[0]})", display)
    if status == "finished" and not rounds:
        problems.add("finished but has no readable round records: left out", display)
    if missing and rounds:
        core = [m for m in missing if m not in OPTIONAL_RECORD_FIELDS]
        if core:
            problems.add(f"records lack fields {', '.join(core)} (older run?): those columns are empty", display)
        else:
            problems.add(f"records lack the newer fields {', '.join(missing)} (older run)", display)

    trial_id = ray_state[1] if ray_state and ray_state[1] else None
    if trial_id is None and results:
        tid = results[-1].get("trial_id")
        trial_id = str(tid) if tid is not None else None
    return Trial(
        trial=display, source="ray" if is_ray else "run", status=status, config=config,
        rounds=rounds, summary=summary, extra_params=extra, trial_id=trial_id, missing_fields=missing,
    )


def _read_yaml(reader: Reader, rel: str, trial: str, problems: ProblemLog) -> Optional[dict]:
    try:
        import yaml
    except ImportError:
        return None
    try:
        obj = yaml.safe_load(reader.read_text(rel))
    except Exception:  # noqa: BLE001
        problems.add("config.yaml could not be parsed and was ignored", trial)
        return None
    return obj if isinstance(obj, dict) else None


# ----------------------------------------------------------------------------- experiment

def load_experiment(uri: str) -> Experiment:
    """Read every trial under `uri` (a local folder or a URL); problems are logged, not raised.

    Raises AnalysisError only when the folder cannot be listed at all.
    """
    reader = Reader(uri)
    problems = ProblemLog()
    files = reader.list_files()
    by_dir, state_files = _discover(files)
    states = _ray_states(reader, state_files, problems)

    ray_dirs = {d for d, n in by_dir.items() if n & set(RAY_FILES)}
    run_dirs = {d for d, n in by_dir.items() if n & set(RUN_FILES)} - ray_dirs

    def ancestors(d: str) -> list[str]:
        parts = d.split("/") if d else []
        return ["/".join(parts[:i]) for i in range(len(parts))]

    # Outermost folder wins; a run folder inside a Ray trial folder belongs to that trial.
    trial_dirs = sorted(d for d in ray_dirs if not any(a in ray_dirs or a in run_dirs for a in ancestors(d)))
    plain_dirs = sorted(d for d in run_dirs if not any(a in ray_dirs or a in run_dirs for a in ancestors(d)))
    attached: dict[str, str] = {}
    for d in sorted(run_dirs, key=lambda x: x.count("/")):
        owner = next((a for a in ancestors(d) if a in ray_dirs), None)
        if owner is not None and owner not in attached:
            attached[owner] = d

    root_name = posixpath.basename(reader.root.rstrip("/")) or reader.root

    def read(d: str) -> tuple[Optional[Trial], ProblemLog]:
        names = by_dir[d]
        if d in ray_dirs and names & set(RUN_FILES):
            run_dir: Optional[tuple[str, set[str]]] = (d, names)
        elif d in attached:
            run_dir = (attached[d], by_dir[attached[d]])
        elif d in run_dirs:
            run_dir = (d, names)
        else:
            run_dir = None
        display = d or root_name
        log = ProblemLog()
        try:
            return _read_trial(reader, d, names, run_dir, states.get(d), log, display), log
        except OSError as exc:  # e.g. deleted between listing and reading
            log.add(f"could not be read ({exc}) and was skipped", display)
            return None, log

    dirs = trial_dirs + plain_dirs
    if isinstance(reader.fs, pafs.LocalFileSystem) or len(dirs) < 4:
        results = [read(d) for d in dirs]
    else:  # object stores: one round trip per file, so read trials concurrently
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(read, dirs))
    trials: list[Trial] = []
    for trial, log in results:  # merged in folder order, so reports are deterministic
        problems.extend(log)
        if trial is not None:
            trials.append(trial)

    found = set(trial_dirs)
    unseen = [k for k in states if k not in found]
    if unseen:
        problems.add(f"{len(unseen)} trial(s) listed in Ray's experiment state have no result folder yet (pending or lost)")
    return Experiment(root=uri, trials=trials, problems=problems)


# ----------------------------------------------------------------------------- tables

def _coerce_config(df: pd.DataFrame) -> pd.DataFrame:
    """Give config columns stable dtypes: floats, nullable ints, strings (None for unknown)."""
    for c in FLOAT_CONFIG:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for c in INT_CONFIG:
        num = pd.to_numeric(df[c], errors="coerce")
        whole = num.dropna()
        df[c] = num.astype("Int64") if (whole == whole.round()).all() else num.astype("float64")
    for c in STR_CONFIG:
        df[c] = df[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)).astype(object)
    return df


def config_key(row: pd.Series | dict) -> str:
    """A stable string naming a configuration (all canonical columns but the seed)."""
    def plain(v: Any) -> Any:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v
    return json.dumps({c: plain(row[c]) for c in GROUP_COLUMNS}, sort_keys=True, default=str)


def trials_table(exp: Experiment) -> pd.DataFrame:
    """One row per trial: id, source, status, config, and what summary.json says."""
    rows = []
    for t in exp.trials:
        s = t.summary or {}
        final = s.get("final_test") if isinstance(s.get("final_test"), dict) else {}
        rows.append({
            "trial": t.trial, "trial_id": t.trial_id, "source": t.source, "status": t.status,
            **t.config,
            "n_rounds": len(t.rounds),
            "summary_test_f1": final.get("f1") if _is_number(final.get("f1")) else None,
            "summary_test_accuracy": final.get("accuracy") if _is_number(final.get("accuracy")) else None,
            "summary_has_switch_round": "switch_round" in s,
            "summary_switch_round": s.get("switch_round") if _is_number(s.get("switch_round")) else None,
            "extra_params": json.dumps(t.extra_params, sort_keys=True, default=str),
        })
    cols = ["trial", "trial_id", "source", "status", *CONFIG_COLUMNS, "n_rounds", "summary_test_f1",
            "summary_test_accuracy", "summary_has_switch_round", "summary_switch_round", "extra_params"]
    df = pd.DataFrame(rows, columns=cols)
    df = _coerce_config(df)
    for c in ("summary_test_f1", "summary_test_accuracy", "summary_switch_round"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["summary_has_switch_round"] = df["summary_has_switch_round"].astype(bool)
    df["n_rounds"] = df["n_rounds"].astype("int64")
    df["config_id"] = [config_key(r) for _, r in df.iterrows()] if len(df) else pd.Series(dtype=object)
    return df


def rounds_table(exp: Experiment, trials: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """The tidy long table: one row per trial x round, config columns + every record field."""
    trials = trials_table(exp) if trials is None else trials
    frames = []
    for t in exp.trials:
        if not t.rounds:
            continue
        frames.append(pd.DataFrame(t.rounds, columns=list(RECORD_FIELDS)).assign(trial=t.trial))
    front = ["trial", "status", "source", *CONFIG_COLUMNS]
    if not frames:
        return pd.DataFrame(columns=front + list(RECORD_FIELDS))
    rec = pd.concat(frames, ignore_index=True)
    for f in RECORD_FIELDS:
        if f in STR_RECORD_FIELDS:
            rec[f] = rec[f].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)).astype(object)
        elif f in BOOL_RECORD_FIELDS:
            rec[f] = rec[f].map(lambda v: pd.NA if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v)).astype("boolean")
        elif f in INT_RECORD_FIELDS:
            num = pd.to_numeric(rec[f], errors="coerce")
            rec[f] = num.round().astype("Int64") if f != "round" else num.astype("int64")
        else:
            rec[f] = pd.to_numeric(rec[f], errors="coerce").astype("float64")
    out = trials[front].merge(rec, on="trial", how="right")
    return out[front + list(RECORD_FIELDS)].sort_values(["trial", "round"], kind="stable").reset_index(drop=True)
