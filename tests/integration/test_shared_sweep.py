"""Shared-prefix sweeps end to end: every configuration's records equal a standalone run's.

The grid has switch rounds 2 (the earliest), 3, a switch decided after the last round and
configurations that never switch, both `after` values, forks shared by several configurations,
and both monitor modes. tiny-bert's F1 barely moves, so ε > 0 switches as early as k allows;
it also predicts one class throughout, so these grids pin the rule's guard off (`guards: [false]`)
and the guarded rule is checked on the plateau data, where tiny-bert learns after round 2.
"""

from __future__ import annotations

import json

import pytest
import ray.tune  # noqa: F401 - first import at collection (see test_sweeps.py)
import yaml

from hybridal.strategies import switch_round_for
from tests.support.shared_sweeps import BASE, same_results, sweep, write_grid
from tests.support.sweep_hooks import trial_dirs
from tests.support.tiny_runs import PLATEAU, write_plateau_csv


@pytest.mark.slow
def test_shared_sweep_equals_standalone_runs_with_validation_monitor(ray_env, tmp_path):
    axes = {
        "strategies": ["retrain", "finetune", "new_only", "deltaf1"],
        "epsilons": [0.0, 0.02, 0.05],
        "ks": [1, 2, 3],
        "afters": ["finetune", "new_only"],
        "guards": [False],
    }
    grid_file = write_grid(tmp_path / "grid.yaml", BASE, axes)
    shared, totals = sweep(tmp_path, grid_file, "shared")
    alone, alone_totals = sweep(tmp_path, grid_file, "alone", "--no-share")
    same_results(shared, alone)
    # The grid exercises what it claims: the earliest switch, a later one, never, forks and copies of both.
    assert {v["switch"] for n, v in shared.items() if "deltaf1" in n} == {2, 3, None}
    roles = [v["role"] for v in shared.values()]
    assert roles.count("trunk") == 1 and roles.count("fork") >= 4 and roles.count("copy") >= 4
    assert {v["role"] for v in alone.values()} == {"standalone"}
    # Each configuration is charged what it costs alone; the shared sweep computes far less.
    assert (
        totals["attributed_train_flops"] == alone_totals["attributed_train_flops"] == alone_totals["spent_train_flops"]
    )
    assert totals["spent_train_flops"] < 0.5 * totals["attributed_train_flops"]


@pytest.mark.slow
def test_shared_sweep_equals_standalone_runs_with_acquired_monitor(ray_env, tmp_path):
    base = {**BASE, "monitor": "acquired", "monitor_fraction": 0.2}
    axes = {"strategies": ["retrain", "finetune", "deltaf1"], "epsilons": [1.0], "ks": [1, 2], "guards": [False]}
    grid_file = write_grid(tmp_path / "grid.yaml", base, axes)
    shared, _ = sweep(tmp_path, grid_file, "shared")
    alone, _ = sweep(tmp_path, grid_file, "alone", "--no-share")
    same_results(shared, alone)
    # Baselines run on the validation monitor, so deltaf1's group has its own (hidden) trunk.
    # Δ is first defined at round 2 (the monitor set is empty at round 0): k=1 switches at 3, k=2 would at 4.
    assert (
        shared["agnews-deltaf1-e1-k1-c0.2-s5"]["switch"] == 3
        and shared["agnews-deltaf1-e1-k2-c0.2-s5"]["switch"] is None
    )
    hidden = [
        n
        for n, d in trial_dirs(tmp_path / "shared").items()
        if json.loads((d / "summary.json").read_text()).get("shared_prefix", {}).get("reported") is False
    ]
    assert len(hidden) == 1


@pytest.mark.slow
def test_shared_sweep_equals_standalone_runs_with_the_guard(ray_env, tmp_path):
    """The plateau data: rounds 0-2 predict one class. Unguarded rules switch on that plateau at 2;
    guarded ones at 5. Both fork off one trunk, which records the degenerate flags the guard reads."""
    csv = write_plateau_csv(tmp_path / "plateau" / "train.csv")
    base = {
        **BASE,
        **{k: v for k, v in PLATEAU.items() if k != "seed"},
        "tokenizer_kwargs": {"max_length": 32},
        "batch_size": 8,
        "eval_batch_size": 64,
        "test_subsample_size": None,
    }
    base["total_rounds"] = 8
    axes = {
        "datasets": [str(csv)],
        "strategies": ["retrain", "deltaf1"],
        "epsilons": [0.2],
        "ks": [1],
        "guards": [True, False],
    }
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(yaml.safe_dump({"base": base, "grid": {"seeds": [5], **axes}}))
    shared, _ = sweep(tmp_path, grid_file, "shared")
    alone, _ = sweep(tmp_path, grid_file, "alone", "--no-share")
    same_results(shared, alone)
    switches = {name.split("-")[-2]: v["switch"] for name, v in shared.items() if "deltaf1" in name}
    trunk = next(v["records"] for n, v in shared.items() if "retrain" in n)
    f1s, flags = [r["monitor_f1"] for r in trunk], [r["monitor_degenerate"] for r in trunk]
    assert flags[:3] == [True, True, True]
    guarded = switch_round_for(f1s, 0.2, 1, flags, guard=True)
    assert guarded is not None and guarded > 3 and switches == {"guard": guarded, "noguard": 2}
    assert {v["role"] for n, v in shared.items() if "deltaf1" in n} == {"fork"}
