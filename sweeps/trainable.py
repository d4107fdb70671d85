"""The Ray Tune trainable: one trial is one AL run (docs/design.md §8).

`run_trial` is a plain function trainable. Its Ray config names the trial (`trial_name`, plus
the canonical columns Tune shows); the run's whole ExperimentConfig comes once, through
`tune.with_parameters(run_trial, engines={name: config dict})`. It restores from
`tune.get_checkpoint()`, runs one round at a time and reports each round's record with a
checkpoint, so a retried trial resumes at its last finished round.

In a shared sweep (sweeps.sharing) a trial has a role: a *trunk* also saves its state after
every round some configuration of its group switches after, and publishes its finished run; a
*fork* starts from its trunk's saved state instead of round 0; a *copy* trains nothing and
writes its run from a finished trunk's or fork's (hybridal.loop.prefix_forks.copy_run); a *standalone*
run is a plain run. Every run's summary.json says which (`shared_prefix`) and what it spent.

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
from typing import Optional

import ray
import torch
from ray import tune

from hybridal.atomic_write import atomic_write_text, to_json
from hybridal.config import ExperimentConfig
from hybridal.errors import ConfigError, DataError
from hybridal.loop.active_learning import ActiveLearning
from hybridal.records import TRIAL_COLUMNS
from hybridal.strategies import StopObservation
from sweeps.checks import quiet_datasets
from sweeps.hparams import write_hparams
from sweeps.prefix_store import PrefixStore
from sweeps.sharing import COPY, FORK, STANDALONE, TRUNK, needs_prefix


def run_trial(
    config: dict, engines: dict, checkpoint_every: int = 1, varying: tuple = (), prefix_uri: Optional[str] = None
) -> None:
    """One AL run: one `tune.report` (record + checkpoint) per round, or one error record.

    Writes rounds.jsonl, summary.json, config.yaml and TensorBoard events into the trial's
    working directory, which Tune syncs to the trial's folder in storage
    (`SyncConfig(sync_artifacts=True)`; forced on every checkpoint). `varying`: the canonical
    columns that differ across the sweep (the HParams tab shows them first).
    """
    logging.getLogger("ray.train").setLevel(logging.WARNING)  # "Checkpoint successfully created" every round
    quiet_datasets()
    run_dir = _run_dir()
    engine = engines[config["trial_name"]]
    role = config.get("role") or STANDALONE
    store = PrefixStore(prefix_uri) if prefix_uri and role != STANDALONE else None
    try:
        if role == COPY:
            _copy(config, ExperimentConfig.from_dict(engine), run_dir, store, tuple(varying))
        else:
            members = [ExperimentConfig.from_dict(engines[m]) for m in config.get("members") or ()]
            _run(
                config,
                ExperimentConfig.from_dict(engine),
                run_dir,
                max(1, int(checkpoint_every)),
                tuple(varying),
                store,
                members,
            )
    except (ConfigError, DataError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        _write_error_summary(run_dir, config, engine, message)
        tune.report({"error": message, "trial_name": config["trial_name"], "done": True})


def _run(
    config: dict,
    cfg: ExperimentConfig,
    run_dir: Path,
    checkpoint_every: int,
    varying: tuple,
    store: Optional[PrefixStore],
    members: list[ExperimentConfig],
) -> None:
    started = time.time()
    resources = tune.get_context().get_trial_resources().required_resources
    torch.set_num_threads(max(1, int(float(resources.get("CPU", 1) or 1))))
    gpu_ids = [str(g) for g in ray.get_gpu_ids()]
    if cfg.device == "auto" and not gpu_ids:
        cfg = cfg.replace(device="cpu")  # no GPU was assigned to this trial: never grab one
    al = ActiveLearning(cfg, run_dir=run_dir)  # applies cfg.deterministic (a reused actor's last setting too)
    role, name = config.get("role") or STANDALONE, config["trial_name"]
    extra = {
        "trial_name": name,
        "node_ip": ray.util.get_node_ip_address(),
        "gpu_ids": ",".join(gpu_ids),
        "started_at": started,
        "role": role,
    }
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            al.load_checkpoint(folder)
    elif role == FORK:
        _start_fork(al, config, store)
        for record in al.records:  # the trunk's rounds, so Tune's view holds the whole curve too
            tune.report(
                {
                    **record.to_dict(),
                    **extra,
                    "from_trunk": True,
                    "done": False,
                    **adopted(config["trunk"], record.round, record is al.records[-1]),
                }
            )
    first_own = int(config.get("fork_round") or 0) if role == FORK else 0
    al.provenance = provenance(config, al.records, first_own)
    resumed_from = None
    for record in al.iter_rounds():
        resumed_from = record.round if resumed_from is None else resumed_from
        last = al.finished
        saved = role == TRUNK and not last and _save_prefix(al, name, store, members)
        al.provenance = provenance(config, al.records, first_own)
        if last:
            al.save_experiment()  # summary.json before the final report, so it is synced with it
            write_hparams(run_dir, varying)
            if role in (TRUNK, FORK):
                store.put_run(name, run_dir)  # what copies of this run read
        metrics = {
            **record.to_dict(),
            **extra,
            "resumed_from_round": resumed_from,
            **al.switch_columns(),
            "prefix_saved": saved,
            "spent_train_flops": al.provenance["spent_train_flops"],
            "done": last,
        }
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


def provenance(config: dict, records: list, first_own: int) -> dict:
    """summary.json's `shared_prefix`: the run's role and the training FLOPs this trial computed
    (a fork's rounds before its switch were computed by its trunk)."""
    return {
        "role": config.get("role") or STANDALONE,
        "reported": bool(config.get("reported", True)),
        "trunk": config.get("trunk"),
        "fork_round": config.get("fork_round"),
        "source": config.get("source"),
        "spent_train_flops": sum(r.train_flops for r in records if r.round >= first_own),
    }


def adopted(source: str, round_idx: int, last: bool) -> dict:
    """A report of a round another run trained: the progress shows one line for all of them."""
    return {"adopted": True, **({"adopted_from": source, "adopted_through": round_idx} if last else {})}


def _start_fork(al: ActiveLearning, config: dict, store: PrefixStore) -> None:
    """Continue the trunk's state after round fork_round - 1, as this configuration."""
    trunk, after = config["trunk"], int(config["fork_round"]) - 1
    with tempfile.TemporaryDirectory(prefix="hybridal-prefix-") as tmp:
        if not store.get_prefix(trunk, after, Path(tmp)):
            raise DataError(
                f"the trunk checkpoint {store.describe_prefix(trunk, after)} that fork {config['trial_name']} "
                f"continues is missing; rerun the sweep under a new --name, or with --no-share."
            )
        al.continue_from_prefix(tmp)


def _save_prefix(al: ActiveLearning, trunk: str, store: PrefixStore, members: list[ExperimentConfig]) -> bool:
    """Save the trunk's state after this round if a configuration of its group switches next round."""
    records = al.records
    stops = [StopObservation.of(r) for r in records]
    if not needs_prefix(members, [r.monitor_f1 for r in records], [r.monitor_degenerate for r in records], stops):
        return False
    with tempfile.TemporaryDirectory(prefix="hybridal-prefix-") as tmp:
        al.save_checkpoint(tmp)
        store.put_prefix(trunk, al.records[-1].round, Path(tmp))
    return True


def _copy(config: dict, cfg: ExperimentConfig, run_dir: Path, store: PrefixStore, varying: tuple) -> None:
    """A configuration whose rounds another finished run of its group trained: adopt them."""
    from hybridal.loop.prefix_forks import copy_run

    source = config["source"]
    with tempfile.TemporaryDirectory(prefix="hybridal-run-") as tmp:
        if not store.get_run(source, Path(tmp)):
            raise DataError(
                f"the run {store.uri}/{source}/run that copy {config['trial_name']} adopts is missing; "
                "rerun the sweep under a new --name, or with --no-share."
            )
        summary = copy_run(cfg, tmp, run_dir, provenance(config, [], 0))
    write_hparams(run_dir, varying)
    lines = (run_dir / "rounds.jsonl").read_text().splitlines()
    switch = {k: summary[k] for k in ("switch_round", "switch_decided_round")}
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        record = json.loads(line)
        tune.report(
            {
                **record,
                "trial_name": config["trial_name"],
                "node_ip": ray.util.get_node_ip_address(),
                "role": COPY,
                **switch,
                "spent_train_flops": 0,
                "done": last,
                **adopted(source, record["round"], last),
            }
        )


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
