"""Pool scoring: `score_pool` with entropy's requirements against the prototype's inference loop
on the same texts and model (interleaved slices), plus our bf16 path against our fp32 one."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import MAX_LENGTH, NAIVE_BATCH, SEED, bf16_is_native, sync
from benchmarks.prototype import naive_log_probs
from hybridal.data.tokenization import tokenize_cached
from hybridal.model.batching import Batching
from hybridal.model.flops import FlopsModel
from hybridal.model.training import score_pool
from hybridal.samplers.base import top_n
from hybridal.samplers.uncertainty import EntropySampler, entropy_from_log_probs


def top_k_set(log_probs: np.ndarray, k: int, seed: int) -> tuple[set, np.ndarray]:
    entropy = entropy_from_log_probs(log_probs)
    return set(top_n(entropy, k, np.random.default_rng(seed)).tolist()), entropy


def compare_top(ours: np.ndarray, naive: np.ndarray, k: int) -> dict:
    """Overlap of the top-k by entropy; differences that are float-rounding ties are named."""
    a, ent_a = top_k_set(ours, k, SEED)
    b, ent_b = top_k_set(naive, k, SEED)
    overlap = len(a & b)
    # Items in one set but not the other are "ties up to rounding" when their entropy is
    # within the two paths' largest entropy disagreement of the k-th largest value.
    tol = float(np.max(np.abs(ent_a - ent_b))) if len(ent_a) else 0.0
    kth = np.sort(ent_b)[::-1][k - 1] if len(ent_b) >= k else 0.0
    differing = list(a ^ b)
    ties_only = all(abs(ent_b[i] - kth) <= 2 * tol for i in differing)
    return {
        "k": k,
        "overlap": overlap,
        "identical": overlap == k,
        "identical_up_to_ties": overlap == k or ties_only,
        "max_abs_entropy_diff": tol,
        "max_abs_log_prob_diff": float(np.max(np.abs(ours - naive))) if len(ours) else 0.0,
    }


def bench_scoring(
    sizes: dict, device: torch.device, model, tokenizer, texts: list[str], pad_id: int, flops: FlopsModel, log
) -> dict:
    n = min(sizes["score_texts"], len(texts))
    texts = texts[:n]
    with tempfile.TemporaryDirectory() as cache:  # uncached: the one-off tokenization is timed
        start = time.perf_counter()
        tokens, _ = tokenize_cached(texts, tokenizer, MAX_LENGTH, cache_dir=Path(cache))
        tokenize_seconds = time.perf_counter() - start
    run = Batching(device, "fp32", pad_id, None, flops)
    requires = EntropySampler.requires
    ours = np.empty((n, model.config.num_labels), dtype=np.float32)
    naive = np.empty_like(ours)
    seconds = {"ours": 0.0, "naive": 0.0}
    cpu_seconds = {"ours": 0.0, "naive": 0.0}
    ours_flops = 0
    bounds = np.linspace(0, n, sizes["score_slices"] + 1).astype(int)
    for s, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        for side in ("ours", "naive") if s % 2 == 0 else ("naive", "ours"):
            sync(device)
            start, cpu = time.perf_counter(), time.process_time()
            if side == "ours":
                scores, f = score_pool(
                    model, tokens, np.arange(lo, hi), np.empty(0, dtype=np.int64), requires, 0, 128, run
                )
                ours[lo:hi], ours_flops = scores.log_probs, ours_flops + f
            else:
                naive[lo:hi] = naive_log_probs(model, tokenizer, texts[lo:hi], device)
            sync(device)
            seconds[side] += time.perf_counter() - start
            cpu_seconds[side] += time.process_time() - cpu
        log(
            f"  scoring slice {s + 1}/{len(bounds) - 1}: ours {seconds['ours']:.1f} s, naive {seconds['naive']:.1f} "
            "s so far"
        )
    top = compare_top(ours, naive, min(sizes["score_top"], n))

    # bf16 (our path) on a slice, against our fp32 scores of the same texts (a longer one where
    # bf16 is native, so the speed ratio is more than noise).
    m = min(sizes["bf16_score_texts"] * (8 if bf16_is_native(device) else 1), n)
    k = max(1, round(sizes["score_top"] * m / sizes["score_texts"]))
    run_bf16 = Batching(device, "bf16", pad_id, None, flops)
    sync(device)
    start = time.perf_counter()
    scores_bf16, _ = score_pool(model, tokens, np.arange(m), np.empty(0, dtype=np.int64), requires, 0, 128, run_bf16)
    sync(device)
    bf16_seconds = time.perf_counter() - start
    start = time.perf_counter()
    score_pool(model, tokens, np.arange(m), np.empty(0, dtype=np.int64), requires, 0, 128, run)
    sync(device)
    fp32_slice_seconds = time.perf_counter() - start
    bf16_top = compare_top(scores_bf16.log_probs, ours[:m], k)
    return {
        "texts": n,
        "ours_seconds": seconds["ours"],
        "naive_seconds": seconds["naive"],
        "ours_texts_per_s": n / seconds["ours"],
        "naive_texts_per_s": n / seconds["naive"],
        "speedup": seconds["naive"] / seconds["ours"],
        "cpu_seconds": cpu_seconds,
        "speedup_cpu_time": cpu_seconds["naive"] / cpu_seconds["ours"],
        "speedup_incl_tokenization": seconds["naive"] / (seconds["ours"] + tokenize_seconds),
        "tokenize_seconds": tokenize_seconds,
        "ours_flops": ours_flops,
        "top_k": min(sizes["score_top"], n),
        "naive_flops": sum(flops.forward(min(NAIVE_BATCH, n - i), MAX_LENGTH) for i in range(0, n, NAIVE_BATCH)),
        "top_fp32": top,
        "bf16_slice": {
            "texts": m,
            "bf16_seconds": bf16_seconds,
            "fp32_seconds": fp32_slice_seconds,
            "bf16_speedup": fp32_slice_seconds / bf16_seconds,
            "top": bf16_top,
        },
    }
