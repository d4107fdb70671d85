"""A sweep launched: its trials stored, planned for shared prefixes, their data checked, run on
Ray Tune and reported in the closing table (docs/design.md §8, §11). `sweeps/grid.py` reads the
command line and the grid and calls `launch`; Ray is imported here, inside `launch` only."""

from __future__ import annotations

import datetime
import time
from typing import Callable, Optional, Sequence

from hybridal.loop.trial_columns import trial_columns
from sweeps.checks import check_trial_data
from sweeps.environment import describe_environment
from sweeps.grid_file import GridSpec
from sweeps.hparams import varying_columns
from sweeps.sharing import SharePlan
from sweeps.sweep_folder import SweepStore, experiment_uri, resolve_storage
from sweeps.table import report
from sweeps.trials import Trial


def launch(
    args,
    name: str,
    spec: Optional[GridSpec],
    trials: Optional[list[Trial]],
    started: tuple[float, datetime.datetime],
    trainable: Optional[Callable] = None,
    callbacks: Sequence = (),
) -> int:
    """Run the sweep `name` (a new one, or the stored one on --resume); returns the exit status.

    `started` is when the driver started (perf_counter, UTC); `trainable` replaces
    `sweeps.trainable.run_trial` and `callbacks` are added to Tune's (both for tests)."""
    started_at, started_utc = started
    storage = resolve_storage(args.storage_path)
    uri = experiment_uri(storage, name)
    store = SweepStore(uri)

    # Ray is imported from here on only: without --address, main() first set the loopback
    # variable that Ray reads at import.
    from sweeps import cluster, tuner
    from sweeps.prefix_store import PrefixStore
    from sweeps.searcher import ShareSearcher
    from sweeps.trainable import run_trial

    restorable = tuner.can_restore(uri)
    trials = store.trials_to_run(trials, restorable, args.resume)
    share = store.shared(restorable, not args.no_share)
    plan = SharePlan(trials, share=share)
    if not args.no_data_check:
        warm = args.address is None and not args.no_warm_cache
        print(
            f"checking the data of {len(trials)} trials{' and warming the token cache' if warm else ''} ...", flush=True
        )
        check_trial_data(trials, warm_cache=warm)
    with cluster.connected(args):
        cpus, gpus = cluster.plan_resources(args)
        resources = {
            "cpus_per_trial": cpus,
            "gpus_per_trial": gpus,
            "max_concurrent": args.max_concurrent or None,
            **cluster.totals(),
        }
        if not restorable:
            store.write(
                {
                    "hybridal_sweep": 1,
                    "name": name,
                    "created": datetime.datetime.now().isoformat(timespec="seconds"),
                    "source": spec.source,
                    "set": list(args.set),
                    "argv": args.argv,
                    "share": share,
                    "trials": [t.to_json() for t in trials],
                }
            )
        jobs = list(plan.jobs.values())
        hidden = len(jobs) - len(trials)
        print(
            f"{'resuming' if restorable else 'starting'} sweep {name!r}: {len(trials)} configurations"
            f"{f' ({len(plan.groups)} shared trunks, {hidden} of them hidden)' if share else ' (standalone)'}, "
            f"{cpus:g} CPU + {gpus:g} GPU per trial, results in {uri}",
            flush=True,
        )
        runner = tuner.trial_runner(
            trainable or run_trial, jobs, cpus, gpus, args.checkpoint_every, varying_columns(trials), uri
        )
        columns = {t.name: t.columns for t in trials}
        columns.update({j.name: trial_columns(j.config) for j in jobs if j.name not in columns})
        searcher = ShareSearcher(plan, columns, [j.name for j in jobs], uri, keep_prefixes=args.keep_prefixes)
        results = tuner.fit(
            args,
            runner,
            searcher,
            storage,
            name,
            uri,
            restorable,
            {j.name: j.config.total_rounds for j in jobs},
            callbacks,
        )
        environment = describe_environment(resources, args.argv, started_utc)
        if share and not args.keep_prefixes and all(j.state == "done" for j in searcher.plan.jobs.values()):
            PrefixStore(uri).remove()  # every run that reads it has finished; a failed one keeps it for --resume
        return report(
            results, trials, uri, time.perf_counter() - started_at, store, environment, searcher.plan.blocked()
        )
