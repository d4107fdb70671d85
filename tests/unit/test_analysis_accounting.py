"""Honest accounting in the analysis (issue 21): schema-1 records read on schema-2 definitions, every arm
eligible for best and cheapest on paired means, the validation noise beside the tolerance, degenerate runs marked."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.presentation.report_content import method_notes
from analysis.reading.configuration import config_key
from analysis.reading.problems import ProblemLog
from analysis.reading.schema_versions import derive_schema2
from analysis.report import main
from analysis.statistics.arm_choice import arm_table, choose
from analysis.statistics.headline import headline_table, unranked_table
from analysis.statistics.pipeline import analyse
from analysis.statistics.validation_noise import binomial_se_points
from tests.support.analysis_experiments import VAL_ROWS, as_schema1, config, make_experiment, simulate, write_run

# ----------------------------------------------------------------------------- schema 1 -> schema 2


def test_schema1_records_get_the_schema2_cost_and_labels_back():
    cfg = config("agnews", "deltaf1", 1, epsilon=0.02, k=1)
    v2 = simulate(cfg)
    decided = next(r["round"] for r in v2 if r["switched"])
    derived = derive_schema2(as_schema1(v2), cfg, {"data": {"validation": VAL_ROWS}}, None, "t", ProblemLog())
    for old, new in zip(v2, derived):
        for f in ("cum_total_flops", "flops_scoring", "flops_policy", "flops_validation", "labels_used"):
            assert new[f] == pytest.approx(old[f]), (old["round"], f)
        assert new["schema_version"] == 1 and new.get("degenerate") is None  # never invented
        assert (new["flops_policy"] > 0) == (new["round"] < decided)
    # applied again (a report's own tables read back), it gives the same values
    again = derive_schema2(derived, cfg, {"data": {"validation": VAL_ROWS}}, None, "t", ProblemLog())
    assert [r["cum_total_flops"] for r in again] == [r["cum_total_flops"] for r in derived]


def test_retrain_is_not_charged_for_the_validation_set_it_never_reads():
    cfg = config("agnews", "retrain", 1)
    v1 = as_schema1(simulate(cfg))
    derived = derive_schema2(v1, cfg, None, {"val_size": 500}, "t", ProblemLog())
    assert all(r["flops_policy"] == 0 and r["labels_used"] == r["n_labeled"] for r in derived)
    assert derived[-1]["cum_total_flops"] < v1[-1]["cum_total_flops"]
    assert derived[-1]["cum_total_flops"] == pytest.approx(
        sum(r["train_flops"] + r["infer_flops"] for r in v1) - len(v1) * v1[0]["infer_flops"]
    )


def test_schema1_with_the_acquired_monitor_is_flagged_and_charged_in_sum():
    cfg = config("agnews", "deltaf1", 1, epsilon=0.02, k=1, monitor="acquired")
    log = ProblemLog()
    derived = derive_schema2(as_schema1(simulate(cfg)), cfg, None, None, "t", log)
    assert all(r["flops_scoring"] is None and r["flops_policy"] is None for r in derived)
    assert derived[-1]["cum_total_flops"] > 0 and any("acquired monitor" in line for line in log.lines())


def test_a_folder_of_schema1_and_schema2_runs_is_analysed_on_one_definition(tmp_path):
    for seed in (1, 2):
        for strategy in ("retrain", "finetune"):
            cfg = config("agnews", strategy, seed)
            records = simulate(cfg)
            write_run(tmp_path / "exp" / f"{strategy}-{seed}", cfg, as_schema1(records) if seed == 1 else records)
    a = analyse(str(tmp_path / "exp"))
    m = a.metrics.set_index(["strategy", "seed"])
    # seed 1 is schema 1 and seed 2 schema 2, simulated alike: the same AL cost per round
    assert m.loc[("retrain", 1), "total_flops"] == pytest.approx(m.loc[("retrain", 2), "total_flops"], rel=0.05)
    assert pd.isna(m.loc[("retrain", 1), "ended_degenerate"]) and m.loc[("retrain", 2), "ended_degenerate"] == False  # noqa: E712
    assert "Schema-1 records" in " ".join(method_notes(a))


# ----------------------------------------------------------------------------- every arm, paired


def _group(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, used) for one retrain group from (config, strategy, {seed: (val F1, AL cost)}) rows."""
    used, summary = [], []
    for name, strategy, by_seed in rows:
        cid = config_key(
            {
                "dataset": "a",
                "strategy": strategy,
                "after": None,
                "epsilon": None,
                "k": None,
                "c": None,
                "guard": None,
                "monitor": name,
                "model": "m",
                "sampler": "s",
                "epochs": 3,
                "finetune_epochs": 1,
                "replay": 0,
            }
        )
        for seed, (val, cost) in by_seed.items():
            used.append(
                {
                    "dataset": "a",
                    "config_id": cid,
                    "seed": seed,
                    "final_val_f1": val,
                    "total_flops": cost,
                    "total_train_flops": cost / 2,
                    "final_test_f1": val,
                    "switch_round": math.nan,
                }
            )
        vals = [v for v, _ in by_seed.values()]
        costs = [c for _, c in by_seed.values()]
        summary.append(
            {
                "dataset": "a",
                "config": name,
                "config_id": cid,
                "strategy": strategy,
                "sampler": "s",
                "baseline": "retrain",
                "n_seeds": len(by_seed),
                "seeds": ",".join(map(str, by_seed)),
                "final_val_f1_mean": sum(vals) / len(vals),
                "final_test_f1_mean": sum(vals) / len(vals),
                "final_test_f1_ci95": math.nan,
                "final_test_accuracy_mean": math.nan,
                "final_test_accuracy_ci95": math.nan,
                "labels_used_mean": 550.0,
                "total_flops_mean": sum(costs) / len(costs),
                "total_train_flops_mean": sum(costs) / len(costs) / 2,
                "degenerate_seeds": math.nan,
            }
        )
    return pd.DataFrame(summary), pd.DataFrame(used)


def test_cheapest_within_tolerance_can_be_finetune():
    summary, used = _group(
        [
            ("retrain", "retrain", {1: (0.850, 100.0), 2: (0.860, 100.0)}),
            ("finetune", "finetune", {1: (0.848, 40.0), 2: (0.858, 40.0)}),  # 0.2 points below, cheapest
            ("hybrid", "deltaf1", {1: (0.852, 70.0), 2: (0.860, 70.0)}),  # best, dearer
            ("new_only", "new_only", {1: (0.700, 10.0), 2: (0.720, 10.0)}),  # cheaper still, far below
        ]
    )
    h = headline_table(summary, used, 0.5).set_index("role")
    assert h.loc["cheapest within tolerance (val)", "config"] == "finetune"
    assert h.loc["cheapest within tolerance (val)", "flops_saved_pct_mean"] == pytest.approx(60.0)
    assert h.loc["best (val)", "config"] == "hybrid" == h.loc["HybridAL best (val)", "config"]


def test_a_configuration_missing_a_seed_is_flagged_not_ranked_on_an_unpaired_mean():
    summary, used = _group(
        [
            ("retrain", "retrain", {1: (0.80, 100.0), 2: (0.90, 100.0), 3: (0.85, 100.0)}),
            # only the easy seed: its unpaired mean (0.91) is the highest and it is the cheapest within tolerance
            ("lucky", "deltaf1", {2: (0.91, 20.0)}),
            ("steady", "deltaf1", {1: (0.81, 60.0), 2: (0.90, 60.0), 3: (0.85, 60.0)}),
        ]
    )
    arms = arm_table(summary, used, summary.iloc[0]).set_index("config")
    assert not arms.loc["lucky", "ranked"] and arms.loc["lucky", "missing_seeds"] == "1 3"
    best, cheapest = choose(arms.reset_index(), 0.5)
    assert summary.loc[best, "config"] == "steady" == summary.loc[cheapest, "config"]
    u = unranked_table(summary, used)
    assert u[["config", "missing_seeds"]].values.tolist() == [["lucky", "1 3"]]


def test_a_missing_seed_is_a_data_problem_in_the_report(tmp_path, capsys):
    exp = make_experiment(
        tmp_path / "exp", "run", total_rounds=5, datasets=("agnews",), seeds=(1, 2), epsilons=(0.02,), ks=(1,)
    )
    victim = next((tmp_path / "exp" / "agnews").glob("*deltaf1*_s2"))
    (victim / "summary.json").unlink()
    (victim / "rounds.jsonl").unlink()
    (victim / "config.yaml").unlink()
    victim.rmdir()
    assert main([str(exp), "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "report.md").read_text()
    assert "lacks seed(s) 2" in md and "**Not ranked**" in md


# ----------------------------------------------------------------------------- noise, degenerate


def test_binomial_se_matches_the_studys_agnews_figure():
    assert binomial_se_points(0.887, 500) == pytest.approx(1.42, abs=0.01)
    assert math.isnan(binomial_se_points(0.9, math.nan))


def test_report_prints_the_noise_beside_the_tolerance_and_warns(tmp_path):
    exp = make_experiment(
        tmp_path / "exp", "run", total_rounds=5, datasets=("agnews",), seeds=(1, 2), epsilons=(0.02,), ks=(1,)
    )
    main([str(exp), "--out", str(tmp_path / "out"), "--tolerance", "0.5"])
    noise = pd.read_csv(tmp_path / "out" / "noise.csv")
    assert noise["validation_rows"].tolist() == [VAL_ROWS] and noise["tolerance_below_noise"].all()
    md = (tmp_path / "out" / "report.md").read_text()
    assert "**Noise vs tolerance**" in md and "**Warning**" in md and "sqrt(F1 (1 − F1) / n)" in md
    main([str(exp), "--out", str(tmp_path / "wide"), "--tolerance", "5"])
    assert "**Warning**" not in (tmp_path / "wide" / "report.md").read_text()


def test_degenerate_runs_are_marked_in_the_report_and_the_closing_table(tmp_path, capsys):
    for seed in (1, 2):
        for strategy in ("retrain", "new_only"):
            cfg = config("jigsaw", strategy, seed)
            records = simulate(cfg)
            if strategy == "new_only" and seed == 2:
                records[-1]["degenerate"] = True
            write_run(tmp_path / "exp" / f"{strategy}-{seed}", cfg, records)
    main([str(tmp_path / "exp"), "--out", str(tmp_path / "out")])
    md = (tmp_path / "out" / "report.md").read_text()
    assert "ended degenerate" in md and "`new_only` 1/2 seeds" in md

    from sweeps.table import report

    trials = [
        SimpleNamespace(
            name=f"t{i}", columns={"dataset": "jigsaw", "strategy": "new_only", "epsilon": None, "k": None, "seed": i}
        )
        for i in range(2)
    ]
    results = [
        SimpleNamespace(
            config={"trial_index": i},
            error=None,
            path=None,
            metrics={
                "round": 9,
                "test_f1": 0.47,
                "labels_used": 550,
                "cum_total_flops": 2.5e13,
                "cum_train_flops": 2e13,
                "degenerate": i == 1,
                "done": True,
            },
        )
        for i in range(2)
    ]
    capsys.readouterr()
    assert report(results, trials, "/tmp/x", 1.0) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1] == "t" and line[1:2].isdigit()}
    assert rows["t0"][6] == "0.4700" and rows["t1"][6] == "0.4700*"
    assert rows["t1"][7:10] == ["550", "2.500e+13", "2.000e+13"]
    assert "labels" in out.splitlines()[1] and "AL FLOPs" in out and "* ended degenerate (1 trial(s))" in out
