"""The refactor check (benchmarks/compare_sweeps.py): timings and machine facts aside, any change shows."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.compare_sweeps import closing_table, compare, main

TABLE = """trial   dataset  strategy  test F1
a-s1    agnews   retrain   0.8000
5 configurations: 5 finished; sweep wall time {wall} s
training FLOPs: spent 1e9 for 2e9 attributed
results: {root}
"""


def write_sweep(root: Path, val_f1: float = 0.5, seconds: float = 1.0, wall: int = 10) -> Path:
    trial = root / "a-s1"
    trial.mkdir(parents=True)
    record = {"round": 0, "val_f1": val_f1, "train_seconds": seconds, "cum_train_flops": 100}
    (trial / "rounds.jsonl").write_text(json.dumps(record) + "\n")
    summary = {
        "config": {"save_dir": str(root)},
        "environment": {"python": str(seconds)},
        "totals": {"wall_seconds": seconds, "train_flops": 100},
        "data": {"tokenization_cached": {"pool": seconds > 1}},
    }
    (trial / "summary.json").write_text(json.dumps(summary))
    (root.parent / f"{root.name}.log").write_text(TABLE.format(wall=wall, root=root))
    return root


def test_two_runs_differing_in_timings_paths_and_machine_only_are_identical(tmp_path, capsys):
    a = write_sweep(tmp_path / "before")
    b = write_sweep(tmp_path / "after", seconds=7.5, wall=99)
    logs = (tmp_path / "before.log", tmp_path / "after.log")
    assert compare(a, b, logs) == []
    assert main([str(a), str(b), "--logs", *map(str, logs)]) == 0
    assert "identical" in capsys.readouterr().out


def test_a_changed_metric_is_reported_with_its_place(tmp_path):
    a = write_sweep(tmp_path / "before")
    b = write_sweep(tmp_path / "after", val_f1=0.51)
    assert compare(a, b, None) == ["a-s1/rounds[0]/val_f1: 0.5 != 0.51"]
    assert main([str(a), str(b)]) == 1


def test_a_missing_trial_and_a_changed_table_are_reported(tmp_path):
    a = write_sweep(tmp_path / "before")
    b = write_sweep(tmp_path / "after")
    (tmp_path / "after.log").write_text((tmp_path / "after.log").read_text().replace("0.8000", "0.8100"))
    (a / "b-s1").mkdir()
    (a / "b-s1" / "summary.json").write_text("{}")
    (a / "b-s1" / "rounds.jsonl").write_text("")
    found = compare(a, b, (tmp_path / "before.log", tmp_path / "after.log"))
    assert found[0] == "b-s1: only in before"
    assert found[-1].startswith("closing table differs")
    assert closing_table(tmp_path / "before.log")[-1] == "training FLOPs: spent 1e9 for 2e9 attributed"
