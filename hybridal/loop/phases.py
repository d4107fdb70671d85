"""A round's three phases (docs/design.md §2-4): acquire labels, train, evaluate.

Each carries out its part of the round's plan (`schedule.RoundStep`) on the run's parts;
`ActiveLearning.run_round` composes them and builds the record.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from hybridal.config import ExperimentConfig
from hybridal.loop.pool import MONITOR, TRAIN, LabelPool
from hybridal.loop.run_parts import RunParts
from hybridal.loop.schedule import RoundStep
from hybridal.model import training
from hybridal.model.metrics import EvalResult
from hybridal.model.optimization import build_optimizer, build_scheduler
from hybridal.model.shrink_perturb import shrink_perturb
from hybridal.samplers.base import LABELED_LABELS, PoolScores, Sampler
from hybridal.seeds import INITIAL, MC_DROPOUT, QUERY, REPLAY, SHRINK_PERTURB, SHUFFLE, TORCH, derive_seed, round_rng

# ---- acquire ----------------------------------------------------------------------------------


@dataclass
class Acquisition:
    flops: int = 0  # the scoring pass
    seconds: float = 0.0


def acquire(
    cfg: ExperimentConfig, parts: RunParts, pool: LabelPool, sampler: Sampler, sampler_seed: int, step: RoundStep
) -> Acquisition:
    """Reveal the round's labels: round 0 a seeded random draw, later rounds the monitor share
    (drawn at random) and the sampler's picks among the rest."""
    r = step.round
    if r == 0:
        initial = np.sort(round_rng(cfg.seed, 0, INITIAL).choice(len(pool), size=step.n_new, replace=False))
        pool.label(initial, 0, TRAIN)
        return Acquisition()
    start = time.perf_counter()
    rng = round_rng(sampler_seed, r, QUERY)
    unlabeled = pool.unlabeled()
    monitor_idx = np.empty(0, dtype=np.int64)
    if step.n_monitor:
        monitor_idx = np.sort(round_rng(cfg.seed, r, MONITOR).choice(unlabeled, size=step.n_monitor, replace=False))
        unlabeled = np.setdiff1d(unlabeled, monitor_idx, assume_unique=True)
    candidates = unlabeled
    if cfg.candidate_pool_size is not None and cfg.candidate_pool_size < len(unlabeled):
        candidates = np.sort(rng.choice(unlabeled, size=cfg.candidate_pool_size, replace=False))
    flops = 0
    if step.n_query > 0:
        picks, flops = _sampler_picks(cfg, parts, pool, sampler, sampler_seed, r, candidates, step.n_query, rng)
        pool.label(picks, r, TRAIN)
    if len(monitor_idx):
        pool.label(monitor_idx, r, MONITOR)
    return Acquisition(flops, time.perf_counter() - start)


def _sampler_picks(
    cfg: ExperimentConfig,
    parts: RunParts,
    pool: LabelPool,
    sampler: Sampler,
    sampler_seed: int,
    r: int,
    candidates: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """`n` candidates chosen by the sampler after one scoring pass; returns (picks, FLOPs)."""
    flops = 0
    if sampler.requires:
        scores, flops = training.score_pool(
            parts.model.model,
            parts.tokens["pool"],
            candidates,
            pool.train_indices(),
            sampler.requires,
            sampler.mc_passes,
            cfg.eval_batch_size,
            parts.batching,
            mc_seed=derive_seed(sampler_seed, r, MC_DROPOUT),
        )
    else:
        scores = PoolScores(candidates=candidates)
    if LABELED_LABELS in sampler.requires:  # multi-label samplers that read the labelled set's labels
        scores.labeled_labels = parts.labels["pool"][pool.train_indices()]
    positions = np.asarray(sampler.select(scores, n, rng), dtype=np.int64)
    if len(np.unique(positions)) != n or positions.min() < 0 or positions.max() >= len(candidates):
        raise RuntimeError(
            f"sampler {sampler.name!r} returned {len(positions)} positions for {n} picks, with repeats or out of range."
        )
    return candidates[positions], flops


# ---- train ------------------------------------------------------------------------------------


def train(
    cfg: ExperimentConfig,
    parts: RunParts,
    pool: LabelPool,
    step: RoundStep,
    kept_optimizer: Optional[torch.optim.Optimizer],
) -> tuple[training.TrainStats, torch.optim.Optimizer]:
    """Train the round as planned: from the pretrained weights (retrain) or the current ones,
    on every training label or on this round's plus `replay` earlier ones. Returns the stats
    and the optimizer used (a finetune round with keep_optimizer continues `kept_optimizer`).
    A shrink_perturb round first blends the current weights with the starting ones and adds seeded
    noise (hybridal.model.shrink_perturb); that step's FLOPs and time count as the round's training."""
    if step.mode == "retrain":
        parts.model.reset()
    started, shrink_flops = time.perf_counter(), 0
    if step.mode == "shrink_perturb":
        seed = derive_seed(cfg.seed, step.round, SHRINK_PERTURB)
        shrink_flops = shrink_perturb(parts.model.model, parts.model.initial_state, cfg.shrink, cfg.perturb, seed)
    shrink_seconds = time.perf_counter() - started
    rows = pool.train_indices() if step.train_on == "all" else _new_rows_with_replay(cfg, pool, step)
    torch.manual_seed(derive_seed(cfg.seed, step.round, TORCH))  # dropout masks
    generator = torch.Generator().manual_seed(derive_seed(cfg.seed, step.round, SHUFFLE))
    model = parts.model.model
    if step.continue_optimizer and kept_optimizer is not None:
        optimizer = kept_optimizer
    else:
        optimizer = build_optimizer(cfg.optimizer_class, cfg.optimizer_kwargs, model)
    steps = step.epochs * math.ceil(len(rows) / cfg.batch_size)
    scheduler, interval = build_scheduler(
        cfg.scheduler_class, cfg.scheduler_kwargs, cfg.scheduler_interval, optimizer, steps
    )
    stats = training.train_epochs(
        model,
        parts.tokens["pool"],
        rows,
        parts.pool_labels,
        step.epochs,
        cfg.batch_size,
        optimizer,
        scheduler,
        interval,
        parts.criterion,
        parts.batching,
        generator,
        cfg.max_grad_norm,
    )
    stats.flops += shrink_flops
    stats.seconds += shrink_seconds if shrink_flops else 0.0
    return stats, optimizer


def _new_rows_with_replay(cfg: ExperimentConfig, pool: LabelPool, step: RoundStep) -> np.ndarray:
    rows = pool.new_train_indices(step.round)
    if not step.replay:
        return rows
    earlier = pool.earlier_train_indices(step.round)
    replayed = round_rng(cfg.seed, step.round, REPLAY).choice(earlier, size=step.replay, replace=False)
    return np.concatenate([rows, replayed])


# ---- evaluate ---------------------------------------------------------------------------------


@dataclass
class Evaluation:
    validation: EvalResult
    monitor: EvalResult  # what the ΔF1 rule reads: validation, or the acquired monitor labels
    test: Optional[EvalResult]  # None when the plan evaluates no test rows
    infer_flops: int  # validation and monitor passes (who pays: hybridal.loop.accounting)
    seconds: float
    monitor_flops: int = 0  # the pass the ΔF1 rule reads: validation, or the acquired monitor

    @property
    def monitor_f1(self) -> Optional[float]:
        return self.monitor.f1 if self.monitor.n else None

    @property
    def monitor_degenerate(self) -> Optional[bool]:
        """The switch rule's guard input: the monitor predicted one class or did no better than its
        majority class (None: no monitor rows yet)."""
        return self.monitor.no_better_than_majority if self.monitor.n else None

    @property
    def monitor_classes(self) -> Optional[int]:
        return self.monitor.classes_present if self.monitor.n else None


def evaluate(cfg: ExperimentConfig, parts: RunParts, pool: LabelPool, step: RoundStep) -> Evaluation:
    """Validation, the monitor set and, where the plan says so, test rows (measurement only)."""
    start = time.perf_counter()
    validation = _evaluate_rows(cfg, parts, "validation", np.arange(len(parts.labels["validation"])))
    flops = validation.flops
    monitor = validation
    if step.monitor == "acquired":  # a few examples: macro-F1 over the classes they hold, not over absent ones
        monitor = _evaluate_rows(cfg, parts, "pool", pool.monitor_indices(), present_classes_only=True)
        flops += monitor.flops
    test = None
    if step.test_rows is not None:
        if step.test_rows == "subsample":
            assert parts.test_subsample is not None  # the plan subsamples only where the run drew a subsample
            rows = parts.test_subsample
        else:
            rows = np.arange(len(parts.labels["test"]))
        test = _evaluate_rows(cfg, parts, "test", rows)
    return Evaluation(validation, monitor, test, flops, time.perf_counter() - start, monitor_flops=monitor.flops)


def full_test(cfg: ExperimentConfig, parts: RunParts) -> EvalResult:
    """The whole test split (a run that `halt_on` ends early: its final metrics)."""
    return _evaluate_rows(cfg, parts, "test", np.arange(len(parts.labels["test"])))


def labels_per_class(parts: RunParts, pool: LabelPool) -> list[int]:
    """Training labels per class in the labelled set (monitor labels apart: never trained on); for a
    multi-label task, the labelled rows carrying each label (a row counts once per label it carries)."""
    labels = parts.labels["pool"][pool.train_indices()]
    if parts.multi_label:
        return [int(c) for c in labels.sum(axis=0)]
    return [int(c) for c in np.bincount(labels, minlength=parts.num_labels)]


def _evaluate_rows(
    cfg: ExperimentConfig, parts: RunParts, split: str, rows: np.ndarray, present_classes_only: bool = False
) -> EvalResult:
    return training.evaluate(
        parts.model.model,
        parts.tokens[split],
        rows,
        parts.labels[split],
        parts.num_labels,
        cfg.eval_batch_size,
        parts.batching,
        present_classes_only,
        parts.task,
    )
