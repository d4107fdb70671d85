"""What the pre-launch estimate (hybridal.cost.estimate) costs a run from, without running it: the
token lengths of the run's splits (`SplitLengths`) and the model's FLOPs model. Lengths are the real
ones when the dataset can be read here (the run's own splits, tokenized as the run tokenizes them),
otherwise typical lengths of the named datasets, flagged as approximate; common hub architectures
need no download.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from hybridal.config import ExperimentConfig
from hybridal.data.label_matrix import JIGSAW_LABELS
from hybridal.data.task import JIGSAW_NAMES, is_multi_label
from hybridal.model.flops import FlopsModel

# Architectures of common hub models, so a dry run needs no download.
KNOWN_ARCHITECTURES: dict[str, dict[str, Any]] = {
    "distilbert-base-uncased": dict(
        model_type="distilbert", hidden_size=768, num_layers=6, num_heads=12, intermediate_size=3072
    ),
    "bert-base-uncased": dict(model_type="bert", hidden_size=768, num_layers=12, num_heads=12, intermediate_size=3072),
    "roberta-base": dict(model_type="roberta", hidden_size=768, num_layers=12, num_heads=12, intermediate_size=3072),
}
# Used only when the dataset cannot be read here: (pool rows, test rows, mean tokens), approximate.
TYPICAL_DATASETS = {"agnews": (120_000, 7_600, 52), "imdb": (25_000, 25_000, 300), "jigsaw": (159_571, 63_978, 95)}


@dataclass
class SplitLengths:
    pool: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    exact: bool  # True: real token lengths; False: typical lengths (approximate)
    test_labels: Optional[np.ndarray] = None  # when known, the per-round test rows are the run's own


def flops_model_for(cfg: ExperimentConfig, num_labels: int) -> FlopsModel:
    known = KNOWN_ARCHITECTURES.get(cfg.model_name_or_path)
    if known is not None:
        return FlopsModel(num_labels=num_labels, embedding_size=known["hidden_size"], **known)
    from hybridal.model.pretrained import load_model_config

    return FlopsModel.from_config(load_model_config(cfg.model_name_or_path, num_labels), num_labels)


def split_lengths(cfg: ExperimentConfig) -> tuple[SplitLengths, int]:
    """Token lengths of the run's splits, and the number of labels."""
    try:
        from hybridal.data.tokenization import tokenize_cached
        from hybridal.loop.run_parts import load_run_splits
        from hybridal.model.pretrained import load_tokenizer

        splits = load_run_splits(cfg)
        tokenizer = load_tokenizer(cfg.model_name_or_path)
        pool, validation, test = (
            tokenize_cached(getattr(splits, s).texts, tokenizer, cfg.max_length)[0].lengths
            for s in ("pool", "validation", "test")
        )
        return SplitLengths(pool, validation, test, exact=True, test_labels=splits.test.labels), splits.num_labels
    except Exception:
        if cfg.data not in TYPICAL_DATASETS:
            raise
    n_pool, n_test, mean = TYPICAL_DATASETS[cfg.data]
    if cfg.max_train_size:
        n_pool = min(n_pool, cfg.max_train_size)
    if cfg.max_test_size:
        n_test = min(n_test, cfg.max_test_size)
    n_val = (
        min(1000, round(0.1 * n_pool))
        if cfg.val_size is None
        else int(cfg.val_size if cfg.val_size >= 1 else cfg.val_size * n_pool)
    )
    width = min(cfg.max_length, mean)

    def fill(n: int) -> np.ndarray:
        return np.full(n, width, dtype=np.int64)

    labels = cfg.num_labels or typical_label_count(cfg)
    return SplitLengths(fill(n_pool - n_val), fill(n_val), fill(n_test), exact=False), labels


def typical_label_count(cfg: ExperimentConfig) -> int:
    """The head's size when the data cannot be read: the classes, or a multi-label task's labels."""
    if cfg.label_columns is not None:
        return len(cfg.label_columns)
    if is_multi_label(cfg) and cfg.data in JIGSAW_NAMES:
        return len(JIGSAW_LABELS)
    return {"agnews": 4}.get(cfg.data, 2)


class SliceInputs:
    """Each distinct dataset slice's token lengths and FLOPs model, read once: a grid's runs share
    a handful of slices, and reading one means loading and tokenizing the data."""

    def __init__(self) -> None:
        self._read: dict[tuple, tuple[SplitLengths, FlopsModel]] = {}

    def __call__(self, cfg: ExperimentConfig) -> tuple[SplitLengths, FlopsModel]:
        key = (
            cfg.data,
            cfg.text_column,
            cfg.label_column,
            str(cfg.label_columns),
            cfg.multi_label,
            str(cfg.data_kwargs),
            cfg.seed,
            cfg.val_size,
            cfg.max_train_size,
            cfg.max_test_size,
            cfg.model_name_or_path,
            cfg.max_length,
        )
        if key not in self._read:
            lengths, num_labels = split_lengths(cfg)
            self._read[key] = (lengths, flops_model_for(cfg, num_labels))
        return self._read[key]
