"""Pure parts of the analysis: Pareto sets, hypervolume, seed aggregation, AULC, savings, labels."""

from __future__ import annotations

import builtins
import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.reading.configuration import config_key
from analysis.statistics import frontier
from analysis.statistics.frontier import hypervolume, normalised_log_hv, pareto_mask
from analysis.statistics.seed_aggregation import mean_std_ci, seed_summary, t975
from analysis.statistics.trial_metrics import aulc, finished_unique
from hybridal.records import TRIAL_COLUMNS

# ----------------------------------------------------------------------------- Pareto


def _brute_pareto(c, v):
    out = []
    for i in range(len(c)):
        if math.isnan(c[i]) or math.isnan(v[i]):
            out.append(False)
            continue
        dominated = any(
            c[j] <= c[i] and v[j] >= v[i] and (c[j] < c[i] or v[j] > v[i])
            for j in range(len(c))
            if j != i and not (math.isnan(c[j]) or math.isnan(v[j]))
        )
        out.append(not dominated)
    return out


def test_pareto_drops_dominated_points():
    cost = [1, 2, 3, 2.5]
    f1 = [0.5, 0.8, 0.7, 0.9]
    # (3, 0.7) is beaten by (2, 0.8); (2, 0.8) is not beaten by (2.5, 0.9), which costs more
    assert pareto_mask(cost, f1).tolist() == [True, True, False, True]


def test_pareto_keeps_exact_ties_and_breaks_half_ties():
    cost = [1, 1, 1, 2, 3, 3]
    f1 = [0.5, 0.5, 0.4, 0.5, 0.9, 0.9]
    # two identical best points at cost 1 both stay; (1, 0.4) loses to them at equal cost;
    # (2, 0.5) equals their F1 at higher cost: dominated; the identical pair at cost 3 stays
    assert pareto_mask(cost, f1).tolist() == [True, True, False, False, True, True]


def test_pareto_single_point_and_empty_and_nan():
    assert pareto_mask([5.0], [0.1]).tolist() == [True]
    assert pareto_mask([], []).tolist() == []
    assert pareto_mask([1, np.nan, 2], [0.5, 0.9, np.nan]).tolist() == [True, False, False]


def test_pareto_matches_brute_force_on_random_points_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        c = rng.integers(0, 4, n).astype(float)
        v = rng.integers(0, 4, n).astype(float)
        assert pareto_mask(c, v).tolist() == _brute_pareto(c, v)


# ----------------------------------------------------------------------------- hypervolume


def test_hypervolume_of_a_hand_built_front():
    # front (1, .5), (2, .8); (3, .6) dominated; reference (4, 0):
    # (2 - 1) * 0.5 + (4 - 2) * 0.8 = 2.1
    assert hypervolume([1, 2, 3], [0.5, 0.8, 0.6], 4, 0) == pytest.approx(2.1)


def test_hypervolume_single_point_duplicates_and_points_past_the_reference():
    assert hypervolume([1], [0.5], 4, 0) == pytest.approx(1.5)
    assert hypervolume([1, 1, 1], [0.5, 0.5, 0.5], 4, 0) == pytest.approx(1.5)
    assert hypervolume([5, 1], [0.9, -0.1], 4, 0) == 0.0  # one too costly, one below the F1 reference
    assert hypervolume([], [], 4, 0) == 0.0


def test_normalised_log_hypervolume_of_the_cheapest_single_config_is_its_f1():
    box = frontier.hv_box([1e12, 1e14])
    assert box == pytest.approx((12.0, 14 + math.log10(1.1)))
    assert normalised_log_hv([1e12], [0.8], box) == pytest.approx(0.8)
    # a point at the reference cost adds nothing; two points by hand
    assert normalised_log_hv([1.1e14], [0.9], box) == pytest.approx(0.0)
    width = box[1] - box[0]
    expected = (1.0 * 0.5 + (box[1] - 13) * 0.7) / width  # (1e12, .5) then (1e13, .7)
    assert normalised_log_hv([1e12, 1e13, 1e14], [0.5, 0.7, 0.6], box) == pytest.approx(expected)


def test_family_hypervolumes_share_one_box_per_dataset():
    s = pd.DataFrame(
        {
            "dataset": ["a"] * 3,
            "strategy": ["retrain", "new_only", "new_only"],
            "total_flops_mean": [1e14, 1e12, 1e13],
            "final_val_f1_mean": [0.9, 0.6, 0.8],
            "final_test_f1_mean": [0.9, 0.6, 0.8],
        }
    )
    hv = frontier.family_hypervolumes(s).set_index("strategy")
    box = frontier.hv_box(s["total_flops_mean"])
    assert hv.loc["retrain", "hv_final"] == pytest.approx((box[1] - 14) * 0.9 / (box[1] - box[0]))
    assert hv.loc["new_only", "front_size"] == 2
    assert (hv["ref_log10_flops"] == box[1]).all()


def test_pareto_flags_and_hypervolume_are_chosen_on_validation_f1():
    # B has the best test F1 but is dearer than A and worse on validation: not on the front.
    s = pd.DataFrame(
        {
            "dataset": ["a"] * 3,
            "strategy": ["new_only", "new_only", "retrain"],
            "config": ["A", "B", "R"],
            "total_flops_mean": [1e12, 1e13, 1e14],
            "final_val_f1_mean": [0.80, 0.70, 0.90],
            "final_test_f1_mean": [0.60, 0.95, 0.85],
        }
    )
    assert frontier.final_front(s).tolist() == [True, False, True]
    hv = frontier.family_hypervolumes(s).set_index("strategy")
    box = frontier.hv_box(s["total_flops_mean"])
    assert hv.loc["new_only", "front_size"] == 1
    assert hv.loc["new_only", "hv_final"] == pytest.approx(0.80)  # A alone, at the dataset's cheapest cost
    # the test-F1 value is reported beside it: A then B on test F1
    expected_test = (1.0 * 0.60 + (box[1] - 13) * 0.95) / (box[1] - box[0])
    assert hv.loc["new_only", "hv_final_test"] == pytest.approx(expected_test)
    curves = pd.DataFrame(
        {
            "dataset": ["a"] * 3,
            "strategy": ["new_only"] * 3,
            "cum_total_flops": [1e12, 2e12, 3e12],
            "val_f1_mean": [0.5, 0.7, 0.6],
            "test_f1_mean": [0.5, 0.6, 0.9],
        }
    )
    assert frontier.round_front(curves).tolist() == [True, True, False]
    rounds_hv = frontier.family_hypervolumes(s, curves).set_index("strategy").loc["new_only", "hv_rounds"]
    rbox = frontier.hv_box(curves["cum_total_flops"])
    width = rbox[1] - rbox[0]
    assert rounds_hv == pytest.approx((math.log10(2) * 0.5 + (rbox[1] - math.log10(2e12)) * 0.7) / width)


# ----------------------------------------------------------------------------- aggregation


def test_mean_std_ci_on_known_numbers():
    mean, std, ci, n = mean_std_ci([1.0, 2.0, 3.0])
    assert (mean, std, n) == (2.0, 1.0, 3)
    assert ci == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    mean, std, ci, n = mean_std_ci([0.7, None, float("nan")])
    assert mean == 0.7 and n == 1 and math.isnan(std) and math.isnan(ci)
    assert mean_std_ci([])[3] == 0


def test_t_quantile_without_scipy_matches_scipy(monkeypatch):
    with_scipy = [t975(df) for df in (1, 2, 5, 30, 31, 60, 200)]
    real_import = builtins.__import__

    def no_scipy(name, *a, **kw):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    without = [t975(df) for df in (1, 2, 5, 30, 31, 60, 200)]
    assert without == pytest.approx(with_scipy, abs=2e-4)
    assert math.isnan(t975(0))


def test_aulc_on_a_hand_computed_curve():
    # trapezoids: 32 * (0.5 + 0.6) / 2 + 32 * (0.6 + 0.8) / 2 = 40, over a range of 64
    assert aulc([200, 232, 264], [0.5, 0.6, 0.8]) == pytest.approx(0.625)
    assert aulc([264, 200, 232], [0.8, 0.5, 0.6]) == pytest.approx(0.625)  # order does not matter
    assert aulc([200, 232, 264], [0.5, np.nan, 0.8]) == pytest.approx(0.65)  # unevaluated round skipped
    assert aulc([200], [0.7]) == 0.7
    assert math.isnan(aulc([200], [np.nan]))


def _metrics_row(dataset, strategy, seed, test, val, flops, **cfg):
    row = {c: None for c in TRIAL_COLUMNS} | {"dataset": dataset, "strategy": strategy, "seed": seed} | cfg
    row |= {
        "trial": f"{dataset}-{strategy}-{cfg.get('epsilon')}-{seed}",
        "status": "finished",
        "source": "run",
        "n_rounds": 3,
        "final_round": 2,
        "final_n_labeled": 264,
        "final_test_f1": test,
        "final_test_accuracy": test,
        "final_val_f1": val,
        "aulc": test,
        "total_train_flops": flops,
        "total_flops": 2 * flops,
        "labels_used": 264,
        "wall_seconds": 10.0,
        "switch_round": cfg.pop("switch_round", np.nan),
        "validation_rows": 500,
        "ended_degenerate": pd.NA,
    }
    return row


def _metrics(rows):
    df = pd.DataFrame(rows)
    for c in ("epsilon", "k"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["config_id"] = [config_key(r) for _, r in df.iterrows()]
    return df


def test_seed_summary_groups_every_config_column_but_the_seed():
    m = _metrics(
        [
            _metrics_row("a", "retrain", 1, 0.80, 0.81, 100.0),
            _metrics_row("a", "retrain", 2, 0.82, 0.83, 110.0),
            _metrics_row("a", "retrain", 3, 0.84, 0.85, 120.0),
            _metrics_row("a", "deltaf1", 1, 0.79, 0.80, 50.0, epsilon=0.01, k=2, switch_round=4),
            _metrics_row("a", "deltaf1", 2, 0.81, 0.82, 70.0, epsilon=0.01, k=2),  # never switched
            _metrics_row("a", "deltaf1", 1, 0.70, 0.71, 30.0, epsilon=0.05, k=2, switch_round=2),
            _metrics_row("b", "retrain", 1, 0.60, 0.61, 10.0),
        ]
    )
    s = seed_summary(m).set_index("config")
    assert len(s) == 4
    r = s[s["dataset"] == "a"].loc["retrain"]
    assert r["n_seeds"] == 3 and r["seeds"] == "1,2,3"
    assert r["final_test_f1_mean"] == pytest.approx(0.82)
    assert r["final_test_f1_std"] == pytest.approx(0.02)
    assert r["final_test_f1_ci95"] == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)
    assert r["total_train_flops_mean"] == pytest.approx(110.0) and r["total_train_flops_n"] == 3
    d = s.loc["deltaf1 ε=0.01 k=2"]
    assert d["n_seeds"] == 2 and d["switched"] == 1
    assert d["switch_round_mean"] == 4 and d["switch_round_n"] == 1 and math.isnan(d["switch_round_std"])
    single = s.loc["deltaf1 ε=0.05 k=2"]
    assert single["final_test_f1_n"] == 1 and math.isnan(single["final_test_f1_ci95"])


def test_repeated_config_and_seed_is_counted_once_and_reported():
    from analysis.reading.problems import ProblemLog

    rows = [_metrics_row("a", "retrain", 1, 0.8, 0.8, 1.0), _metrics_row("a", "retrain", 1, 0.9, 0.9, 1.0)]
    rows[1]["trial"] = "zz-copy"
    log = ProblemLog()
    used = finished_unique(_metrics(rows), log)
    assert used["trial"].tolist() == ["a-retrain-None-1"]
    assert any("zz-copy" in line for line in log.lines())


def test_config_labels_are_short_and_unique():
    m = _metrics(
        [
            _metrics_row("a", "retrain", 1, 0.8, 0.8, 1.0, sampler="entropy"),
            _metrics_row("a", "retrain", 1, 0.8, 0.8, 1.0, sampler="random"),
            _metrics_row("a", "deltaf1", 1, 0.8, 0.8, 1.0, epsilon=0.01, k=1, after="new_only", sampler="random"),
            _metrics_row("a", "finetune", 1, 0.8, 0.8, 1.0, after="finetune", sampler="random"),
            _metrics_row("a", "finetune", 1, 0.8, 0.8, 1.0, after=None, sampler="random"),
        ]
    )
    labels = sorted(seed_summary(m)["config"])
    assert "retrain sampler=entropy" in labels and "retrain sampler=random" in labels
    assert "deltaf1→new_only ε=0.01 k=1 sampler=random" in labels
    assert len(set(labels)) == len(labels)  # the two finetunes differ only in `after`: spelled out


# ----------------------------------------------------------------------------- selection


def _summary(rows):
    """Summary rows whose last column is the AL cost; training FLOPs are half of it."""
    cols = [
        "dataset",
        "config",
        "strategy",
        "model",
        "sampler",
        "epochs",
        "final_val_f1_mean",
        "final_test_f1_mean",
        "total_flops_mean",
    ]
    s = pd.DataFrame(rows, columns=cols)
    return s.assign(total_train_flops_mean=s["total_flops_mean"] / 2)


def test_savings_are_matched_on_validation_and_charged_on_al_cost():
    s = _summary(
        [
            ["a", "retrain", "retrain", "m", "s", 3, 0.850, 0.840, 100.0],
            # best test F1 of all, but lower validation F1: never chosen on test
            ["a", "finetune", "finetune", "m", "s", 3, 0.830, 0.900, 40.0],
            # 0.4 points below retrain on validation: matched, cheap
            ["a", "deltaf1 A", "deltaf1", "m", "s", 3, 0.846, 0.800, 60.0],
            # cheapest of all but 0.6 points below: not matched
            ["a", "deltaf1 B", "deltaf1", "m", "s", 3, 0.844, 0.845, 20.0],
            # exactly 0.5 points below: matched (tolerance is inclusive), but dearer than A
            ["a", "deltaf1 C", "deltaf1", "m", "s", 3, 0.845, 0.845, 70.0],
        ]
    )
    sav = frontier.savings(s, 0.5)
    assert sav["matched"].tolist() == [True, False, True, False, True]
    assert sav.loc[2, "flops_ratio"] == pytest.approx(0.6)
    assert sav.loc[2, "flops_saved_pct"] == pytest.approx(40.0)
    assert sav.loc[2, "val_gap_points"] == pytest.approx(-0.4)
    assert sav.loc[2, "test_gap_points"] == pytest.approx(-4.0)
    assert sav.loc[3, "train_flops_ratio"] == pytest.approx(0.2)  # training FLOPs beside the AL cost


def test_savings_match_retrain_on_model_sampler_and_epochs():
    s = _summary(
        [
            ["a", "retrain e3", "retrain", "m", "s", 3, 0.85, 0.85, 100.0],
            ["a", "retrain e1", "retrain", "m", "s", 1, 0.80, 0.80, 30.0],
            ["a", "finetune e3", "finetune", "m", "s", 3, 0.84, 0.84, 50.0],
            ["a", "finetune other model", "finetune", "x", "s", 3, 0.84, 0.84, 50.0],
        ]
    )
    sav = frontier.savings(s)
    assert sav["baseline"].iloc[:3].tolist() == ["retrain e3", "retrain e1", "retrain e3"]
    assert pd.isna(sav.loc[3, "baseline"])  # no retrain run with that model
    assert math.isnan(sav.loc[3, "flops_ratio"]) and not sav.loc[3, "matched"]


def test_final_front_is_per_dataset():
    s = pd.DataFrame(
        {"dataset": ["a", "a", "b"], "total_flops_mean": [1.0, 2.0, 5.0], "final_val_f1_mean": [0.9, 0.8, 0.1]}
    )
    assert frontier.final_front(s).tolist() == [True, False, True]


def test_every_subset_of_three_tied_points_is_kept():
    for k in (1, 2, 3):
        pts = list(itertools.repeat((1.0, 0.5), k))
        c, v = zip(*pts)
        assert pareto_mask(c, v).all()


def test_strategies_differ_in_marker_and_coinciding_lines_stay_visible():
    from analysis.presentation.plot_style import strategy_line

    lines = {s: strategy_line(s, lw=2.0, ms=4.0) for s in ("retrain", "finetune", "new_only", "deltaf1", "custom")}
    assert len({line["marker"] for line in lines.values()}) == 5
    assert len({line["color"] for line in lines.values()}) == 5
    # A never-switching HybridAL run equals retrain: dashed and thinner on top of a wide line.
    assert lines["deltaf1"]["ls"] == "--" and lines["retrain"]["ls"] == "-"
    assert lines["retrain"]["lw"] > lines["deltaf1"]["lw"]


def test_savings_baseline_has_the_same_settings_but_post_switch_ones():
    s = _summary(
        [
            ["a", "retrain", "retrain", "m", "s", 3, 0.85, 0.85, 100.0],
            ["a", "retrain lr", "retrain", "m", "s", 3, 0.80, 0.80, 100.0],
            ["a", "finetune lr", "finetune", "m", "s", 3, 0.80, 0.80, 50.0],
        ]
    )
    lr = {"optimizer_kwargs.lr": 1e-4}
    s["settings"] = [json.dumps(d) for d in ({}, lr, lr | {"keep_optimizer": True})]
    assert frontier.savings(s)["baseline"].tolist() == ["retrain", "retrain lr", "retrain lr"]
