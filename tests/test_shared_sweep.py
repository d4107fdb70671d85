"""Shared-prefix sweeps end to end: every configuration's records equal a standalone run's.

The grid has switch rounds 2 (the earliest), 3, a switch decided after the last round and
configurations that never switch, both `after` values, forks shared by several configurations,
and both monitor modes. tiny-bert's F1 barely moves, so ε > 0 switches as early as k allows;
it also predicts one class throughout, so these grids pin the rule's guard off (`guards: [false]`)
and the guarded rule is checked on the plateau data, where tiny-bert learns after round 2.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import ray.tune  # noqa: F401 - first import at collection (see test_sweeps.py)
import yaml

from hybridal.strategies import switch_round_for
from sweeps import grid
try:  # pytest's default (prepend) import mode puts tests/ on sys.path
    from sweep_hooks import trial_dirs
except ImportError:  # pragma: no cover - e.g. --import-mode=importlib from the repo root
    from tests.sweep_hooks import trial_dirs

TIMING = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")

BASE = dict(model_name_or_path="tiny-bert", max_train_size=300, max_test_size=100, val_size=60, test_subsample_size=50,
            tokenizer_kwargs={"max_length": 16}, total_rounds=4, initial_pool_size=20, acquisition_batch_size=10,
            epochs=1, finetune_epochs=1, batch_size=16, sampler_class="entropy", optimizer_kwargs={"lr": 1e-3},
            precision="fp32")


def write_grid(path: Path, base: dict, grid_axes: dict) -> Path:
    path.write_text(yaml.safe_dump({"base": base, "grid": {"datasets": ["agnews"], "seeds": [5], **grid_axes}}))
    return path


try:  # the plateau data (tests/conftest.py)
    from conftest import PLATEAU, write_plateau_csv
except ImportError:  # pragma: no cover
    from tests.conftest import PLATEAU, write_plateau_csv


def outcome(root: Path) -> dict:
    """Per configuration: its records (timings aside), selections, final metrics and switch round."""
    out = {}
    for name, folder in trial_dirs(root).items():
        summary = json.loads((folder / "summary.json").read_text())
        if summary.get("shared_prefix", {}).get("reported") is False:
            continue
        records = [{k: v for k, v in json.loads(line).items() if k not in TIMING}
                   for line in (folder / "rounds.jsonl").read_text().splitlines()]
        out[name] = {"records": records, "selected": summary["selected_indices"], "final": summary["final_test"],
                     "switch": summary["switch_round"], "role": (summary.get("shared_prefix") or {}).get("role")}
    return out


def sweep(tmp: Path, grid_file: Path, name: str, *flags) -> tuple[dict, dict]:
    rc = grid.main(["--config", str(grid_file), "--storage-path", str(tmp), "--name", name, "-q", *flags])
    assert rc == 0
    return outcome(tmp / name), json.loads((tmp / name / "sweep_summary.json").read_text())


def same_results(shared: dict, alone: dict) -> None:
    assert shared.keys() == alone.keys()
    for name in alone:
        for key in ("records", "selected", "final", "switch"):
            assert shared[name][key] == alone[name][key], f"{name}: {key}"


@pytest.mark.slow
def test_shared_sweep_equals_standalone_runs_with_validation_monitor(ray_env, tmp_path):
    axes = {"strategies": ["retrain", "finetune", "new_only", "deltaf1"], "epsilons": [0.0, 0.02, 0.05],
            "ks": [1, 2, 3], "afters": ["finetune", "new_only"], "guards": [False]}
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
    assert totals["attributed_train_flops"] == alone_totals["attributed_train_flops"] == alone_totals["spent_train_flops"]
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
    assert shared["agnews-deltaf1-e1-k1-c0.2-s5"]["switch"] == 3 and shared["agnews-deltaf1-e1-k2-c0.2-s5"]["switch"] is None
    hidden = [n for n, d in trial_dirs(tmp_path / "shared").items()
              if json.loads((d / "summary.json").read_text()).get("shared_prefix", {}).get("reported") is False]
    assert len(hidden) == 1


@pytest.mark.slow
def test_shared_sweep_equals_standalone_runs_with_the_guard(ray_env, tmp_path):
    """The plateau data: rounds 0-2 predict one class. Unguarded rules switch on that plateau at 2;
    guarded ones at 5. Both fork off one trunk, which records the degenerate flags the guard reads."""
    csv = write_plateau_csv(tmp_path / "plateau" / "train.csv")
    base = {**BASE, **{k: v for k, v in PLATEAU.items() if k != "seed"}, "tokenizer_kwargs": {"max_length": 32},
            "batch_size": 8, "eval_batch_size": 64, "test_subsample_size": None}
    base["total_rounds"] = 8
    axes = {"datasets": [str(csv)], "strategies": ["retrain", "deltaf1"], "epsilons": [0.2], "ks": [1],
            "guards": [True, False]}
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
