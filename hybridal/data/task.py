"""Which task a config asks for, known before any data loads: single-label (one class per text) or
multi-label (a 0/1 set of labels per text; docs/multilabel.md), and the checks of the keys that only
one of the two reads (`label_columns`, `multi_label`, `decision_threshold`, `monitor_metric`)."""

from __future__ import annotations

import math
from typing import Any, Optional, Protocol

from hybridal.errors import ConfigError, choice_error


class TaskKeys(Protocol):
    """The config keys that decide the task (hybridal.config.ExperimentConfig has them all)."""

    data: str
    data_kwargs: Any
    label_column: Optional[str]
    label_columns: Optional[list]
    multi_label: Optional[bool]
    decision_threshold: float
    monitor_metric: Optional[str]
    criterion_class: str


JIGSAW_NAMES = ("jigsaw", "jigsaw_toxic")
JIGSAW_MULTI_LABEL = "all"
JIGSAW_TASKS = (JIGSAW_MULTI_LABEL, "toxic", "any")  # the six labels, or one binary task (hybridal.data.jigsaw)
SINGLE_LABEL_DATA = ("agnews", "ag_news", "ag-news", "imdb")
# What the ΔF1 rule (and `val_f1`, `test_f1`, `monitor_f1`) reads in a multi-label run. Micro-F1 by
# default: it pools every (row, label) cell, so a label with a handful of positives moves it by a handful
# of cells; macro-F1 gives such a label 1/L of the score, and one validation row can move it by ~0.1.
MULTI_LABEL_METRICS = ("micro_f1", "macro_f1")
SINGLE_LABEL_METRICS = ("macro_f1",)
# The loss a multi-label run trains with; the default `CrossEntropyLoss` is read as the task's default.
MULTI_LABEL_LOSS = "BCEWithLogitsLoss"


def jigsaw_task(data_kwargs: dict) -> str:
    """The Jigsaw task `data_kwargs.jigsaw_label` names (default: all six labels), checked."""
    task = data_kwargs.get("jigsaw_label", JIGSAW_MULTI_LABEL)
    if task not in JIGSAW_TASKS:
        raise choice_error("data_kwargs.jigsaw_label", task, JIGSAW_TASKS)
    return task


def is_multi_label(cfg: TaskKeys) -> bool:
    """Multi-label when `label_columns` is set, `multi_label` is true, or Jigsaw runs its six labels."""
    if cfg.multi_label is not None:
        return bool(cfg.multi_label)
    if cfg.label_columns is not None:
        return True
    kwargs = cfg.data_kwargs if isinstance(cfg.data_kwargs, dict) else {}  # (validate() refuses a non-mapping)
    return cfg.data in JIGSAW_NAMES and kwargs.get("jigsaw_label", JIGSAW_MULTI_LABEL) == JIGSAW_MULTI_LABEL


def monitor_metric(cfg: TaskKeys) -> str:
    """`monitor_metric`, or the task's default (micro-F1 multi-label, macro-F1 single-label)."""
    if cfg.monitor_metric is not None:
        return cfg.monitor_metric
    return "micro_f1" if is_multi_label(cfg) else "macro_f1"


def loss_name(cfg: TaskKeys) -> str:
    """The loss the run trains with: binary cross-entropy on a multi-label task unless another is named."""
    if is_multi_label(cfg) and cfg.criterion_class == "CrossEntropyLoss":
        return MULTI_LABEL_LOSS
    return cfg.criterion_class


def check_task(cfg: TaskKeys) -> None:
    """Raise a one-sentence ConfigError for task keys that contradict each other or the data."""
    columns = cfg.label_columns
    if columns is not None and (
        not isinstance(columns, list)
        or len(columns) < 2
        or not all(isinstance(c, str) and c for c in columns)
        or len(set(columns)) != len(columns)
    ):
        raise ConfigError(
            f"label_columns={columns!r} is invalid; allowed: a list of two or more distinct column names."
        )
    if cfg.multi_label not in (None, True, False):
        raise ConfigError(f"multi_label={cfg.multi_label!r} is invalid; allowed: true, false or null.")
    task = jigsaw_task(cfg.data_kwargs) if cfg.data in JIGSAW_NAMES else None
    jigsaw_binary = task not in (None, JIGSAW_MULTI_LABEL)
    if cfg.multi_label is False and (columns is not None or cfg.data in JIGSAW_NAMES and not jigsaw_binary):
        raise ConfigError(
            f"multi_label=false contradicts data={cfg.data!r} with label_columns={columns!r}; allowed: "
            "multi_label null or true, or a single-label source (for jigsaw: data_kwargs.jigsaw_label toxic or any)."
        )
    if is_multi_label(cfg) and (cfg.data in SINGLE_LABEL_DATA or jigsaw_binary):
        raise ConfigError(
            f"data={cfg.data!r} with data_kwargs={cfg.data_kwargs!r} is a single-label task, but label_columns or "
            "multi_label asks for multi-label; allowed: jigsaw (its six labels) or a file with label columns."
        )
    if columns is not None and cfg.label_column is not None:
        raise ConfigError(
            f"label_column={cfg.label_column!r} and label_columns={columns!r} are both set; allowed: one of them "
            "(label_columns: 0/1 columns; label_column with multi_label true: a column of label lists)."
        )
    _check_threshold(cfg.decision_threshold)
    allowed = MULTI_LABEL_METRICS if is_multi_label(cfg) else SINGLE_LABEL_METRICS
    if cfg.monitor_metric is not None and cfg.monitor_metric not in allowed:
        raise choice_error("monitor_metric", cfg.monitor_metric, allowed)
    if is_multi_label(cfg) and loss_name(cfg) != MULTI_LABEL_LOSS:
        raise ConfigError(
            f"criterion_class={cfg.criterion_class!r} cannot train a multi-label task; allowed: "
            f"{MULTI_LABEL_LOSS} (or the default CrossEntropyLoss, read as {MULTI_LABEL_LOSS})."
        )


def _check_threshold(value: Any) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 0 < value < 1:
        raise ConfigError(
            f"decision_threshold={value!r} is invalid; allowed: a number strictly between 0 and 1 "
            "(a label is predicted when its sigmoid probability is at or above it)."
        )
