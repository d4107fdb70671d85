"""Seeded multi-label splits (issue 25): `iterative_split` cuts rows with a 0/1 label matrix into parts
of exact sizes whose label prevalences match the whole, and `check_label_matrix` rejects a matrix the
engine cannot train on, in one sentence.

The split is iterative stratification (Sechidis, Tsoumakas & Vlahavas 2011, "On the stratification of
multi-label data", Algorithm 1; what the `iterative-stratification` package implements): take the
label with the fewest rows left (ties at random), give each of its rows to the part that still wants
most of that label (ties: the part that wants most rows, then at random), and lower that part's wants
for every label of the row; rows with no label at all fill the room left. Two departures, both so the
parts have the requested sizes exactly: a part that is full takes no more rows (the paper lets parts
overshoot), and the rows are visited in a seeded random order rather than file order.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from hybridal.errors import ConfigError, DataError


def check_label_matrix(
    y: np.ndarray,
    source: str,
    label_names: Optional[Sequence[str]] = None,
    require_positive: bool = True,
) -> np.ndarray:
    """The matrix as int8 after checking it is (rows, labels) of 0/1 with every label present, so bad
    data fails before training with the file and column named."""
    a = np.asarray(y)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise DataError(f"{source} labels have shape {a.shape}; allowed: a (rows, labels) matrix of 0/1 values.")
    names = _names(label_names, a.shape[1], source)
    for j in range(a.shape[1]):
        bad = _first_non_binary(a[:, j])
        if bad:
            raise DataError(f"{source} label column {names[j]!r} has value {bad[0]!r}; allowed: 0 or 1 only.")
    out = a.astype(np.float64).astype(np.int8)
    if require_positive:
        counts = out.sum(axis=0)
        if (counts == 0).any():
            name = names[int(np.flatnonzero(counts == 0)[0])]
            raise DataError(
                f"{source} label column {name!r} has no positive example in {out.shape[0]} rows; "
                "allowed: every label with at least one 1 (drop the label or add rows)."
            )
    return out


def iterative_split(y: np.ndarray, sizes: Sequence[int], seed: int) -> list[np.ndarray]:
    """Sorted row indices for each part of the requested sizes (summing to the rows), label
    prevalences kept close to the whole's; the same seed gives the same parts."""
    labels = check_label_matrix(y, "iterative_split", require_positive=False).astype(bool)
    n_rows = labels.shape[0]
    wanted = _checked_sizes(sizes, n_rows)
    rng = np.random.default_rng(seed)
    ratios = wanted / n_rows
    want_rows = wanted.astype(np.float64)
    want_labels = np.outer(ratios, labels.sum(axis=0)).astype(np.float64)  # (parts, labels)
    room = wanted.copy()
    part_of = np.full(n_rows, -1, dtype=np.int64)
    order = rng.permutation(n_rows)
    labels, left = labels[order], np.ones(n_rows, dtype=bool)
    while True:
        label = _rarest_label(labels, left, rng)
        if label is None:
            break
        for row in np.flatnonzero(labels[:, label] & left):
            part = _choose_part(want_labels[:, label], want_rows, room, rng)
            part_of[row], left[row] = part, False
            want_labels[part, labels[row]] -= 1
            want_rows[part] -= 1
            room[part] -= 1
    _fill_unlabeled(part_of, left, room, rng)
    return [np.sort(order[part_of == p]) for p in range(len(wanted))]


def stratified_subsample(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of n rows whose label prevalences match the whole's (e.g. a test subsample)."""
    n_rows = int(np.shape(y)[0]) if np.ndim(y) else 0
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= n_rows:
        raise ConfigError(f"subsample size n={n!r} is not usable; allowed: an integer from 0 to the {n_rows} rows.")
    return iterative_split(y, [int(n), n_rows - int(n)], seed)[0]


def _names(label_names: Optional[Sequence[str]], n_labels: int, source: str) -> list[str]:
    """The column names for errors, or label_0.. when none are given."""
    if label_names is None:
        return [f"label_{j}" for j in range(n_labels)]
    names = [str(n) for n in label_names]
    if len(names) != n_labels:
        raise DataError(f"{source} has {len(names)} label names; allowed: one per label column, {n_labels}.")
    return names


def _first_non_binary(column: np.ndarray) -> list[object]:
    """[the first value that is not 0 or 1], else [] (NaN and text count as not 0/1)."""
    if column.dtype.kind == "b":
        return []
    if column.dtype.kind in "iuf":
        rejected = column[~np.isin(column, (0, 1))]
        return [rejected[0].item()] if rejected.size else []
    for value in column:
        try:
            if float(value) in (0.0, 1.0):
                continue
        except (TypeError, ValueError):
            pass
        return [value]
    return []


def _checked_sizes(sizes: Sequence[int], n_rows: int) -> np.ndarray:
    """The part sizes as integers, each >= 0, summing to the rows, so every row lands in one part."""
    values = list(sizes)
    if not values or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in values):
        raise ConfigError(f"sizes={values!r} is not usable; allowed: one or more non-negative integers.")
    if sum(values) != n_rows:
        raise ConfigError(f"sizes={values!r} sum to {sum(values)}; allowed: sizes summing to the {n_rows} rows.")
    return np.asarray(values, dtype=np.int64)


def _rarest_label(labels: np.ndarray, left: np.ndarray, rng: np.random.Generator) -> Optional[int]:
    """The label with the fewest (but some) rows left, ties at random: rare labels are placed first,
    while every part still has room and wants them."""
    counts = labels[left].sum(axis=0)
    if not counts.any():
        return None
    fewest = counts[counts > 0].min()
    return int(_pick(np.flatnonzero(counts == fewest), rng))


def _choose_part(want_label: np.ndarray, want_rows: np.ndarray, room: np.ndarray, rng: np.random.Generator) -> int:
    """The part with room that wants the label most; ties: wants most rows, then at random."""
    open_parts = np.flatnonzero(room > 0)
    best = open_parts[want_label[open_parts] == want_label[open_parts].max()]
    if best.size > 1:
        best = best[want_rows[best] == want_rows[best].max()]
    return int(_pick(best, rng))


def _pick(candidates: np.ndarray, rng: np.random.Generator) -> int:
    """One of the candidates, at random only when there is a choice (so draws stay few and seeded)."""
    return int(candidates[0] if candidates.size == 1 else candidates[rng.integers(candidates.size)])


def _fill_unlabeled(part_of: np.ndarray, left: np.ndarray, room: np.ndarray, rng: np.random.Generator) -> None:
    """Rows with no label fill each part's remaining room, in random order (the paper gives each to
    the part wanting most rows; filling the room exactly is the same balance, done at once)."""
    rows = rng.permutation(np.flatnonzero(left))
    part_of[rows] = np.repeat(np.arange(room.size), room)
    left[rows] = False
