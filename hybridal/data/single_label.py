"""A single-label dataset's classes: the label column of every split mapped to integers 0..K-1
(numbers by their sorted values, strings by their sorted names), checked in one sentence each."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from hybridal.errors import DataError


def class_labels(
    name: str,
    columns: dict[str, pd.Series],
    label_column: str,
    label_names: Optional[list[str]],
    declared: Optional[int],
    num_labels: Optional[int],
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Each split's labels as int64 class ids, and the class names (one per class)."""
    labels_all = pd.concat(list(columns.values()), ignore_index=True)
    if labels_all.isna().any():
        raise DataError(
            f"{name} column {label_column!r} has {int(labels_all.isna().sum())} missing (NaN) label(s); "
            "allowed: a label (integer >= 0 or string) on every row."
        )
    if declared is not None and num_labels is not None and num_labels != declared:
        raise DataError(
            f"num_labels={num_labels} disagrees with {name}, which has {declared} classes; allowed: {declared}."
        )
    mapping: Optional[dict[str, int]] = None
    if pd.api.types.is_numeric_dtype(labels_all):
        classes = _numeric_classes(name, label_column, labels_all, declared, num_labels)
        n_labels = len(classes)
        if declared is None:  # the run's class i is the i-th smallest value: name it by that value
            label_names = [str(int(c)) for c in classes]
    else:  # string labels: a stable, sorted mapping
        names = sorted(labels_all.astype(str).unique())
        mapping = {c: i for i, c in enumerate(names)}
        label_names, n_labels = names, len(names)
        if num_labels is not None and num_labels != n_labels:
            raise DataError(
                f"num_labels={num_labels} disagrees with the {n_labels} classes in {name} column {label_column!r} "
                f"({', '.join(names[:6])}); allowed: {n_labels}."
            )
    if n_labels < 2:
        raise DataError(f"{name} has {n_labels} class; allowed: at least 2 classes.")
    if label_names is None or len(label_names) != n_labels:
        label_names = [str(i) for i in range(n_labels)]

    def ids(labels: pd.Series) -> np.ndarray:
        if mapping is not None:
            return labels.astype(str).map(mapping).to_numpy(dtype=np.int64)
        return np.searchsorted(classes, labels.astype("float64").to_numpy()).astype(np.int64)

    return {split: ids(labels) for split, labels in columns.items()}, list(label_names)


def _numeric_classes(name, column, labels, declared, num_labels) -> np.ndarray:
    """The sorted label values that become classes 0..K-1, so no class goes without examples.

    Any set of non-negative integers works (labels 1..4 make 4 classes, not 5 with an empty
    class 0); a named dataset's ids are fixed: they must be exactly 0..declared-1.
    """
    values = labels.astype("float64").to_numpy()
    if not np.all(values == np.round(values)):
        raise DataError(
            f"{name} column {column!r} holds non-integer labels such as {values[values != np.round(values)][0]}; "
            "allowed: integers >= 0 or strings."
        )
    if (values < 0).any():
        raise DataError(
            f"{name} column {column!r} has negative label {int(values[values < 0][0])}; allowed: integers >= 0 "
            "or strings (drop unlabeled rows, recode -1/+1 labels as 0/1)."
        )
    classes = np.unique(values)
    if declared is not None:
        if classes[-1] >= declared:
            raise DataError(
                f"{name} column {column!r} has label {int(classes[-1])} outside [0, {declared}); "
                f"allowed: integers in [0, {declared})."
            )
        if len(classes) < declared:
            missing = sorted(set(range(declared)) - set(classes.astype(int)))
            raise DataError(
                f"{name} column {column!r} has no example of class {missing[0]}; "
                f"allowed: data holding every class 0..{declared - 1}."
            )
    elif num_labels is not None and num_labels != len(classes):
        shown = ", ".join(str(int(c)) for c in classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise DataError(
            f"num_labels={num_labels} disagrees with {name} column {column!r}, which holds {len(classes)} "
            f"distinct labels ({shown}); allowed: {len(classes)}."
        )
    return classes
