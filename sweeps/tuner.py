"""Tune's Tuner for a sweep: a new one, or the stored one restored, and its fit."""
from __future__ import annotations

import contextlib
import json
import os
from typing import Callable, Sequence

from ray import tune
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

from hybridal.records import TRIAL_COLUMNS

from sweeps.callbacks import SweepCallback, TrialNames, param_space
from sweeps.errors import SweepError
from sweeps.spec import Trial


def can_restore(uri: str) -> bool:
    """Whether `uri` holds Tune state to resume."""
    try:
        return tune.Tuner.can_restore(uri)
    except Exception as exc:  # noqa: BLE001 - e.g. missing cloud credentials
        raise SweepError(f"cannot read the storage path {uri} ({type(exc).__name__}: {exc}).") from None


def trial_runner(trainable: Callable, trials: list[Trial], cpus: float, gpus: float, checkpoint_every: int):
    """`trainable` with its resources and each trial's ExperimentConfig (by trial name), put once in Ray's object store."""
    varying = tuple(c for c in TRIAL_COLUMNS if len({json.dumps(t.columns[c], default=str) for t in trials}) > 1)
    with_configs = tune.with_parameters(trainable, engines={t.name: t.config.to_dict() for t in trials},
                                        checkpoint_every=checkpoint_every, varying=varying)
    return tune.with_resources(with_configs, {"cpu": cpus, "gpu": gpus})


def fit(args, trainable, trials: list[Trial], storage: str, name: str, uri: str, resume: bool,
        extra_callbacks: Sequence = ()):
    """Run (or resume) every trial; returns Tune's ResultGrid. A restored Tuner keeps its callbacks and names."""
    if resume:
        tuner = tune.Tuner.restore(uri, trainable, resume_unfinished=True, resume_errored=True, param_space=param_space(trials))
    else:
        progress = SweepCallback({t.name: t.config.total_rounds for t in trials}, args.quiet)
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(trials),
            tune_config=tune.TuneConfig(
                # Reused actors keep torch/transformers imported: ~10 s less per trial on a CPU.
                num_samples=1, max_concurrent_trials=args.max_concurrent or None, reuse_actors=True,
                trial_name_creator=TrialNames(trials), trial_dirname_creator=TrialNames(trials)),
            run_config=tune.RunConfig(
                name=name, storage_path=storage, verbose=args.ray_verbose,
                callbacks=[progress, CSVLoggerCallback(), JsonLoggerCallback(), *extra_callbacks],
                checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
                failure_config=tune.FailureConfig(max_failures=args.max_failures),
                sync_config=tune.SyncConfig(sync_artifacts=True)),
        )
    # Our trials write their own TensorBoard events (round scalars and an HParams session);
    # Tune's TBX logger would add a second, differently-stepped copy of every metric. A forced
    # experiment snapshot after every num_to_keep checkpoints is intended (each round is one
    # checkpoint); Tune's warning about it is noise for short rounds.
    warn = "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"
    with _environ(TUNE_DISABLE_AUTO_CALLBACK_LOGGERS="1", **{warn: os.environ.get(warn, "0")}):
        return tuner.fit()


@contextlib.contextmanager
def _environ(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
