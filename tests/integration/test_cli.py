"""`hybridal run` end to end on AG News, and its one-line errors."""

import json
import subprocess
import sys

import yaml

from hybridal.cli import main
from tests.support.tiny_runs import tiny_config


def write_config(tmp_path, **changes):
    cfg = tiny_config(tmp_path / "runs", **changes).to_dict()
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_cli_runs_deltaf1_and_writes_outputs(tmp_path, data_dir, capsys):
    path = write_config(
        tmp_path,
        strategy_class="DeltaF1Strategy",
        strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
        sampler_class="entropy",
        tensorboard=True,
    )
    out = tmp_path / "out"
    code = main(
        ["run", str(path), "--set", "total_rounds=3", "--set", "strategy_kwargs.k=1", "--out", str(out), "--quiet"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert (
        sum(line.startswith("round ") for line in printed.splitlines()) == 3
        and "switch round 2" in printed
        and str(out) in printed
    )
    assert len((out / "rounds.jsonl").read_text().splitlines()) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["switch_round"] == 2 and summary["config"]["total_rounds"] == 3
    assert list((out / "tensorboard").glob("events.*"))
    # The closing line charges the validation labels the rule read; a one-class round says so.
    assert f"labels used {summary['labels']['used']}," in printed and summary["labels"]["read_by_policy"] > 0
    records = [json.loads(x) for x in (out / "rounds.jsonl").read_text().splitlines()]
    flagged = [line for line in printed.splitlines() if line.startswith("round ") and "predicts one class" in line]
    assert len(flagged) == sum(r["degenerate"] for r in records)


def test_cli_bad_key_is_one_line_and_leaves_nothing(tmp_path, data_dir):
    path = write_config(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "hybridal", "run", str(path), "--set", "epsilonn=0.1", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "hybridal: error: config key 'epsilonn' is not known; run `hybridal keys` for the list."
    ]
    assert not out.exists()


def test_cli_bad_data_fails_before_writing(tmp_path, data_dir, capsys):
    path = write_config(tmp_path, data=str(tmp_path / "missing.csv"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert "missing.csv' does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_cli_validate_and_keys(tmp_path, data_dir, capsys):
    assert main(["validate", str(write_config(tmp_path))]) == 0
    assert "pool 340, validation 60, test 120, 4 labels" in capsys.readouterr().out
    assert main(["keys"]) == 0
    assert "strategy_class: 'retrain'" in capsys.readouterr().out


def test_cli_unknown_model_is_one_line(tmp_path, data_dir):
    import os

    path = write_config(tmp_path, model_name_or_path="nobody-xyz/no-such-model")
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "hybridal", "run", str(path), "--out", str(out)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybridal: error: model_name_or_path='nobody-xyz/no-such-model' "), (
        proc.stderr
    )
    assert not out.exists()
