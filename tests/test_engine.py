"""The round loop: what each strategy trains on and from, monitor modes, budgets, outputs, resume."""
import json

import numpy as np
import pytest
import torch

import hybridal.active_learning as engine
from hybridal import RECORD_FIELDS, ActiveLearning

TIMING = {"train_seconds", "query_seconds", "eval_seconds", "wall_seconds"}


def untimed(records):
    return [{k: v for k, v in r.to_dict().items() if k not in TIMING} for r in records]


def weights_fingerprint(model):
    return float(sum(p.detach().double().sum() * (i + 1) for i, p in enumerate(model.parameters())))


@pytest.fixture
def spy(monkeypatch):
    """Record, per training call: start weights, rows trained on, epochs."""
    calls = []
    real = engine.train_epochs

    def wrapper(model, tokens, rows, labels, epochs, *args, **kwargs):
        calls.append({"start": weights_fingerprint(model), "rows": np.array(rows), "epochs": epochs})
        stats = real(model, tokens, rows, labels, epochs, *args, **kwargs)
        calls[-1]["end"] = weights_fingerprint(model)
        return stats

    monkeypatch.setattr(engine, "train_epochs", wrapper)
    return calls


def run(cfg):
    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    return al


def test_retrain_starts_every_round_from_identical_weights(make_config, spy):
    al = run(make_config(strategy_class="retrain", total_rounds=3))
    starts = [c["start"] for c in spy]
    assert len(spy) == 3 and starts[0] == starts[1] == starts[2]
    assert spy[2]["end"] != starts[2]
    assert len(spy[2]["rows"]) == 24 + 12 + 12 and [r.strategy_used for r in al.records] == ["retrain"] * 3


def test_finetune_continues_from_current_weights(make_config, spy):
    al = run(make_config(strategy_class="finetune", finetune_epochs=2))
    assert spy[1]["start"] == spy[0]["end"] and spy[2]["start"] == spy[1]["end"]
    assert [c["epochs"] for c in spy] == [1, 2, 2]       # round 0 trains `epochs`, later `finetune_epochs`
    assert sorted(spy[2]["rows"]) == sorted(al.pool.train_indices())
    assert [r.strategy_used for r in al.records] == ["retrain", "finetune", "finetune"]


def test_new_only_sees_only_the_rounds_labels_plus_replay(make_config, spy):
    al = run(make_config(strategy_class="new_only", replay=5))
    for r in (1, 2):
        new = set(al.pool.new_train_indices(r))
        rows = list(spy[r]["rows"])
        assert len(rows) == len(set(rows)) == 12 + 5
        assert new <= set(rows)
        replayed = set(rows) - new
        assert len(replayed) == 5 and all(al.pool.round[i] < r for i in replayed)
    assert spy[1]["start"] == spy[0]["end"]
    assert al.records[1].train_samples == 17


def test_monitor_acquired_never_trained_on_and_counts_against_budget(make_config, spy):
    al = run(make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 1.0, "k": 1},
                         monitor="acquired", monitor_fraction=0.25, total_rounds=4))
    monitor = set(al.pool.monitor_indices())
    assert len(monitor) == 3 * 3                                   # round(0.25 × 12) per batch
    for call in spy:
        assert not monitor & set(call["rows"])
    recs = al.records
    assert [r.n_labeled for r in recs] == [24, 36, 48, 60]          # monitor labels are paid for
    assert recs[0].monitor_f1 is None and recs[1].delta_f1 is None and recs[2].delta_f1 is not None
    assert al.strategy.switch_round == 3                            # first Δ at round 2, k=1
    summary = json.loads((al.run_dir / "summary.json").read_text())
    assert sorted(summary["monitor_indices"]) == sorted(monitor)


def test_selections_never_repeat_or_touch_labeled(make_config):
    al = run(make_config(sampler_class="entropy", total_rounds=4))
    chosen = [i for idx in al.pool.selected_by_round().values() for i in idx]
    assert len(chosen) == len(set(chosen)) == 24 + 3 * 12


def test_same_seed_same_selections_and_metrics(make_config, tmp_path):
    a = run(make_config(sampler_class="margin", strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.05, "k": 1}))
    b = run(make_config(sampler_class="margin", strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.05, "k": 1},
                        save_dir=str(tmp_path / "other")))
    c = run(make_config(sampler_class="margin", seed=4, save_dir=str(tmp_path / "third")))
    assert untimed(a.records) == untimed(b.records)
    assert b.tokenization_cached == {"pool": True, "validation": True, "test": True}   # tokenized once
    assert a.pool.selected_by_round() == b.pool.selected_by_round()
    assert a.pool.selected_by_round() != c.pool.selected_by_round()


def test_label_budget_cuts_the_last_batch(make_config):
    al = run(make_config(total_rounds=10, label_budget=50))
    recs = al.records
    assert [r.n_labeled for r in recs] == [24, 36, 48, 50]
    assert recs[-1].short_batch and recs[-1].n_new == 2 and not recs[-2].short_batch
    assert recs[-1].test_f1 is not None


def test_test_every_and_always_after_last_round(make_config):
    al = run(make_config(total_rounds=4, test_every=2))
    assert [r.test_f1 is not None for r in al.records] == [True, False, True, True]
    # the tiny test split (120 rows) is smaller than the default subsample: the full split every time
    assert [r.test_rows for r in al.records] == ["full", None, "full", "full"]
    assert [r.test_n for r in al.records] == [120, None, 120, 120]


def test_test_flops_are_reported_apart_from_the_al_cost(make_config):
    # Random sampling, validation monitor: each round's AL inference is the same validation pass,
    # whether or not test is evaluated that round.
    al = run(make_config(total_rounds=4, test_every=2))
    recs = al.records
    assert len({r.infer_flops for r in recs}) == 1
    assert [r.test_flops > 0 for r in recs] == [True, False, True, True]
    assert recs[-1].cum_total_flops == sum(r.train_flops + r.infer_flops for r in recs)
    assert recs[-1].cum_test_flops == sum(r.test_flops for r in recs)
    totals = json.loads((al.run_dir / "summary.json").read_text())["totals"]
    assert totals["total_flops"] == recs[-1].cum_total_flops and totals["test_flops"] == recs[-1].cum_test_flops


def test_curves_use_a_seeded_stratified_subsample_and_final_metrics_the_full_split(make_config, tmp_path):
    cfg = make_config(total_rounds=3, test_subsample_size=40, sampler_class="entropy")
    al = run(cfg)
    assert [(r.test_rows, r.test_n) for r in al.records] == [("subsample", 40), ("subsample", 40), ("full", 120)]
    assert al.records[0].test_flops < al.records[-1].test_flops
    assert al.final_metrics()["f1_score"] == al.records[-1].test_f1
    plan = json.loads((al.run_dir / "summary.json").read_text())["test_subsample"]
    rows = np.array(plan["indices"])
    assert plan["size"] == len(rows) == len(set(rows)) == 40 and plan["of"] == 120
    classes = np.bincount(al.labels["test"][rows], minlength=4)
    assert classes.max() - classes.min() <= 1                      # AG News test is balanced: 10 per class
    # The rows depend on the seed only: same for another strategy, sampler and round count.
    other = run(cfg.replace(strategy_class="new_only", sampler_class="random", total_rounds=2, save_dir=str(tmp_path / "o")))
    assert other.test_subsample_summary() == plan
    reseeded = run(cfg.replace(seed=4, total_rounds=1, save_dir=str(tmp_path / "s")))
    assert reseeded.test_subsample_summary()["fingerprint"] != plan["fingerprint"]
    # The AL itself is untouched by the evaluation plan: same selections, same AL cost.
    full = run(cfg.replace(test_subsample_size=None, save_dir=str(tmp_path / "f")))
    assert [r.test_rows for r in full.records] == ["full"] * 3
    assert full.pool.selected_by_round() == al.pool.selected_by_round()
    assert [r.cum_total_flops for r in full.records] == [r.cum_total_flops for r in al.records]
    assert full.final_metrics()["f1_score"] == al.final_metrics()["f1_score"]


def test_outputs_records_and_flops(make_config):
    al = run(make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 1.0, "k": 1}, tensorboard=True, total_rounds=4))
    folder = al.run_dir
    lines = (folder / "rounds.jsonl").read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        assert set(RECORD_FIELDS) <= set(json.loads(line))
    cum = [r.cum_train_flops for r in al.records]
    assert all(b > a for a, b in zip(cum, cum[1:]))
    assert all(r.cum_total_flops > r.cum_train_flops and r.infer_flops > 0 for r in al.records)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["switch_round"] == 2 and summary["status"] == "finished"
    assert summary["totals"]["train_flops"] == cum[-1]
    assert summary["trial"]["strategy"] == "deltaf1" and summary["trial"]["epsilon"] == 1.0
    assert set(summary["final_test"]["per_class_f1"]) == {"World", "Sports", "Business", "Sci/Tech"}
    assert summary["environment"]["versions"]["torch"] == torch.__version__.split("+")[0] or summary["environment"]["versions"]["torch"].startswith(torch.__version__[:4])
    assert (folder / "config.yaml").is_file()
    events = list((folder / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    assert [r.strategy_used for r in al.records] == ["retrain", "retrain", "finetune", "finetune"]


def test_epsilon_zero_never_switches(make_config):
    al = run(make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.0, "k": 1}, total_rounds=4))
    assert al.strategy.switch_round is None and all(r.strategy_used == "retrain" for r in al.records)


def test_fixed_padding_processes_max_length_tokens(make_config):
    al = run(make_config(tokenizer_kwargs={"max_length": 160, "padding": "max_length"}, total_rounds=1))
    rec = al.records[0]
    assert rec.train_tokens == rec.train_samples * 160
    dynamic = run(make_config(tokenizer_kwargs={"max_length": 160}, total_rounds=1, experiment_name="dyn"))
    assert dynamic.records[0].train_tokens < rec.train_tokens
    assert dynamic.records[0].train_flops < rec.train_flops


def test_checkpoint_resume_equals_uninterrupted(make_config, tmp_path):
    cfg = make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.2, "k": 1}, sampler_class="entropy",
                      total_rounds=4, keep_optimizer=True)
    full = run(cfg)
    first = ActiveLearning(cfg.replace(save_dir=str(tmp_path / "a")))
    for _ in range(2):
        first.run_round()
    first.save_checkpoint(tmp_path / "ckpt")
    second = ActiveLearning(cfg.replace(save_dir=str(tmp_path / "b")))
    second.load_checkpoint(tmp_path / "ckpt")
    assert second.next_round == 2
    second.run_full_pipeline()
    assert untimed(second.records) == untimed(full.records)
    assert second.final_metrics()["f1_score"] == full.final_metrics()["f1_score"]
    assert len((second.run_dir / "rounds.jsonl").read_text().splitlines()) == 4


@pytest.mark.parametrize("sampler", ["random", "entropy", "least_confidence", "margin", "bald", "coreset", "badge"])
def test_every_sampler_end_to_end(make_config, sampler):
    kwargs = {"T": 3} if sampler == "bald" else {}
    al = run(make_config(sampler_class=sampler, sampler_kwargs=kwargs, total_rounds=2, candidate_pool_size=100))
    assert al.records[-1].n_labeled == 36 and al.records[-1].n_new == 12
    if sampler != "random":
        assert al.records[1].infer_flops > al.records[0].infer_flops   # scoring is counted
    picked = al.pool.selected_by_round()[1]
    assert len(set(picked)) == 12


def test_optimizer_is_fused_unless_the_user_chose_an_implementation():
    from torch.optim import SGD, AdamW, RMSprop

    assert engine.with_fused_default(AdamW, {"lr": 1e-4}) == {"lr": 1e-4, "fused": True}
    assert engine.with_fused_default(AdamW, {"lr": 1e-4, "foreach": True}) == {"lr": 1e-4, "foreach": True}
    assert engine.with_fused_default(SGD, {"fused": False}) == {"fused": False}
    assert engine.with_fused_default(RMSprop, {"lr": 1e-2}) == {"lr": 1e-2}   # has no fused kernel
    # The fused update is the same arithmetic as the default, to float tolerance.
    results = []
    for kwargs in ({"lr": 1e-2, "fused": True}, {"lr": 1e-2, "foreach": False}):
        torch.manual_seed(0)
        layer = torch.nn.Linear(8, 3)
        opt = AdamW(layer.parameters(), **kwargs)
        for _ in range(3):
            opt.zero_grad()
            layer(torch.randn(5, 8)).pow(2).sum().backward()
            opt.step()
        results.append(layer.weight.detach().clone())
    assert torch.allclose(results[0], results[1], atol=1e-6)
