"""The run's seeded, stratified splits (docs/design.md §2): pool (trainable), validation
(monitor only), test (report only), and the per-round test rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hybridal.data.multilabel_split import stratified_subsample
from hybridal.errors import DataError


@dataclass
class TextData:
    """Texts with their labels: class ids in [0, num_labels) of shape (n,), or for a multi-label task
    a (n, num_labels) 0/1 matrix (docs/multilabel.md)."""

    texts: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx: np.ndarray) -> "TextData":
        return TextData([self.texts[i] for i in idx], self.labels[idx])


@dataclass
class LoadedDataset:
    name: str
    train: TextData
    test: TextData
    num_labels: int
    label_names: list[str]
    test_is_holdout: bool = False
    source: str = ""

    @property
    def multi_label(self) -> bool:
        return self.train.labels.ndim == 2


@dataclass
class RunSplits:
    """The run's splits: pool (trainable), validation (monitor only), test (report only)."""

    pool: TextData
    validation: TextData
    test: TextData
    num_labels: int
    label_names: list[str]
    notes: list[str] = field(default_factory=list)
    source: str = ""  # where the data was read from (a folder or hub:<id>)

    @property
    def multi_label(self) -> bool:
        return self.pool.labels.ndim == 2


def stratified_sample(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n positions drawn without replacement, class proportions kept (largest remainders)."""
    labels = np.asarray(labels)
    n = min(n, labels.shape[0])
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts / counts.sum() * n
    take = np.floor(exact).astype(int)
    remainder = n - take.sum()
    if remainder:
        order = np.lexsort((rng.random(len(classes)), -(exact - take)))
        take[order[:remainder]] += 1
    picks = [rng.choice(np.flatnonzero(labels == c), size=t, replace=False) for c, t in zip(classes, take) if t]
    out = np.concatenate(picks) if picks else np.empty(0, dtype=np.int64)
    return np.sort(out)


def stratified_rows(labels: np.ndarray, n: int, seed: int, purpose: int) -> np.ndarray:
    """n sorted positions, stratified: by class (`stratified_sample`) or, for a multi-label matrix, by
    iterative stratification (hybridal.data.multilabel_split), each label's prevalence kept."""
    rng = np.random.default_rng([seed, purpose])
    if np.ndim(labels) == 2:
        n = min(n, len(labels))
        return stratified_subsample(labels, n, int(rng.integers(2**62)))
    return stratified_sample(labels, n, rng)


def stratified_holdout(data: TextData, fraction: float, seed: int) -> tuple[TextData, TextData]:
    held = stratified_rows(data.labels, max(1, int(round(len(data) * fraction))), seed, 7)
    mask = np.ones(len(data), dtype=bool)
    mask[held] = False
    return data.subset(np.flatnonzero(mask)), data.subset(held)


def default_val_size(n_train: int, val_size) -> int:
    """docs/design.md §2: 1,000 rows or 10% of train, whichever is smaller; a fraction or a count when given."""
    if val_size is None:
        return max(1, min(1000, int(round(0.1 * n_train))))
    if isinstance(val_size, float) and val_size < 1:
        return max(1, int(round(val_size * n_train)))
    return int(val_size)


def make_run_splits(
    dataset: LoadedDataset,
    seed: int,
    val_size=None,
    max_train_size: Optional[int] = None,
    max_test_size: Optional[int] = None,
) -> RunSplits:
    """Seeded, stratified: (optional train subsample) → validation carved from train → pool = the rest."""
    notes = []
    train = dataset.train
    if max_train_size is not None and max_train_size < len(train):
        train = train.subset(stratified_rows(train.labels, max_train_size, seed, 1))
        notes.append(f"train subsampled to {max_train_size} rows (stratified)")
    test = dataset.test
    if max_test_size is not None and max_test_size < len(test):
        test = test.subset(stratified_rows(test.labels, max_test_size, seed, 2))
        notes.append(f"test subsampled to {max_test_size} rows (stratified)")
    n_val = default_val_size(len(train), val_size)
    if n_val >= len(train):
        raise DataError(
            f"val_size={val_size!r} leaves no training pool: the train split has {len(train)} rows; "
            f"allowed: fewer than {len(train)} validation rows."
        )
    val_idx = stratified_rows(train.labels, n_val, seed, 3)
    mask = np.ones(len(train), dtype=bool)
    mask[val_idx] = False
    if dataset.test_is_holdout:
        notes.append("the dataset has no test split: test is a stratified 20% holdout of train")
    return RunSplits(
        train.subset(np.flatnonzero(mask)),
        train.subset(val_idx),
        test,
        dataset.num_labels,
        dataset.label_names,
        notes,
        dataset.source,
    )


def uses_test_subsample(size: Optional[int], n_test: int) -> bool:
    """Whether per-round test evaluations use a subsample of `size` rows (else the full split)."""
    return size is not None and size < n_test


def per_round_test_rows(labels: np.ndarray, size: Optional[int], seed: int) -> Optional[np.ndarray]:
    """The rows of the test split that per-round test evaluations use (docs/design.md §2).

    A seeded, stratified draw that depends on the seed and the test labels only: every round,
    strategy and shared-prefix fork of a seed sees the same rows, so learning curves compare.
    None when `size` is None or covers the split (the full split is then used every round).
    """
    if size is None or not uses_test_subsample(size, len(labels)):
        return None
    return stratified_rows(labels, size, seed, 4)


def indices_fingerprint(indices: np.ndarray) -> str:
    """A short content hash of an index list, so two runs can be checked for the same rows."""
    return hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16]
