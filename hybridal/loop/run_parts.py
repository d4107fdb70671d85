"""What one run works on, built in one step: the checked data splits, their tokens, the model
(with its pretrained state kept for `retrain`), how batches run, and the loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from torch import nn

from hybridal.config import ExperimentConfig
from hybridal.data.datasets import load_named_or_path
from hybridal.data.splits import LoadedDataset, RunSplits, make_run_splits, per_round_test_rows
from hybridal.data.task import loss_name, monitor_metric
from hybridal.data.tokenization import TokenizedTexts, tokenize_cached
from hybridal.errors import ConfigError, DataError
from hybridal.model.batching import Batching
from hybridal.model.flops import FlopsModel
from hybridal.model.hardware import configure_backends, resolve_device, resolve_precision, use_deterministic_algorithms
from hybridal.model.multilabel_eval import MultiLabelTask
from hybridal.model.optimization import build_criterion
from hybridal.model.pretrained import ResettableModel, check_model, load_model, load_tokenizer

SPLITS = ("pool", "validation", "test")


@dataclass
class RunParts:
    splits: RunSplits
    tokens: dict[str, TokenizedTexts]  # per split
    tokenization_cached: dict[str, bool]  # per split: read from the machine's cache
    labels: dict[str, np.ndarray]  # per split
    pool_labels: torch.Tensor  # labels["pool"] as the training loop takes them
    test_subsample: Optional[np.ndarray]  # the per-round test rows (None: the full split)
    model: ResettableModel
    batching: Batching
    criterion: nn.Module
    device: torch.device
    precision: str
    task: Optional[MultiLabelTask] = None  # a multi-label run's threshold and monitored metric

    @property
    def num_labels(self) -> int:
        return self.splits.num_labels

    @property
    def multi_label(self) -> bool:
        return self.task is not None


def build_run_parts(cfg: ExperimentConfig) -> RunParts:
    """Check the model name, load and check the data (before any model), tokenize (cached), load
    the model. `cfg` must be validated."""
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    check_model(cfg.model_name_or_path)  # a wrong name fails in one sentence, before the data loads
    splits = load_run_splits(cfg)
    check_pool_fits(cfg, len(splits.pool))
    weights = cfg.criterion_kwargs.get("pos_weight")
    if splits.multi_label and isinstance(weights, list) and len(weights) != splits.num_labels:
        raise ConfigError(
            f"criterion_kwargs.pos_weight has {len(weights)} values; allowed: one per label, {splits.num_labels} "
            f"({', '.join(splits.label_names)})."
        )
    device = resolve_device(cfg.device)
    configure_backends(device)
    # Before the model loads and CUDA starts (the cuBLAS workspace); set either way, so a process that
    # runs several configurations (a reused Ray actor) never keeps an earlier run's setting.
    use_deterministic_algorithms(cfg.deterministic)
    precision = resolve_precision(cfg.precision, device)
    tokenizer = load_tokenizer(cfg.model_name_or_path)
    tokens, cached = {}, {}
    for split in SPLITS:
        tokens[split], cached[split] = tokenize_cached(getattr(splits, split).texts, tokenizer, cfg.max_length)
    labels = {split: getattr(splits, split).labels for split in SPLITS}
    multi = splits.multi_label
    model = load_model(cfg.model_name_or_path, splits.num_labels, cfg.seed, multi_label=multi)
    batching = Batching(
        device=device,
        precision=precision,
        pad_id=int(tokenizer.pad_token_id or 0),
        pad_to=cfg.max_length if cfg.fixed_padding else None,
        flops=FlopsModel.from_config(model.config, splits.num_labels),
        multi_label=multi,
    )
    task = MultiLabelTask(cfg.decision_threshold, monitor_metric(cfg), tuple(splits.label_names)) if multi else None
    return RunParts(
        splits=splits,
        tokens=tokens,
        tokenization_cached=cached,
        labels=labels,
        # binary cross-entropy takes float targets, one per label
        pool_labels=torch.from_numpy(labels["pool"].astype(np.float32) if multi else labels["pool"]),
        test_subsample=per_round_test_rows(labels["test"], cfg.test_subsample_size, cfg.seed),
        model=ResettableModel(model, device),
        batching=batching,
        criterion=build_criterion(loss_name(cfg), cfg.criterion_kwargs).to(device),
        device=device,
        precision=precision,
        task=task,
    )


def load_run_splits(cfg: ExperimentConfig) -> RunSplits:
    """The run's splits of `cfg.data`: loaded, checked and split as the engine uses them."""
    return make_run_splits(load_dataset(cfg), cfg.seed, cfg.val_size, cfg.max_train_size, cfg.max_test_size)


def load_dataset(cfg: ExperimentConfig) -> LoadedDataset:
    """`cfg.data` loaded and checked as the config's task (single- or multi-label) reads it."""
    return load_named_or_path(
        cfg.data,
        cfg.text_column,
        cfg.label_column,
        cfg.data_kwargs,
        cfg.seed,
        cfg.num_labels,
        label_columns=cfg.label_columns,
        multi_label=cfg.multi_label,
    )


def check_pool_fits(cfg: ExperimentConfig, n_pool: int) -> None:
    """Raise DataError (one sentence) when the initial pool or a later batch cannot be drawn
    from a training pool of `n_pool` rows: the one data check that needs the data loaded."""
    if cfg.initial_pool_size > n_pool:
        raise DataError(
            f"initial_pool_size={cfg.initial_pool_size} is larger than the training pool ({n_pool} rows of "
            f"{cfg.data}); allowed: at most {n_pool}."
        )
    left = n_pool - cfg.initial_pool_size
    if cfg.total_rounds > 1 and cfg.acquisition_batch_size > left:
        raise DataError(
            f"acquisition_batch_size={cfg.acquisition_batch_size} is larger than the unlabeled pool left "
            f"after round 0 ({left} rows of {cfg.data}); allowed: at most {left}."
        )
