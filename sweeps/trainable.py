"""The Ray Tune trainable: one trial is one AL run (DESIGN.md section 8).

`run_trial` is a plain function trainable. Its Ray config names the trial (`trial_name`, plus
the canonical columns Tune shows); the run's whole ExperimentConfig comes once, through
`tune.with_parameters(run_trial, engines={name: config dict})`. It restores from
`tune.get_checkpoint()`, runs one round at a time and reports each round's record with a
checkpoint, so a retried trial resumes at its last finished round.

A ConfigError or DataError is the trial's result, not a crash: the driver checked every
config and dataset before Ray started, so one here means the driver could not see the data
(`--no-data-check`) or a bug, and a retry would fail the same way. The trial writes
summary.json with `"status": "error"`, reports a final record with an `error` field and
returns; the driver's closing table shows it and the sweep exits 2.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

import ray
import torch
from ray import tune

from hybridal.active_learning import ActiveLearning
from hybridal.config import ExperimentConfig
from hybridal.errors import ConfigError, DataError
from hybridal.outputs import atomic_write_text, to_json
from hybridal.records import TRIAL_COLUMNS

from sweeps.hparams import write_hparams


def run_trial(config: dict, engines: dict, checkpoint_every: int = 1, varying: tuple = ()) -> None:
    """One AL run: one `tune.report` (record + checkpoint) per round, or one error record.

    Writes rounds.jsonl, summary.json, config.yaml and TensorBoard events into the trial's
    working directory, which Tune syncs to the trial's folder in storage
    (`SyncConfig(sync_artifacts=True)`; forced on every checkpoint). `varying`: the canonical
    columns that differ across the sweep (the HParams tab shows them first).
    """
    logging.getLogger("ray.train").setLevel(logging.WARNING)   # "Checkpoint successfully created" every round
    run_dir = _run_dir()
    engine = engines[config["trial_name"]]
    try:
        _run(config, ExperimentConfig.from_dict(engine), run_dir, max(1, int(checkpoint_every)), tuple(varying))
    except (ConfigError, DataError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        _write_error_summary(run_dir, config, engine, message)
        tune.report({"error": message, "trial_name": config["trial_name"], "done": True})


def _run(config: dict, cfg: ExperimentConfig, run_dir: Path, checkpoint_every: int, varying: tuple) -> None:
    started = time.time()
    resources = tune.get_context().get_trial_resources().required_resources
    torch.set_num_threads(max(1, int(float(resources.get("CPU", 1) or 1))))
    gpu_ids = [str(g) for g in ray.get_gpu_ids()]
    if cfg.device == "auto" and not gpu_ids:
        cfg = cfg.replace(device="cpu")   # no GPU was assigned to this trial: never grab one
    al = ActiveLearning(cfg, run_dir=run_dir)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            al.load_checkpoint(folder)
    extra = {"trial_name": config["trial_name"], "node_ip": ray.util.get_node_ip_address(), "gpu_ids": ",".join(gpu_ids),
             "started_at": started}
    resumed_from = None
    for record in al.iter_rounds():
        resumed_from = record.round if resumed_from is None else resumed_from
        last = al.finished
        if last:
            al.save_experiment()   # summary.json before the final report, so it is synced with it
            write_hparams(run_dir, varying)
        metrics = {**record.to_dict(), **extra, "resumed_from_round": resumed_from, **al.switch_columns(), "done": last}
        if last or (record.round + 1) % checkpoint_every == 0:
            with tempfile.TemporaryDirectory(prefix="hybridal-ckpt-") as tmp:
                al.save_checkpoint(tmp)
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))
        else:
            tune.report(metrics)
        if last:
            return
    # Restored after its last round was reported and checkpointed: iter_rounds ran nothing and saved the run again.
    write_hparams(run_dir, varying)


def _run_dir() -> Path:
    """Tune's working directory for the trial (synced to storage), or its trial folder."""
    if os.environ.get("RAY_CHDIR_TO_TRIAL_DIR", "1") != "0":
        return Path(os.getcwd())
    return Path(tune.get_context().get_trial_dir())


def _write_error_summary(run_dir: Path, config: dict, engine: dict, message: str) -> None:
    """summary.json with status "error": the engine's own if it wrote one, plus the error."""
    path = run_dir / "summary.json"
    try:
        summary = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        summary = {}
    summary.setdefault("trial", {c: config.get(c) for c in TRIAL_COLUMNS})
    summary.setdefault("config", engine)
    summary.update(status="error", error=message)
    atomic_write_text(path, to_json(summary, indent=2) + "\n")
