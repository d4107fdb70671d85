"""Sweeps on Ray Tune (sweeps/grid.py, hybridal/tune.py), DESIGN.md section 8.

Every Ray instance here is private (RAY_TMPDIR under a fresh /tmp folder, 2 CPUs) and shut
down after its test. The sweeps run the `smoke` preset (tiny-bert, 3 short rounds), trimmed
further with CLI flags where a test needs fewer trials.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hybridal.errors import ConfigError
from hybridal.tune import GridSpec, expand_grid, input_error_in
from sweeps import grid

TIMING_FIELDS = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")
CANONICAL = ("dataset", "strategy", "after", "epsilon", "k", "c", "monitor", "seed", "model", "sampler",
             "epochs", "finetune_epochs", "replay")


# ---- helpers --------------------------------------------------------------------------------

@pytest.fixture
def ray_env(monkeypatch, data_dir):
    """A private Ray temp dir (short: socket paths are capped) and the offline data; Ray shut down after."""
    tmp = tempfile.mkdtemp(prefix="hyst", dir="/tmp")
    (Path(tmp) / "ray").mkdir()
    monkeypatch.setenv("RAY_TMPDIR", tmp)
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield Path(tmp)
    import ray

    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


def run_grid(capsys, *argv) -> tuple[int, str, str]:
    rc = grid.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def trial_dirs(root: Path) -> dict[str, Path]:
    """Trial folder by trial name (folders are NAME_TRIALID)."""
    return {json.loads((d / "params.json").read_text())["trial_name"]: d
            for d in sorted(root.iterdir()) if (d / "params.json").is_file()}


def results(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "result.json").read_text().splitlines() if line.strip()]


def records(folder: Path) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "rounds.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in rows]


def one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("grid.py: error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---- the grid -------------------------------------------------------------------------------

@pytest.mark.parametrize("preset, expected", [("smoke", 5), ("demo", 5), ("paper", 3 * 5 * (3 + 4 * 4))])
def test_dry_run_lists_the_conditional_grid_of_each_preset(capsys, preset, expected):
    rc, out, _ = run_grid(capsys, "--preset", preset, "--dry-run", *(["--no-estimate"] if preset != "smoke" else []))
    assert rc == 0
    assert f"\n{expected} trials (" in out
    assert ("estimated training FLOPs" in out) == (preset == "smoke")
    lines = [m.groups() for m in re.finditer(r"^ +\d+  (\S+)  (\{.*\})$", out, re.M)]
    assert len(lines) == expected
    configs = [json.loads(flat) for _, flat in lines]
    assert len({name for name, _ in lines}) == expected, "trial names are unique"
    for c in configs:
        hybrid = c["strategy"] == "deltaf1"
        assert (c["epsilon"] is not None) == hybrid and (c["k"] is not None) == hybrid, c
    if preset == "paper":
        assert sum(c["strategy"] == "deltaf1" for c in configs) == 3 * 5 * 16
        assert {c["dataset"] for c in configs} == {"agnews", "imdb", "jigsaw"}
        assert {c["seed"] for c in configs} == {42, 43, 44, 45, 46}
        assert {c["total_rounds"] for c in configs} == {40}


def test_baselines_are_not_crossed_with_deltaf1_axes_and_duplicates_collapse():
    spec = GridSpec(base={"model_name_or_path": "tiny-bert"}, datasets=["agnews"], seeds=[1, 2],
                    strategies=["retrain", "RetrainStrategy", "finetune", "deltaf1"], epsilons=[0.01, 0.01, 0.05], ks=[1, 2])
    trials = expand_grid(spec)
    assert len(trials) == 2 * (2 + 2 * 2)
    for t in trials:
        assert set(CANONICAL) | {"total_rounds", "trial_name", "engine"} <= set(t)
        assert t["engine"]["data"] == t["dataset"] and t["engine"]["seed"] == t["seed"]
    assert len({json.dumps(t["engine"], sort_keys=True) for t in trials}) == len(trials)


def test_cli_axes_replace_the_presets(capsys):
    rc, out, _ = run_grid(capsys, "--preset", "smoke", "--dry-run", "--no-estimate", "--datasets", "agnews", "imdb", "--seeds", "42", "43",
                          "--epsilons", "0.01", "0.02", "--ks", "1", "2", "--set", "total_rounds=2")
    assert rc == 0
    assert "\n28 trials (12 baseline, 16 deltaf1)" in out   # 2 datasets x 2 seeds x (3 + 2 x 2)
    assert '"total_rounds": 2' in out


def test_monitor_acquired_grid_crosses_c_for_deltaf1_only_and_baselines_set_no_labels_aside():
    spec = GridSpec(base={"model_name_or_path": "tiny-bert", "monitor": "acquired"},
                    strategies=["retrain", "new_only", "deltaf1"], epsilons=[0.01], ks=[1], cs=[0.1, 0.25])
    trials = expand_grid(spec)
    assert sorted((t["strategy"], t["monitor"], t["c"]) for t in trials) == [
        ("deltaf1", "acquired", 0.1), ("deltaf1", "acquired", 0.25), ("new_only", "validation", None), ("retrain", "validation", None)]
    assert all(t["engine"]["monitor"] == t["monitor"] for t in trials)
    assert any("baselines run with monitor 'validation'" in note for note in spec.notes)
    with pytest.raises(ConfigError, match="grid.cs is only used with monitor 'acquired'"):
        expand_grid(GridSpec(base={}, strategies=["deltaf1"], cs=[0.1]))


# ---- bad input: one sentence, exit 2, before any trial starts -------------------------------

def write_grid(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return path


def test_unknown_preset_lists_the_valid_ones(capsys):
    rc, _, err = run_grid(capsys, "--preset", "smok", "--dry-run")
    one_line_error(rc, err, "preset 'smok' is not known", 'did you mean "smoke"', "allowed: demo, paper, smoke")


@pytest.mark.parametrize("text, needles", [
    ("base: {model_name_or_path: tiny-bert}\ngrid: {epsilon: [0.1]}\n", ("grid key 'epsilon' is not known", 'did you mean "epsilons"')),
    ("base: {totl_rounds: 2}\n", ("config key 'totl_rounds' is not known", 'did you mean "total_rounds"')),
    ("grid: {seeds: []}\n", ("grid.seeds is empty",)),
    ("", ("is empty",)),
    ("grid: {ks: [0]}\n", ("grid.ks value 0 is invalid",)),
    ("grdi: {seeds: [1]}\n", ("top-level key 'grdi' is not known", 'did you mean "grid"')),
    ("grid: {strategies: [retrian]}\n", ("strategy_class='retrian' is not known", 'did you mean "retrain"')),
])
def test_bad_grid_files_fail_with_one_sentence(tmp_path, capsys, text, needles):
    rc, _, err = run_grid(capsys, "--config", write_grid(tmp_path, text), "--dry-run")
    one_line_error(rc, err, *needles)


def test_unknown_set_key_fails_with_did_you_mean(capsys):
    rc, _, err = run_grid(capsys, "--preset", "smoke", "--set", "max_lenght=3", "--dry-run")
    one_line_error(rc, err, "'max_lenght' is not known")


def test_unwritable_storage_path_fails_before_ray_starts(tmp_path, capsys, data_dir, monkeypatch):
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    rc, _, err = run_grid(capsys, "--preset", "smoke", "--storage-path", blocker / "results")
    one_line_error(rc, err, "cannot write to the storage path", "pass a writable --storage-path")


def test_bad_dataset_fails_in_the_driver_before_ray_starts(tmp_path, capsys, data_dir, monkeypatch):
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    rc, _, err = run_grid(capsys, "--preset", "smoke", "--datasets", str(tmp_path / "missing.csv"),
                          "--storage-path", tmp_path / "res")
    one_line_error(rc, err, "missing.csv", "does not exist")
    assert not any((tmp_path / "res").rglob("params.json"))


def test_unknown_model_fails_in_the_driver_before_ray_starts(tmp_path, capsys, data_dir, monkeypatch):
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    rc, _, err = run_grid(capsys, "--preset", "smoke", "--set", "model_name_or_path=nobody-xyz/no-such-model",
                          "--storage-path", tmp_path / "res")
    one_line_error(rc, err, "model_name_or_path='nobody-xyz/no-such-model'", "allowed: a local folder with a config.json")
    assert not any((tmp_path / "res").rglob("params.json"))


def test_unreachable_address_fails_with_one_sentence(tmp_path, capsys, ray_env):
    rc, _, err = run_grid(capsys, "--preset", "smoke", "--address", "127.0.0.1:9", "--storage-path", tmp_path / "res",
                          "--no-data-check")
    one_line_error(rc, err, "cannot reach a Ray cluster at 127.0.0.1:9")


def test_gpus_per_trial_on_a_cluster_without_gpus_fails(tmp_path, capsys, ray_env):
    rc, _, err = run_grid(capsys, "--preset", "smoke", "--gpus-per-trial", "1", "--num-cpus", "2", "--num-gpus", "0",
                          "--storage-path", tmp_path / "res", "--no-data-check")
    one_line_error(rc, err, "--gpus-per-trial 1 asks for GPUs but the cluster has none")
    assert not any((tmp_path / "res").rglob("params.json"))


def test_input_errors_are_recognised_in_trial_error_text():
    text = ("Failure # 1\nray::ImplicitFunc.train()\nTraceback (most recent call last):\n  ...\n"
            "hybridal.errors.DataError: data file '/x.csv' does not exist; allowed: ...\n")
    assert input_error_in(text) == "DataError: data file '/x.csv' does not exist; allowed: ..."
    assert input_error_in("RuntimeError: CUDA out of memory") is None


def test_a_trial_failing_for_its_data_stops_the_sweep_without_retries(tmp_path, capsys, ray_env):
    # --no-data-check lets the bad dataset reach a trial (as when only workers see the data).
    rc, out, err = run_grid(capsys, "--preset", "smoke", "--strategies", "retrain", "--datasets", tmp_path / "missing.csv",
                            "--storage-path", tmp_path / "res", "--num-cpus", "2", "--no-data-check", "--max-failures", "3")
    one_line_error(rc, err, "failed for its input", "DataError", "missing.csv")
    (folder,) = trial_dirs(tmp_path / "res" / "smoke").values()
    assert (folder / "error.txt").read_text().count("Failure # ") == 1, "not retried"


# ---- real sweeps on local Ray ----------------------------------------------------------------

@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory, data_dir):
    """The smoke preset end to end on a private local Ray (2 CPUs), run once for several tests."""
    import ray

    mp = pytest.MonkeyPatch()
    tmp = tempfile.mkdtemp(prefix="hyss", dir="/tmp")
    (Path(tmp) / "ray").mkdir()
    mp.setenv("RAY_TMPDIR", tmp)
    mp.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    mp.setenv("HYBRIDAL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "hybridal-cache"))
    mp.delenv("RAY_ADDRESS", raising=False)
    storage = tmp_path_factory.mktemp("smoke-storage")
    capture = tmp_path_factory.mktemp("smoke-out") / "out.txt"
    try:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            rc = grid.main(["--preset", "smoke", "--storage-path", str(storage), "--num-cpus", "2"])
        capture.write_text(buffer.getvalue())
    finally:
        ray.shutdown()
        mp.undo()
        shutil.rmtree(tmp, ignore_errors=True)
    return rc, buffer.getvalue(), storage / "smoke"


def test_smoke_sweep_reports_every_round_of_every_trial(smoke_sweep):
    rc, out, root = smoke_sweep
    assert rc == 0, out[-3000:]
    trials = trial_dirs(root)
    assert sorted(trials) == sorted(["agnews-retrain-s42", "agnews-finetune-s42", "agnews-new_only-s42",
                                     "agnews-deltaf1-e0.02-k1-s42", "agnews-deltaf1-e0.02-k2-s42"])
    for name, folder in trials.items():
        params = json.loads((folder / "params.json").read_text())
        assert set(CANONICAL) | {"total_rounds", "engine"} <= set(params), name
        rows = results(folder)
        assert [r["round"] for r in rows] == [0, 1, 2], name            # one row per round
        assert rows[-1]["done"] is True and rows[-1]["cum_train_flops"] > 0
        assert [r["round"] for r in records(folder)] == [0, 1, 2]       # the engine's files, synced to storage
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["trial"]["strategy"] == params["strategy"]
        assert list((folder / "tensorboard").glob("events.out.tfevents.*"))
        assert list((folder / "tensorboard" / "hparams").glob("events.out.tfevents.*"))
    assert json.loads((root / grid.SWEEP_FILE).read_text())["name"] == "smoke"
    assert "5 trials: 5 finished" in out
    for name in trials:
        assert name in out
    assert f"tensorboard --logdir {root}" in out


def test_hparams_sessions_name_each_trials_strategy_epsilon_k_and_seed(smoke_sweep):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    _, _, root = smoke_sweep
    folder = trial_dirs(root)["agnews-retrain-s42"] / "tensorboard" / "hparams"
    acc = event_accumulator.EventAccumulator(str(folder))
    acc.Reload()
    assert {"hparams/final_test_f1", "hparams/total_train_flops"} <= set(acc.Tags()["scalars"])
    content = acc.PluginTagToContent("hparams")
    assert "_hparams_/experiment" not in content   # TensorBoard derives the domains from all trials
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    values = {k: (v.string_value or v.number_value) for k, v in start.hparams.items()}
    assert values["strategy"] == "retrain" and values["epsilon"] == "none" and values["k"] == "none"
    assert values["seed"] == 42


@pytest.mark.parametrize("kind", ["raise", "exit"])
def test_crashed_trial_resumes_from_its_checkpoint_with_identical_results(smoke_sweep, tmp_path, capsys, ray_env,
                                                                          monkeypatch, kind):
    """kind=raise: the trial raises after reporting round 1; kind=exit: its process dies there (a lost node)."""
    _, _, reference_root = smoke_sweep
    monkeypatch.setenv("HYBRIDAL_TEST_CRASH_AFTER_ROUND", "1")
    monkeypatch.setenv("HYBRIDAL_TEST_CRASH_MARKER_DIR", str(tmp_path / "markers"))
    monkeypatch.setenv("HYBRIDAL_TEST_CRASH_KIND", kind)
    rc, out, err = run_grid(capsys, "--preset", "smoke", "--strategies", "deltaf1", "--ks", "1", "--num-cpus", "2",
                            "--storage-path", tmp_path / "res", "--max-failures", "2")
    assert rc == 0, err[-3000:]
    assert len(list((tmp_path / "markers").iterdir())) == 1, "the trial crashed once"
    folder = trial_dirs(tmp_path / "res" / "smoke")["agnews-deltaf1-e0.02-k1-s42"]
    assert (folder / "error.txt").read_text().count("Failure # ") == 1
    rows = results(folder)
    assert rows[-1]["resumed_from_round"] == 2, "the retry resumed after round 1, not from round 0"
    if kind == "raise":
        assert [r["round"] for r in rows] == [0, 1, 2]
    else:   # a process that dies right after reporting may take that report with it; its checkpoint was kept
        assert {0, 2} <= {r["round"] for r in rows} and rows[-1]["round"] == 2
    reference = trial_dirs(reference_root)["agnews-deltaf1-e0.02-k1-s42"]
    assert records(folder) == records(reference)
    keep = ("final_test", "final_validation", "switch_round", "selected_indices", "n_labeled", "rounds")
    summary, expected = (json.loads((f / "summary.json").read_text()) for f in (folder, reference))
    assert {k: summary[k] for k in keep} == {k: expected[k] for k in keep}


def test_interrupted_sweep_resumes_without_rerunning_finished_trials(tmp_path, capsys, ray_env, monkeypatch):
    args = ["--preset", "smoke", "--strategies", "retrain", "finetune", "new_only", "--set", "total_rounds=2",
            "--num-cpus", "2", "--max-concurrent", "1", "--storage-path", tmp_path / "res", "--name", "resumable"]
    monkeypatch.setenv("HYBRIDAL_TEST_STOP_AFTER_TRIALS", "1")
    rc, out, err = run_grid(capsys, *args)
    assert rc == 130, err[-3000:]
    assert "--resume --name resumable" in err
    root = tmp_path / "res" / "resumable"
    done = {name: folder for name, folder in trial_dirs(root).items() if (folder / "summary.json").is_file()}
    assert len(done) == 1
    before = {name: ((f / "result.json").read_bytes(), (f / "result.json").stat().st_mtime_ns) for name, f in done.items()}

    monkeypatch.delenv("HYBRIDAL_TEST_STOP_AFTER_TRIALS")
    rc, out, err = run_grid(capsys, "--resume", "--name", "resumable", "--storage-path", tmp_path / "res", "--num-cpus", "2")
    assert rc == 0, err[-3000:]
    assert "resuming sweep 'resumable': 3 trials" in out
    trials = trial_dirs(root)
    assert len(trials) == 3 and all((f / "summary.json").is_file() for f in trials.values())
    for name, folder in trials.items():
        assert [r["round"] for r in results(folder)] == [0, 1], name
    for name, (content, mtime) in before.items():
        assert (trials[name] / "result.json").read_bytes() == content and (trials[name] / "result.json").stat().st_mtime_ns == mtime

    # Rerunning the same command (same --name) continues the finished sweep: nothing runs again.
    rc, out, err = run_grid(capsys, *args)
    assert rc == 0 and "resuming sweep 'resumable'" in out and "3 trials: 3 finished" in out
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
        rc, out, err = run_grid(capsys, "--preset", "smoke", "--strategies", "retrain", "finetune", "--set", "total_rounds=2",
                                "--set", "device=cpu", "--address", cluster.address, "--storage-path", tmp_path / "res")
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
    """The pre-launch estimate (DESIGN.md §8/issue 7) against what the smoke trials then reported."""
    from hybridal.config import ExperimentConfig
    from hybridal.estimate import estimate_grid

    _, _, root = smoke_sweep
    configs, reported_train, reported_total, brackets = [], 0, 0, []
    for folder in trial_dirs(root).values():
        params = json.loads((folder / "params.json").read_text())
        configs.append(ExperimentConfig.from_dict(params["engine"]))
        last = results(folder)[-1]
        reported_train += last["cum_train_flops"]
        reported_total += last["cum_total_flops"]
    estimate = estimate_grid(configs)
    # HybridAL's switch round is unknown before launch: the estimate is a range.
    assert estimate.train_flops_min * 0.9 <= reported_train <= estimate.train_flops * 1.1
    assert estimate.train_flops + estimate.infer_flops == pytest.approx(reported_total, rel=0.10)


def test_local_sweeps_keep_ray_on_loopback():
    # Without the variable, Ray on Linux binds the machine's interface address; grid.py sets it
    # before Ray is imported when no --address is given. A fresh interpreter, so `ray` is not
    # imported yet, and an environment without the variable (conftest sets it for the tests).
    tmp = Path(tempfile.mkdtemp(prefix="hylo", dir="/tmp"))   # short: socket paths are capped
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
    repo = Path(__file__).resolve().parents[1]
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("ip ")][-1]
    _, node_ip, gcs = line.split()
    assert node_ip == "127.0.0.1" and gcs.startswith("127.0.0.1:"), line


# ---- switch_round: the first round trained with `after` (no Ray needed) ----------------------

@pytest.mark.parametrize("total_rounds, expected", [(2, None), (3, 2.0)])
def test_hparams_switch_round_is_the_first_round_trained_with_after(make_config, tmp_path, total_rounds, expected):
    """ε=1, k=1 decides to switch at round 2: with 2 rounds that round never runs, so no switch is reported."""
    from tensorboard.backend.event_processing import event_accumulator

    from hybridal import ActiveLearning
    from hybridal.trial import trial_columns
    from hybridal.tune import write_hparams

    cfg = make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 1.0, "k": 1}, total_rounds=total_rounds,
                      tensorboard=True)
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    write_hparams(al.run_dir, trial_columns(cfg), al)
    acc = event_accumulator.EventAccumulator(str(al.run_dir / "tensorboard" / "hparams"))
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert "hparams/final_test_f1" in scalars
    reported = acc.Scalars("hparams/switch_round")[-1].value if "hparams/switch_round" in scalars else None
    assert reported == expected


def test_closing_table_shows_no_switch_decided_after_the_last_round(capsys):
    from types import SimpleNamespace

    trials = [{"trial_name": f"t{i}", "dataset": "agnews", "strategy": "deltaf1", "epsilon": 1.0, "k": 1, "seed": 0}
              for i in range(2)]
    # t0 as reported before `switch_round` meant a trained round: the rule fired after round 2, the last.
    metrics = [{"round": 2, "switch_round": 3, "test_f1": 0.5, "cum_train_flops": 1.0, "done": True},
               {"round": 2, "switch_round": 2, "switch_decided_round": 2, "test_f1": 0.5, "cum_train_flops": 1.0, "done": True}]
    results = [SimpleNamespace(config={"trial_index": i}, metrics=m, error=None, path=None) for i, m in enumerate(metrics)]
    assert grid.report(results, trials, "/tmp/x", 1.0) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("t")}
    assert rows["t0"][-2] == "-" and rows["t1"][-2] == "2"
