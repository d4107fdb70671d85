"""Jigsaw Toxic Comments (Kaggle's schema: id, comment_text and six 0/1 label columns) as the task a
run asks for: its six labels as one multi-label task (the default: the task the prototype names), or
one binary task (`data_kwargs.jigsaw_label`: `toxic`, the toxic column; `any`, any of the six)."""

from __future__ import annotations

from typing import Optional

from hybridal.data.label_matrix import JIGSAW_LABELS
from hybridal.data.task import JIGSAW_MULTI_LABEL as MULTI_LABEL
from hybridal.data.task import jigsaw_task
from hybridal.errors import DataError

BINARY_NAMES = {"toxic": ["clean", "toxic"], "any": ["clean", "any_toxic"]}
__all__ = ["MULTI_LABEL", "BINARY_NAMES", "binary_frame", "jigsaw_task", "label_columns", "scored_rows"]


def scored_rows(df, columns: list[str]):
    """The rows whose labels are all scored: Kaggle's test labels mark unscored rows with -1."""
    present = [c for c in columns if c in df.columns]
    return df[(df[present].to_numpy() >= 0).all(axis=1)] if present else df


def binary_frame(df, mode: str, split: str):
    """The rows with a binary `label` column: the toxic column, or whether any of the six is set.
    Kaggle's test labels mark unscored rows with -1; those rows are dropped."""
    needed = ["toxic"] if mode == "toxic" else list(JIGSAW_LABELS)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(
            f"jigsaw {split} file lacks column(s) {', '.join(missing)}; "
            f"allowed: Kaggle's schema id,comment_text,{','.join(JIGSAW_LABELS)}."
        )
    df = scored_rows(df, needed).copy()
    df["label"] = (df[needed].to_numpy() > 0).any(axis=1).astype("int64")
    return df


def label_columns(requested: Optional[list]) -> list[str]:
    """The Jigsaw columns of a multi-label run: `label_columns` when given (a subset of the six), else all six."""
    if requested is None:
        return list(JIGSAW_LABELS)
    unknown = [c for c in requested if c not in JIGSAW_LABELS]
    if unknown:
        raise DataError(
            f"label_columns entry {unknown[0]!r} is not a Jigsaw label; allowed: {', '.join(JIGSAW_LABELS)}."
        )
    return list(requested)
