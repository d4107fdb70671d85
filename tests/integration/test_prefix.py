"""Shared-prefix semantics: group keys, switch rounds from a trunk's F1 series, adopted records."""

from __future__ import annotations

import dataclasses

import pytest

from hybridal.loop.prefix_forks import PrefixMismatch, adopt_records, group_key, switch_round_within
from hybridal.records import RoundRecord
from hybridal.strategies import build_strategy


def record(r: int, mode: str, f1: float | None, degenerate: bool | None = None) -> RoundRecord:
    return RoundRecord(
        round=r,
        n_labeled=10 * (r + 1),
        n_new=10,
        strategy_used=mode,
        switched=False,
        val_f1=0.5,
        val_accuracy=0.5,
        val_loss=1.0,
        delta_f1=None,
        stable_count=0,
        test_f1=None,
        test_accuracy=None,
        train_samples=1,
        train_tokens=1,
        train_flops=100 + r,
        cum_train_flops=0,
        infer_flops=0,
        cum_total_flops=0,
        train_seconds=0,
        query_seconds=0,
        eval_seconds=0,
        wall_seconds=0,
        monitor_f1=f1,
        monitor_degenerate=degenerate,
    )


COST_FIELDS = dict(
    cum_total_flops=0, flops_policy=0, flops_validation=0, labels_acquired=0, labels_read_by_policy=0, labels_used=0
)


def test_group_key_ignores_the_strategy_post_switch_knobs_and_names_only():
    base = {
        "data": "agnews",
        "seed": 1,
        "epochs": 3,
        "strategy_class": "retrain",
        "strategy_kwargs": {},
        "finetune_epochs": None,
        "replay": 0,
        "keep_optimizer": False,
        "experiment_name": "a",
        "save_dir": "x",
    }
    same = {
        **base,
        "strategy_class": "deltaf1",
        "strategy_kwargs": {"epsilon": 0.1, "k": 1, "after": "new_only"},
        "finetune_epochs": 1,
        "replay": 4,
        "keep_optimizer": True,
        "experiment_name": "b",
        "save_dir": "y",
    }
    assert group_key(base) == group_key(same)
    assert group_key(base) != group_key({**base, "seed": 2})
    assert group_key(base) != group_key({**base, "epochs": 2})


@pytest.mark.parametrize(
    "f1s, eps, k, expected",
    [
        ([0.5], 0.01, 1, None),  # Δ undefined at round 0
        ([0.5, 0.505], 0.01, 1, 2),  # |Δ_1| < ε: switch from round 2
        ([0.5, 0.6, 0.605], 0.01, 1, 3),
        ([0.5, 0.505, 0.506], 0.01, 2, 3),  # k = 2 needs two stable rounds
        ([0.5, 0.6, 0.7, 0.8], 0.01, 1, None),  # never stable
        ([None, 0.5, 0.505], 0.01, 1, 3),  # acquired monitor: F1_0 undefined
    ],
)
def test_switch_round_within_follows_the_delta_f1_rule(f1s, eps, k, expected):
    assert (
        switch_round_within(build_strategy("deltaf1", **{"epsilon": eps, "k": k, "after": "finetune"}), f1s) == expected
    )


def test_baselines_switch_at_round_one_and_retrain_never():
    assert switch_round_within(build_strategy("finetune"), [0.5]) == 1
    assert switch_round_within(build_strategy("new_only"), [0.5]) == 1
    assert switch_round_within(build_strategy("finetune"), []) is None
    assert switch_round_within(build_strategy("retrain"), [0.5, 0.5, 0.5]) is None


def test_adopted_records_recompute_only_the_rule_fields():
    trunk = [record(0, "retrain", 0.5), record(1, "retrain", 0.505), record(2, "retrain", 0.7)]
    tight = adopt_records(build_strategy("deltaf1", epsilon=0.001, k=1, after="finetune"), trunk, 0)
    assert [r.stable_count for r in tight] == [0, 0, 0] and not any(r.switched for r in tight)
    assert [r.delta_f1 for r in tight][1] == pytest.approx(0.005)
    # The same trunk, read by a config that would have switched at round 2, is no prefix of it.
    with pytest.raises(PrefixMismatch):
        adopt_records(build_strategy("deltaf1", epsilon=0.01, k=1, after="finetune"), trunk, 0)
    forked = trunk[:2] + [record(2, "finetune", 0.7)]
    loose = adopt_records(build_strategy("deltaf1", epsilon=0.01, k=1, after="finetune"), forked, 0)
    assert [r.switched for r in loose] == [False, False, True]
    assert [r.stable_count for r in loose] == [0, 1, 0]

    def strip(rs):
        return [dataclasses.replace(r, delta_f1=None, stable_count=0, switched=False, **COST_FIELDS) for r in rs]

    assert strip(loose) == strip(forked)


def with_passes(rec: RoundRecord, scoring: int, monitor: int, other: int = 0) -> RoundRecord:
    """A record whose non-test inference was `scoring` + the monitor (validation) pass + `other`."""
    return dataclasses.replace(rec, flops_scoring=scoring, flops_monitor=monitor, infer_flops=scoring + monitor + other)


def test_adopted_records_charge_the_adopting_config():
    """A trunk's rounds (retrain: its validation pass is measurement) adopted by a validation-monitor
    ΔF1 config charge that pass as policy cost until the rule decides, and its validation labels."""
    trunk = [
        with_passes(record(r, mode, f1), 7 if r else 0, 50)
        for r, (mode, f1) in enumerate([("retrain", 0.5), ("retrain", 0.505), ("finetune", 0.6), ("finetune", 0.9)])
    ]
    hybrid = adopt_records(build_strategy("deltaf1", epsilon=0.01, k=1, after="finetune"), trunk, 300)
    # decided after round 1 (switch at 2): rounds 0 and 1 were read to decide, rounds 2 and 3 were not
    assert [r.flops_policy for r in hybrid] == [50, 50, 0, 0]
    assert [r.flops_validation for r in hybrid] == [0, 0, 50, 50]
    assert [r.cum_total_flops for r in hybrid] == [150, 150 + 101 + 7 + 50, 308 + 102 + 7, 417 + 103 + 7]
    assert [r.labels_used for r in hybrid] == [r.n_labeled + 300 for r in trunk]
    fork = [trunk[0]] + [dataclasses.replace(r, strategy_used="finetune") for r in trunk[1:]]
    finetune = adopt_records(build_strategy("finetune"), fork, 0)
    assert [r.flops_policy for r in finetune] == [0] * 4 and [r.labels_used for r in finetune] == [10, 20, 30, 40]
    assert finetune[-1].cum_total_flops == sum(r.train_flops + r.flops_scoring for r in fork)


def test_adopted_records_replay_the_guard():
    """The guard reads each round's recorded degenerate flag when a rule is replayed over a trunk."""
    trunk = [
        record(0, "retrain", 0.478, True),
        record(1, "retrain", 0.478, True),
        record(2, "retrain", 0.6, False),
        record(3, "retrain", 0.605, False),
    ]
    guarded = adopt_records(build_strategy("deltaf1", epsilon=0.01, k=1), trunk, 0)
    assert [r.stable_count for r in guarded] == [0, 0, 0, 1]
    with pytest.raises(PrefixMismatch):  # unguarded, the plateau switches at round 2
        adopt_records(build_strategy("deltaf1", epsilon=0.01, k=1, guard=False), trunk, 0)
    flags = [r.monitor_degenerate for r in trunk]
    assert (
        switch_round_within(
            build_strategy("deltaf1", **{"epsilon": 0.01, "k": 1}), [r.monitor_f1 for r in trunk], flags
        )
        == 4
    )
    assert (
        switch_round_within(
            build_strategy("deltaf1", **{"epsilon": 0.01, "k": 1, "guard": False}), [r.monitor_f1 for r in trunk], flags
        )
        == 2
    )


# ---- the engine: a fork continued from a trunk's checkpoint equals a standalone run ----------

MEASURED = (
    "round",
    "n_labeled",
    "n_new",
    "strategy_used",
    "switched",
    "val_f1",
    "val_accuracy",
    "val_loss",
    "delta_f1",
    "stable_count",
    "test_f1",
    "test_accuracy",
    "train_samples",
    "train_tokens",
    "train_flops",
    "cum_train_flops",
    "infer_flops",
    "cum_total_flops",
    "monitor_f1",
    "test_flops",
    "test_rows",
    "flops_scoring",
    "flops_policy",
    "flops_validation",
    "flops_monitor",
    "labels_acquired",
    "labels_read_by_policy",
    "labels_used",
    "labels_per_class",
    "val_pred_counts",
    "test_pred_counts",
    "degenerate",
    "monitor_degenerate",
    "train_loss_per_epoch",
    "stop_kappa",
    "stop_changed",
    "stop_changed_fraction",
    "stop_entropy",
    "stop_delta_f",
    "stop_degenerate",
    "flops_stop_set",
)


def measured(al) -> tuple[list[dict], dict]:
    records = [{k: v for k, v in r.to_dict().items() if k in MEASURED} for r in al.records]
    return records, al.pool.selected_by_round()


def run_trunk(make_config, fork_after: int, **overrides):
    """A retrain run (kept optimizer, so finetune forks can continue it) that checkpoints
    after round `fork_after`; returns the checkpoint folder."""
    from hybridal import ActiveLearning

    cfg = make_config(strategy_class="retrain", keep_optimizer=True, experiment_name="trunk", **overrides)
    trunk = ActiveLearning(cfg)
    folder = cfg.run_dir.parent / f"trunk-after-{fork_after}"
    for record in trunk.iter_rounds():
        if record.round == fork_after:
            trunk.save_checkpoint(folder)
    return folder, trunk


@pytest.mark.parametrize("monitor", ["validation", "acquired"])
def test_a_fork_from_the_trunk_equals_the_standalone_run(make_config, monitor):

    common = dict(total_rounds=4, monitor=monitor, monitor_fraction=0.25, sampler_class="entropy", finetune_epochs=1)
    # epsilon 1 makes every defined Δ "stable": validation switches at round 2, acquired at round 3
    # (tiny-bert predicts one class here, so the guard is off: it would never switch).
    hybrid = dict(
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "finetune", "guard": False},
        keep_optimizer=True,
    )
    assert_fork_equals_standalone(make_config, common, hybrid, 2 if monitor == "validation" else 3)


def test_a_label_free_fork_from_the_trunk_equals_the_standalone_run(make_config):
    """A label-free trigger (changed fraction <= 1: every round from 1 on is stable) replayed over
    the trunk's recorded stop-set signals forks at round 2, exactly as a standalone run."""
    common = dict(total_rounds=4, sampler_class="entropy", finetune_epochs=1)
    kwargs = {"k": 1, "after": "finetune", "guard": False, "trigger": "change", "threshold": 1.0}
    hybrid = dict(strategy_class="deltaf1", strategy_kwargs=kwargs, keep_optimizer=True)
    assert_fork_equals_standalone(make_config, common, hybrid, 2)


def test_a_guarded_fork_from_the_trunk_equals_the_standalone_run(plateau_config):
    """With the guard on, the rule replayed over the trunk's records skips its trivial plateau
    (rounds 0-2) and the fork continues the trunk at round 5, exactly as a standalone run."""
    common = dict(sampler_class="entropy", finetune_epochs=1)
    hybrid = dict(
        strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.05, "k": 1, "after": "finetune"}, keep_optimizer=True
    )
    assert_fork_equals_standalone(plateau_config, common, hybrid, 5)


def assert_fork_equals_standalone(make_config, common: dict, hybrid: dict, expected_switch: int) -> None:
    from hybridal import ActiveLearning

    standalone = ActiveLearning(make_config(experiment_name="alone", **common, **hybrid))
    standalone.run_full_pipeline()
    switch = standalone.switch_round
    assert switch == expected_switch

    folder, trunk = run_trunk(make_config, fork_after=switch - 1, **common)
    fork = ActiveLearning(make_config(experiment_name="fork", **common, **hybrid))
    fork.continue_from_prefix(folder)
    assert fork.next_round == switch
    fork.run_full_pipeline()
    assert measured(fork) == measured(standalone)
    assert fork.switch_round == switch and fork.final_metrics()["f1_score"] == standalone.final_metrics()["f1_score"]
    # Before the switch the fork's rounds are the trunk's, up to the rule's own fields and what
    # the rule is charged (its monitor passes and validation labels).
    rule = (
        "delta_f1",
        "stable_count",
        "switched",
        "cum_total_flops",
        "flops_policy",
        "flops_validation",
        "labels_read_by_policy",
        "labels_used",
    )

    def strip(rows):
        return [{k: v for k, v in row.items() if k not in rule} for row in rows]

    assert strip(measured(fork)[0][:switch]) == strip(measured(trunk)[0][:switch])
    assert strip(measured(fork)[0][switch:]) != strip(measured(trunk)[0][switch:])


def test_a_baseline_forks_after_round_zero(make_config):
    from hybridal import ActiveLearning

    common = dict(total_rounds=3, strategy_class="new_only", replay=4)
    standalone = ActiveLearning(make_config(experiment_name="alone", **common))
    standalone.run_full_pipeline()
    folder, _ = run_trunk(make_config, fork_after=0, total_rounds=3)
    fork = ActiveLearning(make_config(experiment_name="fork", **common))
    fork.continue_from_prefix(folder)
    fork.run_full_pipeline()
    assert measured(fork) == measured(standalone)


def test_a_checkpoint_of_another_group_is_refused(make_config):
    from hybridal import ActiveLearning
    from hybridal.errors import ConfigError

    folder, _ = run_trunk(make_config, fork_after=0, total_rounds=2)
    other = ActiveLearning(make_config(experiment_name="other", strategy_class="finetune", total_rounds=2, seed=4))
    with pytest.raises(ConfigError, match="same group"):
        other.continue_from_prefix(folder)


def test_a_copy_of_the_trunk_equals_a_standalone_run_that_never_switches(make_config, tmp_path):
    import json

    from hybridal import ActiveLearning
    from hybridal.loop.prefix_forks import copy_run

    never = dict(
        strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.0, "k": 1, "after": "finetune"}, total_rounds=3
    )
    standalone = ActiveLearning(make_config(experiment_name="alone", **never))
    standalone.run_full_pipeline()
    _, trunk = run_trunk(make_config, fork_after=0, total_rounds=3)
    cfg = make_config(experiment_name="copy", **never)
    summary = copy_run(cfg, trunk.run_dir, tmp_path / "copy", {"role": "copy", "source": "trunk"})
    copied = [json.loads(x) for x in (tmp_path / "copy" / "rounds.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k in MEASURED} for r in copied] == measured(standalone)[0]
    alone = standalone.summary()
    alone["config"]["experiment_name"] = "copy"
    for key in (
        "final_test",
        "switch_round",
        "switch_decided_round",
        "trial",
        "config",
        "selected_indices",
        "status",
        "labels",
    ):
        assert json.loads(json.dumps(summary[key])) == json.loads(json.dumps(alone[key])), key

    def untimed(totals):
        return {k: v for k, v in totals.items() if not k.endswith("_seconds")}

    assert untimed(summary["totals"]) == untimed(alone["totals"])
    assert json.loads((tmp_path / "copy" / "summary.json").read_text())["shared_prefix"]["role"] == "copy"
    # A copy records the device its source's rounds ran on, as a standalone trial resolves `auto` there.
    source = json.loads((trunk.run_dir / "summary.json").read_text())
    source["config"]["device"] = "cpu"
    (trunk.run_dir / "summary.json").write_text(json.dumps(source))
    on_cpu = copy_run(cfg, trunk.run_dir, tmp_path / "copy-cpu", {"role": "copy", "source": "trunk"})
    assert on_cpu["config"]["device"] == "cpu" and summary["config"]["device"] == "auto"
    # The copy is charged as a validation-monitor rule: the trunk's (retrain's) validation labels were free.
    assert summary["labels"]["used"] == summary["labels"]["acquired"] + 60 == trunk.summary()["labels"]["used"] + 60
