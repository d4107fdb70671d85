"""The analysis of stopping criteria: the stop-set record fields, the paired stopping table and report
section, and the ΔF1 rule's trigger and threshold as settings (runs before them read unchanged)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis.reading.configuration import engine_settings
from analysis.reading.experiment import load_experiment
from analysis.reading.schema_versions import LATER_RECORD_FIELDS
from analysis.reading.tidy_tables import rounds_table, trials_table
from analysis.report import main
from analysis.statistics.pipeline import analyse
from analysis.statistics.stopping import SUBSAMPLE_NOTE
from hybridal.records import STOP_SET_FIELDS
from tests.support.analysis_experiments import config, make_experiment, simulate, write_run
from tests.support.stopping_runs import STOPPING_SETTING, make_stopping_experiment


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report of the constructed stopping runs, and that report's folder reported again."""
    root = tmp_path_factory.mktemp("stopping")
    exp = make_stopping_experiment(root / "exp")
    first, again = root / "first", root / "again"
    assert main([str(exp), "--out", str(first)]) == 0
    assert main([str(first), "--out", str(again)]) == 0
    return exp, first, again


def _row(df: pd.DataFrame, **where) -> pd.Series:
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, where
    return sel.iloc[0]


def test_each_seed_s_savings_are_taken_at_its_stop_round(report):
    _, first, _ = report
    seeds = pd.read_csv(first / "stopping_seeds.csv")
    kappa = seeds[seeds["label"] == "kappa"].set_index("seed")
    # seed 1 stops after round 2: labels 300 -> 200, AL cost 5e12 -> 3e12, test F1 0.70 -> 0.60
    assert kappa.loc[1, "stop_round"] == 2 and kappa.loc[1, "labels_saved"] == 100
    assert kappa.loc[1, "flops_saved"] == 2e12 and kappa.loc[1, "test_f1_given_up_points"] == pytest.approx(10.0)
    # seed 2 stops after round 1, whose test F1 is on a subsample: the savings count, the F1 is NA
    assert (
        kappa.loc[2, "stop_round"] == 1 and kappa.loc[2, "labels_saved"] == 150 and kappa.loc[2, "flops_saved"] == 3e12
    )
    assert math.isnan(kappa.loc[2, "test_f1_given_up_points"]) and kappa.loc[2, "f1_note"] == SUBSAMPLE_NOTE
    # seed 3 never stops: nothing saved, nothing given up
    assert math.isnan(kappa.loc[3, "stop_round"])
    assert (kappa.loc[3, ["labels_saved", "flops_saved", "test_f1_given_up_points"]] == 0).all()
    budget = seeds[seeds["label"] == "budget"]
    assert (budget["stop_round"] == 4).all() and (budget["labels_saved"] == 0).all()
    assert budget["test_f1_given_up_points"].abs().max() < 1e-9
    assert "halted" not in set(seeds["trial"])


def test_the_criteria_are_aggregated_per_configuration(report):
    _, first, _ = report
    agg = pd.read_csv(first / "stopping.csv")
    assert len(agg) == 2 and set(agg["label"]) == {"kappa", "budget"}  # the halted run is not compared
    k = _row(agg, label="kappa")
    assert (k["criterion"], k["reads"], k["seeds"], k["seeds_stopped"]) == ("kappa_average", "stop_set", 3, 2)
    assert (k["stop_round_median"], k["stop_round_min"], k["stop_round_max"]) == (1.5, 1, 2)
    assert (k["labels_saved_median"], k["labels_saved_min"], k["labels_saved_max"]) == (100, 0, 150)
    assert (k["flops_saved_median"], k["flops_saved_min"], k["flops_saved_max"]) == (2e12, 0, 3e12)
    assert k["test_f1_given_up_points_median"] == pytest.approx(5.0) and k["f1_seeds"] == 2
    assert k["test_f1_given_up_points_max"] == pytest.approx(10.0)
    b = _row(agg, label="budget")
    assert (b["criterion"], b["reads"], b["seeds_stopped"], b["labels_saved_max"]) == (
        "labelling_budget",
        "budget",
        3,
        0,
    )


def test_halted_runs_are_listed_apart(report):
    _, first, _ = report
    halted = pd.read_csv(first / "stopping_halted.csv")
    assert len(halted) == 1
    h = halted.iloc[0]
    assert (h["trial"], h["seed"], h["halt_on"], h["halted_round"]) == ("halted", 1, "kappa", 2)
    assert (h["labels_used"], h["al_flops"]) == (200, 3e12)
    md = (first / "report.md").read_text()
    assert "## Stopping criteria" in md and "### Runs that halted on a criterion" in md
    assert "not comparable to the full split" in md
    assert "| 2/3 | 1.5 [1, 2] | 100 [0, 150] | 2.00e12 [0, 3.00e12] | +5.00 [+0.00, +10.00] (2 seeds) |" in md


def test_a_report_with_criteria_regenerates_from_its_own_tables(report):
    _, first, again = report
    names = ["stopping.csv", "stopping_seeds.csv", "stopping_halted.csv", "runs.csv", "rounds.csv", "trials.csv"]
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    body = lambda p: p.read_text().split("\n", 3)[3]  # noqa: E731 - all but the title and generation line
    assert body(first / "report.md") == body(again / "report.md")
    rounds = pd.read_csv(first / "rounds.csv")
    assert set(STOP_SET_FIELDS) <= set(rounds.columns)  # records that carry them keep them
    assert rounds["stop_changed"].dropna().tolist()[:2] == [25, 20]


def test_runs_without_criteria_write_no_stop_columns_or_files(tmp_path):
    exp = make_experiment(tmp_path / "exp", "run", total_rounds=3, datasets=("agnews",), seeds=(1,), epsilons=(0.01,))
    for f in exp.rglob("rounds.jsonl"):  # as the engine wrote before the stop-set fields existed
        rows = [json.loads(line) for line in f.read_text().splitlines()]
        f.write_text(
            "".join(json.dumps({k: v for k, v in r.items() if k not in LATER_RECORD_FIELDS}) + "\n" for r in rows)
        )
    loaded = load_experiment(str(exp))
    assert not loaded.problems.lines()  # their absence is no data problem
    trials = trials_table(loaded)
    assert not set(LATER_RECORD_FIELDS) & set(rounds_table(loaded, trials).columns)
    assert "summary_stopping" not in trials.columns
    out = tmp_path / "out"
    assert main([str(exp), "--out", str(out)]) == 0
    assert not list(out.glob("stopping*")) and "Stopping criteria" not in (out / "report.md").read_text()


def _deltaf1(**kwargs) -> dict:
    return {"strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.01, "k": 2, "after": "finetune", **kwargs}}


def test_the_rule_s_trigger_and_threshold_are_settings():
    assert engine_settings(_deltaf1()) == {}  # as every older run: the canonical columns hold the rest
    # the default trigger (what every older run used), with the threshold it does not read, is no setting
    assert engine_settings(_deltaf1(trigger="monitor_f1", threshold=math.nan)) == {}
    assert engine_settings(_deltaf1(trigger="monitor_f1", threshold=None)) == {}
    assert engine_settings(_deltaf1(trigger="kappa", threshold=0.99)) == {
        "strategy_kwargs.threshold": 0.99,
        "strategy_kwargs.trigger": "kappa",
    }
    assert engine_settings(_deltaf1(trigger="kappa")) != engine_settings(_deltaf1(trigger="monitor_f1"))


def test_a_list_of_mappings_setting_is_one_canonical_value():
    a = engine_settings({"stopping": [{"b": 1.0, "a": "5e-5"}, "budget"], "halt_on": None, "stop_set_size": None})
    b = engine_settings({"stopping": [{"a": 5e-5, "b": 1}, "budget"]})
    assert a == b == {"stopping": [{"a": 5e-5, "b": 1}, "budget"]}
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_a_kappa_triggered_rule_is_another_configuration(tmp_path):
    cfg = config("agnews", "deltaf1", 1, epsilon=0.01, k=2)
    for name, kwargs in (("f1", {"trigger": "monitor_f1"}), ("kappa", {"trigger": "kappa", "threshold": 0.99})):
        engine = _deltaf1(**kwargs) | {"stopping": STOPPING_SETTING, "halt_on": None}
        write_run(tmp_path / "exp" / name, cfg, simulate(cfg, 3), engine=engine)
    a = analyse(str(tmp_path / "exp"))
    assert a.trials["config_id"].nunique() == 2 and len(a.summary) == 2
    # the label names the settings where a configuration departs from the usual (here: the first) value
    assert sorted(a.summary["config"]) == [
        "deltaf1→finetune ε=0.01 k=2",
        "deltaf1→finetune ε=0.01 k=2 threshold=– trigger=–",  # monitor_f1: as every older run, no setting
    ]
    assert set(a.rounds["strategy_kwargs.trigger"]) == {"kappa", None}
