"""BADGE: k-means++ seeding on last-layer gradient embeddings (Ash, Zhang, Krishnamurthy,
Langford & Agarwal 2020, "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
Bounds").

The gradient of the cross-entropy loss w.r.t. the final linear layer's weights, taking the
predicted label as the target, is g_i = a_i ⊗ h_i with a_i = p_i - onehot(argmax p_i) and h_i
the layer's input. Its norm grows with uncertainty, and k-means++ spreads picks out, so the
batch is both uncertain and diverse. g is never materialized (N × C·D): squared distances use

    ||g_i - g_j||² = |a_i|²|h_i|² + |a_j|²|h_j|² - 2 (a_i·a_j)(h_i·h_j).
"""

from __future__ import annotations

import numpy as np

from .base import EMBEDDINGS, PROBS, PoolScores, Sampler, n_picks, required_scores
from .coreset import as_float_matrix, snap_tolerance


def gradient_factors(probs: np.ndarray) -> np.ndarray:
    """a = p - onehot(argmax p), shape (N, C): the per-class factor of the gradient embedding."""
    a = np.array(probs, dtype=np.float64)
    a[np.arange(a.shape[0]), a.argmax(axis=1)] -= 1.0
    return a


def kmeans_pp_gradient(a: np.ndarray, h: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding on g_i = a_i ⊗ h_i: first the largest ||g||, then D² sampling.

    Picked points get D² = 0 and are never sampled again; when every remaining D² is 0 (e.g.
    all gradients vanish), the next pick is uniform among the unpicked points, so the k picks
    are always distinct.
    """
    n_points = h.shape[0]
    k = min(int(k), n_points)
    picks = np.empty(k, dtype=np.intp)
    if k == 0:
        return picks
    a_sq = np.einsum("ij,ij->i", a, a)
    h_sq = np.einsum("ij,ij->i", h, h).astype(np.float64)
    g_sq = a_sq * h_sq  # ||g_i||²
    snap = snap_tolerance(h.dtype) * 2.0 * g_sq  # rounding-noise floor around 0
    picked = np.zeros(n_points, dtype=bool)
    min_d = np.full(n_points, np.inf)
    hh = np.empty(n_points, dtype=h.dtype)
    for step in range(k):
        if step == 0:
            ties = np.flatnonzero(g_sq == g_sq.max())
            i = int(ties[rng.integers(ties.size)])
        else:
            total = float(min_d.sum())
            if total > 0.0 and np.isfinite(total):
                cdf = np.cumsum(min_d)
                i = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
                i = min(i, n_points - 1)
                if picked[i] or min_d[i] <= 0.0:  # guard against cdf rounding at the edges
                    i = int(np.flatnonzero(min_d > 0.0)[-1])
            else:
                rest = np.flatnonzero(~picked)
                i = int(rest[rng.integers(rest.size)])
        picks[step] = i
        picked[i] = True
        if step == k - 1:
            break
        # D² to the new center j = i, combined in float64 from two BLAS matvecs.
        np.matmul(h, h[i], out=hh)
        d = (a @ a[i]) * hh
        d *= -2.0
        d += g_sq
        d += g_sq[i]
        np.minimum(min_d, d, out=min_d)
        np.maximum(min_d, 0.0, out=min_d)
        min_d[min_d <= snap] = 0.0
        min_d[picked] = 0.0
    return picks


class BADGESampler(Sampler):
    """k-means++ seeding on gradient embeddings of the last layer (uncertain and diverse)."""

    name = "badge"
    requires = frozenset({PROBS, EMBEDDINGS})

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        probs = required_scores(scores, PROBS, self.name, ndim=2)
        h = as_float_matrix(required_scores(scores, EMBEDDINGS, self.name, ndim=2))
        k = n_picks(n, h.shape[0])
        return kmeans_pp_gradient(gradient_factors(probs), h, k, rng)
