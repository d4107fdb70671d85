"""A fork continues its trunk only where it computes what its standalone run would (issue 22):
in the trunk's precision and device kind, and with the trunk's optimizer state when it keeps
its optimizer into finetune rounds. Anything else fails in one sentence instead of changing the
run silently."""

from __future__ import annotations

import json

import pytest

from hybridal import ActiveLearning
from hybridal.errors import ConfigError

HYBRID = dict(
    strategy_class="deltaf1",
    strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "finetune", "guard": False},
    finetune_epochs=1,
)


def trunk_after_round_zero(make_config, **overrides):
    cfg = make_config(strategy_class="retrain", experiment_name="trunk", total_rounds=3, **overrides)
    trunk = ActiveLearning(cfg)
    folder = cfg.run_dir.parent / "trunk-after-0"
    next(iter(trunk.iter_rounds()))
    trunk.save_checkpoint(folder)
    return folder


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.count("; allowed:") == 1 and message.endswith(".")


def test_a_fork_whose_precision_differs_from_its_trunks_fails_in_one_sentence(make_config):
    folder = trunk_after_round_zero(make_config, precision="fp32")
    state = json.loads((folder / "state.json").read_text())
    assert state["precision"] == "fp32" and state["device_type"] == "cpu"
    state["precision"] = "bf16"  # as a trunk on a bf16 machine would have written it
    (folder / "state.json").write_text(json.dumps(state))
    fork = ActiveLearning(make_config(experiment_name="fork", total_rounds=3, precision="fp32", **HYBRID))
    with pytest.raises(ConfigError) as info:
        fork.continue_from_prefix(folder)
    message = str(info.value)
    assert "bf16 on cpu" in message and "fp32 on cpu" in message and "'fork'" in message
    one_sentence(message)


def test_a_kept_optimizer_fork_without_the_trunks_optimizer_state_fails_in_one_sentence(make_config):
    folder = trunk_after_round_zero(make_config, precision="fp32", keep_optimizer=False)
    fork = ActiveLearning(
        make_config(experiment_name="fork", total_rounds=3, precision="fp32", keep_optimizer=True, **HYBRID)
    )
    with pytest.raises(ConfigError) as info:
        fork.continue_from_prefix(folder)
    message = str(info.value)
    assert "no optimizer state" in message and "keep_optimizer" in message
    one_sentence(message)
    # Without keep_optimizer the same checkpoint is a valid prefix.
    ActiveLearning(
        make_config(experiment_name="fork2", total_rounds=3, precision="fp32", **HYBRID)
    ).continue_from_prefix(folder)


def test_the_planned_group_key_holds_the_resolved_precision(monkeypatch):
    from types import SimpleNamespace

    from hybridal import ExperimentConfig
    from sweeps import sharing

    monkeypatch.setattr("hybridal.model.hardware.resolve_precision", lambda precision, device: "fp32")
    configs = [
        ExperimentConfig(precision="auto", experiment_name="a"),
        ExperimentConfig(precision="fp32", experiment_name="b", strategy_class="finetune"),
    ]
    assert sharing.planned_group_key(configs[0]) == sharing.planned_group_key(configs[1])
    monkeypatch.setattr("hybridal.model.hardware.resolve_precision", lambda precision, device: "bf16")
    assert sharing.planned_group_key(configs[0]) != sharing.planned_group_key(configs[1])
    plan = sharing.SharePlan([SimpleNamespace(name=c.experiment_name, config=c) for c in configs])
    assert {j.role for j in plan.jobs.values()} == {sharing.STANDALONE}  # bf16 and fp32 never share a trunk
