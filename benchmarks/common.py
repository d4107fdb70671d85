"""What every benchmark module shares: the process environment, constants, timing helpers and
the F1 statistics. Import it before torch (it sets the OpenMP wait policy)."""

from __future__ import annotations

import os
import resource
from pathlib import Path

# Before torch loads libgomp: with the default wait policy, a 2-thread OpenMP team on a
# shared 2-core machine collapses when other processes run (MiniLM training 3 samples/s;
# PASSIVE: 11; on an idle machine both ~20-25, within noise). Every side of every comparison
# runs under the same setting; set OMP_WAIT_POLICY yourself to measure another.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from hybridal.model.hardware import cpu_supports_bf16  # noqa: E402
from hybridal.model.pretrained import PACKAGED_MINILM  # noqa: E402

GIB = 1024**3
MODEL = PACKAGED_MINILM
SEED = 42
MAX_LENGTH = 128
NAIVE_BATCH = 16  # the prototype's batch for training, scoring and evaluation alike


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bf16_is_native(device: torch.device) -> bool:
    return torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_supports_bf16()


def peak_rss_gib() -> float:
    """This process's peak resident set: VmHWM of its own address space.

    Not ru_maxrss: a child started by fork/vfork + exec inherits its parent's ru_maxrss, so
    a worker would report the benchmark parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / GIB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def macro_f1(y, pred, num_labels: int) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, labels=list(range(num_labels)), average="macro", zero_division=0))


def paired_bootstrap_se(y, pred_a, pred_b, num_labels: int, reps: int = 300, seed: int = 0) -> float:
    """Standard error of F1(a) - F1(b) over bootstrap resamples of the (shared) test rows."""
    rng = np.random.default_rng(seed)
    y, pred_a, pred_b = map(np.asarray, (y, pred_a, pred_b))
    diffs = []
    for _ in range(reps):
        idx = rng.integers(0, len(y), len(y))
        diffs.append(macro_f1(y[idx], pred_a[idx], num_labels) - macro_f1(y[idx], pred_b[idx], num_labels))
    return float(np.std(diffs))


# The prototype's config (its README example's optimizer and scheduler); None = the whole split.
# The prototype's experimentation.py defaults (Adam lr 2e-5, weight decay 1e-3): its README example's
# lr 1e-3 made every side collapse towards one class on this config (final test F1 0.21-0.62 in one
# full run), which leaves nothing to compare F1 on; the figures (F1 0.84-0.85) fit 2e-5.
PROTOTYPE_RUN = dict(
    total_rounds=5,
    initial_pool_size=200,
    acquisition_batch_size=32,
    epochs=3,
    batch_size=16,
    candidate_pool_size=1000,
    optimizer_kwargs={"lr": 2e-5, "weight_decay": 1e-3},
    scheduler_kwargs={"step_size": 10, "gamma": 0.1},
    max_train_size=None,
    max_test_size=None,
)

SIZES = {
    # train bench: rows per fp32 chunk, and per bf16 chunk where bf16 is emulated (one after each
    # even fp32 chunk; native bf16 trains on the fp32 rows in every chunk); bf16 scoring slice x8 where native
    "full": dict(
        train_fp32_rows=128,
        train_bf16_rows=16,
        train_chunks=2,
        peak_seconds=2.0,
        score_texts=5000,
        score_slices=4,
        score_top=256,
        bf16_score_texts=128,
        al=PROTOTYPE_RUN,
    ),
    "quick": dict(
        train_fp32_rows=32,
        train_bf16_rows=16,
        train_chunks=1,
        peak_seconds=0.5,
        score_texts=300,
        score_slices=2,
        score_top=16,
        bf16_score_texts=64,
        al=dict(
            PROTOTYPE_RUN,
            total_rounds=2,
            initial_pool_size=32,
            acquisition_batch_size=16,
            epochs=1,
            candidate_pool_size=64,
            max_train_size=300,
            max_test_size=200,
            ours_overrides={"test_subsample_size": 100},
        ),
    ),  # the plan's subsample, scaled down
}
