"""Multi-label runs end to end on a four-label keyword CSV: the records, every sampler, resume, the
estimate, and a shared-prefix sweep identical to --no-share."""

from __future__ import annotations

import json

import numpy as np
import pytest
import ray.tune  # noqa: F401 - first import at collection (see test_sweeps.py)

from hybridal import ActiveLearning
from hybridal.cost.estimate import estimate_grid
from hybridal.records import MULTILABEL_FIELDS, RoundRecord
from hybridal.samplers import sampler_names
from tests.support.shared_sweeps import BASE, same_results, sweep, write_grid
from tests.support.tiny_runs import KEYWORDS, MULTILABEL, finished_run, write_multilabel_csv

TIMING = {"train_seconds", "query_seconds", "eval_seconds", "wall_seconds"}


def untimed(records):
    return [{k: v for k, v in r.to_dict().items() if k not in TIMING} for r in records]


def test_a_run_records_every_multi_label_metric_and_learns_the_keywords(multilabel_config):
    al = finished_run(multilabel_config(sampler_class="entropy", stop_set_size=40))
    rows = [json.loads(line) for line in (al.run_dir / "rounds.jsonl").read_text().splitlines()]
    assert [RoundRecord.from_dict(r) for r in rows] == al.records
    for rec in al.records:
        assert set(MULTILABEL_FIELDS) <= set(rec.to_dict())
        assert rec.val_f1 == rec.val_micro_f1 == rec.monitor_f1  # the monitored metric (micro-F1 by default)
        assert len(rec.val_per_label_f1) == len(rec.labels_per_class) == len(rec.val_pred_counts) == 4
        assert 0 <= rec.val_hamming_loss <= 1 and rec.stop_kappa is None or -1 <= rec.stop_kappa <= 1
    last = al.records[-1]
    # labels_per_class: each label's positives among the labelled rows (a row counts once per label it has)
    labelled = al.parts.labels["pool"][al.pool.train_indices()]
    assert last.labels_per_class == labelled.sum(axis=0).tolist() and last.n_labeled == len(labelled)
    summary = json.loads((al.run_dir / "summary.json").read_text())
    assert summary["data"]["task"]["type"] == "multi_label" and summary["data"]["label_names"] == list(KEYWORDS)
    final = summary["final_test"]["multilabel"]
    assert (
        final["micro_f1"] == summary["final_test"]["f1"] and final["mean_auc"] > 0.6
    )  # above chance (0.5): it learns the keywords
    assert al.parts.model.model.config.problem_type == "multi_label_classification"


def test_the_monitored_metric_and_threshold_are_config(multilabel_config):
    macro = finished_run(multilabel_config(total_rounds=2, monitor_metric="macro_f1", decision_threshold=0.3))
    rec = macro.records[-1]
    assert rec.val_f1 == rec.val_macro_f1 != rec.val_micro_f1
    assert macro.parts.task.threshold == 0.3


ML_SAMPLERS = sampler_names(multi_label=True)


def test_the_multi_label_samplers_are_the_documented_ones():
    assert ML_SAMPLERS == ["aal", "bald", "coreset", "cvirs", "entropy", "lci", "least_confidence", "margin", "random"]


@pytest.mark.parametrize("sampler", ML_SAMPLERS)
def test_every_multi_label_sampler_resumes_bit_identically(multilabel_config, tmp_path, sampler):
    cfg = multilabel_config(
        sampler_class=sampler,
        sampler_kwargs={"T": 2} if sampler == "bald" else {},
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
        keep_optimizer=True,
        candidate_pool_size=120,
        total_rounds=3,
    )
    full = finished_run(cfg)
    first = ActiveLearning(cfg.replace(save_dir=str(tmp_path / "a")))
    first.run_round()
    first.run_round()
    first.save_checkpoint(tmp_path / "ckpt")
    second = ActiveLearning(cfg.replace(save_dir=str(tmp_path / "b")))
    second.load_checkpoint(tmp_path / "ckpt")
    second.run_full_pipeline()
    assert untimed(second.records) == untimed(full.records)
    assert second.pool.selected_by_round() == full.pool.selected_by_round()
    picks = np.concatenate([np.asarray(v) for v in full.pool.selected_by_round().values()])
    assert len(np.unique(picks)) == len(picks)  # no row acquired twice


def test_the_estimate_counts_a_multi_label_run_as_it_runs(multilabel_config):
    cfg = multilabel_config(tokenizer_kwargs={"max_length": 32, "padding": "max_length"}, total_rounds=3)
    run = estimate_grid([cfg]).runs[0]
    al = finished_run(cfg)
    assert run.train_flops_min == al.records[-1].cum_train_flops  # fixed padding: exact
    assert run.test_flops == al.records[-1].cum_test_flops
    assert run.labels == al.records[-1].labels_acquired


@pytest.mark.slow
def test_a_shared_multi_label_sweep_equals_no_share(ray_env, tmp_path):
    csv = write_multilabel_csv(tmp_path / "data" / "train.csv")
    base = {**BASE, **{k: v for k, v in MULTILABEL.items() if k != "seed"}}
    base |= {"total_rounds": 4, "epochs": 1, "candidate_pool_size": 100, "label_columns": list(KEYWORDS)}
    axes = {"strategies": ["retrain", "finetune", "deltaf1"], "epsilons": [1.0], "ks": [1, 2], "guards": [False]}
    grid_file = write_grid(tmp_path / "grid.yaml", base, axes, datasets=[str(csv)])
    shared, _ = sweep(tmp_path, grid_file, "shared")
    alone, _ = sweep(tmp_path, grid_file, "alone", "--no-share")
    same_results(shared, alone)
    assert {v["switch"] for n, v in shared.items() if "deltaf1" in n} == {2, 3}
    assert [v["role"] for v in shared.values()].count("fork") >= 1
    assert all(rec["val_micro_f1"] is not None for v in shared.values() for rec in v["records"])


def test_a_label_free_switch_to_shrink_perturb_runs_on_a_multi_label_task(multilabel_config):
    """The change trigger reads the rows whose label set changed; threshold 1.0 makes every round from 1 on
    stable, so with k = 1 the rule switches at round 2 and shrink_perturb trains from there."""
    kwargs = {"k": 1, "after": "shrink_perturb", "guard": False, "trigger": "change", "threshold": 1.0}
    al = finished_run(multilabel_config(strategy_class="deltaf1", strategy_kwargs=kwargs, stop_set_size=40))
    assert [r.strategy_used for r in al.records] == ["retrain", "retrain", "shrink_perturb", "shrink_perturb"]
    assert all(r.labels_read_by_policy == 0 for r in al.records)  # a label-free rule reads no validation label
    for rec in al.records[1:]:
        assert 0 <= rec.stop_changed <= 40 and rec.stop_changed_fraction == rec.stop_changed / 40
        assert rec.stop_delta_f is None and 0 <= rec.stop_entropy <= 1
