"""One schedule: the round plan of a config, which the loop follows and the estimate costs."""

import pytest

from hybridal import ActiveLearning, ExperimentConfig
from hybridal.cost.estimate import estimate_grid
from hybridal.loop.schedule import labels_per_round, round_plan


def base(**changes):
    values = dict(
        model_name_or_path="tiny-bert", total_rounds=4, initial_pool_size=10, acquisition_batch_size=4, epochs=3
    )
    values.update(changes)
    return ExperimentConfig(**values)


def column(steps, name):
    return [getattr(s, name) for s in steps]


def test_labels_stop_at_the_rounds_the_budget_or_the_pool():
    assert labels_per_round(base(total_rounds=5), 100) == [10, 4, 4, 4, 4]
    assert labels_per_round(base(total_rounds=5, label_budget=21), 100) == [10, 4, 4, 3]  # the last batch is cut
    assert labels_per_round(base(total_rounds=5, label_budget=18), 100) == [10, 4, 4]  # the budget is met exactly
    assert labels_per_round(base(total_rounds=5), 19) == [10, 4, 4, 1]  # the pool runs out
    steps = round_plan(base(total_rounds=5, label_budget=21), 100, 50)
    assert column(steps, "short_batch") == [False, False, False, True]
    assert column(steps, "last") == [False, False, False, True]


@pytest.mark.parametrize(
    "changes, switch_round, expected",
    [
        ({}, None, dict(mode=["retrain"] * 4, train_rows=[10, 14, 18, 22], epochs=[3] * 4, train_on=["all"] * 4)),
        (
            {"strategy_class": "finetune", "finetune_epochs": 1, "keep_optimizer": True},
            None,
            dict(
                mode=["retrain"] + ["finetune"] * 3, epochs=[3, 1, 1, 1], continue_optimizer=[False, True, True, True]
            ),
        ),
        (
            {"strategy_class": "new_only", "replay": 5},
            None,
            dict(train_on=["all", "new", "new", "new"], replay=[0, 5, 5, 5], train_rows=[10, 9, 9, 9], epochs=[3] * 4),
        ),
        ({"strategy_class": "new_only", "replay": 12}, None, dict(replay=[0, 10, 12, 12], train_rows=[10, 14, 16, 16])),
        (
            {"strategy_class": "deltaf1", "strategy_kwargs": {"after": "new_only"}},
            2,
            dict(
                mode=["retrain", "retrain", "new_only", "new_only"],
                switched=[False, False, True, True],
                train_rows=[10, 14, 4, 4],
            ),
        ),
        ({"strategy_class": "deltaf1", "finetune_epochs": 1}, None, dict(mode=["retrain"] * 4, switched=[False] * 4)),
        (
            {"strategy_class": "deltaf1", "finetune_epochs": 1, "keep_optimizer": True},
            3,
            dict(mode=["retrain"] * 3 + ["finetune"], epochs=[3, 3, 3, 1], continue_optimizer=[False] * 3 + [True]),
        ),
        ({"strategy_class": "retrain"}, 1, dict(mode=["retrain"] * 4, switched=[False] * 4)),  # baselines never switch
    ],
)
def test_what_each_round_trains(changes, switch_round, expected):
    steps = round_plan(base(**changes), 100, 50, switch_round=switch_round)
    assert {name: column(steps, name) for name in expected} == expected


def test_acquired_monitor_labels_are_bought_but_never_trained_on():
    steps = round_plan(
        base(monitor="acquired", monitor_fraction=0.25, label_budget=19), 100, 50
    )  # 1 monitor label per batch
    assert column(steps, "n_new") == [10, 4, 4, 1]
    assert column(steps, "n_monitor") == [0, 1, 1, 1]
    assert column(steps, "n_query") == [10, 3, 3, 0]  # a cut batch may leave the sampler nothing
    assert column(steps, "train_rows") == [10, 13, 16, 16]
    assert column(steps, "monitor") == ["acquired"] * 4


@pytest.mark.parametrize(
    "size, n_test, expected",
    [
        (40, 120, ["subsample", None, "subsample", None, "full"]),
        (40, 40, ["full", None, "full", None, "full"]),  # a subsample covering the split is the split
        (None, 120, ["full", None, "full", None, "full"]),
    ],
)
def test_test_rows_every_test_every_rounds_and_the_full_split_after_the_last(size, n_test, expected):
    steps = round_plan(base(total_rounds=5, test_every=2, test_subsample_size=size), 100, n_test)
    assert column(steps, "test_rows") == expected


FIELDS = ("n_new", "short_batch", "strategy_used", "switched", "train_samples", "test_rows")


@pytest.mark.parametrize(
    "changes, bound",
    [
        # ε = 1 switches as early as the rule allows (round 3 with an acquired monitor); the budget cuts
        # round 3's batch.
        (
            dict(
                strategy_class="deltaf1",
                strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "new_only", "guard": False},
                replay=3,
                monitor="acquired",
                monitor_fraction=0.25,
                total_rounds=6,
                label_budget=55,
                test_every=2,
                test_subsample_size=40,
            ),
            "plan_earliest_switch",
        ),
        (dict(strategy_class="finetune", finetune_epochs=2, total_rounds=4, label_budget=45), "plan"),
    ],
)
def test_the_loop_follows_the_plan_and_the_estimate_counts_its_samples(make_config, changes, bound):
    cfg = make_config(**changes)
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    ran = [tuple(getattr(r, f) for f in FIELDS) for r in al.records]
    plan = round_plan(cfg, len(al.pool), len(al.parts.splits.test), switch_round=al.switch_round)
    step_fields = ("n_new", "short_batch", "mode", "switched", "train_samples", "test_rows")
    assert [tuple(getattr(s, f) for f in step_fields) for s in plan] == ran
    assert al.records[-1].short_batch  # the cut batch occurred
    estimate = getattr(estimate_grid([cfg]).runs[0], bound)
    assert [s.train_samples for s in estimate] == [r.train_samples for r in al.records]
