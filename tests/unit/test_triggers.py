"""The switch rule's label-free triggers and the config's stopping list (docs/stopping.md)."""

from __future__ import annotations

import math

import pytest

from hybridal.errors import ConfigError
from hybridal.stopping.configured import parse_stopping
from hybridal.strategies import DEFAULT_THRESHOLDS, StopObservation, build_strategy


def run_rule(kwargs: dict, stops: list[StopObservation]):
    rule = build_strategy("deltaf1", **kwargs)
    counts = [rule.observe(r, 0.5, False, s)[1] for r, s in enumerate(stops)]
    return counts, rule.switch_decided_round


def kappas(*values, degenerate=()):
    return [StopObservation(v, None, r in degenerate) for r, v in enumerate(values)]


def test_a_kappa_trigger_counts_rounds_at_or_above_its_threshold():
    counts, decided = run_rule({"trigger": "kappa", "threshold": 0.9, "k": 2}, kappas(None, 0.95, 0.8, 0.9, 0.99))
    assert counts == [0, 1, 0, 1, 2] and decided == 5


def test_an_undefined_kappa_is_never_stable():
    counts, decided = run_rule({"trigger": "kappa", "threshold": -1.0, "k": 1}, kappas(None, math.nan, None))
    assert counts == [0, 0, 0] and decided is None


def test_a_change_trigger_counts_rounds_at_or_below_its_threshold():
    stops = [StopObservation(None, f) for f in (None, 0.2, 0.05, 0.0)]
    counts, decided = run_rule({"trigger": "change", "threshold": 0.05, "k": 2}, stops)
    assert counts == [0, 0, 1, 2] and decided == 4


def test_the_guard_skips_a_one_class_stop_set_and_the_round_after():
    """One class predicted everywhere twice gives κ = 1 (small-text's reading): the trivial plateau."""
    stops = kappas(None, 1.0, 1.0, 1.0, 1.0, degenerate=(0, 1, 2))
    assert run_rule({"trigger": "kappa", "k": 1}, stops) == ([0, 0, 0, 0, 1], 5)
    assert run_rule({"trigger": "kappa", "k": 1, "guard": False}, stops) == ([0, 1, 2, 3, 4], 2)


def test_a_label_free_rule_reads_the_stop_set_until_it_decides_and_never_the_monitor():
    rule = build_strategy("deltaf1", trigger="change", threshold=1.0, k=1)
    assert rule.reads_stop_set and not rule.reads_monitor
    rule.observe(0, 0.5, False, StopObservation(None, None, False))
    rule.observe(1, 0.6, False, StopObservation(0.5, 0.5, False))
    assert rule.switch_decided_round == 2 and not rule.reads_stop_set
    assert build_strategy("deltaf1").reads_monitor and not build_strategy("deltaf1").reads_stop_set


def test_triggers_default_to_small_texts_thresholds_and_refuse_bad_ones():
    assert build_strategy("deltaf1", trigger="kappa").threshold == DEFAULT_THRESHOLDS["kappa"] == 0.99
    assert build_strategy("deltaf1", trigger="change").threshold == 0.0
    with pytest.raises(ConfigError, match="threshold=0.5 is read by a label-free trigger only"):
        build_strategy("deltaf1", threshold=0.5)
    with pytest.raises(
        ConfigError, match=r"threshold=1.5 is invalid for trigger change; allowed: a number in \[0, 1\]"
    ):
        build_strategy("deltaf1", trigger="change", threshold=1.5)
    with pytest.raises(ConfigError, match="strategy_kwargs.trigger"):
        build_strategy("deltaf1", trigger="labels")


def test_the_default_criteria_depend_on_the_task_and_the_stop_set():
    labels = lambda cs: [c.label for c in cs]  # noqa: E731
    assert labels(parse_stopping(None, None, 4)) == [
        "kappa_average",
        "classification_change",
        "overall_uncertainty",
        "early_stopping",
    ]
    assert "delta_f_score" in labels(parse_stopping(None, None, 2))
    assert labels(parse_stopping(None, None, 2, stop_set=False)) == ["early_stopping"]


def test_a_list_may_hold_a_criterion_twice_under_two_labels():
    entries = ["kappa_average", {"name": "kappa_average", "kappa": 0.9, "label": "kappa_0.9"}]
    configured = parse_stopping(entries, "kappa_0.9", 4)
    assert [c.criterion.kappa for c in configured] == [0.99, 0.9]
    assert configured[1].describe(3) == {
        "criterion": "kappa_average",
        "params": {"window_size": 3, "kappa": 0.9},
        "reads": "stop_set",
        "stop_round": 3,
    }


@pytest.mark.parametrize(
    "entries, halt_on, message",
    [
        (["kappa_average", "kappa_average"], None, "lists the label 'kappa_average' twice"),
        (["kappa_average"], "budget", "halt_on='budget' names no entry of stopping"),
        ([{"kappa": 0.9}], None, r"stopping\[0\]="),
        (["kappa_avg"], None, "stopping criterion 'kappa_avg' is not known"),
        ("kappa_average", None, "stopping='kappa_average' is invalid"),
        ([{"name": "labelling_budget"}], None, "needs the parameter 'labelling_budget'"),
    ],
)
def test_bad_stopping_lists_fail_in_one_sentence(entries, halt_on, message):
    with pytest.raises(ConfigError, match=message):
        parse_stopping(entries, halt_on, 4)


def test_the_new_knobs_show_beside_the_canonical_columns_where_a_run_reads_them():
    """trigger/threshold for a label-free rule, λ/σ where shrink_perturb trains; summary.json's
    "trial" stays the canonical columns, HParams carries the knobs for every trial ('none' if unread)."""
    from hybridal.config import ExperimentConfig
    from hybridal.loop.trial_columns import knob_columns
    from sweeps.hparams import hparam_values, varying_columns
    from sweeps.trials import Trial

    label_free = ExperimentConfig(strategy_class="deltaf1", strategy_kwargs={"trigger": "change", "threshold": 0.1})
    sp = ExperimentConfig(strategy_class="deltaf1", strategy_kwargs={"after": "shrink_perturb"}, shrink=0.5)
    assert knob_columns(label_free) == {"trigger": "change", "threshold": 0.1}
    assert knob_columns(sp) == {"shrink": 0.5, "perturb": 1e-4}
    assert knob_columns(ExperimentConfig()) == knob_columns(ExperimentConfig(strategy_class="deltaf1")) == {}
    trials = [Trial.of("a", ExperimentConfig()), Trial.of("b", label_free, arm="free")]
    assert trials[1].columns["trigger"] == "change" and "trigger" not in trials[0].columns
    assert {"trigger", "threshold", "strategy"} <= set(varying_columns(trials))
    values = hparam_values(trials[1].columns)
    assert values["trigger"] == "change" and values["threshold"] == "0.1" and values["shrink"] == "none"


def test_an_undefined_binary_delta_f_survives_the_records_json_as_nan():
    """JSON writes nan as null; read back on a binary task, a compared round's ΔF is nan again, so
    delta_f_score replays as the live run asked it (never stable there) instead of failing."""
    import json

    from hybridal.atomic_write import to_json
    from hybridal.loop.stop_set import signals_of
    from hybridal.records import RoundRecord
    from hybridal.stopping import build_criterion
    from hybridal.stopping.configured import history_of
    from tests.integration.test_prefix import record

    live = [record(0, "retrain", 0.5), record(1, "retrain", 0.5)]
    live[1].stop_kappa, live[1].stop_delta_f, live[1].stop_changed = 1.0, math.nan, 0
    back = [RoundRecord.from_dict(json.loads(to_json(r.to_dict()))) for r in live]
    assert back[1].stop_delta_f is None
    signals = [signals_of(r, 2) for r in back]
    assert math.isnan(signals[1].delta_f) and signals[0].delta_f is None
    assert signals_of(back[1], 4).delta_f is None  # multi-class: no ΔF at all
    assert build_criterion("delta_f_score", window_size=1).stop_round(history_of(signals, 2, 10)) is None


def test_halt_on_delta_f_score_passes_the_config_check_before_the_classes_are_known():
    from hybridal.config import ExperimentConfig

    ExperimentConfig(halt_on="delta_f_score").validate()
    assert "delta_f_score" not in [c.label for c in parse_stopping(None, None, 4)]


def test_a_stopping_parameter_that_is_not_a_name_fails_in_one_sentence():
    with pytest.raises(ConfigError, match=r"stopping\[0\] has the parameter 3, which is not a name"):
        parse_stopping([{"name": "kappa_average", 3: 4}], None, 4)
