"""Stability signals, stopping criteria and halt_on in a run (docs/stopping.md, "In a run")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridal import ActiveLearning
from hybridal.errors import ConfigError
from hybridal.loop.stop_set import signals_of
from hybridal.records import STOP_SET_FIELDS, RoundRecord
from hybridal.stopping import build_criterion
from hybridal.stopping.configured import history_of

TIMES = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")
STOP_FIELDS = STOP_SET_FIELDS


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    """The same tiny entropy-sampling run with the default stop set, and without one (size 0)."""
    from tests.support.tiny_runs import tiny_config

    out = {}
    for name, size in (("with", None), ("without", 0)):
        cfg = tiny_config(tmp_path_factory.mktemp(name), total_rounds=4, sampler_class="entropy", stop_set_size=size)
        al = ActiveLearning(cfg)
        al.run_full_pipeline()
        out[name] = al
    return out


def test_every_round_records_the_stop_sets_signals(runs):
    al = runs["with"]
    records = al.records
    assert al.stopping.size == 60  # null: the validation split's size
    assert records[0].stop_kappa is None and records[0].stop_changed is None  # nothing to compare at round 0
    for r in records:
        assert 0 <= r.stop_entropy <= 1 and r.stop_entropy_nats >= 0 and r.flops_stop_set > 0
        assert r.stop_delta_f is None  # AG News has four classes: small-text's ΔF is binary only
    for r in records[1:]:
        assert -1 <= r.stop_kappa <= 1 and r.stop_changed_fraction == r.stop_changed / 60
    # Kept out of the AL cost for a run whose policy reads no signal.
    assert all(r.flops_policy == 0 for r in records)
    assert records[-1].cum_total_flops == sum(r.train_flops + r.flops_scoring for r in records)


def test_the_stop_set_changes_nothing_else(runs):
    """Drawn with its own seed and left in the pool: acquisitions and every other field are as without it."""
    with_, without = runs["with"], runs["without"]
    assert with_.pool.selected_by_round() == without.pool.selected_by_round()
    for a, b in zip(with_.records, without.records):
        a, b = a.to_dict(), b.to_dict()
        assert {k: v for k, v in a.items() if k not in STOP_FIELDS + TIMES} == {
            k: v for k, v in b.items() if k not in STOP_FIELDS + TIMES
        }
    assert all(r.stop_kappa is None and r.flops_stop_set == 0 for r in without.records)


def test_the_stop_set_is_unlabelled_at_round_zero_and_stays_in_the_pool(runs):
    al = runs["with"]
    rows = al.stopping.stop_set.rows
    assert len(np.unique(rows)) == 60
    assert not set(rows) & set(al.pool.selected_by_round()[0])


def test_the_summary_records_each_criterions_stop_round_as_a_replay_of_the_records(runs):
    al = runs["with"]
    summary = json.loads((al.run_dir / "summary.json").read_text())
    assert summary["stop_set"]["size"] == 60 and summary["stop_set"]["fingerprint"]
    assert summary["halt_on"] is None and summary["halted_round"] is None
    assert set(summary["stopping"]) == {
        "kappa_average",
        "classification_change",
        "overall_uncertainty",
        "early_stopping",
    }
    lines = (al.run_dir / "rounds.jsonl").read_text().splitlines()
    history = history_of([signals_of(RoundRecord.from_dict(json.loads(x)), 4) for x in lines], 4, 60)
    for label, entry in summary["stopping"].items():
        criterion = build_criterion(entry["criterion"], **entry["params"])
        assert entry["stop_round"] == criterion.stop_round(history), label
    assert summary["totals"]["flops_stop_set"] == sum(r.flops_stop_set for r in al.records)


def test_a_resumed_run_records_the_signals_an_uninterrupted_run_records(make_config, runs, tmp_path):
    """The previous round's stop-set predictions travel in the checkpoint (κ at the next round needs them)."""
    cfg = make_config(total_rounds=4, sampler_class="entropy", experiment_name="resumed")
    first = ActiveLearning(cfg)
    for record in first.iter_rounds():
        if record.round == 1:
            first.save_checkpoint(tmp_path / "ckpt")
            break
    resumed = ActiveLearning(cfg)
    resumed.load_checkpoint(tmp_path / "ckpt")
    resumed.run_full_pipeline()
    fields = [f for f in STOP_FIELDS if f != "flops_stop_set"]
    expected = [[getattr(r, f) for f in fields] for r in runs["with"].records]
    assert [[getattr(r, f) for f in fields] for r in resumed.records] == expected


def test_halt_on_ends_the_run_with_the_full_test_pass(make_config):
    """max_iterations 2 stops after round 1: the run ends there, evaluates the whole test split and
    says so; a budget criterion reads no labels and no pass, so nothing more is charged."""
    cfg = make_config(
        total_rounds=4,
        test_subsample_size=30,
        stopping=[{"name": "max_iterations", "max_iterations": 2}],
        halt_on="max_iterations",
        experiment_name="halted",
    )
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    assert len(al.records) == 2 and al.finished and len(al.planned_rounds()) == 2
    assert al.records[0].test_rows == "subsample" and al.records[1].test_rows == "full"
    assert al.records[1].test_n == 120 and al.final_metrics()["f1_score"] == al.records[1].test_f1
    summary = json.loads((al.run_dir / "summary.json").read_text())
    assert summary["halted_round"] == 1 and summary["stopping"]["max_iterations"]["stop_round"] == 1
    assert summary["status"] == "finished" and summary["rounds"] == 2
    assert all(r.flops_policy == 0 and r.labels_used == r.n_labeled for r in al.records)


def test_halt_on_a_stop_set_criterion_charges_its_passes(make_config):
    """kappa_average over a window of 1 with κ ≥ -1 stops at round 1; the stop-set passes it read
    are AL cost (flops_policy, cum_total_flops); it reads no labels."""
    cfg = make_config(
        total_rounds=4,
        stopping=[{"name": "kappa_average", "window_size": 1, "kappa": -1.0, "label": "any"}],
        halt_on="any",
        experiment_name="kappa-halt",
    )
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    assert len(al.records) == 2
    assert all(r.flops_policy == r.flops_stop_set > 0 for r in al.records)
    assert al.records[-1].cum_total_flops == sum(r.train_flops + r.flops_scoring + r.flops_stop_set for r in al.records)
    assert al.records[-1].labels_used == al.records[-1].n_labeled


def test_a_label_free_switch_reads_no_validation_labels(make_config):
    """trigger: change with threshold 1 calls round 1 stable (k = 1): the switch is decided for round 2.
    The rule read the stop set until then (policy FLOPs) and never the validation labels."""
    kwargs = {"k": 1, "after": "finetune", "trigger": "change", "threshold": 1.0, "guard": False}
    al = ActiveLearning(make_config(total_rounds=4, strategy_class="deltaf1", strategy_kwargs=kwargs))
    al.run_full_pipeline()
    assert al.switch_round == 2 and [r.strategy_used for r in al.records] == ["retrain"] * 2 + ["finetune"] * 2
    assert [r.stable_count for r in al.records[:2]] == [0, 1]
    assert all(r.labels_used == r.n_labeled and r.labels_read_by_policy == 0 for r in al.records)
    assert [r.flops_policy for r in al.records] == [r.flops_stop_set for r in al.records[:2]] + [0, 0]
    assert all(r.delta_f1 is not None for r in al.records[1:])  # the monitor's ΔF1, measured only


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(stop_set_size=10_000), "stop_set_size=10000 is larger than the 316 pool rows left unlabelled at round 0"),
        (dict(stopping=["delta_f_score"]), "delta_f_score is defined for binary tasks only"),
    ],
)
def test_bad_stopping_settings_fail_before_any_round(make_config, overrides, message):
    with pytest.raises(ConfigError, match=message):
        ActiveLearning(make_config(**overrides))


def test_a_checkpoint_from_before_stop_sets_resumes_with_those_criteria_not_measured(make_config, tmp_path):
    """A checkpoint without the stopping state (written before stop sets existed) resumes: the
    criteria on the stop set are reported as not measured rather than replayed over missing signals;
    a label-free trigger, which would read them, is refused in one sentence."""
    from hybridal.loop.checkpoints import STATE_FILE

    cfg = make_config(total_rounds=3, experiment_name="old")
    first = ActiveLearning(cfg)
    first.run_round()
    first.save_checkpoint(tmp_path / "ckpt")
    state = json.loads((tmp_path / "ckpt" / STATE_FILE).read_text())
    del state["stopping"]
    for r in state["records"]:
        for field in STOP_SET_FIELDS:
            r.pop(field, None)
    (tmp_path / "ckpt" / STATE_FILE).write_text(json.dumps(state))
    resumed = ActiveLearning(cfg)
    resumed.load_checkpoint(tmp_path / "ckpt")
    resumed.run_full_pipeline()
    stopping = json.loads((resumed.run_dir / "summary.json").read_text())["stopping"]
    assert stopping["kappa_average"] == {**stopping["kappa_average"], "measured": False, "stop_round": None}
    assert "measured" not in stopping["early_stopping"]
    label_free = {"trigger": "kappa", "k": 1}
    with pytest.raises(ConfigError, match="strategy_kwargs.trigger reads the stop set, but the checkpoint holds none"):
        ActiveLearning(cfg.replace(strategy_class="deltaf1", strategy_kwargs=label_free)).load_checkpoint(
            tmp_path / "ckpt"
        )


def test_the_estimate_of_an_uncertain_halt_lowers_scoring_and_labels_too(make_config):
    from hybridal.cost.estimate import estimate_grid

    halt = dict(stopping=[{"name": "kappa_average", "window_size": 1, "kappa": -1.0}], halt_on="kappa_average")
    est = estimate_grid([make_config(total_rounds=4, sampler_class="entropy", **halt)]).runs[0]
    assert est.rounds_min == 2 and est.labels_min == 36 < est.labels == 60
    assert 0 < est.scoring_flops_min < est.scoring_flops and est.al_flops_min < est.al_flops
