"""`--dry-run`: every trial's canonical columns, the settings they share, and the grid's cost
estimate (hybridal.cost.estimate) before anything is launched. Imports no Ray."""

from __future__ import annotations

import json
import sys

from hybridal.cost.estimate import GridEstimate, describe, estimate_grid
from sweeps.checks import quiet_datasets
from sweeps.errors import first_line
from sweeps.trials import Trial


def print_trials(trials: list[Trial], notes: list[str]) -> None:
    configs = [t.config.to_dict() for t in trials]
    varying = {k for c in configs for k in c if c[k] != configs[0][k]}
    print("engine settings shared by every trial:")
    for key, value in configs[0].items():
        if key not in varying and key != "experiment_name":
            print(f"  {key}: {json.dumps(value, default=str)}")
    by_dataset = per_dataset_settings(trials)
    if by_dataset:
        print("engine settings that differ by dataset (per_dataset:):")
        for dataset, values in by_dataset.items():
            print(f"  {dataset}: {json.dumps(values, default=str)}")
    print("trials:")
    width = len(str(len(trials)))
    for i, t in enumerate(trials, 1):
        print(f"  {i:>{width}}  {t.name}  {json.dumps(t.columns, default=str)}")
    n_hybrid = sum(t.columns["strategy"] == "deltaf1" for t in trials)
    print(f"{len(trials)} trials ({len(trials) - n_hybrid} baseline, {n_hybrid} deltaf1)")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def per_dataset_settings(trials: list[Trial]) -> dict[str, dict]:
    """Per dataset, the settings that are the same for all its trials but differ between datasets
    (what per_dataset: set); the trial lines show only the canonical columns."""
    by_data: dict[str, list[dict]] = {}
    for t in trials:
        by_data.setdefault(t.config.data, []).append(t.config.to_dict())
    firsts = [configs[0] for configs in by_data.values()]
    keys = [
        k
        for k in firsts[0]
        if k not in ("data", "experiment_name")
        and any(f[k] != firsts[0][k] for f in firsts)
        and all(c[k] == configs[0][k] for configs in by_data.values() for c in configs)
    ]
    return {data: {k: configs[0][k] for k in keys} for data, configs in by_data.items()} if keys else {}


def print_estimate(trials: list[Trial], share: bool = True) -> None:
    """The grid's FLOPs and GPU-hours, each configuration alone and (with `share`) as a shared
    sweep computes them; a note if they cannot be made."""
    from sweeps.prefix_storage import describe_peak_storage
    from sweeps.share_cost import describe_sharing, estimated_round_flops
    from sweeps.sharing import SharePlan

    quiet_datasets()
    try:
        print(describe(estimate_trials(trials)))
        plan = SharePlan(trials, share=share)
        if plan.groups:
            round_flops, rounds = estimated_round_flops()
            print(describe_sharing(plan, round_flops, rounds))
            storage = describe_peak_storage(plan, rounds)
            if storage:
                print(storage)
        else:
            print("shared prefixes: none (--no-share, or no two configurations share a trunk)")
    except Exception as exc:  # noqa: BLE001 - the estimate is advisory; the trial list stands
        print(f"note: no cost estimate ({type(exc).__name__}: {first_line(exc)}).", file=sys.stderr)


def estimate_trials(trials: list[Trial]) -> GridEstimate:
    """The cost estimate of every trial of an expanded grid.

    The estimate depends on neither ε nor (beyond sampling noise) the seed: each distinct
    remaining configuration is estimated once, for the first seed of its dataset, and counted
    once per trial. A 285-trial grid then costs 21 estimates, not 285.
    """
    first_seed: dict[str, int] = {}
    for t in trials:
        first_seed.setdefault(t.config.data, t.config.seed)
    keys, unique = [], {}
    for t in trials:
        cfg = t.config
        hybrid = bool(cfg.strategy_kwargs)  # only deltaf1 trials carry strategy kwargs
        rep = cfg.replace(
            seed=first_seed[cfg.data], strategy_kwargs={**cfg.strategy_kwargs, "epsilon": 0.0} if hybrid else {}
        )
        key = json.dumps({**rep.to_dict(), "experiment_name": None}, sort_keys=True, default=str)
        unique.setdefault(key, rep)
        keys.append(key)
    runs = dict(zip(unique, estimate_grid(list(unique.values())).runs))
    return GridEstimate([runs[key] for key in keys])
