"""What a sweep shows without Ray: a trial's HParams session (sweeps/hparams.py), the
closing table (sweeps/table.py) and the environment in sweep_summary.json (sweeps/environment.py)."""

from __future__ import annotations

import datetime
import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import torch

from hybridal.config import ExperimentConfig
from hybridal.model.hardware import cpu_supports_bf16
from sweeps.environment import git_commit
from sweeps.hparams import METRICS, hparam_values, write_hparams
from sweeps.table import report, sweep_summary
from sweeps.trials import Trial

REPO = Path(__file__).resolve().parents[2]


def test_hparams_session_shares_the_runs_event_folder_and_points_at_its_round_scalars(make_config):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    from hybridal import ActiveLearning

    cfg = make_config(
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
        total_rounds=3,
        tensorboard=True,
    )
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    folder = write_hparams(al.run_dir)
    write_hparams(al.run_dir, varying=("strategy", "k"))  # a rewrite replaces the session, it does not add a second
    assert folder == al.run_dir / "tensorboard"
    assert len(list(folder.glob("events.out.tfevents.*.hparams"))) == 1
    assert [p.name for p in al.run_dir.iterdir() if p.is_dir()] == ["tensorboard"], "no hparams/ sub-run"
    acc = event_accumulator.EventAccumulator(str(folder))
    acc.Reload()
    scalars = set(acc.Tags()["scalars"])
    assert set(METRICS) <= scalars and not any(tag.startswith("hparams/") for tag in scalars)
    content = acc.PluginTagToContent("hparams")
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in experiment.metric_infos] == list(METRICS)
    assert {h.name for h in experiment.hparam_infos if h.differs} == {"strategy", "k"}  # shown first
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    trial = json.loads((al.run_dir / "summary.json").read_text())["trial"]
    values = {k: (v.string_value or v.number_value) for k, v in start.hparams.items()}
    assert values == hparam_values(trial) and values["epsilon"] == "1" and values["k"] == "1"
    assert acc.Scalars("round/switched")[-1].value == 1.0  # ε=1, k=1: switched at round 2, the last


def test_hparam_columns_keep_one_type_across_strategies():
    base = {
        "dataset": "agnews",
        "strategy": "retrain",
        "after": None,
        "epsilon": None,
        "k": None,
        "c": None,
        "monitor": "validation",
        "seed": 1,
        "model": "m",
        "sampler": "random",
        "epochs": 1,
        "finetune_epochs": 1,
        "replay": 0,
    }
    baseline = hparam_values(base)
    hybrid = hparam_values({**base, "strategy": "deltaf1", "after": "finetune", "epsilon": 0.02, "k": 2, "c": 0.1})
    assert {k: type(v) for k, v in baseline.items()} == {k: type(v) for k, v in hybrid.items()}
    assert (baseline["epsilon"], hybrid["epsilon"], hybrid["k"], hybrid["c"]) == ("none", "0.02", "2", "0.1")


def _trials(n: int) -> list[Trial]:
    cfg = ExperimentConfig(strategy_class="deltaf1", strategy_kwargs={"epsilon": 1.0, "k": 1}, seed=0)
    return [Trial.of(f"t{i}", cfg.replace(experiment_name=f"t{i}")) for i in range(n)]


def _result(i: int, metrics: dict, error=None):
    return SimpleNamespace(config={"trial_index": i}, metrics=metrics, error=error, path=None)


def test_closing_table_shows_no_switch_decided_after_the_last_round(capsys):
    # t0 as reported before `switch_round` meant a trained round: the rule fired after round 2, the last.
    metrics = [
        {"round": 2, "switch_round": 3, "test_f1": 0.5, "cum_train_flops": 1.0, "done": True},
        {
            "round": 2,
            "switch_round": 2,
            "switch_decided_round": 2,
            "test_f1": 0.5,
            "cum_train_flops": 1.0,
            "done": True,
        },
    ]
    assert report([_result(i, m) for i, m in enumerate(metrics)], _trials(2), "/tmp/x", 1.0) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("t")}
    assert rows["t0"][-3] == "-" and rows["t1"][-3] == "2"


def test_a_trials_input_error_is_read_from_its_result_and_exits_2(capsys):
    results = [
        _result(0, {"round": 2, "test_f1": 0.5, "cum_train_flops": 1.0, "done": True}),
        _result(1, {"error": "DataError: data file '/x.csv' does not exist.", "done": True}),
        _result(2, {"round": 0}, error=RuntimeError("CUDA out of memory")),
    ]
    assert report(results, _trials(3), "/tmp/x", 1.0) == 2
    out, err = capsys.readouterr()
    status = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line[:1] == "t" and line[1:2].isdigit()}
    assert status == {"t0": "finished", "t1": "input-error", "t2": "errored"}
    assert "3 configurations: 1 finished, 1 input-error, 1 errored" in out
    assert err.strip() == (
        "grid.py: error: trial t1 failed for its input: DataError: data file '/x.csv' does not exist. "
        "(fix it and rerun with --resume --name x)"
    )


def test_environment_is_described_without_ray_and_names_this_checkout():
    code = (
        "import json, sys\nfrom sweeps.environment import describe_environment\n"
        "env = describe_environment()\nassert 'ray' not in sys.modules\nprint(json.dumps(env))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    env = json.loads(proc.stdout)
    assert env["versions"]["torch"] == torch.__version__ and env["versions"]["ray"] == md.version("ray")
    assert env["versions"]["hybridal"] and env["python"] == ".".join(map(str, sys.version_info[:3]))
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    assert env["git_commit"] == (head if (REPO / ".git").exists() else None)
    assert env["cpu"]["logical_cpus"] == os.cpu_count() >= 1 and env["cpu"]["model"]
    assert env["cpu"]["native_bf16"] == cpu_supports_bf16()
    assert env["gpus"] == (
        [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    )
    assert env["resources"] is None and env["grid_args"] is None and env["started_utc"] is None
    assert env["command"] == ["-c"]
    assert datetime.datetime.fromisoformat(env["ended_utc"]).utcoffset() == datetime.timedelta(0)


def test_git_commit_is_none_outside_a_checkout(tmp_path):
    assert git_commit(tmp_path) is None


def test_sweep_summary_adds_the_environment_and_keeps_its_keys():
    results = [_result(0, {"round": 2, "test_f1": 0.5, "cum_train_flops": 4.0, "spent_train_flops": 4.0, "done": True})]
    plain = sweep_summary(results, _trials(1), 3.0)
    assert set(plain) == {
        "configurations",
        "trials",
        "runs",
        "spent_train_flops",
        "attributed_train_flops",
        "saved_fraction",
        "wall_seconds",
    }
    assert sweep_summary(results, _trials(1), 3.0, {"python": "x"}) == {**plain, "environment": {"python": "x"}}
