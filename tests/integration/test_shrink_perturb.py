"""Shrink-and-perturb runs (docs/design.md §3): λ = 1, σ = 0 is finetune; λ = 0, σ = 0 starts every
round from retrain's weights; σ > 0 is seeded; deltaf1 switches to it; a fork equals its standalone run."""

from __future__ import annotations

import pytest
import torch

import hybridal.model.training as training
from hybridal.model.shrink_perturb import shrink_perturb_flops
from tests.integration.test_prefix import assert_fork_equals_standalone
from tests.support.tiny_runs import finished_run

TIMING = {"train_seconds", "query_seconds", "eval_seconds", "wall_seconds"}
# What a shrink_perturb run records otherwise than the same run as finetune: the strategy's name,
# and the shrink step's FLOPs in the training FLOPs and everything summed from them.
SHRINK_FIELDS = {"strategy_used", "train_flops", "cum_train_flops", "cum_total_flops"}


@pytest.fixture
def starts(monkeypatch):
    """The weights (a copy of every parameter) each training call starts from."""
    calls = []
    real = training.train_epochs

    def wrapper(model, tokens, rows, labels, epochs, *args, **kwargs):
        calls.append({k: v.detach().clone() for k, v in model.named_parameters()})
        return real(model, tokens, rows, labels, epochs, *args, **kwargs)

    monkeypatch.setattr(training, "train_epochs", wrapper)
    return calls


def untimed(al, leave_out=frozenset()):
    return [{k: v for k, v in r.to_dict().items() if k not in TIMING | leave_out} for r in al.records]


def test_shrink_one_noise_zero_is_finetune_record_for_record(make_config):
    finetune = finished_run(make_config(strategy_class="finetune", finetune_epochs=2, experiment_name="ft"))
    sp = finished_run(make_config(strategy_class="shrink_perturb", finetune_epochs=2, shrink=1.0, perturb=0.0))
    assert untimed(sp, SHRINK_FIELDS) == untimed(finetune, SHRINK_FIELDS)
    assert sp.final_metrics()["f1_score"] == finetune.final_metrics()["f1_score"]
    step = shrink_perturb_flops(sp.parts.model.model, 0.0)  # 3 FLOPs per parameter, every round after 0
    assert [r.strategy_used for r in sp.records] == ["retrain", "shrink_perturb", "shrink_perturb"]
    for r, (a, b) in enumerate(zip(sp.records, finetune.records)):
        assert a.train_flops - b.train_flops == (step if r else 0)
        assert a.cum_train_flops - b.cum_train_flops == step * r == a.cum_total_flops - b.cum_total_flops


def test_shrink_zero_noise_zero_starts_every_round_from_the_starting_weights(make_config, starts):
    al = finished_run(make_config(strategy_class="shrink_perturb", shrink=0.0, perturb=0.0))
    initial = al.parts.model.initial_state
    assert len(starts) == 3
    for start in starts:  # round 0 (retrain) and rounds 1, 2 (shrink_perturb): θ_start bit for bit
        assert all(torch.equal(v, initial[k]) for k, v in start.items())


def test_noise_is_seeded_by_the_run_seed_and_round(make_config, starts, tmp_path):
    a = finished_run(make_config(strategy_class="shrink_perturb", perturb=0.5))
    first = [dict(s) for s in starts]
    starts.clear()
    b = finished_run(make_config(strategy_class="shrink_perturb", perturb=0.5, save_dir=str(tmp_path / "again")))
    assert untimed(a) == untimed(b)  # same seed: the same noise, weights and records
    assert all(torch.equal(first[r][k], starts[r][k]) for r in range(3) for k in first[r])
    starts.clear()
    finished_run(make_config(strategy_class="shrink_perturb", perturb=0.0, save_dir=str(tmp_path / "quiet")))
    matrices = [k for k, v in first[1].items() if v.dim() >= 2]
    for r in (1, 2):  # σ > 0 moved every weight matrix from where σ = 0 starts it
        assert all(not torch.equal(first[r][k], starts[r][k]) for k in matrices)


def test_deltaf1_switches_to_shrink_perturb(make_config, starts):
    # ε = 1: every defined Δ is stable, so the validation monitor's rule switches at round 2.
    al = finished_run(
        make_config(
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "shrink_perturb", "guard": False},
            total_rounds=4,
            finetune_epochs=2,
            shrink=0.0,
            perturb=0.0,
        )
    )
    assert al.switch_round == 2
    assert [r.strategy_used for r in al.records] == ["retrain", "retrain", "shrink_perturb", "shrink_perturb"]
    assert [r.switched for r in al.records] == [False, False, True, True]
    assert [r.train_samples for r in al.records] == [24, 36, 2 * 48, 2 * 60]  # finetune_epochs over all labels
    initial = al.parts.model.initial_state
    assert all(torch.equal(v, initial[k]) for start in starts for k, v in start.items())  # λ = 0: θ_start


def test_a_shrink_perturb_fork_from_the_trunk_equals_the_standalone_run(make_config):
    common = dict(total_rounds=4, sampler_class="entropy", finetune_epochs=1)
    hybrid = dict(
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "shrink_perturb", "guard": False},
        shrink=0.5,
        perturb=0.1,
    )
    assert_fork_equals_standalone(make_config, common, hybrid, 2)
