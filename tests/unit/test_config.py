"""Config validation: every bad value fails in one sentence naming the field, before any work."""

import pytest

from hybridal import ExperimentConfig
from hybridal.errors import ConfigError
from hybridal.overrides import apply_overrides


def cfg(**kw):
    return ExperimentConfig(model_name_or_path="tiny-bert", **kw)


@pytest.mark.parametrize(
    "changes, fragment",
    [
        (
            {"strategy_class": "Retrainn"},
            r"strategy_class='Retrainn' is not known.*allowed: deltaf1, finetune, new_only, retrain",
        ),
        ({"sampler_class": "entropi"}, r'did you mean "entropy"'),
        ({"optimizer_class": "Adamm"}, r'optimizer_class=.Adamm. is not known \(did you mean "Adam'),
        ({"scheduler_class": "StepLRR"}, r'did you mean "StepLR"'),
        ({"criterion_class": "CrossEntropy"}, r"criterion_class='CrossEntropy'.*CrossEntropyLoss"),
        ({"initial_pool_size": 0}, r"initial_pool_size=0 is invalid; allowed: an integer >= 1"),
        ({"acquisition_batch_size": -5}, r"acquisition_batch_size=-5"),
        ({"total_rounds": 0}, r"total_rounds=0"),
        ({"epochs": 0}, r"epochs=0"),
        ({"batch_size": 2.5}, r"batch_size=2.5"),
        (
            {"strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": -0.01}},
            r"epsilon=-0.01 is invalid; allowed: a finite number >= 0",
        ),
        ({"strategy_class": "deltaf1", "strategy_kwargs": {"k": 0}}, r"k=0 is invalid; allowed: an integer >= 1"),
        ({"monitor_fraction": 1.0}, r"monitor_fraction=1.0 is invalid; allowed: c in \[0, 1\)"),
        ({"monitor_fraction": -0.1}, r"monitor_fraction=-0.1"),
        ({"monitor": "test"}, r"monitor='test' is not known"),
        ({"precision": "fp16"}, r"precision='fp16' is not known.*allowed: auto, bf16, fp32"),
        ({"label_budget": 10, "initial_pool_size": 20}, r"label_budget=10 is smaller than initial_pool_size=20"),
        ({"val_size": 0}, r"val_size=0"),
        ({"optimizer_kwargs": {"lr": -1}}, r"optimizer_kwargs.lr=-1"),
        ({"optimizer_kwargs": {"learning_rate": 1e-3}}, r"optimizer_kwargs key='learning_rate'"),
        ({"sampler_class": "bald", "sampler_kwargs": {"T": 0}}, r"T"),
        ({"tokenizer_kwargs": {"max_len": 64}}, r"tokenizer_kwargs key='max_len' is not known.*max_length"),
        ({"device": "gpu"}, r"device='gpu' is invalid"),
        ({"candidate_pool_size": 0}, r"candidate_pool_size=0"),
        ({"test_subsample_size": 0}, r"test_subsample_size=0 is invalid; allowed: an integer >= 1"),
        ({"test_subsample_size": 0.5}, r"test_subsample_size=0.5 is invalid"),
    ],
)
def test_bad_values_fail_in_one_sentence(changes, fragment):
    with pytest.raises((ConfigError, ValueError), match=fragment) as info:
        cfg(**changes).validate()
    message = str(info.value)
    assert message.count("\n") == 0 and message.endswith(".")


def test_candidate_pool_smaller_than_batch_is_refused_by_validate():
    with pytest.raises(ConfigError, match="candidate_pool_size=8 is smaller than acquisition_batch_size=32"):
        cfg(candidate_pool_size=8).validate()


def test_unknown_key_suggests_close_name():
    with pytest.raises(
        ConfigError, match=r"config key 'inital_pool_size' is not known \(did you mean \"initial_pool_size\"\?\)"
    ):
        ExperimentConfig.from_dict({"inital_pool_size": 3})


def test_yaml_round_trip_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(cfg(strategy_class="deltaf1", strategy_kwargs={"epsilon": 0.01, "k": 2}).to_yaml())
    loaded = ExperimentConfig.from_yaml(path, ["strategy_kwargs.k=3", "epochs=2", "data=imdb"])
    assert loaded.strategy_kwargs == {"epsilon": 0.01, "k": 3}
    assert (loaded.epochs, loaded.data, loaded.model_name_or_path) == (2, "imdb", "tiny-bert")
    loaded.validate()


def test_override_creates_nested_mapping():
    assert apply_overrides({}, ["sampler_kwargs.T=5"]) == {"sampler_kwargs": {"T": 5}}


def test_unreadable_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml' is not readable YAML"):
        ExperimentConfig.from_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        ExperimentConfig.from_yaml(listing)
    with pytest.raises(ConfigError, match="does not exist"):
        ExperimentConfig.from_yaml(tmp_path / "missing.yaml")


def test_prototype_class_names_resolve():
    c = cfg(
        strategy_class="DeltaF1Strategy",
        strategy_kwargs={"epsilon": 0.01, "k": 2},
        sampler_class="RandomSampler",
        sampler_kwargs={"seed": 42},
        optimizer_class="Adam",
        optimizer_kwargs={"lr": 1e-3, "weight_decay": 1e-4},
        scheduler_class="StepLR",
        scheduler_kwargs={"step_size": 10, "gamma": 0.1},
        criterion_class="CrossEntropyLoss",
        tokenizer_kwargs={
            "max_length": 128,
            "padding": "max_length",
            "truncation": True,
            "add_special_tokens": True,
            "return_tensors": "pt",
        },
    )
    assert c.validate() is c and c.fixed_padding


def test_no_eval_anywhere_in_the_library():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    for path in list((root / "hybridal").rglob("*.py")) + list((root / "sweeps").rglob("*.py")):
        assert not re.search(r"(^|[^\w.])(eval|exec)\(", path.read_text()), path


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"scheduler_class": "StepLR"}, r"scheduler_kwargs is missing 'step_size', which StepLR requires"),
        (
            {"scheduler_class": "CosineAnnealingLR", "scheduler_kwargs": {"eta_min": 0.0}},
            r"scheduler_kwargs is missing 'T_max'",
        ),
        (
            {"scheduler_class": "MultiStepLR", "scheduler_kwargs": {"milestones": 3}},
            r"scheduler_kwargs=\{'milestones': 3\} does not build MultiStepLR",
        ),
        (
            {"scheduler_class": "OneCycleLR", "scheduler_kwargs": {"max_lr": 0.1}},
            r"scheduler_kwargs=.* does not build OneCycleLR \(You must define",
        ),
        (
            {"scheduler_class": "linear", "scheduler_kwargs": {"warmup_ratio": 1.5}},
            r"scheduler_kwargs.warmup_ratio=1.5 is invalid; allowed: a number in \[0, 1\]",
        ),
        (
            {"optimizer_class": "SGD", "optimizer_kwargs": {"lr": 0.1, "momentum": -1}},
            r"optimizer_kwargs=.* does not build SGD \(Invalid momentum value: -1",
        ),
        ({"optimizer_kwargs": {"lr": 1e-3, "betas": [0.9]}}, r"optimizer_kwargs=.* does not build AdamW"),
        (
            {"criterion_kwargs": {"weight": "heavy"}},
            r"criterion_kwargs=\{'weight': 'heavy'\} does not build CrossEntropyLoss",
        ),
    ],
)
def test_components_are_built_once_during_validation(changes, fragment):
    """Arguments a constructor refuses fail in validate(), in one sentence naming the key, not at round 0."""
    with pytest.raises(ConfigError, match=fragment) as info:
        cfg(**changes).validate()
    message = str(info.value)
    assert message.count("\n") == 0 and message.endswith(".")


def test_cli_scheduler_without_required_argument_leaves_nothing(tmp_path, data_dir, capsys):
    import yaml

    from hybridal.cli import main
    from tests.support.tiny_runs import tiny_config

    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(tiny_config(tmp_path / "runs", scheduler_class="StepLR").to_dict()))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scheduler_kwargs is missing 'step_size'" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "fraction, batch, ok",
    [
        (0.99, 16, False),  # round(15.84) = 16: the whole batch would be monitor labels
        (0.97, 16, False),  # round(15.52) = 16
        (0.95, 16, True),  # 15 monitor, 1 queried
        (0.5, 2, True),
        (0.1, 1, False),  # max(1, ·) = 1 of a batch of 1
    ],
)
def test_monitor_acquired_leaves_a_queried_example_per_batch(fraction, batch, ok):
    c = cfg(monitor="acquired", monitor_fraction=fraction, acquisition_batch_size=batch)
    if ok:
        assert c.validate() is c and c.monitor_per_batch == batch - 1
        return
    with pytest.raises(
        ConfigError, match=rf"monitor_fraction={fraction} with acquisition_batch_size={batch} .*trains on none"
    ) as info:
        c.validate()
    assert str(info.value).count("\n") == 0 and str(info.value).endswith(".")
    cfg(monitor="validation", monitor_fraction=fraction, acquisition_batch_size=batch).validate()  # c unused: fine
