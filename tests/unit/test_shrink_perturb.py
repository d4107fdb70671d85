"""Shrink-and-perturb (docs/design.md §3): the step on a model, its keys, its schedule, its fork key
and its settings in the analysis. The runs themselves: tests/integration/test_shrink_perturb.py."""

from __future__ import annotations

import math

import pytest
import torch

from analysis.reading.configuration import engine_settings
from hybridal import ExperimentConfig
from hybridal.errors import ConfigError
from hybridal.loop.prefix_forks import group_key
from hybridal.loop.schedule import round_plan
from hybridal.model.pretrained import load_model
from hybridal.model.shrink_perturb import shrink_perturb, shrink_perturb_flops
from hybridal.seeds import SHRINK_PERTURB, derive_seed
from hybridal.strategies import build_strategy
from sweeps.sharing import fork_key


def cfg(**kw):
    return ExperimentConfig(model_name_or_path="tiny-bert", **kw)


@pytest.fixture(scope="module")
def start_and_trained():
    """A tiny BERT's starting state and a 'trained' state (the start moved by a fixed offset)."""
    model = load_model("tiny-bert", 4, seed=3)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.add_(0.01 * (i + 1))
    trained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return model, start, trained


def stepped(start_and_trained, shrink, perturb, seed=0):
    model, start, trained = start_and_trained
    model.load_state_dict(trained)
    flops = shrink_perturb(model, start, shrink, perturb, seed)
    return {k: v.detach().clone() for k, v in model.named_parameters()}, flops


def test_shrink_one_noise_zero_keeps_the_weights_and_shrink_zero_restores_the_start_bit_for_bit(start_and_trained):
    model, start, trained = start_and_trained
    kept, _ = stepped(start_and_trained, 1.0, 0.0)
    assert all(torch.equal(kept[k], trained[k]) for k in kept)
    reset, _ = stepped(start_and_trained, 0.0, 0.0)
    assert all(torch.equal(reset[k], start[k]) for k in reset)


def test_the_blend_is_lambda_current_plus_one_minus_lambda_start(start_and_trained):
    _, start, trained = start_and_trained
    blended, _ = stepped(start_and_trained, 0.3, 0.0)
    for k, v in blended.items():
        torch.testing.assert_close(v, 0.3 * trained[k] + 0.7 * start[k])


def test_the_noise_is_seeded_drawn_from_the_init_and_only_on_weight_matrices(start_and_trained):
    model, _, trained = start_and_trained
    a, _ = stepped(start_and_trained, 1.0, 1.0, seed=derive_seed(3, 1, SHRINK_PERTURB))
    b, _ = stepped(start_and_trained, 1.0, 1.0, seed=derive_seed(3, 1, SHRINK_PERTURB))
    c, _ = stepped(start_and_trained, 1.0, 1.0, seed=derive_seed(3, 2, SHRINK_PERTURB))  # the next round
    assert all(torch.equal(a[k], b[k]) for k in a)  # same seed and round: the same weights
    matrices = [k for k, v in a.items() if v.dim() >= 2]
    assert matrices and all(not torch.equal(a[k], c[k]) for k in matrices)  # another round: other noise
    for k, v in a.items():
        if v.dim() < 2:  # biases, LayerNorm: no noise
            assert torch.equal(v, trained[k])
    noise = torch.cat([(a[k] - trained[k]).flatten() for k in matrices])
    assert float(noise.mean()) == pytest.approx(0.0, abs=1e-3)
    assert float(noise.std()) == pytest.approx(model.config.initializer_range, rel=0.02)


def test_the_step_counts_three_flops_per_parameter_and_two_per_perturbed_one(start_and_trained):
    model = start_and_trained[0]
    n = sum(p.numel() for p in model.parameters())
    noisy = sum(p.numel() for p in model.parameters() if p.dim() >= 2)
    assert shrink_perturb_flops(model, 0.0) == 3 * n and stepped(start_and_trained, 1.0, 0.0)[1] == 3 * n
    assert shrink_perturb_flops(model, 1e-4) == 3 * n + 2 * noisy
    assert 0 < noisy < n


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"shrink": 1.5}, "shrink=1.5 is invalid; allowed: λ, a number in [0, 1]."),
        ({"shrink": -0.1}, "shrink=-0.1 is invalid; allowed: λ, a number in [0, 1]."),
        ({"shrink": True}, "shrink=True is invalid; allowed: λ, a number in [0, 1]."),
        ({"shrink": math.nan}, "shrink=nan is invalid; allowed: λ, a number in [0, 1]."),
        ({"perturb": -1e-4}, "perturb=-0.0001 is invalid; allowed: σ, a finite number >= 0."),
        ({"perturb": math.inf}, "perturb=inf is invalid; allowed: σ, a finite number >= 0."),
        (
            {"perturb": "1e-4"},
            "perturb='1e-4' is invalid; allowed: σ, a finite number >= 0 (write 1.0e-4, not 1e-4: YAML reads the "
            "latter as text).",
        ),
    ],
)
def test_bad_shrink_and_perturb_fail_in_one_sentence(changes, message):
    with pytest.raises(ConfigError) as err:
        cfg(**changes).validate()
    assert str(err.value) == message


def test_after_names_shrink_perturb_and_the_strategy_takes_no_kwargs():
    cfg(strategy_class="deltaf1", strategy_kwargs={"after": "shrink_perturb"}, shrink=0.0, perturb=0.0).validate()
    cfg(strategy_class="ShrinkPerturbStrategy", shrink=1, perturb=0).validate()
    with pytest.raises(ConfigError, match=r"strategy_kwargs.after='bogus'.*finetune, new_only, shrink_perturb"):
        cfg(strategy_class="deltaf1", strategy_kwargs={"after": "bogus"}).validate()
    with pytest.raises(ConfigError, match=r"not accepted by shrink_perturb.*shrink and perturb are top-level keys"):
        cfg(strategy_class="shrink_perturb", strategy_kwargs={"shrink": 0.5}).validate()


def test_a_shrink_perturb_round_trains_finetune_epochs_over_all_labels_with_a_fresh_optimizer():
    config = cfg(
        strategy_class="shrink_perturb",
        total_rounds=4,
        initial_pool_size=10,
        acquisition_batch_size=4,
        epochs=3,
        finetune_epochs=1,
        keep_optimizer=True,
    )
    steps = round_plan(config, 100, 50)
    assert [s.mode for s in steps] == ["retrain"] + ["shrink_perturb"] * 3
    assert [s.epochs for s in steps] == [3, 1, 1, 1] and [s.train_rows for s in steps] == [10, 14, 18, 22]
    assert [s.train_on for s in steps] == ["all"] * 4 and not any(s.continue_optimizer for s in steps)
    hybrid = config.replace(strategy_class="deltaf1", strategy_kwargs={"after": "shrink_perturb"})
    steps = round_plan(hybrid, 100, 50, switch_round=2)
    assert [(s.mode, s.switched, s.epochs) for s in steps] == [
        ("retrain", False, 3),
        ("retrain", False, 3),
        ("shrink_perturb", True, 1),
        ("shrink_perturb", True, 1),
    ]


def test_shrink_and_perturb_split_forks_not_groups():
    hybrid = dict(strategy_class="deltaf1", strategy_kwargs={"after": "shrink_perturb"}, finetune_epochs=1)
    a, b, c = cfg(**hybrid), cfg(**hybrid, shrink=0.5), cfg(**hybrid, perturb=0.0)
    assert group_key(a.to_dict()) == group_key(b.to_dict()) == group_key(c.to_dict())
    assert fork_key(a, 2) == (2, "shrink_perturb", 1, 0.3, 1e-4)
    assert len({fork_key(a, 2), fork_key(b, 2), fork_key(c, 2)}) == 3
    finetune = cfg(strategy_class="deltaf1", strategy_kwargs={"after": "finetune"}, finetune_epochs=1)
    assert fork_key(finetune, 2) == fork_key(finetune.replace(shrink=0.5), 2)  # finetune reads neither
    assert build_strategy("shrink_perturb").plan(1).mode == "shrink_perturb"


def test_the_settings_carry_shrink_and_perturb_only_where_a_round_reads_them():
    for strategy, kwargs in (("retrain", {}), ("finetune", {}), ("deltaf1", {"after": "finetune"})):
        settings = engine_settings(cfg(strategy_class=strategy, strategy_kwargs=kwargs, shrink=0.5).to_dict())
        assert settings is not None and "shrink" not in settings and "perturb" not in settings
    for strategy, kwargs in (("shrink_perturb", {}), ("deltaf1", {"after": "shrink_perturb"})):
        settings = engine_settings(cfg(strategy_class=strategy, strategy_kwargs=kwargs, shrink=0.5).to_dict())
        assert settings is not None and settings["shrink"] == 0.5 and settings["perturb"] == 1e-4
