"""A shared sweep that survives its failures (issue 22): what a failed trunk blocks runs on
`--resume` once the trunk succeeds, with the records `--no-share` gives; a trial that failed for
its input runs again on `--resume`; an interrupted or killed sweep resumes without hanging; a finished
sweep leaves no `.prefixes/` behind.

Each test runs a few tiny-bert trials (3 short rounds) on a private local Ray (tests/conftest.py
`ray_env`). tiny-bert predicts one class throughout, so the grids pin the rule's guard off.
"""

from __future__ import annotations

import faulthandler
import json
from pathlib import Path

import pytest
import ray.tune  # noqa: F401 - first import at collection (see test_sweeps.py)
import yaml

from sweeps import grid
from tests.conftest import PLATEAU, write_plateau_csv
from tests.support import sweep_hooks
from tests.support.shared_sweeps import BASE, outcome, same_results

HANG_LIMIT_S = 240  # a hung sweep ends the test run with every thread's traceback instead of waiting forever


@pytest.fixture(autouse=True)
def bounded():
    faulthandler.dump_traceback_later(HANG_LIMIT_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def run(capsys, *argv, **hooks) -> tuple[int, str, str]:
    rc = grid.main([str(a) for a in argv], **hooks)
    out, err = capsys.readouterr()
    return rc, out, err


def write_grid(path: Path, base: dict, axes: dict) -> Path:
    path.write_text(yaml.safe_dump({"base": base, "grid": {"datasets": ["agnews"], "seeds": [5], **axes}}))
    return path


AXES = {"strategies": ["retrain", "finetune", "deltaf1"], "epsilons": [0.0, 0.05], "ks": [1], "guards": [False]}
TRUNK = "agnews-retrain-s5"


def test_a_trunk_that_failed_for_good_blocks_its_members_and_resume_runs_them_as_no_share_would(
    ray_env, tmp_path, capsys
):
    grid_file = write_grid(tmp_path / "grid.yaml", {**BASE, "total_rounds": 3}, AXES)
    fault = tmp_path / "fault"
    fault.write_text("on\n")
    sweep_hooks.register_by_value()
    common = ["--storage-path", tmp_path / "res", "--num-cpus", "2", "-q"]
    progress = [
        a for a in common if a != "-q"
    ]  # round lines too, as the demo prints them (a restored Tuner keeps them)
    rc, out, err = run(
        capsys,
        "--config",
        grid_file,
        "--name",
        "shared",
        "--max-failures",
        "0",
        *progress,
        trainable=sweep_hooks.fail_while(fault, TRUNK, 0),
    )
    assert rc == 1, err[-3000:]
    blocked = ["agnews-deltaf1-e0-k1-s5", "agnews-deltaf1-e0.05-k1-s5"]
    assert f"blocked by {TRUNK}, which failed: {', '.join(blocked)}" in out
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.startswith("agnews-")}
    assert rows == {TRUNK: "errored", "agnews-finetune-s5": "finished", **{b: "blocked" for b in blocked}}
    assert "--resume --name shared" in err
    assert (tmp_path / "res" / "shared" / ".prefixes").is_dir(), "kept: the blocked configurations need it"

    fault.unlink()
    rc, out, err = run(
        capsys, "--resume", "--name", "shared", *progress, trainable=sweep_hooks.fail_while(fault, TRUNK, 0)
    )
    assert rc == 0, err[-3000:]
    assert "4 configurations: 4 finished" in out and "blocked" not in out
    assert out.count(f"[{blocked[0]}] same as {TRUNK} through round 2: adopted") == 1
    assert not any(line.startswith(f"[{blocked[0]}] round") for line in out.splitlines()), "a copy trains no round"
    assert "Generating" not in out + err and "it/s]" not in out + err, "no library progress bars"
    shared = outcome(tmp_path / "res" / "shared")
    assert {n: v["role"] for n, v in shared.items()} == {
        TRUNK: "trunk",
        "agnews-finetune-s5": "fork",
        blocked[0]: "copy",
        blocked[1]: "fork",
    }
    assert not (tmp_path / "res" / "shared" / ".prefixes").exists(), "every job finished: the store is removed"

    rc, out, err = run(capsys, "--config", grid_file, "--name", "alone", "--no-share", *common)
    assert rc == 0, err[-3000:]
    same_results(shared, outcome(tmp_path / "res" / "alone"))


def test_an_input_error_reruns_on_resume_and_fails_again_in_one_line_until_fixed(ray_env, tmp_path, capsys):
    """The trunk's data is missing (--no-data-check lets it reach the trial). The first run is
    interrupted right after that trial ends; each --resume reruns it: while the file is missing
    it fails again in one line and its member stays blocked; once it exists both run."""
    csv = tmp_path / "data" / "train.csv"
    base = {
        **BASE,
        **{k: v for k, v in PLATEAU.items() if k not in ("seed", "total_rounds", "epochs")},
        "total_rounds": 3,
        "tokenizer_kwargs": {"max_length": 32},
        "test_subsample_size": None,
        "data": str(csv),
    }
    axes = {"strategies": ["retrain", "deltaf1"], "epsilons": [0.05], "ks": [1], "guards": [False]}
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(yaml.safe_dump({"base": base, "grid": {"seeds": [5], **axes}}))
    common = ["--storage-path", tmp_path / "res", "--num-cpus", "2", "-q", "--no-data-check"]
    sweep_hooks.register_by_value()
    rc, out, err = run(
        capsys,
        "--config",
        grid_file,
        "--name",
        "fixme",
        *common,
        callbacks=[sweep_hooks.stop_after_trials(1, tmp_path / "interrupted")],
    )
    assert rc == 2 and (tmp_path / "interrupted").exists(), err[-3000:]
    member = "train-deltaf1-e0.05-k1-s5"

    rc, out, err = run(capsys, "--resume", "--name", "fixme", *common)
    errors = [line for line in err.splitlines() if line.startswith("grid.py: error:")]
    assert rc == 2 and len(errors) == 1 and "train.csv" in errors[0] and "Traceback" not in err, err[-3000:]
    assert f"blocked by train-retrain-s5, which failed: {member}" in out

    write_plateau_csv(csv)
    rc, out, err = run(capsys, "--resume", "--name", "fixme", *common)
    assert rc == 0, err[-3000:]
    assert "2 configurations: 2 finished" in out
    runs = outcome(tmp_path / "res" / "fixme")
    assert runs["train-retrain-s5"]["role"] == "trunk" and runs[member]["role"] in ("fork", "copy")
    assert not (tmp_path / "res" / "fixme" / ".prefixes").exists()


def _kill_processes_mentioning(text: str) -> int:
    """SIGKILL every process whose command line mentions `text` (the test's private Ray temp dir:
    the raylet, GCS and workers a killed driver leaves behind); returns how many."""
    import os
    import signal

    killed = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def test_a_driver_killed_right_after_an_error_trial_resumes_without_hanging(ray_env, tmp_path):
    """SIGKILL, not an interrupt: the driver gets no chance to save Tune's or the searcher's state
    after the trunk's input error. `--resume` (the input fixed) reads the error from the trial's
    summary.json, reruns the trunk and runs the member that waited on it; the watchdog bounds it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    csv = tmp_path / "data" / "train.csv"
    base = {
        **BASE,
        **{k: v for k, v in PLATEAU.items() if k not in ("seed", "total_rounds", "epochs")},
        "total_rounds": 3,
        "tokenizer_kwargs": {"max_length": 32},
        "test_subsample_size": None,
        "data": str(csv),
    }
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(
        yaml.safe_dump(
            {
                "base": base,
                "grid": {
                    "seeds": [5],
                    "strategies": ["retrain", "deltaf1"],
                    "epsilons": [0.05],
                    "ks": [1],
                    "guards": [False],
                },
            }
        )
    )
    argv = [
        sys.executable,
        str(Path(grid.__file__)),
        "--storage-path",
        str(tmp_path / "res"),
        "--num-cpus",
        "2",
        "-q",
        "--no-data-check",
    ]
    driver = subprocess.Popen(
        [*argv, "--config", str(grid_file), "--name", "killed"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, errored = time.monotonic() + 180, False
    while time.monotonic() < deadline and driver.poll() is None and not errored:
        for summary in (tmp_path / "res" / "killed").glob("*/summary.json"):
            try:
                errored = errored or json.loads(summary.read_text()).get("status") == "error"
            except ValueError:  # being written
                pass
        time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    _kill_processes_mentioning(str(ray_env))  # the driver's local Ray, left without its driver
    assert errored, "the trunk's input error never reached its summary.json"

    write_plateau_csv(csv)
    resumed = subprocess.run(
        [*argv, "--resume", "--name", "killed"], capture_output=True, text=True, timeout=HANG_LIMIT_S
    )
    _kill_processes_mentioning(str(ray_env))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "2 configurations: 2 finished" in resumed.stdout
    runs = outcome(tmp_path / "res" / "killed")
    assert runs["train-retrain-s5"]["role"] == "trunk" and runs["train-deltaf1-e0.05-k1-s5"]["role"] in ("fork", "copy")
