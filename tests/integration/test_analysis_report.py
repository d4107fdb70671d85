"""The report end to end: CLI exit codes, every output file, readable PNGs, damaged sweeps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.presentation.atomic_files import atomic_path
from analysis.report import main
from tests.support.analysis_experiments import config, make_experiment, simulate, write_ray_trial, write_run
from tests.support.images import assert_png_readable

REPO = Path(__file__).resolve().parents[2]
PLOT_KINDS = ("learning_curves", "f1_vs_al_flops", "final_f1_vs_al_flops", "switch_rounds")


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory):
    """A two-dataset, three-seed Ray sweep (baselines + deltaf1 grid) and its report."""
    root = tmp_path_factory.mktemp("sweep")
    exp = make_experiment(root / "exp", "ray", total_rounds=8, seeds=(1, 2, 3), epsilons=(0.01, 0.02), ks=(1, 2))
    out = root / "out"
    rc = main([str(exp), "--out", str(out)])
    return rc, exp, out


def test_full_report_writes_every_file(sweep_report, capsys):
    rc, exp, out = sweep_report
    assert rc == 0
    for name in (
        "rounds.parquet",
        "rounds.csv",
        "trials.csv",
        "summary.csv",
        "frontier_rounds.csv",
        "hypervolume.csv",
        "report.md",
        "report.html",
    ):
        assert (out / name).stat().st_size > 200, name
    for ds in ("agnews", "imdb"):
        for kind in PLOT_KINDS:
            assert_png_readable(out / "plots" / f"{ds}_{kind}.png")
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_tables_hold_one_row_per_trial_round_and_per_config(sweep_report):
    _, exp, out = sweep_report
    rounds = pd.read_parquet(out / "rounds.parquet")
    n_trials = len(list(exp.glob("trainable_*")))
    assert rounds["trial"].nunique() == n_trials == 2 * 3 * (3 + 4)
    assert len(rounds) == n_trials * 8
    assert {"trial", "status", "seed", "dataset", "test_f1", "cum_train_flops"} <= set(rounds.columns)
    assert len(pd.read_csv(out / "rounds.csv")) == len(rounds)
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 * (3 + 4)
    assert (summary["n_seeds"] == 3).all() and summary["final_test_f1_ci95"].notna().all()
    assert "seed" not in summary.columns
    assert summary.groupby("dataset")["pareto"].any().all()
    retrain = summary[summary["strategy"] == "retrain"]
    assert (retrain["flops_ratio"] == 1.0).all() and retrain["matched"].all()
    hv = pd.read_csv(out / "hypervolume.csv")
    assert set(hv["strategy"]) == {"retrain", "finetune", "new_only", "deltaf1"}
    assert hv["hv_final"].between(0, 1).all()


def test_report_states_selection_on_validation_and_embeds_plots(sweep_report):
    _, _, out = sweep_report
    md = (out / "report.md").read_text()
    assert "best configuration by mean final validation F1" in md
    assert "never used to choose" in md
    assert "## Data problems" in md and "None found." in md
    assert "plots/agnews_learning_curves.png" in md


def test_pareto_set_and_hypervolume_say_they_use_validation_f1(sweep_report):
    _, _, out = sweep_report
    md = (out / "report.md").read_text()
    assert "form the Pareto set of AL FLOPs vs validation F1" in md and "vs test F1" not in md
    assert "| val F1 (front) | test F1 (reported) |" in md and "Pareto (val F1)" in md
    assert "hypervolume (final, val F1)" in md and "hypervolume (final, test F1; reported)" in md
    summary = pd.read_csv(out / "summary.csv")
    for _, g in summary.groupby("dataset"):  # the flag is the front of (AL FLOPs, validation F1)
        flops, val = g["total_flops_mean"].to_numpy(), g["final_val_f1_mean"].to_numpy()
        beaten = [((flops <= f) & (val >= v) & ((flops < f) | (val > v))).any() for f, v in zip(flops, val)]
        assert g["pareto"].tolist() == [not b for b in beaten]
    rounds = pd.read_csv(out / "frontier_rounds.csv")
    assert rounds.groupby("dataset")["on_front"].any().all()
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 * 4 + 1  # 4 figures per dataset + the savings figure
    assert 'src="plots/' not in html  # self-contained


def test_cli_prints_a_short_summary(tmp_path, capsys):
    exp = make_experiment(
        tmp_path / "exp", "run", total_rounds=5, datasets=("agnews",), seeds=(1,), epsilons=(0.02,), ks=(1,)
    )
    assert main([str(exp), "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "agnews: 4 configs; trials 4 finished / 0 incomplete / 0 errored" in text
    assert "best by validation F1:" in text
    assert "Single seed" in text
    assert f"Report: {tmp_path / 'out'}/report.html" in text
    md = (tmp_path / "out" / "report.md").read_text()
    assert "smoke test, not a finding" in md
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["final_test_f1_ci95"].isna().all() and (summary["final_test_f1_n"] == 1).all()


def test_damaged_sweep_is_analysed_and_its_problems_listed(tmp_path, capsys):
    exp = make_experiment(
        tmp_path / "exp", "ray", total_rounds=6, datasets=("agnews",), seeds=(1, 2), epsilons=(0.02,), ks=(1,)
    )
    bad = config("agnews", "retrain", 3)
    write_ray_trial(
        exp,
        "trainable_abc12_00100_100_err",
        bad,
        simulate(bad, 6)[:2],
        6,
        error="RuntimeError: CUDA error: out of memory",
    )
    running = config("agnews", "finetune", 3)
    write_ray_trial(exp, "trainable_abc12_00101_101_run", running, simulate(running, 6)[:3], 6)
    with open(exp / "trainable_abc12_00101_101_run" / "rounds.jsonl", "a") as f:
        f.write('{"round": 3, "val_f1"')
    old = config("agnews", "new_only", 3)
    write_run(
        exp / "older_runs" / "n3", old, [{k: v for k, v in r.items() if k != "test_accuracy"} for r in simulate(old, 6)]
    )
    assert main([str(exp), "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "trials 9 finished / 1 incomplete / 1 errored" in text
    assert "errored: RuntimeError: CUDA error: out of memory" in text
    md = (tmp_path / "out" / "report.md").read_text()
    for expected in (
        "errored: RuntimeError",
        "incomplete, left out of the aggregates",
        "half-written",
        "records lack fields test_accuracy",
    ):
        assert expected in md, expected
    rounds = pd.read_parquet(tmp_path / "out" / "rounds.parquet")
    assert set(rounds["status"]) == {"finished", "incomplete", "errored"}
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.set_index("config").loc["new_only", "n_seeds"] == 3  # the older run still counts


def test_empty_folder_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No runs found under") and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_only_unfinished_trials_exit_2(tmp_path, capsys):
    cfg = config("agnews", "retrain", 1)
    write_run(tmp_path / "exp" / "r", cfg, simulate(cfg, 2), finished=False)
    assert main([str(tmp_path / "exp"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "none finished" in err and "1 incomplete" in err and "\n" not in err


@pytest.mark.parametrize("entry", [["-m", "analysis.report"], ["analysis/report.py"], ["-m", "analysis"]])
def test_entry_points_exit_2_without_traceback(tmp_path, entry):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "experiment_state-2026.json").write_text('{"trial_data": [')  # half-written
    proc = subprocess.run(
        [sys.executable, *entry, str(tmp_path / "half"), "--out", str(tmp_path / "o")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_folder_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "x.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_second_run_replaces_outputs_in_place(tmp_path):
    exp = make_experiment(
        tmp_path / "exp", "run", total_rounds=4, datasets=("imdb",), seeds=(1, 2), epsilons=(0.02,), ks=(1,)
    )
    out = tmp_path / "out"
    assert main([str(exp), "--out", str(out)]) == 0
    first = sorted(p.name for p in out.rglob("*"))
    assert main([str(exp), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.rglob("*")) == first
    assert np.isfinite(pd.read_csv(out / "summary.csv")["aulc_mean"]).all()


def test_a_single_run_gives_a_full_report(tmp_path, capsys):
    cfg = config("imdb", "deltaf1", 7, epsilon=1e-9, k=3)  # never switches
    run = write_run(tmp_path / "one_run", cfg, simulate(cfg, 4))
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0  # the folder itself is the run
    s = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert len(s) == 1 and bool(s.loc[0, "pareto"]) and s.loc[0, "switched"] == 0
    hv = pd.read_csv(tmp_path / "out" / "hypervolume.csv")
    assert hv.loc[0, "hv_final"] == pytest.approx(s.loc[0, "final_val_f1_mean"])  # cheapest single config: HV = F1
    for kind in PLOT_KINDS:
        assert_png_readable(tmp_path / "out" / "plots" / f"imdb_{kind}.png", min_colour=1e-4)  # one dot
    assert "no retrain run" in capsys.readouterr().out


def test_temp_files_of_a_killed_run_are_cleared(tmp_path):
    exp = make_experiment(
        tmp_path / "exp", "run", total_rounds=3, datasets=("imdb",), seeds=(1,), epsilons=(0.02,), ks=(1,)
    )
    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    (out / ".summary.csv.abc123.tmp").write_text("half")
    (out / "plots" / ".imdb_learning_curves.png.x.tmp").write_bytes(b"\x89PNG")
    (out / "notes.txt").write_text("mine")
    assert main([str(exp), "--out", str(out)]) == 0
    assert not list(out.rglob("*.tmp")) and (out / "notes.txt").read_text() == "mine"
