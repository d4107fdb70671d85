"""Expected FLOPs of a round plan's passes (hybridal.loop.schedule): its training, its inference passes
besides test (scoring, validation and the monitor the ΔF1 rule reads, split as the records split them,
docs/accounting.md) and its test evaluations. Each pass's batches are costed as the engine forms them
(hybridal.cost.batch_flops); hybridal.cost.estimate sums these into a run's estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from hybridal.config import ExperimentConfig
from hybridal.cost.batch_flops import inference_pass_flops, train_epoch_flops, training_window
from hybridal.cost.inputs import SplitLengths
from hybridal.data.task import is_multi_label
from hybridal.loop.schedule import RoundStep
from hybridal.loop.stop_set import stop_set_size
from hybridal.model.flops import FlopsModel
from hybridal.samplers import build_sampler
from hybridal.samplers.base import EMBEDDINGS, LABELED_EMBEDDINGS, LOG_PROBS, MC_PROBS, PROBS
from hybridal.seeds import STOP_SET, round_rng


def flops_of_test_evaluations(
    cfg: ExperimentConfig,
    lengths: SplitLengths,
    plan: list[RoundStep],
    model: FlopsModel,
    pad_to: Optional[int],
    max_tokens: Optional[int],
    rng: np.random.Generator,
) -> int:
    """FLOPs of the run's test evaluations: the rows each planned round evaluates."""
    from hybridal.data.splits import per_round_test_rows

    full = inference_pass_flops(lengths.test, cfg.eval_batch_size, model, pad_to, max_tokens)
    costs = {"full": full, None: 0}
    if any(step.test_rows == "subsample" for step in plan):
        n_test = len(lengths.test)
        rows = (
            per_round_test_rows(lengths.test_labels, cfg.test_subsample_size, cfg.seed)
            if lengths.test_labels is not None
            else rng.choice(n_test, size=cfg.test_subsample_size, replace=False)
        )
        costs["subsample"] = inference_pass_flops(lengths.test[rows], cfg.eval_batch_size, model, pad_to, max_tokens)
    return sum(costs[step.test_rows] for step in plan)


def train_flops(
    cfg: ExperimentConfig, lengths: SplitLengths, plan: list[RoundStep], model: FlopsModel, pad_to: Optional[int]
) -> int:
    """Expected training FLOPs of the planned rounds."""
    return sum(round_train_flops(cfg, lengths, plan, model, pad_to))


def round_train_flops(
    cfg: ExperimentConfig, lengths: SplitLengths, plan: list[RoundStep], model: FlopsModel, pad_to: Optional[int]
) -> list[int]:
    """Expected training FLOPs of each planned round (what a shared-prefix sweep splits between
    a trunk and its forks)."""
    window = training_window()
    return [
        step.epochs * train_epoch_flops(lengths.pool, step.train_rows, cfg.batch_size, window, model, pad_to)
        for step in plan
    ]


@dataclass
class InferencePasses:
    """Expected FLOPs of a plan's non-test passes, per part (docs/accounting.md)."""

    scoring: int
    monitor: list[int]  # per round: the pass the ΔF1 rule reads (validation, or the acquired monitor)
    total: int  # scoring + validation + acquired-monitor passes
    stop_set: int = 0  # one round's stop-set pass (kept out of total, as the records keep it out of infer_flops)


def al_inference_flops(
    cfg: ExperimentConfig,
    lengths: SplitLengths,
    plan: list[RoundStep],
    model: FlopsModel,
    pad_to: Optional[int],
    max_tokens: Optional[int],
    rng: np.random.Generator,
) -> InferencePasses:
    """Expected FLOPs of the planned scoring, validation and monitor passes."""
    sampler = build_sampler(cfg.sampler_class, multi_label=is_multi_label(cfg), **cfg.sampler_kwargs)
    n_pool = len(lengths.pool)

    def passes(rows: np.ndarray) -> int:
        return inference_pass_flops(rows, cfg.eval_batch_size, model, pad_to, max_tokens)

    val_cost = passes(lengths.validation)
    forward_needed = bool(sampler.requires & {PROBS, LOG_PROBS, EMBEDDINGS})
    scoring_passes = int(forward_needed) + (sampler.mc_passes if MC_PROBS in sampler.requires else 0)
    scoring, total, labeled, monitored, monitor = 0, 0, 0, 0, []
    for step in plan:
        if (
            step.round > 0 and step.n_query and scoring_passes
        ):  # random sampling scores nothing: skip the (slow) estimate
            unlabeled = n_pool - labeled - step.n_monitor
            scored = min(unlabeled, cfg.candidate_pool_size or unlabeled)
            scoring += scoring_passes * passes(lengths.pool[rng.choice(n_pool, size=scored, replace=False)])
        if step.round > 0 and step.n_query and LABELED_EMBEDDINGS in sampler.requires:
            scoring += passes(lengths.pool[rng.choice(n_pool, size=labeled - monitored, replace=False)])
        labeled += step.n_new
        monitored += step.n_monitor
        total += val_cost
        if step.monitor == "acquired":
            monitor.append(passes(lengths.pool[:monitored]) if monitored else 0)
            total += monitor[-1]
        else:
            monitor.append(val_cost)
    size = stop_set_size(cfg, n_pool, len(lengths.validation))
    # Its own draw, as the run's (seeds.STOP_SET), so the shared `rng`'s later draws stay as they were.
    rows = round_rng(cfg.seed, 0, STOP_SET).choice(n_pool, size=size, replace=False) if size else None
    stop_set = passes(lengths.pool[rows]) if rows is not None else 0
    return InferencePasses(scoring, monitor, scoring + total, stop_set)
