"""The round loop: what each strategy trains on and from, monitor modes, budgets, outputs, resume."""

import json
import re

import numpy as np
import pytest
import torch

import hybridal.data.datasets as data
import hybridal.model.training as training
from hybridal import ActiveLearning
from hybridal.loop.trial_columns import trial_columns
from hybridal.model.optimization import with_fused_default
from hybridal.records import MULTILABEL_FIELDS, SINGLE_LABEL_FIELDS, TRIAL_COLUMNS
from tests.support.tiny_runs import finished_run

TIMING = {"train_seconds", "query_seconds", "eval_seconds", "wall_seconds"}


def untimed(records):
    return [{k: v for k, v in r.to_dict().items() if k not in TIMING} for r in records]


def weights_fingerprint(model):
    return float(sum(p.detach().double().sum() * (i + 1) for i, p in enumerate(model.parameters())))


@pytest.fixture
def spy(monkeypatch):
    """Record, per training call: start weights, rows trained on, epochs."""
    calls = []
    real = training.train_epochs

    def wrapper(model, tokens, rows, labels, epochs, *args, **kwargs):
        calls.append({"start": weights_fingerprint(model), "rows": np.array(rows), "epochs": epochs})
        stats = real(model, tokens, rows, labels, epochs, *args, **kwargs)
        calls[-1]["end"] = weights_fingerprint(model)
        return stats

    monkeypatch.setattr(training, "train_epochs", wrapper)
    return calls


def test_retrain_starts_every_round_from_identical_weights(make_config, spy):
    al = finished_run(make_config(strategy_class="retrain", total_rounds=3))
    starts = [c["start"] for c in spy]
    assert len(spy) == 3 and starts[0] == starts[1] == starts[2]
    assert spy[2]["end"] != starts[2]
    assert len(spy[2]["rows"]) == 24 + 12 + 12 and [r.strategy_used for r in al.records] == ["retrain"] * 3


def test_finetune_continues_from_current_weights(make_config, spy):
    al = finished_run(make_config(strategy_class="finetune", finetune_epochs=2))
    assert spy[1]["start"] == spy[0]["end"] and spy[2]["start"] == spy[1]["end"]
    assert [c["epochs"] for c in spy] == [1, 2, 2]  # round 0 trains `epochs`, later `finetune_epochs`
    assert sorted(spy[2]["rows"]) == sorted(al.pool.train_indices())
    assert [r.strategy_used for r in al.records] == ["retrain", "finetune", "finetune"]


def test_new_only_sees_only_the_rounds_labels_plus_replay(make_config, spy):
    al = finished_run(make_config(strategy_class="new_only", replay=5))
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
    al = finished_run(
        make_config(
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
            monitor="acquired",
            monitor_fraction=0.25,
            total_rounds=4,
        )
    )
    monitor = set(al.pool.monitor_indices())
    assert len(monitor) == 3 * 3  # round(0.25 × 12) per batch
    for call in spy:
        assert not monitor & set(call["rows"])
    recs = al.records
    assert [r.n_labeled for r in recs] == [24, 36, 48, 60]  # monitor labels are paid for
    assert recs[0].monitor_f1 is None and recs[1].delta_f1 is None and recs[2].delta_f1 is not None
    assert al.switch_round == 3  # first Δ at round 2, k=1
    summary = json.loads((al.run_dir / "summary.json").read_text())
    assert sorted(summary["monitor_indices"]) == sorted(monitor)


def test_acquired_monitor_f1_averages_over_the_classes_it_holds(make_config, monkeypatch):
    # 3 monitor examples a round cannot hold all 4 AG News classes at first; an absent class
    # must not count as F1 0 (that capped F1 at 3/4 and made it jump when the class came).
    seen = []
    real = training.evaluate

    def spy_evaluate(model, tokens, rows, labels, *args, **kwargs):
        result = real(model, tokens, rows, labels, *args, **kwargs)
        seen.append((np.asarray(labels)[np.asarray(rows, dtype=np.int64)], result))
        return result

    monkeypatch.setattr(training, "evaluate", spy_evaluate)
    al = finished_run(make_config(monitor="acquired", monitor_fraction=0.25, total_rounds=4))
    monitor_evals = [(y, res) for y, res in seen if len(y) and len(y) <= 9]  # validation has 60 rows, test 120
    assert al.records[0].monitor_f1 is None and al.records[0].monitor_classes is None
    assert len(monitor_evals) == 3  # rounds 1-3 (round 0 has none)
    for rec, (y, res) in zip(al.records[1:], monitor_evals):
        present = np.unique(y)
        assert rec.monitor_classes == len(present) == res.classes_present
        assert rec.monitor_f1 == pytest.approx(np.mean(np.asarray(res.per_class_f1)[present]))
    assert min(r.monitor_classes for r in al.records[1:]) < 4  # the case that matters occurred


def test_present_class_macro_f1_ignores_absent_classes_only(monkeypatch):
    # labels hold classes 0 and 1 of 4; one example is predicted as the absent class 2.
    log_probs = np.log(
        np.array([[0.7, 0.1, 0.1, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1]])
    )
    monkeypatch.setattr(training, "_forward_log_probs", lambda *a, **k: (log_probs, 0))
    labels, rows = np.array([0, 0, 1, 1]), np.arange(4)
    full = training.evaluate(None, None, rows, labels, 4, 8, None)
    present = training.evaluate(None, None, rows, labels, 4, 8, None, present_classes_only=True)
    f1_class1 = 2 / 3  # precision 1, recall 1/2
    assert full.f1 == pytest.approx((1 + f1_class1) / 4)  # validation/test: all classes
    assert present.f1 == pytest.approx((1 + f1_class1) / 2)  # the wrong class-2 guess still costs recall
    assert present.per_class_f1 == full.per_class_f1 and present.classes_present == 2


def test_selections_never_repeat_or_touch_labeled(make_config):
    al = finished_run(make_config(sampler_class="entropy", total_rounds=4))
    chosen = [i for idx in al.pool.selected_by_round().values() for i in idx]
    assert len(chosen) == len(set(chosen)) == 24 + 3 * 12


def test_same_seed_same_selections_and_metrics(make_config, tmp_path):
    a = finished_run(
        make_config(
            sampler_class="margin", strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.05, "k": 1, "guard": False}
        )
    )
    b = finished_run(
        make_config(
            sampler_class="margin",
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 0.05, "k": 1, "guard": False},
            save_dir=str(tmp_path / "other"),
        )
    )
    c = finished_run(make_config(sampler_class="margin", seed=4, save_dir=str(tmp_path / "third")))
    assert untimed(a.records) == untimed(b.records)
    assert b.parts.tokenization_cached == {"pool": True, "validation": True, "test": True}  # tokenized once
    assert a.pool.selected_by_round() == b.pool.selected_by_round()
    assert a.pool.selected_by_round() != c.pool.selected_by_round()


def test_label_budget_cuts_the_last_batch(make_config):
    al = finished_run(make_config(total_rounds=10, label_budget=50))
    recs = al.records
    assert [r.n_labeled for r in recs] == [24, 36, 48, 50]
    assert recs[-1].short_batch and recs[-1].n_new == 2 and not recs[-2].short_batch
    assert recs[-1].test_f1 is not None


def test_test_every_and_always_after_last_round(make_config):
    al = finished_run(make_config(total_rounds=4, test_every=2))
    assert [r.test_f1 is not None for r in al.records] == [True, False, True, True]
    # the tiny test split (120 rows) is smaller than the default subsample: the full split every time
    assert [r.test_rows for r in al.records] == ["full", None, "full", "full"]
    assert [r.test_n for r in al.records] == [120, None, 120, 120]


def test_test_flops_are_reported_apart_from_the_al_cost(make_config):
    # Random sampling, validation monitor: each round's inference is the same validation pass,
    # whether or not test is evaluated that round; retrain reads none of it, so it is measurement.
    al = finished_run(make_config(total_rounds=4, test_every=2))
    recs = al.records
    assert len({r.infer_flops for r in recs}) == 1
    assert [r.test_flops > 0 for r in recs] == [True, False, True, True]
    assert all(r.flops_validation == r.infer_flops and r.flops_policy == r.flops_scoring == 0 for r in recs)
    assert recs[-1].cum_total_flops == sum(r.train_flops for r in recs)
    assert recs[-1].cum_test_flops == sum(r.test_flops for r in recs)
    totals = json.loads((al.run_dir / "summary.json").read_text())["totals"]
    assert totals["total_flops"] == recs[-1].cum_total_flops and totals["test_flops"] == recs[-1].cum_test_flops


def test_curves_use_a_seeded_stratified_subsample_and_final_metrics_the_full_split(make_config, tmp_path):
    cfg = make_config(total_rounds=3, test_subsample_size=40, sampler_class="entropy")
    al = finished_run(cfg)
    assert [(r.test_rows, r.test_n) for r in al.records] == [("subsample", 40), ("subsample", 40), ("full", 120)]
    assert al.records[0].test_flops < al.records[-1].test_flops
    assert al.final_metrics()["f1_score"] == al.records[-1].test_f1
    plan = json.loads((al.run_dir / "summary.json").read_text())["test_subsample"]
    rows = np.array(plan["indices"])
    assert plan["size"] == len(rows) == len(set(rows)) == 40 and plan["of"] == 120
    classes = np.bincount(al.parts.labels["test"][rows], minlength=4)
    assert classes.max() - classes.min() <= 1  # AG News test is balanced: 10 per class
    # The rows depend on the seed only: same for another strategy, sampler and round count.
    other = finished_run(
        cfg.replace(strategy_class="new_only", sampler_class="random", total_rounds=2, save_dir=str(tmp_path / "o"))
    )
    assert other.summary()["test_subsample"] == plan
    reseeded = finished_run(cfg.replace(seed=4, total_rounds=1, save_dir=str(tmp_path / "s")))
    assert reseeded.summary()["test_subsample"]["fingerprint"] != plan["fingerprint"]
    # The AL itself is untouched by the evaluation plan: same selections, same AL cost.
    full = finished_run(cfg.replace(test_subsample_size=None, save_dir=str(tmp_path / "f")))
    assert [r.test_rows for r in full.records] == ["full"] * 3
    assert full.pool.selected_by_round() == al.pool.selected_by_round()
    assert [r.cum_total_flops for r in full.records] == [r.cum_total_flops for r in al.records]
    assert full.final_metrics()["f1_score"] == al.final_metrics()["f1_score"]


def test_outputs_records_and_flops(make_config):
    al = finished_run(
        make_config(
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
            tensorboard=True,
            total_rounds=4,
        )
    )
    folder = al.run_dir
    lines = (folder / "rounds.jsonl").read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        assert set(SINGLE_LABEL_FIELDS) <= set(json.loads(line)) and not set(MULTILABEL_FIELDS) & set(json.loads(line))
    cum = [r.cum_train_flops for r in al.records]
    assert all(b > a for a, b in zip(cum, cum[1:]))
    assert all(r.cum_total_flops > r.cum_train_flops and r.infer_flops > 0 for r in al.records)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["switch_round"] == 2 and summary["status"] == "finished"
    assert summary["totals"]["train_flops"] == cum[-1]
    assert summary["trial"]["strategy"] == "deltaf1" and summary["trial"]["epsilon"] == 1.0
    assert set(summary["final_test"]["per_class_f1"]) == {"World", "Sports", "Business", "Sci/Tech"}
    assert all(r.monitor_classes == 4 for r in al.records)  # monitor = validation: every class
    # Which precision ran is in every record and the summary (`precision: auto` resolved).
    assert {r.precision for r in al.records} == {summary["environment"]["precision"]} <= {"fp32", "bf16"}
    assert summary["environment"]["versions"]["torch"] == torch.__version__.split("+")[0] or summary["environment"][
        "versions"
    ]["torch"].startswith(torch.__version__[:4])
    assert (folder / "config.yaml").is_file()
    events = list((folder / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    assert [r.strategy_used for r in al.records] == ["retrain", "retrain", "finetune", "finetune"]


def test_epsilon_zero_never_switches(make_config):
    al = finished_run(make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.0, "k": 1}, total_rounds=4))
    assert al.switch_round is None and all(r.strategy_used == "retrain" for r in al.records)


def test_fixed_padding_processes_max_length_tokens(make_config):
    al = finished_run(make_config(tokenizer_kwargs={"max_length": 160, "padding": "max_length"}, total_rounds=1))
    rec = al.records[0]
    assert rec.train_tokens == rec.train_samples * 160
    dynamic = finished_run(make_config(tokenizer_kwargs={"max_length": 160}, total_rounds=1, experiment_name="dyn"))
    assert dynamic.records[0].train_tokens < rec.train_tokens
    assert dynamic.records[0].train_flops < rec.train_flops


SAMPLERS = ["random", "entropy", "least_confidence", "margin", "bald", "coreset", "badge"]


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_checkpoint_resume_equals_uninterrupted(make_config, tmp_path, sampler):
    # Every draw, BALD's dropout passes included, must come from (seed, round, purpose), not
    # from whatever the global generators went through before the resume.
    cfg = make_config(
        strategy_class="deltaf1",
        strategy_kwargs={"epsilon": 0.2, "k": 1, "guard": False},
        sampler_class=sampler,
        sampler_kwargs={"T": 3} if sampler == "bald" else {},
        candidate_pool_size=100,
        total_rounds=4,
        keep_optimizer=True,
    )
    full = finished_run(cfg)
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
    assert second.pool.selected_by_round() == full.pool.selected_by_round()
    assert len((second.run_dir / "rounds.jsonl").read_text().splitlines()) == 4


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_end_to_end(make_config, sampler):
    kwargs = {"T": 3} if sampler == "bald" else {}
    al = finished_run(
        make_config(sampler_class=sampler, sampler_kwargs=kwargs, total_rounds=2, candidate_pool_size=100)
    )
    assert al.records[-1].n_labeled == 36 and al.records[-1].n_new == 12
    if sampler != "random":
        assert al.records[1].infer_flops > al.records[0].infer_flops  # scoring is counted
    picked = al.pool.selected_by_round()[1]
    assert len(set(picked)) == 12


def test_mc_dropout_passes_depend_on_their_seed_not_the_global_generator(make_config):
    from hybridal.model.training import score_pool
    from hybridal.samplers.base import MC_PROBS

    parts = ActiveLearning(make_config()).parts
    args = (
        parts.model.model,
        parts.tokens["pool"],
        np.arange(40),
        np.empty(0, dtype=np.int64),
        frozenset({MC_PROBS}),
        3,
        64,
        parts.batching,
    )
    first, _ = score_pool(*args, mc_seed=1)
    torch.rand(7)  # move the global generator
    state = torch.get_rng_state()
    again, _ = score_pool(*args, mc_seed=1)
    assert torch.equal(torch.get_rng_state(), state)  # scoring leaves it alone
    other, _ = score_pool(*args, mc_seed=2)
    assert np.array_equal(first.mc_probs, again.mc_probs)
    assert not np.array_equal(first.mc_probs, other.mc_probs)
    assert not np.array_equal(first.mc_probs[0], first.mc_probs[1])  # the passes do differ


def test_optimizer_is_fused_unless_the_user_chose_an_implementation():
    from torch.optim import SGD, AdamW, RMSprop

    assert with_fused_default(AdamW, {"lr": 1e-4}) == {"lr": 1e-4, "fused": True}
    assert with_fused_default(AdamW, {"lr": 1e-4, "foreach": True}) == {"lr": 1e-4, "foreach": True}
    assert with_fused_default(SGD, {"fused": False}) == {"fused": False}
    assert with_fused_default(RMSprop, {"lr": 1e-2}) == {"lr": 1e-2}  # has no fused kernel
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


@pytest.fixture
def optimizer_spy(monkeypatch):
    """Record, per training call: the optimizer, its lr at the first step and whether it had state."""
    calls = []
    real = training.train_epochs

    def wrapper(model, tokens, rows, labels, epochs, batch_size, optimizer, *args, **kwargs):
        calls.append({"optimizer": optimizer, "lr": optimizer.param_groups[0]["lr"], "fresh": not optimizer.state})
        return real(model, tokens, rows, labels, epochs, batch_size, optimizer, *args, **kwargs)

    monkeypatch.setattr(training, "train_epochs", wrapper)
    return calls


@pytest.mark.parametrize(
    "scheduler, kwargs, first_lr",
    [
        ("StepLR", {"step_size": 1, "gamma": 0.1}, 1e-3),
        ("ExponentialLR", {"gamma": 0.5}, 1e-3),
        ("MultiStepLR", {"milestones": [1, 2], "gamma": 0.1}, 1e-3),
        ("CosineAnnealingLR", {"T_max": 2}, 1e-3),
        ("ConstantLR", {"factor": 0.5, "total_iters": 100}, 5e-4),
        ("linear", {"warmup_ratio": 0.0}, 1e-3),
    ],
)
def test_every_round_starts_at_the_configured_lr_with_a_kept_optimizer(
    make_config, optimizer_spy, scheduler, kwargs, first_lr
):
    finished_run(
        make_config(
            strategy_class="finetune",
            keep_optimizer=True,
            scheduler_class=scheduler,
            scheduler_kwargs=kwargs,
            scheduler_interval="step",
            optimizer_kwargs={"lr": 1e-3},
        )
    )
    assert optimizer_spy[2]["optimizer"] is optimizer_spy[1]["optimizer"] and not optimizer_spy[2]["fresh"]  # kept
    assert [c["lr"] for c in optimizer_spy] == pytest.approx([first_lr] * 3, rel=1e-9)


def test_keep_optimizer_applies_to_finetune_rounds_only(make_config, optimizer_spy):
    finished_run(
        make_config(
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "after": "new_only", "guard": False},
            keep_optimizer=True,
            total_rounds=4,
        )
    )
    assert [c["fresh"] for c in optimizer_spy] == [True] * 4  # retrain, retrain, new_only, new_only
    finished_run(
        make_config(
            strategy_class="deltaf1",
            strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False},
            keep_optimizer=True,
            total_rounds=4,
            experiment_name="ft",
        )
    )
    assert [c["fresh"] for c in optimizer_spy[4:]] == [True, True, False, False]  # retrain, retrain, finetune, finetune


def test_switch_decided_after_the_last_round_is_not_a_switch_round(make_config):
    """ε=1, k=1: the rule fires after round 1, the last of two rounds, so no round trains with `after`."""
    al = finished_run(
        make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False}, total_rounds=2)
    )
    assert [r.switched for r in al.records] == [False, False]
    metrics = al.final_metrics()
    assert (metrics["switch_round"], metrics["switch_decided_round"]) == (None, 2)
    summary = json.loads((al.run_dir / "summary.json").read_text())
    assert (summary["switch_round"], summary["switch_decided_round"]) == (None, 2)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("./no/such/model", r"is neither a local folder nor a model id cached on this machine \(HF_HUB_OFFLINE=1\)"),
        (
            "nobody-xyz/no-such-model",
            r"is neither a local folder nor a model id cached on this machine \(HF_HUB_OFFLINE=1\)",
        ),
        ("EMPTY", r"is a folder without a config.json"),
    ],
)
def test_unknown_model_fails_in_one_sentence_before_data_loads(make_config, monkeypatch, tmp_path, name, reason):
    from hybridal.errors import ConfigError

    if name == "EMPTY":
        name = str(tmp_path / "empty-model")
        (tmp_path / "empty-model").mkdir()

    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before the model was checked")

    monkeypatch.setattr(data, "load_named_or_path", no_data)
    cfg = make_config(model_name_or_path=name)
    with pytest.raises(ConfigError) as info:
        ActiveLearning(cfg)
    message = str(info.value)
    assert message.startswith(f"model_name_or_path={name!r} ") and message.count("\n") == 0 and message.endswith(".")
    assert re.search(reason, message), message
    assert "allowed: a local folder with a config.json, a Hugging Face hub id" in message and "tiny-bert" in message
    assert not cfg.run_dir.exists()


def test_summary_is_written_at_the_start_after_every_round_and_at_the_end(make_config, monkeypatch):
    """The trial record analysis reads: summary.json exists from the first round on, always with
    `trial` (ordered as TRIAL_COLUMNS) and the whole `config`; `status` says whether the run finished."""
    cfg = make_config(strategy_class="deltaf1", strategy_kwargs={"epsilon": 1.0, "k": 1, "guard": False})
    path = cfg.run_dir / "summary.json"
    during_first_training = []
    real = training.train_epochs

    def read_summary_while_training(*args, **kwargs):
        if not during_first_training:
            during_first_training.append(json.loads(path.read_text()))
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_epochs", read_summary_while_training)
    al = ActiveLearning(cfg)
    seen = []
    for record in al.iter_rounds():
        seen.append((record.round, json.loads(path.read_text())))
    start = during_first_training[0]
    assert (start["status"], start["rounds"], start["final_test"]["f1"]) == ("running", 0, None)
    assert [(r, s["rounds"], s["status"]) for r, s in seen] == [
        (0, 1, "running"),
        (1, 2, "running"),
        (2, 3, "finished"),
    ]
    final = json.loads(path.read_text())
    for summary in (start, *(s for _, s in seen), final):
        assert list(summary["trial"]) == list(TRIAL_COLUMNS) and summary["trial"] == trial_columns(cfg)
        assert summary["config"] == cfg.to_dict()
    assert final["status"] == "finished" and final["final_test"]["f1"] == al.final_metrics()["f1_score"]
    assert final["selected_indices"] == seen[-1][1]["selected_indices"]


def test_a_run_is_built_in_one_step_and_writes_nothing_until_a_round_runs(make_config, monkeypatch):
    from hybridal.errors import ConfigError

    cfg = make_config()
    al = ActiveLearning(cfg)
    assert len(al.parts.tokens["pool"]) == len(al.pool) == 340 and al.parts.model.model is not None
    assert al.prepare() is al  # kept for one release: a no-op
    assert not cfg.run_dir.exists()
    al.run_round()
    assert (cfg.run_dir / "summary.json").is_file()

    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded for a bad config")

    monkeypatch.setattr(data, "load_named_or_path", no_data)
    with pytest.raises(ConfigError, match="candidate_pool_size=8 is smaller than acquisition_batch_size=12"):
        ActiveLearning(make_config(candidate_pool_size=8, experiment_name="bad"))
