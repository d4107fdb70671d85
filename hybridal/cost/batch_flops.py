"""Expected FLOPs of the engine's batches, from token lengths alone: one inference pass batched
exactly as the engine batches it, and one training epoch in expectation over its shuffles.
The estimate (hybridal.cost.estimate) multiplies these by the round schedule."""

from __future__ import annotations

from typing import Optional

import numpy as np

from hybridal.model.first_token import FIRST_TOKEN_HEADS
from hybridal.model.flops import FlopsModel


def inference_pass_flops(
    lengths: np.ndarray, batch: int, model: FlopsModel, pad_to: Optional[int], max_tokens: Optional[int] = None
) -> int:
    """FLOPs of one inference pass, batched exactly as the engine batches it."""
    from hybridal.data.tokenization import TokenizedTexts, length_sorted_positions

    if len(lengths) == 0:
        return 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = TokenizedTexts(np.empty(0, dtype=np.int32), offsets)
    # The engine skips the last layer's non-first tokens on these heads (first_token.py).
    first_only = model.model_type in FIRST_TOKEN_HEADS
    total = 0
    for positions in length_sorted_positions(tokens, np.arange(len(lengths)), batch, None if pad_to else max_tokens):
        total += model.forward(len(positions), int(pad_to or lengths[positions].max()), first_only)
    return total


def inference_max_tokens(device_type: str) -> Optional[int]:
    """The engine's per-batch token budget for inference on this kind of device."""
    from hybridal.model.batching import CPU_INFER_MAX_TOKENS

    return CPU_INFER_MAX_TOKENS if device_type == "cpu" else None


def expected_max_length(lengths: np.ndarray, batch: int) -> float:
    """E[longest row] of a batch of `batch` rows drawn at random from `lengths`.

    With F the empirical CDF, P(max <= L) = F(L)^batch (drawing with replacement, which is close
    for batches much smaller than the set).
    """
    values, counts = np.unique(lengths, return_counts=True)
    cdf = np.cumsum(counts) / counts.sum()
    below = np.concatenate([[0.0], cdf[:-1]])
    return float(np.sum(values * (cdf**batch - below**batch)))


def expected_order_statistic(lengths: np.ndarray, i: int, n: int) -> float:
    """E[i-th smallest of n rows drawn at random from `lengths`] (1-based; i = n is the maximum).

    P(X_(i) <= L) = P(Binomial(n, F(L)) >= i), with F the empirical CDF.
    """
    from scipy.stats import binom

    values, counts = np.unique(lengths, return_counts=True)
    cdf = np.cumsum(counts) / counts.sum()
    at_most = binom.sf(i - 1, n, cdf)
    return float(np.sum(values * np.diff(np.concatenate([[0.0], at_most]))))


def training_window() -> int:
    """How many batches the engine sorts by length together when it forms training batches."""
    from hybridal.model.batching import Batching

    return Batching.train_window  # the dataclass field's default


def train_epoch_flops(
    lengths: np.ndarray, rows: int, batch: int, window: int, model: FlopsModel, pad_to: Optional[int]
) -> int:
    """Expected FLOPs of one epoch over `rows` rows like `lengths`, batched as the engine does:
    a random permutation cut into windows of `window` batches, each window sorted by length."""
    first_only = model.model_type in FIRST_TOKEN_HEADS  # as in inference_pass_flops
    total = 0
    span = max(1, window) * batch
    widths: dict[tuple[int, int], float] = {}  # full windows repeat the same order statistics
    for start in range(0, rows, span):
        n = min(span, rows - start)
        for first in range(0, n, batch):
            size = min(batch, n - first)
            width: float
            if pad_to:
                width = pad_to
            elif window <= 1:
                width = expected_max_length(lengths, size)
            else:  # the batch's longest row is the (first + size)-th shortest of the window
                key = (first + size, n)
                if key not in widths:
                    widths[key] = expected_order_statistic(lengths, *key)
                width = widths[key]
            total += model.train_step(size, int(round(width)), first_only)
    return total
