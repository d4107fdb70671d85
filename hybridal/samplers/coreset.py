"""Core-set selection by greedy k-center (Sener & Savarese 2018, "Active Learning for
Convolutional Neural Networks: A Core-Set Approach").

Squared Euclidean distances are computed as ||x||² + ||c||² - 2 x·c with BLAS matmuls over
blocks of `chunk_size` candidates × `chunk_size` centers, so peak extra memory is about
N + chunk_size² floats, never an N × L matrix.
"""

from __future__ import annotations

import numpy as np

from .base import EMBEDDINGS, LABELED_EMBEDDINGS, PoolScores, Sampler, n_picks, required_scores


def as_float_matrix(x: np.ndarray) -> np.ndarray:
    """C-contiguous float32/float64 view of `x` (copied only if dtype or layout differ)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
    return np.ascontiguousarray(x, dtype=dtype)


def snap_tolerance(dtype: np.dtype) -> float:
    """Relative size below which an expanded squared distance is rounding noise around 0."""
    return 100.0 * float(np.finfo(dtype).eps)


def min_sq_dist_to_centers(x: np.ndarray, x_sq: np.ndarray, centers: np.ndarray, chunk_size: int) -> np.ndarray:
    """Per row of `x`, the min squared distance to any row of `centers`, block by block."""
    out = np.full(x.shape[0], np.inf, dtype=x.dtype)
    if centers.shape[0] == 0:
        return out
    c_sq = np.einsum("ij,ij->i", centers, centers)
    for r0 in range(0, x.shape[0], chunk_size):
        rows = slice(r0, r0 + chunk_size)
        best = out[rows]
        for c0 in range(0, centers.shape[0], chunk_size):
            cols = slice(c0, c0 + chunk_size)
            block = x[rows] @ centers[cols].T  # (chunk, chunk), the only 2-D temporary
            block *= -2.0
            block += c_sq[cols][None, :]
            np.minimum(best, block.min(axis=1), out=best)
        best += x_sq[rows]  # ||x||² is constant along the row
    return out


def greedy_k_center(
    x: np.ndarray,
    centers: np.ndarray,
    k: int,
    rng: np.random.Generator,
    chunk_size: int = 2048,
) -> np.ndarray:
    """Greedy 2-approximation to k-center: repeatedly take the point farthest from all centers.

    Starts from `centers` (L, D) if L > 0, else from one uniformly random point. Exact ties of
    the farthest distance go to `rng`; picked points are excluded, so the k picks are distinct.
    Distances within rounding noise of 0 are snapped to 0, so a duplicate of a center is last.
    """
    n_points = x.shape[0]
    k = min(int(k), n_points)
    picks = np.empty(k, dtype=np.intp)
    if k == 0:
        return picks
    x_sq = np.einsum("ij,ij->i", x, x)
    snap = snap_tolerance(x.dtype) * 2.0 * x_sq  # per-row noise floor (|x|² + |c|² at a duplicate)
    min_d = min_sq_dist_to_centers(x, x_sq, centers, chunk_size)
    np.maximum(min_d, 0.0, out=min_d)
    min_d[min_d <= snap] = 0.0
    dist = np.empty_like(min_d)
    for step in range(k):
        if step == 0 and centers.shape[0] == 0:
            i = int(rng.integers(n_points))
        else:
            best = min_d.max()
            ties = np.flatnonzero(min_d == best)
            i = int(ties[rng.integers(ties.size)]) if ties.size > 1 else int(ties[0])
        picks[step] = i
        if step == k - 1:
            break
        # dist = ||x||² + ||c||² - 2 x·c for the new center c = x[i], updated in place.
        np.matmul(x, x[i], out=dist)
        dist *= -2.0
        dist += x_sq
        dist += x_sq[i]
        np.minimum(min_d, dist, out=min_d)
        np.maximum(min_d, 0.0, out=min_d)
        min_d[min_d <= snap] = 0.0
        min_d[picks[: step + 1]] = -np.inf  # never pick a point twice
    return picks


class CoresetSampler(Sampler):
    """Greedy k-center on the classifier-input embeddings, with the labeled set as centers.

    Picks the candidates that best cover embedding space (minimizing the largest distance from
    any point to its nearest labeled or picked point).
    """

    name = "coreset"
    requires = frozenset({EMBEDDINGS, LABELED_EMBEDDINGS})

    def __init__(self, chunk_size: int = 2048) -> None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size!r} is not allowed; chunk_size must be an integer >= 1.")
        self.chunk_size = int(chunk_size)

    def select(self, scores: PoolScores, n: int, rng: np.random.Generator) -> np.ndarray:
        x = as_float_matrix(required_scores(scores, EMBEDDINGS, self.name, ndim=2))
        k = n_picks(n, x.shape[0])
        labeled = scores.labeled_embeddings
        if labeled is None or np.asarray(labeled).size == 0:
            centers = np.empty((0, x.shape[1]), dtype=x.dtype)
        else:
            centers = np.ascontiguousarray(labeled, dtype=x.dtype)
            if centers.ndim != 2 or centers.shape[1] != x.shape[1]:
                raise ValueError(
                    f"PoolScores.labeled_embeddings has shape {centers.shape}; sampler 'coreset' needs "
                    f"(L, {x.shape[1]}) to match the candidate embeddings."
                )
        return greedy_k_center(x, centers, k, rng, self.chunk_size)
