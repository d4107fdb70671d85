"""The hot path: one round's training, an evaluation pass and a scoring pass, in plain PyTorch.
How their batches are formed: hybridal.model.batching; what an evaluation reports: hybridal.model.metrics.

Every pass pads batches dynamically (to the longest row) unless fixed padding was asked for,
and counts its FLOPs from the real batch shapes. Speed choices, in the open:
* inference (evaluation, scoring) runs length-sorted batches under `torch.inference_mode`,
  keeps its outputs on the device and copies them to the host once per pass;
* every pass (training included) finishes the last encoder layer on the first token only
  (`first_token`: the head and so the loss read nothing else; 12.5% fewer FLOPs on MiniLM);
* training forms batches within shuffled length buckets (`Batching.train_window`, see
  `tokenization.shuffled_length_buckets`), which halves the padded tokens on short-text data;
* on CUDA, host batches are pinned and copied with `non_blocking=True`;
* bf16 autocast only where `hardware.resolve_precision` says it pays (never emulated bf16);
  inference passes cast the Linear weights to bf16 once per pass, not once per batch, and
  training runs attention on the math backend on CPU (see `hardware`).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score
from torch import nn

from hybridal.data.tokenization import TokenizedTexts, length_sorted_positions, shuffled_length_buckets
from hybridal.model.batching import Batching
from hybridal.model.first_token import first_token_last_layer
from hybridal.model.hardware import autocast, bf16_linear_weights
from hybridal.model.metrics import EvalResult, macro_f1
from hybridal.model.multilabel_eval import MultiLabelTask, multilabel_result
from hybridal.model.pretrained import classifier_layer
from hybridal.samplers.base import EMBEDDINGS, LABELED_EMBEDDINGS, LOG_PROBS, MC_PROBS, PROBS, PoolScores


@dataclass
class TrainStats:
    samples: int = 0
    tokens: int = 0
    flops: int = 0
    seconds: float = 0.0
    mean_loss: float = float("nan")
    epoch_losses: list[float] = field(default_factory=list)  # mean loss of each epoch, in order


def train_epochs(
    model: nn.Module,
    tokens: TokenizedTexts,
    rows: np.ndarray,
    labels: torch.Tensor,
    epochs: int,
    batch_size: int,
    optimizer,
    scheduler,
    scheduler_interval: str,
    criterion: nn.Module,
    run: Batching,
    generator: torch.Generator,
    max_grad_norm: float | None,
) -> TrainStats:
    """Train on `rows` (pool positions) for `epochs`, shuffling with `generator`; dropout on."""
    stats, start, losses, epoch_ends = TrainStats(), time.perf_counter(), [], []
    model.train()
    rows = np.asarray(rows)
    window = run.train_window if run.pad_to is None else 1
    with first_token_last_layer(model) as first_only:  # the loss reads the first token only
        for _ in range(epochs):
            for batch_rows in shuffled_length_buckets(tokens, rows, batch_size, generator, window):
                ids, mask = run.batch(tokens, batch_rows)
                targets = run.to_device(labels[batch_rows])
                with autocast(run.device, run.precision, training=True):
                    logits = model(input_ids=ids, attention_mask=mask).logits
                loss = criterion(logits.float(), targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                if scheduler is not None and scheduler_interval == "step":
                    scheduler.step()
                losses.append(loss.detach())  # stays on the device: no sync per step
                stats.samples += ids.shape[0]
                stats.tokens += ids.numel()
                stats.flops += run.flops.train_step(ids.shape[0], ids.shape[1], first_only)
            epoch_ends.append(len(losses))
            if scheduler is not None and scheduler_interval == "epoch":
                scheduler.step()
    if losses:
        all_losses = torch.stack(losses).float().cpu()  # one sync per round, not per step
        stats.mean_loss = float(all_losses.mean())
        starts = [0] + epoch_ends[:-1]
        stats.epoch_losses = [float(all_losses[a:b].mean()) for a, b in zip(starts, epoch_ends) if b > a]
    stats.seconds = time.perf_counter() - start
    return stats


def evaluate(
    model: nn.Module,
    tokens: TokenizedTexts,
    rows: np.ndarray,
    labels: np.ndarray,
    num_labels: int,
    batch_size: int,
    run: Batching,
    present_classes_only: bool = False,
    task: Optional[MultiLabelTask] = None,
) -> EvalResult:
    """Macro-F1, accuracy and mean cross-entropy on `rows`, with model.eval().

    Macro-F1 averages over all `num_labels` classes, or with `present_classes_only` over the
    classes among the rows' labels: a small monitor set that lacks a class would otherwise
    score it 0 and cap F1 at (classes present) / num_labels. Present means among the labels,
    not the predictions: the averaged classes then depend on the data, not on the model, and a
    wrong guess of an absent class still costs its true class's recall. `per_class_f1` lists all.
    A multi-label pass (`task` given, labels a 0/1 matrix) reports hybridal.model.multilabel_eval's.
    """
    start = time.perf_counter()
    rows = np.asarray(rows)
    if len(rows) == 0:
        return EvalResult(float("nan"), float("nan"), float("nan"), [], 0, 0.0, 0)
    log_probs, flops = _forward_log_probs(model, tokens, rows, batch_size, run)
    y = np.asarray(labels)[rows]
    if task is not None:
        return multilabel_result(log_probs, y, task, flops, time.perf_counter() - start, present_classes_only)
    pred = log_probs.argmax(axis=1)
    loss = float(-log_probs[np.arange(len(rows)), y].mean())
    present = np.unique(y)
    f1 = macro_f1(y, pred, num_labels, present if present_classes_only else None)
    majority = np.full_like(y, np.bincount(y, minlength=num_labels).argmax())
    return EvalResult(
        f1=f1[0],
        accuracy=float(accuracy_score(y, pred)),
        loss=loss,
        per_class_f1=[float(v) for v in f1[1]],
        flops=flops,
        seconds=time.perf_counter() - start,
        n=len(rows),
        predictions=pred,
        classes_present=len(present),
        pred_counts=[int(c) for c in np.bincount(pred, minlength=num_labels)],
        majority_f1=macro_f1(y, majority, num_labels, present if present_classes_only else None)[0],
    )


def predict_log_probs(
    model: nn.Module, tokens: TokenizedTexts, rows: np.ndarray, batch_size: int, run: Batching
) -> tuple[np.ndarray, int]:
    """Log-probabilities for `rows` (in their order) with model.eval(), and the pass's FLOPs."""
    log_probs, flops = _forward_log_probs(model, tokens, np.asarray(rows), batch_size, run)
    return log_probs, flops


@torch.inference_mode()
def _forward_log_probs(model, tokens, rows, batch_size, run: Batching, capture_embeddings=False):
    """Log-softmax, or per-label log-sigmoid for a multi-label head (and optionally classifier
    inputs), for `rows`, in their order.

    Batches are length-sorted; results are scattered into device buffers by position and
    copied to the host once at the end.
    """
    model.eval()
    rows = np.asarray(rows)
    out = torch.empty((len(rows), model.config.num_labels), dtype=torch.float32, device=run.device)
    embeddings = None
    captured = []
    hook = None
    if capture_embeddings:
        hook = classifier_layer(model).register_forward_hook(lambda m, inp, o: captured.append(inp[0]))
    flops = 0
    try:
        with first_token_last_layer(model) as first_only, bf16_linear_weights(model, run.precision):
            for positions in length_sorted_positions(tokens, rows, batch_size, run.max_tokens):
                ids, mask = run.batch(tokens, rows[positions])
                where = run.to_device(torch.from_numpy(positions))
                with autocast(run.device, run.precision):
                    logits = model(input_ids=ids, attention_mask=mask).logits
                out[where] = F.logsigmoid(logits.float()) if run.multi_label else F.log_softmax(logits.float(), dim=-1)
                if capture_embeddings:
                    emb = captured.pop().float()
                    if embeddings is None:
                        embeddings = torch.empty((len(rows), emb.shape[1]), dtype=torch.float32, device=run.device)
                    embeddings[where] = emb
                flops += run.flops.forward(ids.shape[0], ids.shape[1], first_only)
    finally:
        if hook is not None:
            hook.remove()
    log_probs = out.cpu().numpy()
    if capture_embeddings:
        return log_probs, flops, embeddings.cpu().numpy() if embeddings is not None else None
    return log_probs, flops


@contextmanager
def seeded_dropout(seed: int, device: torch.device) -> Iterator[None]:
    """Dropout masks drawn from `seed` alone, the global generators left as they were.

    Dropout has no generator argument: it draws from the device's default generator, whose
    state otherwise depends on everything run before (so a resumed run would draw differently).
    """
    devices = (
        [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    )
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@torch.inference_mode()
def _mc_probs(model, tokens, rows, batch_size, passes: int, run: Batching, seed: int):
    """T stochastic passes with dropout on (MC dropout), in the candidates' order; masks from `seed`."""
    model.train()
    rows = np.asarray(rows)
    out = torch.empty((passes, len(rows), model.config.num_labels), dtype=torch.float32, device=run.device)
    flops = 0
    with (
        seeded_dropout(seed, run.device),
        first_token_last_layer(model) as first_only,
        bf16_linear_weights(model, run.precision),
    ):
        for positions in length_sorted_positions(tokens, rows, batch_size, run.max_tokens):
            ids, mask = run.batch(tokens, rows[positions])
            where = run.to_device(torch.from_numpy(positions))
            for t in range(passes):
                with autocast(run.device, run.precision):
                    logits = model(input_ids=ids, attention_mask=mask).logits
                out[t, where] = torch.sigmoid(logits.float()) if run.multi_label else F.softmax(logits.float(), dim=-1)
                flops += run.flops.forward(ids.shape[0], ids.shape[1], first_only)
    model.eval()
    return out.cpu().numpy(), flops


def score_pool(
    model: nn.Module,
    tokens: TokenizedTexts,
    candidates: np.ndarray,
    labeled: np.ndarray,
    requires: frozenset,
    mc_passes: int,
    batch_size: int,
    run: Batching,
    mc_seed: int = 0,
) -> tuple[PoolScores, int]:
    """One scoring pass producing what a sampler declared it needs; returns (scores, FLOPs).

    MC-dropout passes draw their masks from `mc_seed` (see `seeded_dropout`).
    """
    scores = PoolScores(candidates=np.asarray(candidates))
    flops = 0
    needs_forward = bool(requires & {PROBS, LOG_PROBS, EMBEDDINGS})
    if needs_forward and len(candidates):
        want_emb = EMBEDDINGS in requires
        result = _forward_log_probs(model, tokens, scores.candidates, batch_size, run, capture_embeddings=want_emb)
        log_probs, f = result[0], result[1]
        flops += f
        scores.log_probs = log_probs
        scores.probs = np.exp(log_probs)
        if want_emb:
            scores.embeddings = result[2]
    if LABELED_EMBEDDINGS in requires and len(labeled):
        _, f, emb = _forward_log_probs(model, tokens, np.asarray(labeled), batch_size, run, capture_embeddings=True)
        flops += f
        scores.labeled_embeddings = emb
    if MC_PROBS in requires and len(candidates):
        scores.mc_probs, f = _mc_probs(model, tokens, scores.candidates, batch_size, mc_passes, run, mc_seed)
        flops += f
    return scores, flops
