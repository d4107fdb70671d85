"""The machine's own limit: sustained FLOP/s of large matmuls in one precision."""

from __future__ import annotations

import time

import torch

from benchmarks.common import sync
from hybridal.model.hardware import autocast, cpu_supports_bf16


def matmul_peak(precision: str, device: torch.device, seconds: float) -> dict:
    """Sustained FLOP/s of large square matmuls in `precision` (2 FLOPs per multiply-add).

    fp32 uses 2048^2 operands. In bf16 the same torch.matmul on a CPU without native bf16
    (AVX2) falls back to a slow reference kernel, while nn.Linear under autocast goes to
    oneDNN; both are measured and the peak is the faster one. Rates per wall second and per
    CPU second of this process (the latter is what the cores delivered while we had them,
    so it does not fall when other processes take the cores).
    """
    dtype = torch.float32 if precision == "fp32" else torch.bfloat16
    slow_bf16_cpu = precision == "bf16" and device.type == "cpu" and not cpu_supports_bf16()
    n = 512 if slow_bf16_cpu else (4096 if device.type == "cuda" else 2048)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device, dtype)
    b = torch.randn(n, n, generator=gen).to(device, dtype)

    def rate(fn, flops) -> tuple[float, float]:
        fn()
        sync(device)
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            count += 1
            if count % 4 == 0 or slow_bf16_cpu:
                sync(device)
                elapsed = time.perf_counter() - start
                if elapsed >= seconds:
                    return flops * count / elapsed, flops * count / max(time.process_time() - cpu, 1e-9)

    out = {"n": n}
    out["matmul_flops_per_s"], out["matmul_flops_per_cpu_s"] = rate(lambda: torch.matmul(a, b), 2 * n**3)
    if precision == "bf16":
        m = max(n, 1024)
        x, w = torch.randn(m, m, generator=gen).to(device), torch.randn(m, m, generator=gen).to(device)
        with autocast(device, "bf16"):
            out["autocast_linear_flops_per_s"], out["autocast_linear_flops_per_cpu_s"] = rate(
                lambda: torch.nn.functional.linear(x, w), 2 * m**3
            )
    out["peak_flops_per_s"] = max(v for k, v in out.items() if k.endswith("flops_per_s"))
    out["peak_flops_per_cpu_s"] = max(v for k, v in out.items() if k.endswith("flops_per_cpu_s"))
    return out
