"""A multi-label dataset's labels as a 0/1 matrix (docs/multilabel.md): from
0/1 columns (`label_columns: [...]`, Jigsaw's six), or from one column holding each row's list of
labels. Errors are one sentence naming the file, the column and the bad value."""

from __future__ import annotations

import json
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from hybridal.data.multilabel_split import check_label_matrix
from hybridal.errors import DataError

JIGSAW_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")


def from_label_columns(df: pd.DataFrame, columns: Sequence[str], source: str) -> np.ndarray:
    """The (rows, labels) int8 matrix of the 0/1 `columns`, in their order."""
    if isinstance(columns, str) or not columns:
        raise DataError(f"{source}: label_columns={columns!r} is invalid; allowed: a list of two or more 0/1 columns.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{source} lacks the label column(s) {', '.join(map(repr, missing))}; "
            f"allowed: columns of the file ({', '.join(map(str, df.columns[:12]))})."
        )
    return check_label_matrix(df[list(columns)].to_numpy(), source, list(columns), require_positive=False)


def from_label_lists(
    df: pd.DataFrame, column: str, source: str, label_names: Optional[Sequence[str]] = None
) -> tuple[np.ndarray, list[str]]:
    """The matrix of a column whose cells are each row's labels: a list, or its JSON text
    (`["toxic", "insult"]`; `[]` for none). Labels are named by their values, sorted, unless
    `label_names` fixes them (then another value is an error)."""
    if column not in df.columns:
        raise DataError(f"{source} lacks the label column {column!r}; allowed: a column of label lists.")
    rows = [_cell_labels(v, source, column, i) for i, v in enumerate(df[column].tolist())]
    names = list(label_names) if label_names is not None else sorted({x for r in rows for x in r})
    index = {name: j for j, name in enumerate(names)}
    matrix = np.zeros((len(rows), len(names)), dtype=np.int8)
    for i, labels in enumerate(rows):
        for label in labels:
            if label not in index:
                raise DataError(
                    f"{source} column {column!r} row {i} has the label {label!r}; allowed: {', '.join(names)}."
                )
            matrix[i, index[label]] = 1
    return matrix, names


def _cell_labels(cell: object, source: str, column: str, row: int) -> list[str]:
    value = cell
    if isinstance(cell, str):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            value = None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise DataError(
            f"{source} column {column!r} row {row} holds {cell!r}; allowed: a list of labels "
            '(or its JSON text, e.g. ["toxic", "insult"]; [] for none).'
        )
    return [str(x) for x in value]


def jigsaw_matrix(df: pd.DataFrame, split: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Jigsaw's rows and six-label matrix; Kaggle's test labels mark unscored rows with -1 in every
    column, and those rows are dropped (they have no labels)."""
    missing = [c for c in JIGSAW_LABELS if c not in df.columns]
    if missing:
        raise DataError(
            f"jigsaw {split} file lacks column(s) {', '.join(missing)}; "
            f"allowed: Kaggle's schema id,comment_text,{','.join(JIGSAW_LABELS)}."
        )
    scored = (df[list(JIGSAW_LABELS)].to_numpy() >= 0).all(axis=1)
    kept = df[scored]
    return kept, from_label_columns(kept, JIGSAW_LABELS, f"jigsaw {split} file")
