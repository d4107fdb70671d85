"""The ΔF1 switching rule (docs/design.md §4) pinned by hand-written F1 sequences."""

import pytest

from hybridal.errors import ConfigError
from hybridal.strategies import (
    DeltaF1Strategy,
    build_strategy,
    delta_f1_step,
    switch_decided_round_for,
    switch_round_for,
    trained_switch_round,
)


@pytest.mark.parametrize(
    "f1s, epsilon, k, decided, expected",
    [
        ([0.5, 0.6, 0.605, 0.607, 0.7], 0.01, 2, 4, 4),  # stable at r=2,3 → switch at 4
        ([0.5, 0.6, 0.605, 0.65, 0.655], 0.01, 2, None, None),  # a large move resets the count
        ([0.5, 0.6, 0.7, 0.8, 0.9], 0.01, 1, None, None),  # never stable
        ([0.5, 0.505], 0.01, 1, 2, None),  # decided after the last round (r=1): never trained
        ([0.5, 0.505, 0.51], 0.01, 1, 2, 2),  # k=1: first stable Δ at r=1 → switch at 2
        ([0.5, 0.9, 0.1], 1.0, 1, 2, 2),  # ε=1 is always stable
        ([0.5, 0.5, 0.5, 0.5], 0.0, 1, None, None),  # ε=0: |Δ| < 0 never holds
        ([0.6, 0.605, 0.5, 0.505, 0.507], 0.01, 2, 5, None),  # drop at r=2 resets, two stable, decided after the last
        ([0.6, 0.605, 0.5, 0.505, 0.507, 0.9], 0.01, 2, 5, 5),
        ([0.6, 0.61, 0.60], 0.01, 2, None, None),  # |Δ| == ε is not stable (strict <)
    ],
)
def test_switch_round_table(f1s, epsilon, k, decided, expected):
    """`switch_round` is the first round trained with `after`; the rule's decision may lie past the run."""
    assert switch_decided_round_for(f1s, epsilon, k) == decided
    assert switch_round_for(f1s, epsilon, k) == expected
    strategy = DeltaF1Strategy(epsilon=epsilon, k=k)
    trained = []
    for r, f1 in enumerate(f1s):
        plan = strategy.plan(r)
        assert plan.mode == ("finetune" if decided is not None and r >= decided else "retrain")
        trained.append(plan.switched)
        strategy.observe(r, f1)
    assert strategy.switch_decided_round == decided
    assert trained_switch_round(strategy.switch_decided_round, len(f1s)) == expected
    assert expected == (trained.index(True) if True in trained else None)


def test_delta_undefined_without_previous_f1():
    assert delta_f1_step(None, 0.5, 3, 0.1) == (None, 0)
    assert delta_f1_step(0.5, None, 3, 0.1) == (None, 0)
    delta, count = delta_f1_step(0.5, 0.52, 1, 0.05)
    assert count == 2 and delta == pytest.approx(0.02)


def test_acquired_monitor_first_delta_at_round_two():
    # monitor="acquired": the monitor set is empty at round 0 (F1_0 = None)
    s = DeltaF1Strategy(epsilon=1.0, k=1)
    assert s.observe(0, None) == (None, 0)
    assert s.observe(1, 0.4) == (None, 0)  # Δ_1 undefined: F1_0 missing
    delta, count = s.observe(2, 0.45)
    assert delta == pytest.approx(0.05) and count == 1
    assert s.switch_decided_round == 3


def test_switch_is_one_way_and_uses_after():
    s = DeltaF1Strategy(epsilon=0.5, k=1, after="new_only")
    s.observe(0, 0.5)
    s.observe(1, 0.51)
    assert s.switch_decided_round == 2
    s.observe(2, 0.99)  # a big jump later does not switch back
    plan = s.plan(3)
    assert (plan.mode, plan.switched) == ("new_only", True)
    assert s.switch_decided_round == 2


def test_state_round_trip():
    s = DeltaF1Strategy(epsilon=0.1, k=2)
    for r, f1 in enumerate([0.5, 0.52, 0.53]):
        s.observe(r, f1)
    t = DeltaF1Strategy(epsilon=0.1, k=2)
    t.load_state_dict(s.state_dict())
    assert t.switch_decided_round == s.switch_decided_round == 3
    assert t.observe(3, 0.54) == s.observe(3, 0.54)


@pytest.mark.parametrize(
    "name, r0, r1",
    [
        ("retrain", "retrain", "retrain"),
        ("finetune", "retrain", "finetune"),
        ("new_only", "retrain", "new_only"),
        ("FineTuningStrategy", "retrain", "finetune"),
    ],
)
def test_baselines_plan(name, r0, r1):
    s = build_strategy(name)
    assert s.plan(0).mode == r0 and s.plan(1).mode == r1 and s.switch_decided_round is None


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"epsilon": -0.1}, "epsilon"),
        ({"k": 0}, "k=0"),
        ({"after": "retrain"}, "after"),
        ({"eps": 0.1}, "epsilon"),
    ],
)
def test_bad_strategy_kwargs(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        build_strategy("deltaf1", **kwargs)
