"""Sweeps run from a grid file and their results read back (timings aside), for comparing a shared-prefix
sweep with standalone runs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from sweeps import grid
from tests.support.sweep_hooks import trial_dirs

TIMING = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")

BASE = dict(
    model_name_or_path="tiny-bert",
    max_train_size=300,
    max_test_size=100,
    val_size=60,
    test_subsample_size=50,
    tokenizer_kwargs={"max_length": 16},
    total_rounds=4,
    initial_pool_size=20,
    acquisition_batch_size=10,
    epochs=1,
    finetune_epochs=1,
    batch_size=16,
    sampler_class="entropy",
    optimizer_kwargs={"lr": 1e-3},
    precision="fp32",
)


def write_grid(path: Path, base: dict, grid_axes: dict, datasets: tuple | list = ("agnews",)) -> Path:
    grid = {"datasets": list(datasets), "seeds": [5], **grid_axes}
    path.write_text(yaml.safe_dump({"base": base, "grid": grid}))
    return path


def outcome(root: Path) -> dict:
    """Per configuration: its records (timings aside), selections, final metrics and switch round."""
    out = {}
    for name, folder in trial_dirs(root).items():
        summary = json.loads((folder / "summary.json").read_text())
        if summary.get("shared_prefix", {}).get("reported") is False:
            continue
        records = [
            {k: v for k, v in json.loads(line).items() if k not in TIMING}
            for line in (folder / "rounds.jsonl").read_text().splitlines()
        ]
        out[name] = {
            "records": records,
            "selected": summary["selected_indices"],
            "final": summary["final_test"],
            "switch": summary["switch_round"],
            "role": (summary.get("shared_prefix") or {}).get("role"),
        }
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
