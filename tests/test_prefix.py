"""Shared-prefix semantics: group keys, switch rounds from a trunk's F1 series, adopted records."""
from __future__ import annotations

import dataclasses

import pytest

from hybridal.prefix import PrefixMismatch, adopt_records, group_key, switch_round_within
from hybridal.records import RoundRecord


def record(r: int, mode: str, f1: float | None) -> RoundRecord:
    return RoundRecord(round=r, n_labeled=10 * (r + 1), n_new=10, strategy_used=mode, switched=False, val_f1=0.5,
                       val_accuracy=0.5, val_loss=1.0, delta_f1=None, stable_count=0, test_f1=None, test_accuracy=None,
                       train_samples=1, train_tokens=1, train_flops=100 + r, cum_train_flops=0, infer_flops=0,
                       cum_total_flops=0, train_seconds=0, query_seconds=0, eval_seconds=0, wall_seconds=0, monitor_f1=f1)


def test_group_key_ignores_the_strategy_post_switch_knobs_and_names_only():
    base = {"data": "agnews", "seed": 1, "epochs": 3, "strategy_class": "retrain", "strategy_kwargs": {},
            "finetune_epochs": None, "replay": 0, "keep_optimizer": False, "experiment_name": "a", "save_dir": "x"}
    same = {**base, "strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.1, "k": 1, "after": "new_only"},
            "finetune_epochs": 1, "replay": 4, "keep_optimizer": True, "experiment_name": "b", "save_dir": "y"}
    assert group_key(base) == group_key(same)
    assert group_key(base) != group_key({**base, "seed": 2})
    assert group_key(base) != group_key({**base, "epochs": 2})


@pytest.mark.parametrize("f1s, eps, k, expected", [
    ([0.5], 0.01, 1, None),                    # Δ undefined at round 0
    ([0.5, 0.505], 0.01, 1, 2),                # |Δ_1| < ε: switch from round 2
    ([0.5, 0.6, 0.605], 0.01, 1, 3),
    ([0.5, 0.505, 0.506], 0.01, 2, 3),         # k = 2 needs two stable rounds
    ([0.5, 0.6, 0.7, 0.8], 0.01, 1, None),     # never stable
    ([None, 0.5, 0.505], 0.01, 1, 3),          # acquired monitor: F1_0 undefined
])
def test_switch_round_within_follows_the_delta_f1_rule(f1s, eps, k, expected):
    assert switch_round_within("deltaf1", {"epsilon": eps, "k": k, "after": "finetune"}, f1s) == expected


def test_baselines_switch_at_round_one_and_retrain_never():
    assert switch_round_within("finetune", {}, [0.5]) == 1
    assert switch_round_within("new_only", {}, [0.5]) == 1
    assert switch_round_within("finetune", {}, []) is None
    assert switch_round_within("retrain", {}, [0.5, 0.5, 0.5]) is None


def test_adopted_records_recompute_only_the_rule_fields():
    trunk = [record(0, "retrain", 0.5), record(1, "retrain", 0.505), record(2, "retrain", 0.7)]
    tight = adopt_records("deltaf1", {"epsilon": 0.001, "k": 1, "after": "finetune"}, trunk)
    assert [r.stable_count for r in tight] == [0, 0, 0] and not any(r.switched for r in tight)
    assert [r.delta_f1 for r in tight][1] == pytest.approx(0.005)
    # The same trunk, read by a config that would have switched at round 2, is no prefix of it.
    with pytest.raises(PrefixMismatch):
        adopt_records("deltaf1", {"epsilon": 0.01, "k": 1, "after": "finetune"}, trunk)
    forked = trunk[:2] + [record(2, "finetune", 0.7)]
    loose = adopt_records("deltaf1", {"epsilon": 0.01, "k": 1, "after": "finetune"}, forked)
    assert [r.switched for r in loose] == [False, False, True]
    assert [r.stable_count for r in loose] == [0, 1, 0]
    strip = lambda rs: [dataclasses.replace(r, delta_f1=None, stable_count=0, switched=False) for r in rs]
    assert strip(loose) == strip(forked)
