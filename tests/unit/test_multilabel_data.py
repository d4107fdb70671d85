"""Multi-label data: Jigsaw's six labels by default, 0/1 columns or label lists in any file, splits that keep
every label's prevalence, and the bad inputs that fail in one sentence before anything is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybridal import ActiveLearning, ExperimentConfig
from hybridal.data.datasets import load_named_or_path
from hybridal.data.label_matrix import JIGSAW_LABELS
from hybridal.data.splits import make_run_splits, per_round_test_rows
from hybridal.errors import ConfigError, DataError
from tests.support.tiny_runs import KEYWORDS, tiny_config, write_multilabel_csv


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message and "\n" not in message


def load(data, **kwargs):
    values = dict(text_column=None, label_column=None, data_kwargs={}, seed=0, num_labels=None)
    values |= {k: kwargs.pop(k) for k in list(kwargs) if k in values}
    return load_named_or_path(data, values["text_column"], values["label_column"], values["data_kwargs"],
                              values["seed"], values["num_labels"], **kwargs)  # fmt: skip


def test_jigsaw_loads_its_six_labels_by_default_and_the_binary_tasks_when_asked(data_dir):
    raw = pd.read_csv(data_dir / "jigsaw" / "train.csv")
    six = load("jigsaw")
    assert six.multi_label and six.label_names == list(JIGSAW_LABELS) and six.num_labels == 6
    both = np.concatenate([six.train.labels, six.test.labels])
    assert both.shape == (len(raw), 6)
    counts = dict(zip(JIGSAW_LABELS, both.sum(axis=0).tolist()))
    assert counts == {c: int(raw[c].sum()) for c in JIGSAW_LABELS}
    assert (counts["threat"], counts["severe_toxic"], counts["identity_hate"]) == (7, 15, 19)  # the shared copy
    toxic = load("jigsaw", data_kwargs={"jigsaw_label": "toxic"})
    assert not toxic.multi_label and toxic.num_labels == 2 and toxic.train.labels.ndim == 1
    subset = load("jigsaw", label_columns=["toxic", "insult"])
    assert subset.label_names == ["toxic", "insult"] and subset.train.labels.shape[1] == 2


def test_label_columns_and_label_lists_read_the_same_matrix(tmp_path):
    columns = load(str(write_multilabel_csv(tmp_path / "a.csv")), label_columns=list(KEYWORDS))
    lists = load(str(write_multilabel_csv(tmp_path / "b.csv", as_lists=True)), label_column="tags", multi_label=True)
    assert lists.label_names == sorted(KEYWORDS)
    order = [lists.label_names.index(k) for k in KEYWORDS]
    np.testing.assert_array_equal(lists.train.labels[:, order], columns.train.labels)
    np.testing.assert_array_equal(lists.test.labels[:, order], columns.test.labels)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_split_keeps_each_labels_prevalence(data_dir, seed):
    """Iterative stratification: in the holdout test split, the validation split, the pool and the per-round
    test subsample, every label's positives are within one row (+ the rounding of its expected count) of
    prevalence x size. The pool is what the other two leave, so it is within two."""
    dataset = load("jigsaw", seed=seed)
    whole = np.concatenate([dataset.train.labels, dataset.test.labels])
    prevalence = whole.mean(axis=0)
    splits = make_run_splits(dataset, seed, val_size=200)
    sub = per_round_test_rows(splits.test.labels, 150, seed)
    parts = {
        "test": (splits.test.labels, prevalence, 1.5),
        "validation": (splits.validation.labels, dataset.train.labels.mean(axis=0), 1.5),
        "pool": (splits.pool.labels, dataset.train.labels.mean(axis=0), 2.5),
        "test subsample": (splits.test.labels[sub], splits.test.labels.mean(axis=0), 1.5),
    }
    for name, (labels, p, rows) in parts.items():
        expected = p * len(labels)
        assert np.all(np.abs(labels.sum(axis=0) - expected) <= rows), (name, labels.sum(axis=0), expected)
    assert splits.test.labels[:, JIGSAW_LABELS.index("threat")].sum() >= 1  # 7 positives: each split gets some


def _bad_csv(tmp_path, column_values):
    path = write_multilabel_csv(tmp_path / "bad" / "train.csv")
    df = pd.read_csv(path)
    for column, values in column_values.items():
        df[column] = values(len(df))
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "change, columns, words",
    [
        ({"river": lambda n: [2] + [0] * (n - 1)}, list(KEYWORDS), "label column 'river' has value 2; allowed: 0 or 1"),
        ({}, [*KEYWORDS[:3], "banana"], "lacks the label column(s) 'banana'"),
        ({"cloud": lambda n: [0] * n}, list(KEYWORDS), "label column 'cloud' has no positive example"),
    ],
)
def test_bad_label_data_fails_in_one_sentence_with_nothing_written(tmp_path, change, columns, words):
    cfg = tiny_config(tmp_path / "runs", data=str(_bad_csv(tmp_path, change)), label_columns=columns, val_size=40)
    with pytest.raises(DataError) as err:
        ActiveLearning(cfg)
    assert words in str(err.value) and one_sentence(str(err.value)), str(err.value)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "values, words",
    [
        ({"data": "agnews", "label_columns": ["a", "b"]}, "is a single-label task"),
        ({"data": "jigsaw", "data_kwargs": {"jigsaw_label": "toxic"}, "multi_label": True}, "single-label task"),
        ({"data": "jigsaw", "multi_label": False}, "multi_label=false contradicts"),
        ({"data": "x.csv", "label_columns": ["a"]}, "label_columns=['a'] is invalid"),
        ({"data": "x.csv", "label_columns": ["a", "b"], "label_column": "c"}, "are both set"),
        ({"data": "jigsaw", "decision_threshold": 1.0}, "decision_threshold=1.0 is invalid"),
        ({"data": "jigsaw", "monitor_metric": "accuracy"}, "monitor_metric='accuracy' is not known"),
        ({"data": "agnews", "monitor_metric": "micro_f1"}, "allowed: macro_f1"),
        ({"data": "jigsaw", "criterion_class": "NLLLoss"}, "cannot train a multi-label task"),
        ({"data": "jigsaw", "sampler_class": "badge"}, "does not support a multi-label task"),
        ({"data": "agnews", "sampler_class": "cvirs"}, "needs a multi-label task"),
        ({"data": "jigsaw", "stopping": ["delta_f_score"]}, "single-label binary tasks only"),
        ({"data": "jigsaw", "data_kwargs": {"jigsaw_label": "six"}}, "jigsaw_label='six' is not known"),
        ({"data": "jigsaw", "criterion_kwargs": {"label_smoothing": 0.1}}, "label_smoothing"),
        ({"data": "jigsaw", "sampler_class": "margin", "sampler_kwargs": {"aggregate": "max"}}, "use one of mean, min"),
        ({"data": "jigsaw", "sampler_class": "cvirs", "sampler_kwargs": {"prediction_threshold": 2.0}}, "strictly"),
        ({"data": "jigsaw", "sampler_class": "aal", "sampler_kwargs": {"uncertainty_weight": "x"}}, "in [0, 1]"),
    ],
)
def test_contradictory_task_keys_fail_in_one_sentence_before_any_data_loads(values, words):
    with pytest.raises((ConfigError, DataError)) as err:
        ExperimentConfig(**values).validate()
    assert words in str(err.value) and one_sentence(str(err.value)), str(err.value)


def test_a_multi_label_jigsaw_run_needs_no_other_key():
    cfg = ExperimentConfig(data="jigsaw").validate()
    assert cfg.label_columns is None and cfg.multi_label is None  # the data decides
    from hybridal.data.task import is_multi_label, loss_name, monitor_metric

    assert is_multi_label(cfg) and loss_name(cfg) == "BCEWithLogitsLoss" and monitor_metric(cfg) == "micro_f1"
    binary = ExperimentConfig(data="jigsaw", data_kwargs={"jigsaw_label": "toxic"}).validate()
    assert (
        not is_multi_label(binary) and loss_name(binary) == "CrossEntropyLoss" and monitor_metric(binary) == "macro_f1"
    )


def test_a_pos_weight_per_label_is_checked_against_the_labels_before_the_model_loads(tmp_path):
    cfg = tiny_config(
        tmp_path / "runs",
        data=str(write_multilabel_csv(tmp_path / "d" / "train.csv")),
        label_columns=list(KEYWORDS),
        val_size=40,
        criterion_class="BCEWithLogitsLoss",
        criterion_kwargs={"pos_weight": [2.0, 2.0]},
    )
    with pytest.raises(ConfigError) as err:
        ActiveLearning(cfg)
    assert "pos_weight has 2 values; allowed: one per label, 4 (apple, river, stone, cloud)" in str(err.value)
    assert one_sentence(str(err.value)) and not (tmp_path / "runs").exists()


def test_the_sweeps_closing_table_marks_a_multi_label_dataset():
    from types import SimpleNamespace

    from sweeps.table import rows

    columns = {"dataset": "jigsaw", "strategy": "retrain", "epsilon": None, "k": None, "seed": 1}
    trials = [
        SimpleNamespace(name="six", columns={**columns, "task": "multi_label"}),
        SimpleNamespace(name="toxic", columns=columns),
    ]
    table = rows([], trials)  # type: ignore[arg-type]
    assert [row[1] for row in table] == ["jigsaw (multi-label)", "jigsaw"]


def test_pos_weight_goes_with_the_default_loss_name_and_jigsaw_label_only_with_jigsaw(data_dir):
    ExperimentConfig(data="jigsaw", criterion_kwargs={"pos_weight": [2.0] * 6}).validate()  # read as BCE's
    with pytest.raises(DataError) as err:
        load("agnews", data_kwargs={"jigsaw_label": "toxic"})
    assert "data_kwargs key 'jigsaw_label' is not used by data='agnews'" in str(err.value)


def test_a_checkpoint_of_another_head_is_refused_in_one_sentence(tmp_path):
    """A binary Jigsaw run checkpointed before Jigsaw meant six labels cannot resume as a six-label run."""
    import torch

    from hybridal.loop.checkpoints import read_checkpoint, write_checkpoint
    from hybridal.model.pretrained import load_model

    write_checkpoint(tmp_path, load_model("tiny-bert", 2, 0), None, {"next_round": 1})
    with pytest.raises(ConfigError) as err:
        read_checkpoint(tmp_path, load_model("tiny-bert", 6, 0, multi_label=True), torch.device("cpu"))
    assert "size mismatch for classifier.weight" in str(err.value) and "jigsaw_label: toxic" in str(err.value)
    assert one_sentence(str(err.value)), str(err.value)
