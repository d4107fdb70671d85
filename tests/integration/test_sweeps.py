"""Sweeps on Ray Tune end to end (sweeps/grid.py and sweeps/trainable.py), docs/design.md §8.

Every Ray instance here is private (RAY_TMPDIR under a fresh /tmp folder, 2 CPUs) and shut
down after its test. The sweeps run the `smoke` preset (tiny-bert, 3 short rounds), trimmed
further with CLI flags where a test needs fewer trials. Crashes and interruptions are
injected from tests/support/sweep_hooks.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import ray.tune  # noqa: F401 - first import here: Ray binds a log handler to the sys.stderr of that moment, and

#                  pytest closes a test's captured stderr after the test
import torch

from sweeps import grid
from sweeps.sweep_folder import SWEEP_FILE
from sweeps.table import SWEEP_SUMMARY
from tests.support import sweep_hooks
from tests.support.sweep_hooks import one_line_error, trial_dirs

TIMING_FIELDS = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")
SHARING = ("role", "reported", "trunk", "fork_round", "source", "members")  # the shared-prefix plan's say
CANONICAL = (
    "dataset",
    "strategy",
    "after",
    "epsilon",
    "k",
    "c",
    "guard",
    "monitor",
    "seed",
    "model",
    "sampler",
    "epochs",
    "finetune_epochs",
    "replay",
)


# ---- helpers --------------------------------------------------------------------------------


def run_grid(capsys, *argv, **hooks) -> tuple[int, str, str]:
    rc = grid.main([str(a) for a in argv], **hooks)
    out, err = capsys.readouterr()
    return rc, out, err


def results(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "result.json").read_text().splitlines() if line.strip()]


def records(folder: Path) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "rounds.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in rows]


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


# ---- bad input that needs Ray to find ---------------------------------------------------------


def test_unreachable_address_fails_with_one_sentence(tmp_path, capsys, ray_env):
    rc, _, err = run_grid(
        capsys, "--preset", "smoke", "--address", "127.0.0.1:9", "--storage-path", tmp_path / "res", "--no-data-check"
    )
    one_line_error(rc, err, "cannot reach a Ray cluster at 127.0.0.1:9")


def test_gpus_per_trial_on_a_cluster_without_gpus_fails(tmp_path, capsys, ray_env):
    rc, _, err = run_grid(
        capsys,
        "--preset",
        "smoke",
        "--gpus-per-trial",
        "1",
        "--num-cpus",
        "2",
        "--num-gpus",
        "0",
        "--storage-path",
        tmp_path / "res",
        "--no-data-check",
    )
    one_line_error(rc, err, "--gpus-per-trial 1 asks for GPUs but the cluster has none")
    assert not any((tmp_path / "res").rglob("params.json"))


def test_a_trial_failing_for_its_data_reports_the_error_as_its_result(tmp_path, capsys, ray_env):
    # --no-data-check lets the bad dataset reach a trial (as when only workers see the data).
    rc, out, err = run_grid(
        capsys,
        "--preset",
        "smoke",
        "--strategies",
        "retrain",
        "--datasets",
        tmp_path / "missing.csv",
        "--storage-path",
        tmp_path / "res",
        "--num-cpus",
        "2",
        "--no-data-check",
        "--max-failures",
        "3",
    )
    one_line_error(rc, err, "trial missing-retrain-s42 failed for its input", "DataError", "missing.csv")
    (folder,) = trial_dirs(tmp_path / "res" / "smoke").values()
    assert not (folder / "error.txt").exists(), "not a crash, so never retried"
    (row,) = results(folder)
    assert row["error"].startswith("DataError:") and "missing.csv" in row["error"]
    written = summary(folder)
    assert written["status"] == "error" and written["error"] == row["error"]
    assert written["trial"]["strategy"] == "retrain" and written["config"]["data"].endswith("missing.csv")
    assert "1 configurations: 1 input-error" in out
    assert any(
        line.startswith("missing-retrain-s42 ") and line.rstrip().endswith("input-error") for line in out.splitlines()
    )


# ---- real sweeps on local Ray ----------------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory, data_dir):
    """The smoke preset end to end on a private local Ray (2 CPUs), run once for several tests."""
    import contextlib
    import io

    import ray

    mp = pytest.MonkeyPatch()
    tmp = tempfile.mkdtemp(prefix="hyss", dir="/tmp")
    (Path(tmp) / "ray").mkdir()
    mp.setenv("RAY_TMPDIR", tmp)
    mp.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    mp.setenv("HYBRIDAL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "hybridal-cache"))
    mp.delenv("RAY_ADDRESS", raising=False)
    storage = tmp_path_factory.mktemp("smoke-storage")
    try:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            rc = grid.main(
                [
                    "--preset",
                    "smoke",
                    "--storage-path",
                    str(storage),
                    "--num-cpus",
                    "2",
                    "--cpus-per-trial",
                    "1",
                    "--max-concurrent",
                    "2",
                ]
            )
    finally:
        ray.shutdown()
        mp.undo()
        shutil.rmtree(tmp, ignore_errors=True)
    return rc, buffer.getvalue(), storage / "smoke"


SMOKE_TRIALS = [
    "agnews-retrain-s42",
    "agnews-finetune-s42",
    "agnews-new_only-s42",
    "agnews-deltaf1-e0.02-k1-s42",
    "agnews-deltaf1-e0.02-k2-s42",
]


def test_smoke_sweep_reports_every_round_of_every_trial(smoke_sweep):
    rc, out, root = smoke_sweep
    assert rc == 0, out[-3000:]
    trials = trial_dirs(root)
    assert sorted(trials) == sorted(SMOKE_TRIALS)
    for name, folder in trials.items():
        assert folder.name == name, "trial folders are named by configuration, without Ray's trial id"
        params = json.loads((folder / "params.json").read_text())
        assert set(params) == {"trial_index", "trial_name", *CANONICAL, *SHARING}, (
            "the Ray config: name, columns, role; no engine copy"
        )
        rows = results(folder)
        assert [r["round"] for r in rows] == [0, 1, 2], name  # one row per round
        assert rows[-1]["done"] is True and rows[-1]["cum_train_flops"] > 0
        assert [r["round"] for r in records(folder)] == [0, 1, 2]  # the engine's files, synced to storage
        written = summary(folder)
        assert written["status"] == "finished"
        assert written["trial"] == {c: params[c] for c in CANONICAL}, "one description of the trial"
        assert written["config"]["experiment_name"] == name
    assert json.loads((root / SWEEP_FILE).read_text())["name"] == "smoke"
    assert "5 configurations: 5 finished" in out
    env = json.loads((root / SWEEP_SUMMARY).read_text())["environment"]
    assert env["versions"]["torch"] == torch.__version__ and env["cpu"]["logical_cpus"] >= 1
    assert env["resources"] == {
        "cpus_per_trial": 1.0,
        "gpus_per_trial": 0.0,
        "max_concurrent": 2,
        "ray_num_cpus": 2.0,
        "ray_num_gpus": 0.0,
    }, "as asked on the command line"
    assert env["grid_args"][:2] == ["--preset", "smoke"] and env["started_utc"] < env["ended_utc"]
    for name in trials:
        assert name in out
    assert f"tensorboard --logdir {root}" in out


def test_tensorboard_shows_one_run_per_trial_with_its_hparams_session(smoke_sweep):
    from tensorboard.backend.event_processing import event_multiplexer
    from tensorboard.plugins.hparams import plugin_data_pb2

    _, _, root = smoke_sweep
    mux = event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(root))
    mux.Reload()
    assert sorted(mux.Runs()) == sorted(f"{name}/tensorboard" for name in SMOKE_TRIALS)
    run = "agnews-retrain-s42/tensorboard"
    scalars = mux.GetAccumulator(run).Tags()["scalars"]
    assert "round/test_f1" in scalars and not any(tag.startswith("hparams/") for tag in scalars)
    content = mux.PluginRunToTagToContent("hparams")[run]
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in experiment.metric_infos] == [
        "round/test_f1",
        "round/val_f1",
        "round/cum_train_flops",
        "round/cum_total_flops",
        "round/n_labeled",
        "round/labels_used",
        "round/switched",
        "round/degenerate",
    ]
    assert {m.name.tag for m in experiment.metric_infos} <= set(scalars), "metrics are the run's own round scalars"
    assert {h.name for h in experiment.hparam_infos if h.differs} == {"strategy", "after", "epsilon", "k", "guard"}
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    values = {k: (v.string_value or v.number_value) for k, v in start.hparams.items()}
    assert values["strategy"] == "retrain" and values["epsilon"] == "none" and values["k"] == "none"
    assert values["seed"] == 42


@pytest.mark.parametrize("kind", ["raise", "exit"])
def test_crashed_trial_resumes_from_its_checkpoint_with_identical_results(smoke_sweep, tmp_path, capsys, ray_env, kind):
    """kind=raise: the trial raises after reporting round 1; kind=exit: its process dies there (a lost node)."""
    _, _, reference_root = smoke_sweep
    sweep_hooks.register_by_value()
    crashing = sweep_hooks.crash_once_after_round(1, tmp_path / "markers", kind)
    rc, out, err = run_grid(
        capsys,
        "--preset",
        "smoke",
        "--strategies",
        "deltaf1",
        "--ks",
        "1",
        "--num-cpus",
        "2",
        "--storage-path",
        tmp_path / "res",
        "--max-failures",
        "2",
        trainable=crashing,
    )
    assert rc == 0, err[-3000:]
    assert len(list((tmp_path / "markers").iterdir())) == 1, "the trial crashed once"
    folder = trial_dirs(tmp_path / "res" / "smoke")["agnews-deltaf1-e0.02-k1-s42"]
    assert (folder / "error.txt").read_text().count("Failure # ") == 1
    rows = results(folder)
    assert rows[-1]["resumed_from_round"] == 2, "the retry resumed after round 1, not from round 0"
    if kind == "raise":
        assert [r["round"] for r in rows] == [0, 1, 2]
    else:  # a process that dies right after reporting may take that report with it; its checkpoint was kept
        assert {0, 2} <= {r["round"] for r in rows} and rows[-1]["round"] == 2
    reference = trial_dirs(reference_root)["agnews-deltaf1-e0.02-k1-s42"]
    assert records(folder) == records(reference)
    keep = ("final_test", "final_validation", "switch_round", "selected_indices", "n_labeled", "rounds")
    assert {k: summary(folder)[k] for k in keep} == {k: summary(reference)[k] for k in keep}


def test_interrupted_sweep_resumes_without_rerunning_finished_trials(tmp_path, capsys, ray_env):
    args = [
        "--preset",
        "smoke",
        "--strategies",
        "retrain",
        "finetune",
        "new_only",
        "--set",
        "total_rounds=2",
        "--num-cpus",
        "2",
        "--max-concurrent",
        "1",
        "--storage-path",
        tmp_path / "res",
        "--name",
        "resumable",
    ]
    sweep_hooks.register_by_value()
    rc, out, err = run_grid(capsys, *args, callbacks=[sweep_hooks.stop_after_trials(1, tmp_path / "interrupted")])
    assert rc == 130, err[-3000:]
    assert "--resume --name resumable" in err
    root = tmp_path / "res" / "resumable"
    done = {name: folder for name, folder in trial_dirs(root).items() if summary(folder)["status"] == "finished"}
    assert len(done) == 1
    before = {
        name: ((f / "result.json").read_bytes(), (f / "result.json").stat().st_mtime_ns) for name, f in done.items()
    }

    rc, out, err = run_grid(
        capsys, "--resume", "--name", "resumable", "--storage-path", tmp_path / "res", "--num-cpus", "2"
    )
    assert rc == 0, err[-3000:]
    assert "resuming sweep 'resumable': 3 configurations" in out
    trials = trial_dirs(root)
    assert len(trials) == 3 and all(summary(f)["status"] == "finished" for f in trials.values())
    for name, folder in trials.items():
        assert [r["round"] for r in results(folder)] == [0, 1], name
    for name, (content, mtime) in before.items():
        assert (trials[name] / "result.json").read_bytes() == content and (
            trials[name] / "result.json"
        ).stat().st_mtime_ns == mtime

    # Rerunning the same command (same --name) continues the finished sweep: nothing runs again.
    rc, out, err = run_grid(capsys, *args)
    assert rc == 0 and "resuming sweep 'resumable'" in out and "3 configurations: 3 finished" in out
    assert all(len(results(f)) == 2 for f in trial_dirs(root).values())
    # ... but a different grid under the same name is refused.
    rc, out, err = run_grid(capsys, *args[:-2], "--name", "resumable", "--seeds", "7")
    one_line_error(rc, err, "holds a sweep with a different grid")


def test_gpu_trials_run_two_at_a_time_each_on_its_own_logical_gpu(tmp_path, capsys, ray_env):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "num_gpus": 2})
    try:
        # No --gpus-per-trial: a cluster with GPUs gets one per trial by default. There is no
        # real GPU, so the engine is told to stay on the CPU.
        rc, out, err = run_grid(
            capsys,
            "--preset",
            "smoke",
            "--strategies",
            "retrain",
            "finetune",
            "--set",
            "total_rounds=2",
            "--set",
            "device=cpu",
            "--no-share",
            "--address",
            cluster.address,
            "--storage-path",
            tmp_path / "res",
        )
        assert rc == 0, err[-3000:]
        assert "1 CPU + 1 GPU per trial" in out
        rows = {name: results(folder) for name, folder in trial_dirs(tmp_path / "res" / "smoke").items()}
        assert len(rows) == 2
        gpu_ids = sorted(r[0]["gpu_ids"] for r in rows.values())
        assert gpu_ids == ["0", "1"], gpu_ids
        # Two at a time: each started before the other had done its rounds.
        spans = [(r[0]["started_at"], r[0]["started_at"] + sum(x["wall_seconds"] for x in r)) for r in rows.values()]
        assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1], f"trials did not overlap: {spans}"
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()


def test_cost_estimate_agrees_with_the_smoke_sweeps_reported_flops(smoke_sweep):
    """The pre-launch estimate (docs/design.md §8) against what the smoke trials then reported."""
    from hybridal.config import ExperimentConfig
    from hybridal.cost.estimate import estimate_grid

    _, _, root = smoke_sweep
    configs, reported_train, reported_total, reported_infer = [], 0, 0, 0
    for folder in trial_dirs(root).values():
        configs.append(ExperimentConfig.from_dict(summary(folder)["config"]))
        rounds = results(folder)
        reported_train += rounds[-1]["cum_train_flops"]
        reported_total += rounds[-1]["cum_total_flops"]
        reported_infer += sum(r["infer_flops"] for r in rounds)
    estimate = estimate_grid(configs)
    # HybridAL's switch round is unknown before launch: training and the AL cost are ranges.
    assert estimate.train_flops_min * 0.9 <= reported_train <= estimate.train_flops * 1.1
    assert estimate.al_flops_min * 0.9 <= reported_total <= estimate.al_flops * 1.1
    assert estimate.infer_flops == pytest.approx(reported_infer, rel=0.10)


def test_local_sweeps_keep_ray_on_loopback():
    # Without the variable, Ray on Linux binds the machine's interface address; grid.py sets it
    # before Ray is imported when no --address is given. A fresh interpreter, so `ray` is not
    # imported yet, and an environment without the variable (conftest sets it for the tests).
    tmp = Path(tempfile.mkdtemp(prefix="hylo", dir="/tmp"))  # short: socket paths are capped
    (tmp / "ray").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_ADDRESS")}
    env["RAY_TMPDIR"] = str(tmp)
    code = (
        "import sys\n"
        "from sweeps import grid\n"
        "assert 'ray' not in sys.modules\n"
        "grid.keep_local_ray_on_loopback()\n"
        "import ray\n"
        "ray.init(num_cpus=1, include_dashboard=False, logging_level='ERROR')\n"
        "print('ip', ray.util.get_node_ip_address(), ray.get_runtime_context().gcs_address)\n"
        "ray.shutdown()\n"
    )
    repo = Path(__file__).resolve().parents[2]
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=180
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("ip ")][-1]
    _, node_ip, gcs = line.split()
    assert node_ip == "127.0.0.1" and gcs.startswith("127.0.0.1:"), line
