"""Jigsaw Toxic Comments (Kaggle's schema: id, comment_text and six 0/1 label columns) as the task a
run asks for: its six labels as one multi-label task (the default: the task the prototype names), or
one binary task (`data_kwargs.jigsaw_label`: `toxic`, the toxic column; `any`, any of the six)."""

from __future__ import annotations

from typing import Optional

from hybridal.data.label_matrix import JIGSAW_LABELS
from hybridal.data.task import JIGSAW_TASKS
from hybridal.errors import DataError, choice_error

MULTI_LABEL = "all"
BINARY_NAMES = {"toxic": ["clean", "toxic"], "any": ["clean", "any_toxic"]}


def jigsaw_task(data_kwargs: dict) -> str:
    """The task `data_kwargs.jigsaw_label` names (default: all six labels), checked."""
    task = data_kwargs.get("jigsaw_label", MULTI_LABEL)
    if task not in JIGSAW_TASKS:
        raise choice_error("data_kwargs.jigsaw_label", task, JIGSAW_TASKS)
    return task


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
    df = df.copy()
    keep = (df[needed].to_numpy() >= 0).all(axis=1)
    df = df[keep]
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
