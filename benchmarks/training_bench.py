"""Training throughput in fp32 and bf16 against the matmul peak measured just before each chunk."""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from benchmarks.common import MODEL, SEED, bf16_is_native, sync
from benchmarks.peaks import matmul_peak
from hybridal.model.batching import Batching
from hybridal.model.flops import FlopsModel
from hybridal.model.optimization import with_fused_default
from hybridal.model.pretrained import load_model
from hybridal.model.training import train_epochs

# The engine's default optimizer (AdamW, lr 5e-5, weight decay 0.01) with PyTorch's fused
# kernel, as the engine builds it (`with_fused_default`).
OPTIMIZER_KWARGS = {"lr": 5e-5, "weight_decay": 0.01}


def bench_training(
    sizes: dict, device: torch.device, splits, tokens, pad_id: int, flops: FlopsModel, log
) -> tuple[dict, torch.nn.Module]:
    """fp32 and bf16 training chunks, alternating, each right after a matmul-peak measurement in
    its precision (the load on a shared machine drifts); returns figures and the fp32 model.

    Utilization = training FLOPs / what the matmul peak measured just before would have done in
    the same time, summed over chunks; also per CPU second (robust to other processes' load).
    """
    rng = np.random.default_rng(SEED)
    rows = rng.choice(len(splits.pool), size=sizes["train_fp32_rows"] * sizes["train_chunks"], replace=False)
    labels = torch.from_numpy(splits.pool.labels)
    base = load_model(MODEL, splits.num_labels, SEED)
    models = {"fp32": base.to(device), "bf16": copy.deepcopy(base).to(device)}
    opts = {
        p: torch.optim.AdamW(m.parameters(), **with_fused_default(torch.optim.AdamW, OPTIMIZER_KWARGS))
        for p, m in models.items()
    }
    runs = {p: Batching(device, p, pad_id, None, flops) for p in models}
    criterion = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)

    def chunk(precision, chunk_rows):
        sync(device)
        cpu = time.process_time()
        stats = train_epochs(
            models[precision],
            tokens,
            chunk_rows,
            labels,
            1,
            16,
            opts[precision],
            None,
            "epoch",
            criterion,
            runs[precision],
            gen,
            1.0,
        )
        sync(device)
        return stats, time.process_time() - cpu

    for p in models:  # warm-up: first-call costs (allocator, optimizer state) are not throughput
        chunk(p, rows[:4])
    keys = ("samples", "tokens", "flops", "seconds", "cpu_seconds", "peak_work", "peak_work_cpu")
    totals = {p: dict.fromkeys(keys, 0) for p in models}
    peaks = {p: [] for p in models}
    # Native bf16: both precisions train on the same rows in every chunk, the order alternating.
    # Emulated bf16 is ~25x slower: one short bf16 chunk after every even fp32 one.
    native = bf16_is_native(device)
    for c in range(sizes["train_chunks"]):
        fp32_rows = rows[c * sizes["train_fp32_rows"] : (c + 1) * sizes["train_fp32_rows"]]
        order = ("fp32", "bf16") if c % 2 == 0 else (("bf16", "fp32") if native else ("fp32",))
        for p in order:
            peak = matmul_peak(p, device, sizes["peak_seconds"])
            peaks[p].append(peak)
            stats, cpu = chunk(p, fp32_rows if p == "fp32" or native else fp32_rows[: sizes["train_bf16_rows"]])
            t = totals[p]
            for key in ("samples", "tokens", "flops", "seconds"):
                t[key] += getattr(stats, key)
            t["cpu_seconds"] += cpu
            t["peak_work"] += stats.seconds * peak["peak_flops_per_s"]
            t["peak_work_cpu"] += cpu * peak["peak_flops_per_cpu_s"]
            log(
                f"  train {p}: {stats.samples} samples in {stats.seconds:.1f} s "
                f"({stats.flops / stats.seconds / 1e9:.1f} GFLOP/s; matmul peak just before "
                f"{peak['peak_flops_per_s'] / 1e9:.1f})"
            )
    out = {}
    for p, t in totals.items():
        out[p] = {
            **{k: t[k] for k in keys[:5]},
            "samples_per_s": t["samples"] / t["seconds"],
            "tokens_per_s": t["tokens"] / t["seconds"],
            "flops_per_s": t["flops"] / t["seconds"],
            "matmul_peak_flops_per_s": t["peak_work"] / t["seconds"],  # time-weighted mean of the peaks
            "utilization": t["flops"] / t["peak_work"],
            "utilization_cpu_time": t["flops"] / t["peak_work_cpu"],
            "peak_measurements": peaks[p],
        }
    del models["bf16"]
    opts.clear()  # frees the bf16 optimizer state (`chunk` is not called again)
    return out, models["fp32"]
