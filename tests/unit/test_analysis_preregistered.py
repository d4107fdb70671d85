"""A study's pre-registered comparisons (analysis/statistics/preregistered*.py) on hand-made runs whose
intervals are known: verdicts, the cheapest arm within the margin, targets and stopping; the protocol
file's errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.reading.problems import AnalysisError, ProblemLog
from analysis.reading.protocol import Protocol, parse_protocol, read_protocol
from analysis.statistics.preregistered import Interval, arm_of, given_up, non_inferiority
from analysis.statistics.preregistered_findings import preregistered

SEEDS = (42, 43, 44)
PROTOCOL = Protocol(
    reference="retrain",
    margin_points=2.0,
    targets=(0.95, 0.98),
    primary={"agnews": "cheap"},
    label_free_switch={"agnews": "cheap"},
    validation_switch="monitored",
    cheap_strategy="cheap",
    shrink_perturb="worse",
)


def test_the_arm_is_read_from_a_named_arms_trial_name_only():
    assert arm_of("agnews-arm-hybrid-kappa0.85-s42", 42) == "hybrid-kappa0.85"
    assert arm_of("study2-agnews-s46/agnews-arm-retrain-1ep-s46", 46.0) == "retrain-1ep"
    assert arm_of("agnews-deltaf1-e0.02-k1-s42", 42) is None  # an axes trial
    assert arm_of("agnews-arm-retrain-s42", 43) is None  # the name's seed is not the run's


def test_verdicts_follow_the_interval_not_the_mean():
    assert non_inferiority(Interval(-0.5, 1.0, 5), 2) == "non-inferior"  # [-1.5, 0.5]
    assert non_inferiority(Interval(-0.5, 2.0, 5), 2) == "not resolved"  # [-2.5, 1.5] straddles -2
    assert non_inferiority(Interval(-3.5, 1.0, 5), 2) == "inferior"
    assert non_inferiority(Interval(0.0, math.nan, 1), 2) == "one seed: no interval"
    assert given_up(Interval(0.5, 1.0, 5), 2) == "within the margin"
    assert given_up(Interval(1.5, 1.0, 5), 2) == "not resolved"


def _runs(arms: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(used, summary, rounds): per arm, per seed, final test (and validation) F1 = f1 + noise[seed], two
    rounds; every round's stop-set pass costs 1e12 FLOPs, its validation pass 2e12."""
    used, rounds = [], []
    for i, (arm, spec) in enumerate(arms.items()):
        for j, seed in enumerate(SEEDS):
            trial = f"agnews-arm-{arm}-s{seed}"
            final = spec["f1"] + spec.get("noise", (0.0, 0.0, 0.0))[j]
            used.append(
                {
                    "trial": trial,
                    "dataset": "agnews",
                    "seed": seed,
                    "config_id": f"c{i}",
                    "final_test_f1": final,
                    "final_val_f1": final,
                    "aulc": final - 0.05,
                    "labels_used": spec.get("labels", 550),
                    "total_flops": spec["flops"],
                    "total_train_flops": spec["flops"] / 2,
                    "wall_seconds": 60.0,
                    "switch_round": None,
                    "validation_rows": 500,
                    "strategy_kwargs.trigger": spec.get("trigger"),
                }
            )
            first = spec.get("first", final - 0.1)
            cost = {"flops_stop_set": 1e12, "flops_validation": 2e12, "labels_read_by_policy": 0}
            rounds += [
                {
                    "trial": trial,
                    "round": 0,
                    "val_f1": first,
                    "test_f1": first,
                    "labels_used": 100,
                    "cum_total_flops": spec["flops"] / 4,
                    "flops_policy": spec.get("policy", 0.0),
                }
                | cost,
                {
                    "trial": trial,
                    "round": 1,
                    "val_f1": final,
                    "test_f1": final,
                    "labels_used": 550,
                    "cum_total_flops": spec["flops"],
                    "flops_policy": 0.0,
                }
                | cost,
            ]
    used_df = pd.DataFrame(used)
    summary = used_df.drop_duplicates("config_id")[["dataset", "config_id"]].assign(
        config=lambda d: "config " + d["config_id"]
    )
    return used_df, summary, pd.DataFrame(rounds)


ARMS = {
    "retrain": {"f1": 0.88, "flops": 4e13, "first": 0.86},
    "cheap": {"f1": 0.875, "flops": 2e13, "noise": (0.001, -0.001, 0.0), "first": 0.80},  # -0.5 pts, tight
    "cheaper-but-wide": {"f1": 0.875, "flops": 1e13, "noise": (0.03, -0.03, 0.0)},  # -0.5 pts, wide: not resolved
    "worse": {"f1": 0.84, "flops": 2e13, "noise": (0.001, 0.0, -0.001)},  # -4 pts: inferior
    "monitored": {"f1": 0.88, "flops": 3e13, "labels": 1050},  # more labels: never the cheapest
}


def test_findings_answer_each_question_with_its_paired_interval():
    used, summary, rounds = _runs(ARMS)
    pre = preregistered(used, summary, rounds, None, PROTOCOL, ProblemLog())
    arms = pre.arms.set_index("arm")
    assert arms.loc["cheap", "verdict"] == "non-inferior"
    assert arms.loc["cheaper-but-wide", "verdict"] == "not resolved"
    assert arms.loc["worse", "verdict"] == "inferior"
    assert arms.loc["cheap", "d_test_f1_points_mean"] == pytest.approx(-0.5)
    assert arms.loc["cheap", "al_flops_saved_pct_mean"] == pytest.approx(50.0)
    assert arms.loc["monitored", "labels_saved_mean"] == pytest.approx(-500)
    # the half-width is t(0.975, 2) * sd / sqrt(3) of the per-seed differences (-0.4, -0.6, -0.5)
    d = np.array([-0.4, -0.6, -0.5])
    half = 4.302652729911275 * d.std(ddof=1) / math.sqrt(3)
    assert arms.loc["cheap", "d_test_f1_points_hi"] == pytest.approx(-0.5 + half)
    f = pre.findings.set_index("question")
    primary = f.loc["non-inferior within 2 pts"]
    assert (primary["arm"], primary["verdict"], bool(primary["exploratory"])) == ("cheap", "non-inferior", False)
    # the wide arm is cheaper but its interval does not show non-inferiority; "monitored" uses more labels,
    # so three arms are candidates and each interval is at 1 - 0.05 / 3
    cheapest = f.loc["cheapest within 2 pts (Bonferroni over 3)"]
    assert cheapest["arm"] == "cheap"
    bonferroni = 7.648803937915553 * d.std(ddof=1) / math.sqrt(3)  # t(1 - 0.025 / 3, 2)
    assert cheapest["effect_hi"] == pytest.approx(-0.5 + bonferroni, rel=1e-6)
    assert f.loc["label-free vs validation switch", "labels_saved_mean"] == pytest.approx(500)
    assert f.loc["shrink-perturb vs cheap strategy", "verdict"] == "worse"
    assert f.drop(index="non-inferior within 2 pts")["exploratory"].all()


def test_targets_count_labels_and_flops_at_the_first_round_whose_validation_f1_reaches_them():
    used, summary, rounds = _runs(ARMS)
    t = preregistered(used, summary, rounds, None, PROTOCOL, ProblemLog()).targets.set_index(["arm", "target"])
    # retrain's round 0 (0.86) reaches 95% of 0.88 (0.836) but not 98% (0.8624)
    assert t.loc[("retrain", 0.95), "labels_to_reach_median"] == 100
    assert t.loc[("retrain", 0.98), "labels_to_reach_median"] == 550
    assert t.loc[("retrain", 0.98), "al_flops_to_reach_median"] == pytest.approx(4e13)
    # "worse" ends at 0.84: it reaches 95% (0.836) at its end and 98% never (median: not reached)
    assert t.loc[("worse", 0.95), "seeds_reached"] == 3
    assert t.loc[("worse", 0.98), "seeds_reached"] == 0 and math.isnan(t.loc[("worse", 0.98), "labels_to_reach_median"])


def test_stopping_charges_what_the_criterion_reads_and_what_the_stop_round_gave_up():
    used, summary, rounds = _runs(
        {"retrain": ARMS["retrain"], "free": ARMS["retrain"] | {"trigger": "kappa", "policy": 1e12}}
    )
    seeds = pd.DataFrame(
        {
            "dataset": "agnews",
            "label": "kappa_average",
            "criterion": "kappa_average",
            "reads": "stop_set",
            "trial": used["trial"],
            "stop_round": [0.0, 0.0, None] * 2,
            "labels_saved": [450.0, 450.0, 0.0] * 2,
            "flops_saved": [3e13, 3e13, 0.0] * 2,
        }
    )
    pre = preregistered(used, summary, rounds, seeds, PROTOCOL, ProblemLog())
    s = pre.stopping.set_index("arm").loc["retrain"]
    # two seeds stop at round 0 (validation 0.86 vs 0.88 at the end: 2 points given up each), one never (0)
    assert s["seeds_stopped"] == 2 and s["f1_given_up_points_mean"] == pytest.approx(4 / 3)
    # a stopped seed spends round 0 (1e13) + one stop-set pass (1e12) of 4e13: 72.5% saved; the seed that
    # never stopped paid two passes for nothing: -5%
    assert s["al_flops_saved_pct_mean"] == pytest.approx((72.5 + 72.5 - 5.0) / 3)
    # the label-free arm's round 0 already paid the stop set (its trigger read it): only round 1 is extra
    free = pre.stopping.set_index("arm").loc["free"]
    assert free["al_flops_saved_pct_mean"] == pytest.approx((75.0 + 75.0 - 2.5) / 3)
    row = pre.findings[pre.findings["question"] == "stopping: kappa_average"].iloc[0]
    assert row["arm"] == "retrain" and row["effect"] == "validation F1 given up (pts)"
    never = seeds.assign(stop_round=None, label="change", criterion="classification_change")
    quiet = preregistered(used, summary, rounds, never, PROTOCOL, ProblemLog()).stopping.set_index("arm")
    assert quiet.loc["retrain", "verdict"] == "never stopped (0/3 seeds)"
    assert quiet.loc["retrain", "al_flops_saved_pct_mean"] == pytest.approx(-5.0)


def test_a_labels_reading_criterion_pays_the_validation_labels_unless_the_run_already_did():
    used, summary, rounds = _runs({"retrain": ARMS["retrain"]})
    seeds = pd.DataFrame(
        {
            "dataset": "agnews",
            "label": "early_stopping",
            "criterion": "early_stopping",
            "reads": "labels",
            "trial": used["trial"],
            "stop_round": [None] * 3,
            "labels_saved": [0.0] * 3,
            "flops_saved": [0.0] * 3,
        }
    )
    s = preregistered(used, summary, rounds, seeds, PROTOCOL, ProblemLog()).stopping.iloc[0]
    assert s["labels_saved_mean"] == -500 and s["al_flops_saved_pct_mean"] == pytest.approx(-10.0)
    paid = rounds.assign(labels_read_by_policy=500)
    s = preregistered(used, summary, paid, seeds, PROTOCOL, ProblemLog()).stopping.iloc[0]
    assert s["labels_saved_mean"] == 0


def test_protocol_names_without_runs_are_data_problems():
    used, summary, rounds = _runs(ARMS)
    typo = Protocol(reference="retrain", margin_points=2.0, primary={"agnews": "cheep", "imbd": "cheap"})
    problems = ProblemLog()
    preregistered(used, summary, rounds, None, typo, problems)
    lines = " ".join(problems.lines())
    assert "primary.agnews names arm cheep" in lines and "primary.imbd names arm cheap" in lines


@pytest.mark.parametrize(
    "raw, named",
    [
        ({"reference": "retrain", "margin_points": 2, "primry": {}}, "primry"),
        ({"reference": "retrain", "margin_points": 0}, "margin_points"),
        ({"reference": "retrain", "margin_points": 2, "targets": [1.5]}, "targets"),
        ({"margin_points": 2}, "reference"),
        ({"reference": "retrain", "margin_points": 2, "primary": {"agnews": 3}}, "primary.agnews"),
    ],
)
def test_a_bad_protocol_is_refused_in_one_sentence_naming_the_key(raw, named):
    with pytest.raises(AnalysisError) as err:
        parse_protocol(raw, "protocol.json")
    assert named in str(err.value) and str(err.value).count(". ") == 0


def test_a_protocol_file_that_is_not_json_names_the_file(tmp_path):
    bad = tmp_path / "protocol.json"
    bad.write_text("{reference: retrain")
    with pytest.raises(AnalysisError, match="protocol.json: not valid JSON"):
        read_protocol(str(bad))
    good = tmp_path / "ok.json"
    good.write_text(json.dumps({"reference": "retrain", "margin_points": 2, "exploratory": ["jigsaw"]}))
    assert read_protocol(str(good)).exploratory == ("jigsaw",)


def test_a_notes_pipe_table_becomes_a_table_not_a_paragraph():
    from analysis.presentation.render import Para, Table, notes_blocks, to_markdown

    blocks = notes_blocks("Intro.\n\n| arm | seeds |\n|---|---:|\n| `retrain` | 5 |\n| a \\| b | 3 |\n\nAfter.")
    assert isinstance(blocks[0], Para) and isinstance(blocks[2], Para)
    table = blocks[1]
    assert isinstance(table, Table) and table.columns == ["arm", "seeds"] and table.align_right == {1}
    assert table.rows == [["`retrain`", "5"], ["a | b", "3"]]
    assert "| `retrain` | 5 |" in to_markdown(blocks)
