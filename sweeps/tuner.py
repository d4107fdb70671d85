"""Tune's Tuner for a sweep: a new one, or the stored one restored, and its fit."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import Callable, Sequence

from ray import tune
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback
from ray.tune.search import SearchGenerator

from sweeps.callbacks import SweepCallback, TrialNames
from sweeps.errors import SweepError
from sweeps.searcher import ShareSearcher
from sweeps.sharing import COPY, Job


def can_restore(uri: str) -> bool:
    """Whether `uri` holds Tune state to resume."""
    try:
        return tune.Tuner.can_restore(uri)
    except Exception as exc:  # noqa: BLE001 - e.g. missing cloud credentials
        raise SweepError(f"cannot read the storage path {uri} ({type(exc).__name__}: {exc}).") from None


def trial_runner(
    trainable: Callable,
    jobs: list[Job],
    cpus: float,
    gpus: float,
    checkpoint_every: int,
    varying: tuple,
    prefix_uri: str,
):
    """`trainable` with its resources and each job's ExperimentConfig (by name), put once in Ray's
    object store. A copy trains nothing, so it holds no GPU."""
    with_configs = tune.with_parameters(
        trainable,
        engines={j.name: j.config.to_dict() for j in jobs},
        checkpoint_every=checkpoint_every,
        varying=varying,
        prefix_uri=prefix_uri,
    )
    return tune.with_resources(with_configs, functools.partial(_resources, cpus, gpus))


def _resources(cpus: float, gpus: float, config: dict):
    from ray.tune import PlacementGroupFactory

    trains = config.get("role") != COPY
    return PlacementGroupFactory([{"CPU": cpus, "GPU": gpus if trains else 0}])


def fit(
    args,
    trainable,
    searcher: ShareSearcher,
    storage: str,
    name: str,
    uri: str,
    resume: bool,
    total_rounds: dict[str, int],
    extra_callbacks: Sequence = (),
):
    """Run (or resume) every job; returns Tune's ResultGrid. A restored Tuner keeps its searcher,
    callbacks and names (the searcher then reconciles itself with storage)."""
    if resume:
        tuner = tune.Tuner.restore(uri, trainable, resume_unfinished=True, resume_errored=True)
        # The restored Tuner would unpickle its own searcher; this one (the same plan, loaded from
        # the saved state by Tune) is the driver's, so the closing table can name what is blocked.
        tuner._local_tuner._tune_config.search_alg = ReopenedSearch(searcher)
    else:
        progress = SweepCallback(total_rounds, args.quiet)
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=ReopenedSearch(searcher),
                num_samples=-1,  # the searcher says when it is done (FINISHED)
                # Reused actors keep torch/transformers imported: ~10 s less per trial on a CPU.
                max_concurrent_trials=args.max_concurrent or None,
                reuse_actors=True,
                trial_name_creator=TrialNames(),
                trial_dirname_creator=TrialNames(),
            ),
            run_config=tune.RunConfig(
                name=name,
                storage_path=storage,
                verbose=args.ray_verbose,
                callbacks=[progress, CSVLoggerCallback(), JsonLoggerCallback(), *extra_callbacks],
                checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
                failure_config=tune.FailureConfig(max_failures=args.max_failures),
                sync_config=tune.SyncConfig(sync_artifacts=True),
            ),
        )
    # Our trials write their own TensorBoard events (round scalars and an HParams session);
    # Tune's TBX logger would add a second, differently-stepped copy of every metric. A forced
    # experiment snapshot after every num_to_keep checkpoints is intended (each round is one
    # checkpoint); Tune's warning about it is noise for short rounds.
    # With a custom searcher Tune keeps one trial pending at a time, so trials would start one
    # by one (and short ones never overlap); the sweep's jobs are known, so let them all queue.
    warn, pending = "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "TUNE_MAX_PENDING_TRIALS_PG"
    with _environ(
        TUNE_DISABLE_AUTO_CALLBACK_LOGGERS="1",
        **{warn: os.environ.get(warn, "0")},
        **{pending: os.environ.get(pending, str(min(max(len(searcher.order), 1), 200)))},
    ):
        return tuner.fit()


class ReopenedSearch(SearchGenerator):
    """Tune's wrapper around our searcher, reopened when Tune restores it.

    Tune saves that its search ended (the searcher said FINISHED) and would never ask a restored
    one again; but --resume reruns failed jobs and releases what they blocked. So after Tune's own
    restore (which reads its saved state as usual) the search is open again, with no cap on trials:
    the searcher says when it is done."""

    def restore_from_dir(self, dirpath: str) -> None:
        super().restore_from_dir(dirpath)
        self._finished, self._total_samples = False, sys.maxsize


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
