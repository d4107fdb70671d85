"""Device and precision choices, made once per run and reported in the summary.

bf16 on a CPU (measured on a 2-core EPYC with AVX-512 BF16, torch 2.13, MiniLM):
* training runs under autocast, which casts each weight once per step (its cache lives as
  long as the autocast region, i.e. one forward); the scaled-dot-product attention runs on
  the math backend, because the CPU flash-attention kernel's bf16 backward is slower than its
  fp32 one (63 ms against 14 ms per step at 16 x 64 tokens): a bf16 step measured 1.9x an fp32
  step with it and 2.7x without (16 x 48 tokens, CPU time, 1 thread). This matters only where
  attention dropout is 0: with dropout, SDPA takes the math backend anyway (MiniLM trains so);
* inference passes cast the Linear weights to bf16 once per pass (`bf16_linear_weights`)
  instead of autocast re-casting them every batch: the same numbers, about 10% faster.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Iterator

import torch
from torch import nn

from hybridal.errors import ConfigError

# `precision: auto` picks bf16 on a CPU only where a bf16 matmul measures at least this much
# faster than fp32: below it, the casts and fp32 element-wise work around the matmuls eat
# the gain. Native bf16 measures ~2.4x here, emulated bf16 (AVX2) ~0.04x.
BF16_MIN_SPEEDUP = 1.3


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r} was asked for but CUDA is not available here; allowed: cpu or auto.")
    return torch.device(name)


def cpu_supports_bf16() -> bool:
    """bf16 pays on CPUs with native bf16 matmuls (AVX-512 BF16 or AMX); elsewhere it is emulated and slow."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@functools.lru_cache(maxsize=1)
def cpu_bf16_matmul_speedup(reps: int = 5) -> float:
    """bf16 over fp32 speed of a MiniLM-sized linear layer (512 tokens, 384 -> 1536) on this CPU.

    Measured once per process (~0.1 s), interleaved, best of `reps` in CPU time, so load from
    other processes does not decide it."""
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(512, 384, generator=gen), torch.randn(1536, 384, generator=gen)
    xb, wb = x.bfloat16(), w.bfloat16()
    best = {"fp32": float("inf"), "bf16": float("inf")}
    for _ in range(reps + 1):  # the first round warms up both kernels
        for name, (a, b) in (("fp32", (x, w)), ("bf16", (xb, wb))):
            start = time.process_time()
            for _ in range(4):
                nn.functional.linear(a, b)
            best[name] = min(best[name], time.process_time() - start)
    return best["fp32"] / max(best["bf16"], 1e-9)


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32' or 'bf16'; 'auto' picks bf16 only where the hardware runs it natively and, on a
    CPU, where a bf16 matmul also measures `BF16_MIN_SPEEDUP` faster than fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        native = cpu_supports_bf16()  # emulated bf16 is never measured: it is ~25x slower
        return "bf16" if native and cpu_bf16_matmul_speedup() >= BF16_MIN_SPEEDUP else "fp32"
    return "fp32"


def autocast(device: torch.device, precision: str, training: bool = False):
    """bf16 autocast for one forward; for training on a CPU, attention on the math backend
    (the flash kernel's bf16 backward is slow there, see the module docstring)."""
    if precision != "bf16":
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(torch.autocast(device_type=device.type, dtype=torch.bfloat16))
    if training and device.type == "cpu":
        from torch.nn.attention import SDPBackend, sdpa_kernel

        stack.enter_context(sdpa_kernel(SDPBackend.MATH))
    return stack


@contextlib.contextmanager
def bf16_linear_weights(model: nn.Module, precision: str) -> Iterator[None]:
    """Within, the model's Linear weights and biases are bf16 copies (when `precision` is bf16).

    For inference passes under `autocast`: autocast would cast them to bf16 on every batch;
    cast once here, the matmuls get the same bf16 operands. The fp32 tensors are put back on
    exit, so training's master weights are never touched. Never use around training."""
    if precision != "bf16":
        yield
        return
    saved = []
    for module in model.modules():
        if isinstance(module, nn.Linear):
            for param in (module.weight, module.bias):
                if param is not None and param.dtype == torch.float32:  # a shared one is cast once
                    saved.append((param, param.data))
                    param.data = param.data.to(torch.bfloat16)
    try:
        yield
    finally:
        for param, data in saved:
            param.data = data


def configure_backends(device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def use_deterministic_algorithms(on: bool) -> None:
    """`deterministic: true`: torch's deterministic kernels (and the cuBLAS workspace they need, set
    before CUDA starts), so two runs of one config on one GPU give the same numbers; a shared-prefix
    fork then equals its standalone run on CUDA as it does on a CPU. Slower on a GPU; a no-op on a CPU."""
    import os

    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(on, warn_only=False)
    torch.backends.cudnn.benchmark = False if on else torch.backends.cudnn.benchmark
