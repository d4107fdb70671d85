"""Multi-label labels from files (issue 25 foundation): 0/1 columns, label lists, Jigsaw's six."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybridal.data.label_matrix import JIGSAW_LABELS, from_label_columns, from_label_lists, jigsaw_matrix
from hybridal.errors import DataError


def test_the_shared_jigsaw_copy_holds_six_labels_with_the_rare_counts_the_docs_quote(data_dir):
    df = pd.read_csv(data_dir / "jigsaw" / "train.csv")
    kept, y = jigsaw_matrix(df, "train")
    assert y.shape == (2000, 6) and len(kept) == 2000
    counts = dict(zip(JIGSAW_LABELS, y.sum(axis=0).tolist()))
    assert (counts["threat"], counts["severe_toxic"], counts["identity_hate"]) == (7, 15, 19)
    assert counts["toxic"] == int((df["toxic"] == 1).sum())


def test_kaggles_unscored_test_rows_are_dropped():
    df = pd.DataFrame({"comment_text": ["a", "b"], **{c: [-1, 1] for c in JIGSAW_LABELS}})
    kept, y = jigsaw_matrix(df, "test")
    assert list(kept["comment_text"]) == ["b"] and y.tolist() == [[1] * 6]


def test_label_columns_and_label_lists_give_the_same_matrix():
    df = pd.DataFrame({"a": [1, 0, 0], "b": [1, 1, 0], "tags": ['["a", "b"]', '["b"]', "[]"]})
    by_columns = from_label_columns(df, ["a", "b"], "f.csv")
    by_lists, names = from_label_lists(df, "tags", "f.csv")
    assert names == ["a", "b"] and np.array_equal(by_columns, by_lists)
    assert from_label_lists(pd.DataFrame({"t": [["x"], []]}), "t", "f.parquet")[0].tolist() == [[1], [0]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda df: from_label_columns(df, ["a", "zz"], "f.csv"), "f.csv lacks the label column"),
        (lambda df: from_label_columns(df, ["a", "c"], "f.csv"), "label column 'c' has value 2"),
        (lambda df: from_label_columns(df, "a", "f.csv"), "label_columns='a' is invalid"),
        (lambda df: from_label_lists(df, "tags", "f.csv"), "column 'tags' row 1 holds 'oops'"),
        (lambda df: from_label_lists(df, "a", "f.csv", ["x"]), "column 'a' row 0 holds 1"),
        (lambda df: jigsaw_matrix(df, "train"), "jigsaw train file lacks column"),
    ],
)
def test_bad_labels_fail_in_one_sentence(call, message):
    df = pd.DataFrame({"a": [1, 0], "c": [0, 2], "tags": ['["a"]', "oops"]})
    with pytest.raises(DataError, match=message):
        call(df)
