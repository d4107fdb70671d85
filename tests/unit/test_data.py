"""Datasets and splits: the shared offline copies, any CSV, and every bad-data error."""

import numpy as np
import pandas as pd
import pytest

from hybridal import ActiveLearning
from hybridal.data.datasets import load_named_or_path
from hybridal.data.splits import make_run_splits, stratified_sample
from hybridal.errors import DataError


def load(data, **kw):
    return load_named_or_path(
        data,
        kw.pop("text_column", None),
        kw.pop("label_column", None),
        kw.pop("data_kwargs", {}),
        kw.pop("seed", 0),
        kw.pop("num_labels", None),
    )


def test_agnews_from_data_dir(data_dir):
    ds = load("agnews")
    assert (len(ds.train), len(ds.test), ds.num_labels) == (5000, 7600, 4)
    assert ds.label_names == ["World", "Sports", "Business", "Sci/Tech"]
    assert set(np.unique(ds.test.labels)) == {0, 1, 2, 3}
    assert ds.source.endswith("agnews")


def test_jigsaw_toxic_and_any_labels(data_dir):
    raw = pd.read_csv(data_dir / "jigsaw" / "train.csv")
    toxic = load("jigsaw", data_kwargs={"jigsaw_label": "toxic"})  # the default is the six labels (multi-label)
    any_label = load("jigsaw", data_kwargs={"jigsaw_label": "any"})
    assert toxic.test_is_holdout and toxic.num_labels == 2
    n_toxic = int(toxic.train.labels.sum() + toxic.test.labels.sum())
    n_any = int(any_label.train.labels.sum() + any_label.test.labels.sum())
    assert n_toxic == int(raw["toxic"].sum())
    labels6 = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    assert n_any == int((raw[labels6].sum(axis=1) > 0).sum()) >= n_toxic
    with pytest.raises(ValueError, match="jigsaw_label='six' is not known.*allowed: all, any, toxic"):
        load("jigsaw", data_kwargs={"jigsaw_label": "six"})


def test_splits_are_seeded_stratified_and_disjoint(data_dir):
    ds = load("agnews")
    a = make_run_splits(ds, seed=5)
    b = make_run_splits(ds, seed=5)
    c = make_run_splits(ds, seed=6)
    assert len(a.validation) == 500  # min(1000, 10% of 5000)
    assert len(a.pool) == 4500 and a.pool.texts == b.pool.texts and a.validation.texts != c.validation.texts
    assert not set(a.validation.texts) & set(a.pool.texts)
    share = np.bincount(a.validation.labels, minlength=4) / 500
    overall = np.bincount(ds.train.labels, minlength=4) / 5000
    assert np.abs(share - overall).max() < 0.01


def test_stratified_sample_exact_size_and_distinct():
    labels = np.array([0] * 90 + [1] * 10)
    picks = stratified_sample(labels, 20, np.random.default_rng(0))
    assert len(picks) == len(set(picks)) == 20 and np.bincount(labels[picks]).tolist() == [18, 2]


def write_csv(path, frame):
    frame.to_csv(path, index=False)
    return str(path)


def test_any_csv_with_string_labels_and_holdout(tmp_path):
    frame = pd.DataFrame({"review": [f"text number {i}" for i in range(50)], "y": ["pos", "neg"] * 25})
    ds = load(write_csv(tmp_path / "d.csv", frame), text_column="review", label_column="y")
    assert ds.label_names == ["neg", "pos"] and ds.test_is_holdout and len(ds.test) == 10


def test_folder_with_train_and_test_parquet(tmp_path):
    frame = pd.DataFrame({"text": [f"t {i}" for i in range(20)], "label": [0, 1] * 10})
    frame.to_parquet(tmp_path / "train.parquet")
    frame.iloc[:6].to_parquet(tmp_path / "test.parquet")
    ds = load(str(tmp_path))
    assert (len(ds.train), len(ds.test), ds.test_is_holdout) == (20, 6, False)


@pytest.mark.parametrize(
    "frame, kwargs, fragment",
    [
        (
            pd.DataFrame({"text": ["a", " ", "c", "d"], "label": [0, 1, 0, 1]}),
            {},
            r"1 empty text\(s\) in column 'text' \(first at row 1\)",
        ),
        (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 1, None, 1]}), {}, r"1 missing \(NaN\) label"),
        (
            pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 1, 5, 1]}),
            {"num_labels": 2},
            r"num_labels=2 disagrees with .* which holds 3 distinct labels \(0, 1, 5\); allowed: 3",
        ),
        (
            pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, -1, 1, 1]}),
            {},
            r"negative label -1; allowed: integers >= 0 or strings",
        ),
        (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 1.5, 1, 1]}), {}, r"non-integer labels such as 1.5"),
        (
            pd.DataFrame({"body": ["a", "b", "c", "d"], "label": [0, 1, 0, 1]}),
            {},
            r"has no column 'text'; columns are: body, label",
        ),
        (
            pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x", "y", "x", "y"]}),
            {"num_labels": 3},
            r"num_labels=3 disagrees with the 2 classes",
        ),
    ],
)
def test_bad_data_errors(tmp_path, frame, kwargs, fragment):
    with pytest.raises(DataError, match=fragment):
        load(write_csv(tmp_path / "bad.csv", frame), **kwargs)


def test_missing_file_and_named_mismatch(tmp_path, data_dir):
    with pytest.raises(DataError, match=r"data file '.*nope.csv' does not exist"):
        load(str(tmp_path / "nope.csv"))
    with pytest.raises(DataError, match=r"num_labels=3 disagrees with agnews, which has 4 classes"):
        load("agnews", num_labels=3)


def test_data_dir_without_dataset_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="has no folder 'imdb'"):
        load("imdb")


def test_relative_data_dir_error_names_the_resolved_folder(tmp_path, monkeypatch):
    # A relative HYBRIDAL_DATA_DIR is read from the current directory; the error must say where
    # that led, since "../shared/data" is right from the repo root and wrong anywhere else.
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", "../shared/data")
    with pytest.raises(DataError, match=r"resolved from .*work to .*shared.data\) has no folder 'agnews'"):
        load("agnews")


def test_pool_too_small_fails_before_model_and_writes_nothing(make_config, tmp_path, monkeypatch):
    import hybridal.loop.run_parts as run_parts

    def no_model(*a, **k):
        raise AssertionError("the model must not be loaded for bad input")

    monkeypatch.setattr(run_parts, "load_model", no_model)
    for changes, fragment in (
        ({"initial_pool_size": 5000}, "initial_pool_size=5000 is larger than the training pool"),
        ({"acquisition_batch_size": 400}, "acquisition_batch_size=400 is larger than the unlabeled pool"),
    ):
        with pytest.raises(DataError, match=fragment):
            ActiveLearning(make_config(**changes))
        assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "changes, n_pool, message",
    [
        (
            {"initial_pool_size": 101},
            100,
            "initial_pool_size=101 is larger than the training pool (100 rows of agnews); allowed: at most 100.",
        ),
        (
            {"initial_pool_size": 90, "acquisition_batch_size": 11},
            100,
            "acquisition_batch_size=11 is larger than the unlabeled pool left after round 0 (10 rows of agnews); "
            "allowed: at most 10.",
        ),
    ],
)
def test_check_pool_fits_names_the_size_and_what_fits(changes, n_pool, message):
    from hybridal import ExperimentConfig
    from hybridal.loop.run_parts import check_pool_fits

    with pytest.raises(DataError) as info:
        check_pool_fits(ExperimentConfig(**changes), n_pool)
    assert str(info.value) == message
    check_pool_fits(ExperimentConfig(initial_pool_size=90, acquisition_batch_size=10), 100)  # fits exactly
    check_pool_fits(ExperimentConfig(initial_pool_size=100, total_rounds=1), 100)  # no later batch


def test_num_labels_larger_than_classes_present(tmp_path):
    frame = pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 1, 0, 1]})
    with pytest.raises(DataError, match="num_labels=4 disagrees.*which holds 2 distinct labels"):
        load(write_csv(tmp_path / "two.csv", frame), num_labels=4)


@pytest.mark.parametrize("values, num_labels", [([1, 2, 3, 4], None), ([1, 2, 3, 4], 4), ([10, 0, 5], None)])
def test_numeric_labels_become_classes_in_sorted_order(tmp_path, values, num_labels):
    # Labels 1..4 once made a 5-way head with a class 0 that no example carries.
    raw = values * 6
    frame = pd.DataFrame({"text": [f"text {i}" for i in range(len(raw))], "label": raw})
    ds = load(write_csv(tmp_path / "d.csv", frame), num_labels=num_labels)
    ordered = sorted(values)
    assert ds.num_labels == len(values) and ds.label_names == [str(v) for v in ordered]
    encoded = np.concatenate([ds.train.labels, ds.test.labels])
    texts = ds.train.texts + ds.test.texts
    assert sorted(set(encoded)) == list(range(len(values)))  # every class has examples
    by_text = dict(zip(frame["text"], frame["label"]))
    assert all(ds.label_names[code] == str(by_text[t]) for code, t in zip(encoded, texts))


def test_named_dataset_missing_a_class_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "agnews").mkdir()
    frame = pd.DataFrame({"text": [f"t {i}" for i in range(30)], "label": [0, 1, 3] * 10})
    frame.to_csv(tmp_path / "agnews" / "train.csv", index=False)
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(tmp_path))
    with pytest.raises(
        DataError, match=r"agnews column 'label' has no example of class 2; allowed: data holding every class 0..3"
    ):
        load("agnews")
