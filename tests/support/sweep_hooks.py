"""Test-only hooks and helpers for sweeps; the hooks are injected through
`sweeps.grid.main(trainable=..., callbacks=...)`.

The production trainable and callbacks know nothing of them. Ray workers get these functions
by value (`register_by_value`), so tests/ need not be importable on a worker.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def register_by_value() -> None:
    """Pickle this module's functions by value for Ray's workers."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def run_trial_with(config: dict, params: dict, after_report) -> None:
    """`sweeps.trainable.run_trial`, calling `after_report(metrics)` right after each `tune.report`
    (where a fault is injected), with Tune's own report put back afterwards."""
    from ray import tune

    from sweeps.trainable import run_trial

    report = tune.report

    def report_then_hook(metrics, *args, **kwargs):
        report(metrics, *args, **kwargs)
        after_report(metrics)

    tune.report = report_then_hook
    try:
        run_trial(config, **params)
    finally:
        tune.report = report


def crash_once_after_round(round_idx: int, marker_dir: Path, kind: str = "raise"):
    """A trainable that runs `sweeps.trainable.run_trial` and fails once per trial right after
    reporting round `round_idx`: it raises (kind="raise") or its process dies (kind="exit",
    like a lost node). A marker file per trial makes the retry run through."""
    marker_dir = str(marker_dir)

    def crashing_trial(config, **params):
        def crash(metrics):
            marker = Path(marker_dir) / f"{config['trial_name']}.crashed"
            if metrics.get("round") != round_idx or marker.exists():
                return
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"crashed after round {round_idx}\n")
            if kind == "exit":
                os._exit(1)
            raise RuntimeError(f"injected crash after round {round_idx}")

        run_trial_with(config, params, after_report=crash)

    return crashing_trial


def stop_after_trials(n: int, marker: Path):
    """A Tune callback that interrupts the sweep (SIGUSR1, as a user's Ctrl-C would) once `n`
    trials have finished; only once, so a restored Tuner, which keeps its callbacks, runs on."""
    from ray import tune

    class StopAfterTrials(tune.Callback):
        def __init__(self):
            self.finished = 0

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.finished += 1
            if self.finished >= n and not Path(marker).exists():
                Path(marker).write_text("interrupted\n")
                os.kill(os.getpid(), signal.SIGUSR1)

    return StopAfterTrials()


def trial_dirs(root: Path) -> dict[str, Path]:
    """Trial folder by trial name."""
    return {
        json.loads((d / "params.json").read_text())["trial_name"]: d
        for d in sorted(root.iterdir())
        if (d / "params.json").is_file()
    }


def one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("grid.py: error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def fail_while(fault: Path, trial_name: str, round_idx: int):
    """A trainable that runs `sweeps.trainable.run_trial` and raises in trial `trial_name` right
    after it reports round `round_idx`, every time, for as long as the file `fault` exists (a
    fault that only removing it fixes: with --max-failures 0 the trial fails for good)."""
    fault = str(fault)

    def failing_trial(config, **params):
        def fail(metrics):
            if config["trial_name"] == trial_name and metrics.get("round") == round_idx and Path(fault).exists():
                raise RuntimeError(f"injected fault after round {round_idx}")

        run_trial_with(config, params, after_report=fail)

    return failing_trial
