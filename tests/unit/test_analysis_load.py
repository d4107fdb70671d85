"""Reading experiment folders: run folders (summary.json + rounds.jsonl), sweep trials, trials Ray
alone knows about, older runs, damaged input, fsspec URLs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.reading.experiment import load_experiment
from analysis.reading.problems import AnalysisError
from analysis.reading.tidy_tables import rounds_table, trials_table
from analysis.statistics.trial_metrics import trial_metrics
from hybridal.records import SINGLE_LABEL_FIELDS, TRIAL_COLUMNS
from tests.support.analysis_experiments import (
    canonical,
    config,
    make_experiment,
    simulate,
    switch_round_of,
    write_ray_state,
    write_ray_trial,
    write_run,
)


def _by_trial(exp):
    return {t.trial: t for t in exp.trials}


def _problems(exp) -> str:
    return "\n".join(exp.problems.lines(max_trials=50))


def test_plain_run_folders_are_read_with_their_summary(tmp_path):
    cfg = config("agnews", "deltaf1", 1, epsilon=0.02, k=1)
    recs = simulate(cfg, 6)
    write_run(tmp_path / "runs" / "a", cfg, recs)
    write_run(
        tmp_path / "runs" / "b",
        config("agnews", "retrain", 1),
        simulate(config("agnews", "retrain", 1), 6),
        finished=False,
    )
    exp = load_experiment(str(tmp_path))
    t = _by_trial(exp)
    assert set(t) == {"runs/a", "runs/b"}
    assert t["runs/a"].status == "finished" and t["runs/a"].source == "run"
    assert t["runs/a"].config == canonical(cfg)
    assert len(t["runs/a"].rounds) == 6
    # summary.json says "running": unfinished, described all the same
    assert t["runs/b"].status == "incomplete" and t["runs/b"].config["strategy"] == "retrain"
    assert t["runs/b"].settings == t["runs/a"].settings | {"total_rounds": 8}
    assert "incomplete, left out of the aggregates (summary.json says running" in _problems(exp)

    trials = trials_table(exp)
    m = trial_metrics(rounds_table(exp, trials), trials).set_index("trial")
    assert m.loc["runs/a", "final_test_f1"] == recs[-1]["test_f1"]
    assert m.loc["runs/a", "switch_round"] == switch_round_of(recs)
    assert m.loc["runs/a", "total_train_flops"] == recs[-1]["cum_train_flops"]
    assert m.loc["runs/a", "wall_seconds"] == pytest.approx(sum(r["wall_seconds"] for r in recs))


def test_sweep_trial_status_comes_from_summary_json_and_ray_only_lists_the_rest(tmp_path):
    exp_dir = tmp_path / "exp"
    c = [config("imdb", "retrain", s) for s in (1, 2, 3, 4, 5, 6)]
    write_ray_trial(exp_dir, "trainable_x_00000_0", c[0], simulate(c[0], 5), total_rounds=5)  # finished
    write_ray_trial(
        exp_dir,
        "trainable_x_00001_1",
        c[1],
        simulate(c[1], 5)[:2],
        total_rounds=5,
        error="RuntimeError: CUDA out of memory",
    )  # died mid-run
    write_ray_trial(exp_dir, "trainable_x_00002_2", c[2], simulate(c[2], 5)[:3], total_rounds=5)  # running
    write_ray_trial(
        exp_dir,
        "trainable_x_00003_3",
        c[3],
        [],
        total_rounds=5,
        run_files=False,
        error="\x1b[36mValueError: data='imdbb' is unknown\x1b[39m",
    )  # before its run
    write_ray_trial(
        exp_dir, "trainable_x_00004_4", c[4], simulate(c[4], 5), total_rounds=5, error="RuntimeError: preempted"
    )  # retried, done
    bad = write_ray_trial(exp_dir, "trainable_x_00005_5", c[5], [], total_rounds=5)  # its input
    summary = json.loads((bad / "summary.json").read_text())
    (bad / "summary.json").write_text(
        json.dumps(summary | {"status": "error", "error": "label_budget=10 is too small"})
    )
    write_ray_state(
        exp_dir, [("x_00002", "RUNNING", "trainable_x_00002_2"), ("x_00009", "PENDING", "trainable_x_00009_9")]
    )
    exp = load_experiment(str(exp_dir))
    t = _by_trial(exp)
    assert {k: v.status for k, v in t.items()} == {
        "trainable_x_00000_0": "finished",
        "trainable_x_00001_1": "errored",
        "trainable_x_00002_2": "incomplete",
        "trainable_x_00003_3": "errored",
        "trainable_x_00004_4": "finished",
        "trainable_x_00005_5": "errored",
    }
    assert all(v.source == "ray" for v in t.values())
    assert t["trainable_x_00003_3"].config == canonical(c[3]) and not t["trainable_x_00003_3"].rounds
    assert len(t["trainable_x_00001_1"].rounds) == 2
    p = _problems(exp)
    assert "errored: RuntimeError: CUDA out of memory" in p
    assert "errored: ValueError: data='imdbb' is unknown (1 trial" in p
    assert "errored: label_budget=10 is too small" in p
    assert "still running" in p
    assert "1 trial(s) listed in Ray's experiment state have no result folder" in p


def test_ray_result_files_are_not_read_for_a_trial_with_run_files(tmp_path):
    cfg = config("agnews", "retrain", 1)
    recs = simulate(cfg, 4)
    d = write_ray_trial(tmp_path, "trial", cfg, recs, total_rounds=4)
    (d / "result.json").write_text('{"round": 0, "val_f1": ')  # damaged: never opened
    (d / "params.json").write_text(json.dumps({"dataset": "imdb"}))  # disagrees: the summary is the record
    write_run(d / "checkpoint_000001", cfg, recs[:1])  # a checkpoint copy: ignored
    exp = load_experiment(str(tmp_path))
    assert [t.trial for t in exp.trials] == ["trial"]
    assert exp.trials[0].status == "finished" and len(exp.trials[0].rounds) == 4
    assert exp.trials[0].config["dataset"] == "agnews" and exp.trials[0].source == "ray"
    assert not exp.problems.lines()


def test_a_ray_folder_around_a_run_folder_is_that_run(tmp_path):
    cfg = config("agnews", "retrain", 1)
    d = write_ray_trial(tmp_path, "trial", cfg, [], total_rounds=3, run_files=False)
    write_run(d / "run", cfg, simulate(cfg, 3))
    pending = write_ray_trial(tmp_path, "pending", cfg, [], total_rounds=3, run_files=False)
    (pending / "result.json").unlink()
    exp = load_experiment(str(tmp_path))
    assert {t.trial: t.status for t in exp.trials} == {"pending": "incomplete", "trial/run": "finished"}
    assert "pending, or stopped before its run began" in _problems(exp)


def test_older_runs_without_summary_json_fall_back_to_config_yaml(tmp_path):
    cfg = config("agnews", "deltaf1", 1, epsilon=0.02, k=2, monitor="acquired", c=0.1)
    run = write_run(tmp_path / "old", cfg, simulate(cfg, 3), finished=False)
    (run / "summary.json").unlink()  # written only at the end by older engines
    exp = load_experiment(str(tmp_path))
    t = exp.trials[0]
    assert t.status == "incomplete" and "no summary.json" in _problems(exp)
    assert t.config == canonical(cfg)
    assert t.settings["optimizer_kwargs.lr"] == 5e-5  # PyYAML reads 5e-05 as text; one spelling per value
    assert len(t.rounds) == 3


def test_half_written_line_is_skipped_and_reported(tmp_path):
    cfg = config("agnews", "retrain", 1)
    run = write_run(tmp_path / "r", cfg, simulate(cfg, 4))
    with open(run / "rounds.jsonl", "a") as f:
        f.write('{"round": 4, "n_labeled": 3')  # the writer was killed mid-line
    exp = load_experiment(str(tmp_path))
    assert len(exp.trials[0].rounds) == 4
    assert "rounds.jsonl: its last line is not valid JSON (half-written?)" in _problems(exp)


def test_half_written_summary_makes_the_run_incomplete(tmp_path):
    cfg = config("agnews", "retrain", 1)
    run = write_run(tmp_path / "r", cfg, simulate(cfg, 3))
    (run / "summary.json").write_text('{"trial": {"dataset": "agn')  # copied while written
    exp = load_experiment(str(tmp_path))
    assert exp.trials[0].status == "incomplete"
    assert exp.trials[0].config["dataset"] == "agnews"  # from config.yaml
    assert "summary.json is not valid JSON" in _problems(exp)


def test_missing_record_fields_and_config_columns_from_older_runs(tmp_path):
    cfg = config("agnews", "retrain", 1)
    old_cfg = {k: v for k, v in cfg.items() if k not in ("replay", "finetune_epochs")}
    recs = [
        {k: v for k, v in r.items() if k not in ("test_accuracy", "monitor_f1", "short_batch", "cum_train_flops")}
        for r in simulate(cfg, 3)
    ]
    write_run(tmp_path / "old", old_cfg, recs)
    exp = load_experiment(str(tmp_path))
    p = _problems(exp)
    assert "records lack fields test_accuracy" in p
    assert "config lacks finetune_epochs, replay" in p
    r = rounds_table(exp)
    assert list(r.columns[-len(SINGLE_LABEL_FIELDS) :]) == list(SINGLE_LABEL_FIELDS)
    assert r["test_accuracy"].isna().all() and r["monitor_f1"].isna().all()
    # the cumulative counter is rebuilt from the per-round one
    assert r["cum_train_flops"].tolist() == pytest.approx(pd.Series([x["train_flops"] for x in recs]).cumsum().tolist())


def test_duplicate_rounds_from_a_resumed_trial_keep_the_last_report(tmp_path):
    cfg = config("agnews", "retrain", 1)
    recs = simulate(cfg, 3)
    again = dict(recs[1]) | {"val_f1": 0.123}
    write_run(tmp_path / "r", cfg, recs[:2] + [again] + recs[2:])
    exp = load_experiment(str(tmp_path))
    rounds = exp.trials[0].rounds
    assert [r["round"] for r in rounds] == [0, 1, 2] and rounds[1]["val_f1"] == 0.123
    assert "reports some rounds twice" in _problems(exp)


def test_rounds_table_is_tidy_and_survives_parquet(tmp_path):
    for s in (1, 2):
        cfg = config("agnews", "deltaf1", s, epsilon=0.01, k=2)
        write_run(tmp_path / f"r{s}", cfg, simulate(cfg, 3))
    r = rounds_table(load_experiment(str(tmp_path)))
    assert len(r) == 6
    assert list(r.columns) == ["trial", "status", "source", *TRIAL_COLUMNS, *SINGLE_LABEL_FIELDS]
    r.to_parquet(tmp_path / "x.parquet")
    back = pd.read_parquet(tmp_path / "x.parquet")
    assert back.shape == r.shape and back["cum_train_flops"].equals(r["cum_train_flops"])
    assert back["delta_f1"].isna().sum() == 2  # undefined at round 0 of each trial


def test_fsspec_urls_are_read_like_local_folders(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    mem = fsspec.filesystem("memory")
    local = make_experiment(
        tmp_path / "exp", "ray", total_rounds=3, datasets=("agnews",), seeds=(1, 2), epsilons=(0.01,), ks=(1,)
    )
    for f in local.rglob("*"):
        if f.is_file():
            mem.pipe(f"/bucket/exp/{f.relative_to(local).as_posix()}", f.read_bytes())
    try:
        remote = load_experiment("memory://bucket/exp")  # 8 trials: read concurrently
        here = load_experiment(str(local))
        assert [(t.trial, t.status, t.rounds) for t in remote.trials] == [
            (t.trial, t.status, t.rounds) for t in here.trials
        ]
        assert len(remote.trials) == 8 and {t.status for t in remote.trials} == {"finished"}
    finally:
        mem.rm("/bucket", recursive=True)


def test_missing_folder_is_an_analysis_error(tmp_path):
    with pytest.raises(AnalysisError, match="does not exist"):
        load_experiment(str(tmp_path / "nope"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(AnalysisError, match="not a folder"):
        load_experiment(str(tmp_path / "file"))


def test_metrics_of_a_running_trial_come_from_its_records(tmp_path):
    cfg = config("agnews", "deltaf1", 1, epsilon=0.02, k=1)
    recs = simulate(cfg, 6)
    write_ray_trial(tmp_path, "t", cfg, recs, total_rounds=8)  # its summary.json says running, final_test empty
    exp = load_experiment(str(tmp_path))
    trials = trials_table(exp)
    m = trial_metrics(rounds_table(exp, trials), trials).iloc[0]
    assert m["status"] == "incomplete"
    assert m["final_test_f1"] == recs[-1]["test_f1"]
    assert m["switch_round"] == switch_round_of(recs)
    assert m["final_val_f1"] == recs[-1]["val_f1"]
    assert not math.isnan(m["aulc"])


def test_analysis_and_the_trial_record_import_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, analysis.statistics.pipeline, hybridal.records; "
        "assert 'torch' not in sys.modules and 'hybridal.loop.active_learning' not in sys.modules; "
        "print('ok')"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_a_switch_decided_after_the_last_round_counts_as_never(tmp_path):
    # docs/design.md §4 records switch_round = r + 1 even when r is the last round; no round then
    # ran the cheaper strategy, so the analysis must not count the run as switched.
    cfg = config("agnews", "deltaf1", 1, epsilon=0.5, k=1)
    recs = [dict(r, switched=False, strategy_used="retrain") for r in simulate(cfg, 4)]
    folder = write_run(tmp_path / "runs" / "late", cfg, recs)
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps(summary | {"switch_round": 4}))
    early = config("agnews", "deltaf1", 2, epsilon=0.5, k=1)
    early_folder = write_run(tmp_path / "runs" / "early", early, simulate(early, 4))
    early_switch = json.loads((early_folder / "summary.json").read_text())["switch_round"]
    assert early_switch is not None and early_switch < 4

    exp = load_experiment(str(tmp_path))
    trials = trials_table(exp)
    m = trial_metrics(rounds_table(exp, trials), trials).set_index("trial")
    assert math.isnan(m.loc["runs/late", "switch_round"])
    assert m.loc["runs/early", "switch_round"] == early_switch


# Settings the issue lists, each changed alone from the fixture's engine config.
ENGINE_VARIANTS = {
    "base": {},
    "lr": {"optimizer_kwargs": {"lr": 1e-4, "weight_decay": 0.01}},
    "batch": {"batch_size": 32},
    "pool": {"initial_pool_size": 100},
    "acq": {"acquisition_batch_size": 16},
    "keep": {"keep_optimizer": True},
    "cands": {"candidate_pool_size": 500},
    "len": {"tokenizer_kwargs": {"max_length": 256, "padding": "max_length"}},
    "pad": {"tokenizer_kwargs": {"max_length": 128, "padding": True}},
    "val": {"val_size": 0.2},
    "budget": {"label_budget": 600},
}


def test_runs_differing_only_in_an_engine_setting_are_separate_configurations(tmp_path):
    from analysis.statistics.pipeline import analyse

    cfg = config("agnews", "retrain", 1)
    for name, engine in ENGINE_VARIANTS.items():
        write_ray_trial(tmp_path, f"{name}_s1", cfg, simulate(cfg, 3), total_rounds=3, engine=engine)
    # more rounds, another model, and a second seed of two variants: averaged with their own variant only
    write_ray_trial(tmp_path, "rounds_s1", cfg, simulate(cfg, 4), total_rounds=4)
    bert = config("agnews", "retrain", 1, model="tiny-bert")
    write_ray_trial(tmp_path, "model_s1", bert, simulate(bert, 3), total_rounds=3)
    cfg2 = config("agnews", "retrain", 2)
    for name in ("base", "lr"):
        write_ray_trial(tmp_path, f"{name}_s2", cfg2, simulate(cfg2, 3), total_rounds=3, engine=ENGINE_VARIANTS[name])
    a = analyse(str(tmp_path))
    s = a.summary
    assert len(s) == len(ENGINE_VARIANTS) + 2
    assert not [p for p in a.problems.lines() if "repeats" in p]
    assert sorted(s["n_seeds"]) == [1] * (len(s) - 2) + [2, 2]
    for column in (
        "optimizer_kwargs.lr",
        "batch_size",
        "initial_pool_size",
        "acquisition_batch_size",
        "keep_optimizer",
        "candidate_pool_size",
        "tokenizer_kwargs.max_length",
        "val_size",
        "label_budget",
        "total_rounds",
    ):
        assert column in s.columns and column in a.rounds.columns and column in a.metrics.columns, column
    lr = s[s["optimizer_kwargs.lr"] == 1e-4].iloc[0]
    assert lr["n_seeds"] == 2 and lr["seeds"] == "1,2"
    assert "retrain model=minilm lr=0.0001" in set(s["config"]) and s["config"].is_unique
    assert "weight_decay" not in s.columns  # the same in every trial: no column
    a.rounds.to_parquet(tmp_path / "rounds.parquet")  # a setting with mixed types (padding True / "max_length")
    assert set(pd.read_parquet(tmp_path / "rounds.parquet")["tokenizer_kwargs.padding"].dropna()) == {
        "true",
        "max_length",
    }


def test_seed_name_paths_and_execution_settings_do_not_split_a_configuration(tmp_path):
    from analysis.statistics.pipeline import analyse

    c1, c2 = config("agnews", "retrain", 1), config("agnews", "retrain", 2)
    # a sweep trial and a plain run of one configuration, executed differently
    write_ray_trial(
        tmp_path,
        "t1",
        c1,
        simulate(c1, 3),
        total_rounds=3,
        engine={"device": "auto", "num_threads": 1, "tensorboard": True},
    )
    write_run(
        tmp_path / "runs" / "r2",
        c2,
        simulate(c2, 3),
        engine={
            "device": "cpu",
            "num_threads": 4,
            "tensorboard": False,
            "save_dir": "/elsewhere",
            "experiment_name": "other",
            "sampler_kwargs": {"seed": 99},
        },
    )
    a = analyse(str(tmp_path))
    assert a.summary["n_seeds"].tolist() == [2]
    assert a.summary["config"].tolist() == ["retrain"]
    assert json.loads(a.summary.loc[0, "settings"])["optimizer_kwargs.lr"] == 5e-5
    assert not a.problems.lines()  # executing differently is by design, not a data problem


def test_a_trial_without_a_run_config_is_noted(tmp_path):
    cfg = config("imdb", "retrain", 1)
    run = write_run(tmp_path / "old", cfg, simulate(cfg, 3))
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({k: v for k, v in summary.items() if k != "config"}))
    (run / "config.yaml").unlink()
    exp = load_experiment(str(tmp_path))
    assert exp.trials[0].settings is None and exp.trials[0].status == "finished"
    assert "has no full run config" in _problems(exp)


def test_newer_record_fields_are_typed_and_their_absence_is_only_a_note(tmp_path):
    from analysis.reading.round_records import OPTIONAL_RECORD_FIELDS

    cfg = config("agnews", "retrain", 1)
    recs = [
        r
        | {
            "test_flops": 10 * (i + 1),
            "cum_test_flops": 10 * (i + 1) * (i + 2) // 2,
            "test_rows": "full",
            "monitor_classes": 4,
        }
        for i, r in enumerate(simulate(cfg, 3))
    ]
    write_run(tmp_path / "new", cfg, recs)
    assert trials_table(load_experiment(str(tmp_path)))["n_rounds"].tolist() == [3]
    old = config("agnews", "retrain", 2)
    write_run(
        tmp_path / "old",
        old,
        [{k: v for k, v in r.items() if k not in OPTIONAL_RECORD_FIELDS} for r in simulate(old, 3)],
    )
    exp = load_experiment(str(tmp_path))
    rounds = rounds_table(exp).set_index(["trial", "round"])
    assert rounds.loc[("new", 2), "test_rows"] == "full" and rounds.loc[("new", 2), "monitor_classes"] == 4
    assert str(rounds["monitor_classes"].dtype) == "Int64" and rounds.loc[("new", 2), "cum_test_flops"] == 60
    assert pd.isna(rounds.loc[("old", 2), "test_rows"])
    assert "lack the newer fields" in _problems(exp) and "(older run?)" not in _problems(exp)
