"""A multi-label dataset's labels: each split's (rows, labels) 0/1 matrix, from 0/1 columns
(`label_columns`) or from one column of label lists (`multi_label: true` with `label_column`),
checked before any model loads: 0/1 values only, every named column present, and every label
with at least one positive in the training split (a label the model never sees cannot be learnt,
and its metrics would be undefined in every round)."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from hybridal.data.label_matrix import from_label_columns, from_label_lists
from hybridal.data.multilabel_split import check_label_matrix
from hybridal.errors import DataError


def label_matrices(
    name: str,
    frames: dict[str, pd.DataFrame],
    label_columns: Optional[list[str]],
    list_column: Optional[str],
    num_labels: Optional[int],
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Each split's int8 label matrix and the label names (the columns, or the sorted label values)."""
    if label_columns is not None:
        matrices = {
            split: from_label_columns(df, label_columns, f"{name} {split} data") for split, df in frames.items()
        }
        names = list(label_columns)
    else:
        assert list_column is not None
        names = _listed_names(name, frames, list_column)
        matrices = {
            split: from_label_lists(df, list_column, f"{name} {split} data", names)[0] for split, df in frames.items()
        }
    if len(names) < 2:
        raise DataError(
            f"{name} has {len(names)} label ({', '.join(names)}); allowed: at least 2 labels for a multi-label task "
            "(one 0/1 label is a binary task: use label_column)."
        )
    if num_labels is not None and num_labels != len(names):
        raise DataError(
            f"num_labels={num_labels} disagrees with {name}'s {len(names)} labels ({', '.join(names)}); "
            f"allowed: {len(names)}."
        )
    check_label_matrix(matrices["train"], f"{name} train data", names, require_positive=True)
    return matrices, names


def _listed_names(name: str, frames: dict[str, pd.DataFrame], column: str) -> list[str]:
    """Every label value found in the column across the splits, sorted."""
    found: set[str] = set()
    for split, df in frames.items():
        _, names = from_label_lists(df, column, f"{name} {split} data")
        found.update(names)
    return sorted(found)
