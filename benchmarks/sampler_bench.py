"""Time and memory of the geometric samplers at pool scale.

`coreset` and `badge` select 256 of 100,000 candidates with 384-d float32 embeddings (5,000
labeled centers for coreset, 4-class probabilities for badge). Goal: each under 30 s on a
2-core CPU and under 2 GiB of extra peak memory.

Memory is reported two ways, both excluding the inputs (built before measuring):
  * tracemalloc peak: numpy registers its array buffers with tracemalloc, so this is the peak
    of Python + numpy allocations made inside `select` (BLAS's own scratch is not counted);
  * RSS peak delta: VmHWM after minus VmRSS before, with the high-water mark reset through
    /proc/self/clear_refs (Linux); counts everything, including BLAS buffers.
Timing comes from a separate run without tracemalloc (its hooks add overhead).

    python -m benchmarks.sampler_bench [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np

from hybridal.samplers import PoolScores, build_sampler  # noqa: E402

GIB = 1024**3


def _proc_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_rss_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def make_scores(n: int, dim: int, n_labeled: int, n_classes: int, seed: int) -> PoolScores:
    """Random float32 embeddings and softmax probabilities of the benchmark's size."""
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim), dtype=np.float32)
    labeled = rng.standard_normal((n_labeled, dim), dtype=np.float32)
    logits = rng.standard_normal((n, n_classes), dtype=np.float32) * 2.0
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return PoolScores(candidates=np.arange(n), probs=probs, embeddings=emb, labeled_embeddings=labeled)


def measure(name: str, scores: PoolScores, k: int, seed: int) -> dict:
    """Seconds (untraced run), tracemalloc peak and RSS peak delta (traced run) of one select."""
    sampler = build_sampler(name)

    rss_before = _proc_kib("VmRSS")
    rss_ok = _reset_rss_peak() and rss_before is not None
    start = time.perf_counter()
    picks = sampler.select(scores, k, np.random.default_rng(seed))
    seconds = time.perf_counter() - start
    rss_peak = _proc_kib("VmHWM")
    assert len(set(picks.tolist())) == k, f"{name} returned duplicate picks"

    tracemalloc.start()
    sampler.select(scores, k, np.random.default_rng(seed))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    return {
        "sampler": name,
        "seconds": round(seconds, 3),
        "tracemalloc_peak_gib": round(traced_peak / GIB, 4),
        "rss_peak_delta_gib": round((rss_peak - rss_before) / 1024**2, 4) if rss_ok else None,
        "under_30s": seconds < 30.0,
        "under_2gib": traced_peak < 2 * GIB and (not rss_ok or (rss_peak - rss_before) * 1024 < 2 * GIB),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--labeled", type=int, default=5_000)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--select", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    scores = make_scores(args.candidates, args.dim, args.labeled, args.classes, args.seed)
    results = [measure(name, scores, args.select, args.seed) for name in ("coreset", "badge")]
    report = {
        "setup": {
            "candidates": args.candidates,
            "dim": args.dim,
            "labeled": args.labeled,
            "classes": args.classes,
            "select": args.select,
            "dtype": "float32",
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "memory_method": "tracemalloc peak of numpy/Python allocations inside select; "
        "RSS peak delta via /proc VmHWM reset (includes BLAS scratch)",
        "results": results,
    }
    for r in results:
        print(
            f"{r['sampler']:8s} {r['seconds']:8.2f} s   tracemalloc peak {r['tracemalloc_peak_gib']:.3f} GiB"
            f"   RSS peak delta {r['rss_peak_delta_gib']} GiB"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r["under_30s"] and r["under_2gib"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
