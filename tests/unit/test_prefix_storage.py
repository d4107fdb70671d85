"""The dry run's peak `.prefixes` storage: states a trunk can save, and what each weighs."""

from __future__ import annotations

from sweeps.prefix_storage import describe_peak_storage, model_parameters, states_saved
from sweeps.share_simulation import simulate
from sweeps.sharing import SharePlan
from tests.support.sharing_grids import F1S, grid, trial


def test_a_trunk_saves_one_state_for_the_baselines_and_one_per_switch_round_at_most():
    plan = SharePlan(grid())  # 6 rounds; 5 deltaf1 members, k 1 or 2 (earliest switch 2)
    assert states_saved(plan, lambda cfg: 6) == {"retrain": 1 + 4}  # rounds 2..5 can be switched at
    few = SharePlan([trial("retrain"), trial("d", "deltaf1", eps=0.05, k=1)])
    assert states_saved(few, lambda cfg: 6) == {"retrain": 1}  # one rule: one state
    # The bound holds for a simulated sweep: the states it saves are no more than the bound.
    simulated = simulate(SharePlan(grid()), {"retrain": F1S})
    assert len(simulated.groups["retrain"].prefixes) <= 5


def test_a_state_weighs_the_model_and_the_kept_optimizer():
    cfg = trial("x").config.replace(model_name_or_path="tiny-bert")
    params = model_parameters(cfg)
    assert 4_000_000 < params < 5_000_000  # tiny-bert: hidden 128, 2 layers, BERT's 30,522-token vocabulary
    assert model_parameters(cfg.replace(model_name_or_path="distilbert-base-uncased")) == 66_955_010
    line = describe_peak_storage(
        SharePlan(
            [
                trial("retrain", model_name_or_path="tiny-bert"),
                trial("finetune", "finetune", model_name_or_path="tiny-bert"),
            ]
        ),
        lambda c: 6,
    )
    assert f"up to 1 saved states, {params * 4 / 1e9:.2f} GB" in line
    kept = describe_peak_storage(
        SharePlan(
            [
                trial("retrain", model_name_or_path="tiny-bert", keep_optimizer=True),
                trial("finetune", "finetune", model_name_or_path="tiny-bert", keep_optimizer=True),
            ]
        ),
        lambda c: 6,
    )
    assert f"{params * 12 / 1e9:.2f} GB" in kept


def test_a_groups_states_are_released_once_its_trunk_and_every_member_finished(tmp_path):
    """Per group, not at the sweep's end: a finished group frees its saved states and run copies;
    a group with a failed job keeps them for --resume, and --keep-prefixes keeps everything."""
    from sweeps.prefix_store import PREFIX_DIR
    from sweeps.searcher import ShareSearcher

    def store_with(names):
        for name in names:
            (tmp_path / PREFIX_DIR / name / "after-round-0").mkdir(parents=True, exist_ok=True)

    plan = simulate(SharePlan(grid()), {"retrain": F1S})  # every job of the one group done
    names = ["retrain", *plan.groups["retrain"].members]
    plan.jobs["finetune"].state = "failed"
    searcher = ShareSearcher(plan, {n: {} for n in plan.jobs}, list(plan.jobs), str(tmp_path))
    store_with(names)
    searcher.release_finished_group("new_only")
    assert all((tmp_path / PREFIX_DIR / n).is_dir() for n in names)  # finetune failed: kept for --resume
    plan.jobs["finetune"].state = "done"
    ShareSearcher(plan, {}, list(plan.jobs), str(tmp_path), keep_prefixes=True).release_finished_group("finetune")
    assert all((tmp_path / PREFIX_DIR / n).is_dir() for n in names)  # --keep-prefixes
    searcher.release_finished_group("finetune")
    assert not any((tmp_path / PREFIX_DIR / n).exists() for n in names)
