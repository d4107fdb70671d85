"""Cost before launch: the FLOPs estimate agrees with what runs then report."""

import numpy as np
import pytest

from hybridal import ActiveLearning
from hybridal.cost.batch_flops import expected_max_length, expected_order_statistic
from hybridal.cost.estimate import describe, estimate_grid, gpu_hours
from tests.conftest import REPO_ROOT


def test_expected_max_length_by_hand():
    # lengths {1, 3} equally likely, batch of 2: P(max=1) = 1/4 → E = 0.25·1 + 0.75·3
    assert expected_max_length(np.array([1, 3]), 2) == pytest.approx(2.5)
    assert expected_max_length(np.array([5, 5, 5]), 4) == pytest.approx(5.0)


def test_gpu_hours_arithmetic():
    assert gpu_hours(125e12 * 0.5 * 3600, "A10G", 0.5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="gpu='V99' is not known"):
        gpu_hours(1.0, "V99")


def test_estimate_agrees_with_runs_within_10_percent(make_config):
    # The estimate assumes labeled examples are as long as the pool's on average: exact in
    # expectation for random sampling; uncertainty samplers may prefer shorter or longer texts,
    # so BALD's run is compared on inference (its T passes) only.
    specs = (
        ("retrain", "random", {}),
        ("new_only", "entropy", {}),
        ("finetune", "random", {}),
        ("retrain", "bald", {"T": 2}),
    )
    configs = [
        make_config(
            strategy_class=s,
            sampler_class=sampler,
            sampler_kwargs=kw,
            total_rounds=3,
            initial_pool_size=64,
            acquisition_batch_size=32,
            batch_size=16,
            tokenizer_kwargs={"max_length": 128},
            experiment_name=f"{s}-{sampler}",
        )
        for s, sampler, kw in specs
    ]
    estimate = estimate_grid(configs)
    assert estimate.exact
    measured = []
    for cfg in configs:
        al = ActiveLearning(cfg)
        al.run_full_pipeline()
        measured.append(al.records[-1])
    est_train = sum(r.train_flops for r in estimate.runs[:3])
    assert est_train == pytest.approx(sum(r.cum_train_flops for r in measured[:3]), rel=0.10)
    measured_infer = sum(r.cum_total_flops - r.cum_train_flops for r in measured)  # scoring + policy: AL cost
    assert estimate.al_flops - estimate.train_flops == pytest.approx(measured_infer, rel=0.10)
    text = describe(estimate)
    assert "GPU-hours" in text and "A10G" in text


def test_deltaf1_range_brackets_never_and_earliest_switch(make_config):
    cfg = make_config(
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 0.01, "k": 1, "after": "new_only"},
        total_rounds=5,
        tokenizer_kwargs={"max_length": 64},
    )
    run = estimate_grid([cfg]).runs[0]
    assert run.train_flops_min < run.train_flops
    retrain = estimate_grid([cfg.replace(strategy_class="retrain", strategy_kwargs={})]).runs[0]
    assert run.train_flops == retrain.train_flops


def test_order_statistic_by_hand():
    lengths = np.array([1, 3])
    assert expected_order_statistic(lengths, 2, 2) == pytest.approx(expected_max_length(lengths, 2))
    assert expected_order_statistic(lengths, 1, 2) == pytest.approx(1.5)  # min of two: 3 only if both are 3


@pytest.mark.parametrize("monitor, first_switch", [("validation", 2), ("acquired", 3)])
def test_earliest_switch_bound_equals_a_run_that_switches_as_early_as_it_can(make_config, monitor, first_switch):
    # ε = 1 makes every defined Δ stable, so the run switches at its earliest round; with fixed
    # padding the training FLOPs are a function of the row counts alone, so the bound is exact.
    # With monitor='acquired' Δ is first defined at round 2 (docs/design.md §4): k=1 switches at 3, not 2.
    cfg = make_config(
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "new_only", "guard": False},
        monitor=monitor,
        monitor_fraction=0.25,
        total_rounds=4,
        tokenizer_kwargs={"max_length": 32, "padding": "max_length"},
    )
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    assert al.switch_round == first_switch
    assert estimate_grid([cfg]).runs[0].train_flops_min == al.records[-1].cum_train_flops


def test_test_evaluation_is_estimated_apart_and_matches_the_run(make_config):
    cfg = make_config(
        total_rounds=4,
        test_every=2,
        test_subsample_size=40,
        tokenizer_kwargs={"max_length": 32, "padding": "max_length"},
    )
    run = estimate_grid([cfg]).runs[0]
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    last = al.records[-1]
    assert run.test_flops == last.cum_test_flops  # 40 rows at rounds 0 and 2, all 120 after round 3
    assert run.infer_flops == sum(r.infer_flops for r in al.records)
    assert run.stop_set_flops == sum(r.flops_stop_set for r in al.records) > 0  # every round's stability pass
    full = estimate_grid([cfg.replace(test_subsample_size=None)]).runs[0]
    # full split every round: 3 × 120 rows instead of 2 × 40 + 120 (fixed padding: FLOPs ∝ rows)
    assert full.test_flops * 200 == run.test_flops * 360 and full.infer_flops == run.infer_flops


def test_paper_preset_keeps_test_evaluation_under_a_tenth_of_the_compute(monkeypatch):
    # The hub is offline and no data folder is set: typical dataset sizes and lengths, as on a
    # laptop planning a cluster run. The bound is the cheapest case: every HybridAL trial
    # switching at its earliest round.
    from sweeps.dry_run import estimate_trials
    from sweeps.grid_expansion import expand_grid
    from sweeps.grid_file import load_grid_file

    monkeypatch.delenv("HYBRIDAL_DATA_DIR", raising=False)
    grid = estimate_trials(expand_grid(load_grid_file(REPO_ROOT / "sweeps" / "presets" / "paper.yaml")))
    assert not grid.exact
    assert grid.test_flops < 0.10 * (grid.train_flops_min + grid.infer_flops + grid.test_flops)
