"""Honest accounting (docs/accounting.md): what a run is charged, what it measures, what each round
records to diagnose it, and the switch rule's guard against the trivial plateau."""

from __future__ import annotations

import json

import pytest

from hybridal import ActiveLearning
from hybridal.cost.estimate import estimate_grid
from hybridal.strategies import switch_decided_round_for

# ---- the guard on a constructed Jigsaw-like sequence -------------------------------------------

# Jigsaw in the study: rounds 0 and 1 predict the majority class only (macro-F1 0.478 both, |Δ| = 0),
# then the model learns. Unguarded, every k = 1 rule "stabilises" there and switches at round 2.
JIGSAW_LIKE_F1 = [0.478, 0.478, 0.55, 0.62, 0.63, 0.635, 0.64]
JIGSAW_LIKE_DEGENERATE = [True, True, False, False, False, False, False]


@pytest.mark.parametrize(
    "epsilon, k, unguarded, guarded",
    [
        (0.02, 1, 2, 5),  # off: the plateau (Δ_1 = 0) switches at 2; on: Δ_4 = 0.01 is the first real stability
        (0.02, 2, 6, 6),  # k = 2: the plateau gave one stable round, then Δ_2 reset it; both need Δ_4, Δ_5
        (0.1, 1, 2, 4),  # on: Δ_2 is measured from a degenerate round (not stable); Δ_3 = 0.07 is
        (0.0, 1, None, None),
    ],
)
def test_the_trivial_plateau_switches_only_without_the_guard(epsilon, k, unguarded, guarded):
    f1s, flags = JIGSAW_LIKE_F1, JIGSAW_LIKE_DEGENERATE
    assert switch_decided_round_for(f1s, epsilon, k, flags, guard=False) == unguarded
    assert switch_decided_round_for(f1s, epsilon, k, flags, guard=True) == guarded
    assert switch_decided_round_for(f1s, epsilon, k) == unguarded  # no flags recorded (schema 1): as unguarded


def test_the_guard_on_a_real_run_skips_the_plateau(plateau_config):
    """The engine's own degenerate flags drive the guard: off, the one-class plateau of rounds 0-2
    switches at 2; on, the rule waits for a stable round after learning (5)."""
    kwargs = {"epsilon": 0.05, "k": 1}
    on = ActiveLearning(plateau_config(experiment_name="on", strategy_class="deltaf1", strategy_kwargs=kwargs))
    on.run_full_pipeline()
    assert [r.monitor_degenerate for r in on.records[:3]] == [True, True, True]
    assert [r.val_pred_counts.count(0) for r in on.records[:3]] == [1, 1, 1]  # one class of two predicted
    assert on.switch_round == 5
    off = ActiveLearning(
        plateau_config(experiment_name="off", strategy_class="deltaf1", strategy_kwargs={**kwargs, "guard": False})
    )
    off.run_full_pipeline()
    assert off.switch_round == 2
    # The guard is recorded resolved, so every config says which rule ran.
    assert (
        on.cfg.to_dict()["strategy_kwargs"] == {**kwargs, "guard": True} and off.cfg.strategy_kwargs["guard"] is False
    )


# ---- labels and FLOPs: cost vs measurement -------------------------------------------------------


def test_a_validation_monitor_rule_is_charged_its_labels_and_passes_and_retrain_is_not(make_config):
    hybrid = ActiveLearning(
        make_config(
            experiment_name="hybrid",
            strategy_class="deltaf1",
            sampler_class="entropy",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
            total_rounds=4,
        )
    )
    hybrid.run_full_pipeline()
    retrain = ActiveLearning(make_config(experiment_name="retrain", sampler_class="entropy", total_rounds=4))
    retrain.run_full_pipeline()
    val_rows = len(hybrid.parts.splits.validation)
    assert hybrid.switch_round == 2  # decided after round 1: rounds 0 and 1 were read to decide
    for run, reads in ((hybrid, [True, True, False, False]), (retrain, [False] * 4)):
        cum = 0
        for rec, read in zip(run.records, reads):
            assert rec.schema_version == 2
            assert rec.infer_flops == rec.flops_scoring + rec.flops_policy + rec.flops_validation
            assert rec.flops_policy == (rec.flops_monitor if read else 0) and rec.flops_monitor > 0
            cum += rec.train_flops + rec.flops_scoring + rec.flops_policy
            assert rec.cum_total_flops == cum
            assert rec.labels_acquired == rec.n_labeled
        assert all(r.flops_scoring > 0 for r in run.records[1:]) and run.records[0].flops_scoring == 0
    assert [r.labels_used for r in hybrid.records] == [r.n_labeled + val_rows for r in hybrid.records]
    assert [r.labels_used for r in retrain.records] == [r.n_labeled for r in retrain.records]
    # Retrain's validation passes are measurement: its AL cost is training + scoring alone.
    last = retrain.records[-1]
    assert last.cum_total_flops == last.cum_train_flops + sum(r.flops_scoring for r in retrain.records)
    summary = json.loads((hybrid.run_dir / "summary.json").read_text())
    assert summary["schema_version"] == 2
    assert summary["labels"] == {
        "acquired": hybrid.pool.n_labeled,
        "read_by_policy": val_rows,
        "used": hybrid.pool.n_labeled + val_rows,
    }
    totals = summary["totals"]
    assert totals["total_flops"] == totals["train_flops"] + totals["flops_scoring"] + totals["flops_policy"]
    assert totals["infer_flops"] == totals["flops_scoring"] + totals["flops_policy"] + totals["flops_validation"]


def test_an_acquired_monitor_rule_reads_no_extra_labels(make_config):
    al = ActiveLearning(
        make_config(
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
            monitor="acquired",
            monitor_fraction=0.25,
            total_rounds=4,
        )
    )
    al.run_full_pipeline()
    assert [r.labels_used for r in al.records] == [r.n_labeled for r in al.records]
    # The monitor pass is policy cost until the decision (after round 2); validation is measurement throughout.
    assert [r.flops_policy > 0 for r in al.records] == [False, True, True, False]  # round 0: no monitor rows
    assert all(r.flops_validation > 0 for r in al.records)


def test_the_estimate_splits_cost_as_the_records_do(make_config):
    """Fixed padding makes FLOPs a function of row counts, so the estimate is exact: a rule that
    never decides (ε = 0) reads the validation pass every round."""
    fixed = {"max_length": 32, "padding": "max_length"}
    for kwargs, policy_rounds in (({"epsilon": 0.0, "k": 1}, 4), ({"epsilon": 1.0, "k": 1, "guard": False}, 2)):
        cfg = make_config(strategy_class="deltaf1", strategy_kwargs=kwargs, total_rounds=4, tokenizer_kwargs=fixed)
        al = ActiveLearning(cfg)
        al.run_full_pipeline()
        est = estimate_grid([cfg]).runs[0]
        last = al.records[-1]
        assert est.labels_used == last.labels_used == last.n_labeled + 60
        assert est.scoring_flops == sum(r.flops_scoring for r in al.records) == 0  # random sampler
        spent = sum(r.flops_policy for r in al.records)
        assert spent == policy_rounds * al.records[0].flops_monitor
        assert (est.policy_flops if policy_rounds == 4 else est.policy_flops_min) == spent
        assert (est.al_flops if policy_rounds == 4 else est.al_flops_min) == last.cum_total_flops
    retrain = estimate_grid([cfg.replace(strategy_class="retrain", strategy_kwargs={})]).runs[0]
    assert retrain.policy_flops == 0 and retrain.labels_used == retrain.labels


def test_the_estimate_knows_label_free_triggers_and_halt_on(make_config):
    """Exact with fixed padding: a label-free rule deciding at its earliest round (k+1 = 2) read two
    stop-set passes and no label; a budget halt is certain (both bounds end there); a stop-set halt at
    its earliest round meets the lower bound, its passes charged every round."""
    fixed = dict(total_rounds=4, tokenizer_kwargs={"max_length": 32, "padding": "max_length"})
    label_free = {"k": 1, "trigger": "change", "threshold": 1.0, "guard": False}
    cases = (
        (dict(strategy_class="deltaf1", strategy_kwargs=label_free), "min", 4),
        (dict(stopping=[{"name": "max_iterations", "max_iterations": 2}], halt_on="max_iterations"), "both", 2),
        (
            dict(stopping=[{"name": "kappa_average", "window_size": 1, "kappa": -1.0}], halt_on="kappa_average"),
            "min",
            4,
        ),
    )
    for overrides, bound, rounds in cases:
        cfg = make_config(**fixed, **overrides)
        al = ActiveLearning(cfg)
        al.run_full_pipeline()
        est, last = estimate_grid([cfg]).runs[0], al.records[-1]
        assert est.labels_read_by_policy == 0 and last.labels_used == last.n_labeled and est.rounds == rounds
        assert est.rounds_min == len(al.records) and (est.labels == last.n_labeled) == (rounds == len(al.records))
        assert est.al_flops_min == last.cum_total_flops
        assert (est.al_flops == last.cum_total_flops) == (bound == "both")


# ---- diagnostics -----------------------------------------------------------------------------------


def test_every_round_records_its_diagnostics(make_config):
    al = ActiveLearning(make_config(strategy_class="new_only", epochs=2, total_rounds=3, test_subsample_size=40))
    al.run_full_pipeline()
    trained = 0
    for rec in al.records:
        assert len(rec.train_loss_per_epoch) == 2 and all(v > 0 for v in rec.train_loss_per_epoch)
        assert rec.train_loss == pytest.approx(sum(rec.train_loss_per_epoch) / 2, rel=0.2)
        trained += rec.n_new
        assert sum(rec.labels_per_class) == trained and len(rec.labels_per_class) == 4
        assert sum(rec.val_pred_counts) == 60
        assert sum(rec.test_pred_counts) == rec.test_n
        assert rec.degenerate == (sum(c > 0 for c in rec.val_pred_counts) == 1)
    summary = al.summary()
    assert sum(summary["final_test"]["pred_counts"]) == len(al.parts.splits.test)
    assert summary["final_test"]["degenerate"] == (sum(c > 0 for c in summary["final_test"]["pred_counts"]) == 1)


def test_guarded_and_unguarded_rules_are_different_configurations(make_config):
    """The guard is a canonical column, like ε and k: the analysis never pools a guarded and an
    unguarded rule as seeds of one configuration, and reads a trial written before the guard
    existed as unguarded (the rule it ran)."""
    from analysis.reading.configuration import config_key
    from analysis.reading.problems import ProblemLog
    from analysis.reading.trial_as_read import canonical_columns
    from hybridal.loop.trial_columns import trial_columns

    rule = dict(strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.05, "k": 1})
    on = trial_columns(make_config(**rule))
    off = trial_columns(make_config(**{**rule, "strategy_kwargs": {"epsilon": 0.05, "k": 1, "guard": False}}))
    assert (on["guard"], off["guard"]) == (True, False) and trial_columns(make_config())["guard"] is None
    assert config_key(on) != config_key(off)
    problems = ProblemLog()
    old = canonical_columns({k: v for k, v in off.items() if k != "guard"}, "old", problems)
    assert old == off and not problems.lines()
