"""Tokenize each (texts, tokenizer, max_length) once per machine and build dynamically padded batches."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hybridal.data.cache import cache_root, file_lock


@dataclass
class TokenizedTexts:
    """Ragged token ids: row i is ids[offsets[i]:offsets[i+1]] (special tokens included, no padding)."""

    ids: np.ndarray  # int32, flat
    offsets: np.ndarray  # int64, len n+1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]


def texts_fingerprint(texts: list[str]) -> str:
    """A content hash of a list of texts (order-sensitive), for cache keys."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def tokenizer_fingerprint(tokenizer) -> str:
    """Identity of a tokenizer's behaviour: its class, vocabulary and special tokens."""
    h = hashlib.sha256()
    h.update(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        # Truncation/padding state changes whenever the tokenizer is called; it is not identity.
        spec.pop("truncation", None)
        spec.pop("padding", None)
        h.update(json.dumps(spec, sort_keys=True).encode())
    else:
        h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    h.update(json.dumps(tokenizer.all_special_tokens).encode())
    return h.hexdigest()[:16]


def tokenize_cached(
    texts: list[str], tokenizer, max_length: int, cache_dir: Path | None = None
) -> tuple[TokenizedTexts, bool]:
    """Token ids for `texts`, from the on-disk cache if present; returns (tokens, was_cached).

    Concurrent callers (e.g. Ray trials starting together) serialise on a file lock, so the
    work is done once and the others read the finished files.
    """
    key = hashlib.sha256(
        f"{texts_fingerprint(texts)}|{tokenizer_fingerprint(tokenizer)}|{max_length}".encode()
    ).hexdigest()[:24]
    root = (cache_dir or cache_root()) / "tokens"
    folder = root / key
    with file_lock(root / f"{key}.lock"):
        if (folder / "ids.npy").is_file():
            return _load(folder), True
        tokens = _tokenize(texts, tokenizer, max_length)
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{key}-"))
        try:
            np.save(tmp / "ids.npy", tokens.ids, allow_pickle=False)
            np.save(tmp / "offsets.npy", tokens.offsets, allow_pickle=False)
            os.replace(tmp, folder)  # atomic: readers see all files or none
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return tokens, False


def _load(folder: Path) -> TokenizedTexts:
    return TokenizedTexts(
        np.load(folder / "ids.npy", allow_pickle=False), np.load(folder / "offsets.npy", allow_pickle=False)
    )


def _tokenize(texts: list[str], tokenizer, max_length: int, chunk: int = 2048) -> TokenizedTexts:
    pieces, lengths = [], []
    for start in range(0, len(texts), chunk):
        enc = tokenizer(
            texts[start : start + chunk],
            truncation=True,
            max_length=max_length,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        for row in enc["input_ids"]:
            pieces.append(np.asarray(row, dtype=np.int32))
            lengths.append(len(row))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int32)
    return TokenizedTexts(ids, offsets)


def row_lengths(tokens: TokenizedTexts, rows: np.ndarray) -> np.ndarray:
    """Token counts of `rows` (without computing every row's length)."""
    rows = np.asarray(rows, dtype=np.int64)
    return tokens.offsets[rows + 1] - tokens.offsets[rows]


def pad_batch(
    tokens: TokenizedTexts, rows: np.ndarray, pad_id: int, pad_to: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) for `rows`, padded to the longest row (or to `pad_to`).

    One vectorised gather (no Python loop over rows): batches of hundreds of rows cost
    microseconds, not milliseconds.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = tokens.offsets[rows]
    lengths = tokens.offsets[rows + 1] - starts
    width = int(pad_to if pad_to is not None else (lengths.max() if len(rows) else 0))
    if len(rows) and int(lengths.max()) > width:
        raise ValueError(
            f"pad_to={pad_to} is shorter than the longest row ({int(lengths.max())} tokens); "
            "tokenize with max_length <= pad_to."
        )
    columns = np.arange(width)
    valid = columns[None, :] < lengths[:, None]
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    ids[valid] = tokens.ids[(starts[:, None] + columns[None, :])[valid]]
    return torch.from_numpy(ids), torch.from_numpy(valid.astype(np.int64))


def length_sorted_batches(
    tokens: TokenizedTexts, rows: np.ndarray, batch_size: int, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Inference batches of similar length (less padding); results are scattered back by the caller."""
    rows = np.asarray(rows)
    return [rows[p] for p in length_sorted_positions(tokens, rows, batch_size, max_tokens)]


def length_sorted_positions(
    tokens: TokenizedTexts, rows: np.ndarray, batch_size: int, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Positions into `rows`, shortest first, cut into batches of at most `batch_size` rows and,
    when `max_tokens` is set, at most `max_tokens` padded tokens (a longer row goes alone)."""
    lengths = row_lengths(tokens, rows)
    order = np.argsort(lengths, kind="stable")
    if not max_tokens:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    cuts, start = [], 0
    for i, width in enumerate(lengths[order].tolist()):  # ascending: row i sets the batch width
        if i > start and (i - start >= batch_size or (i - start + 1) * width > max_tokens):
            cuts.append(i)
            start = i
    return np.split(order, cuts) if len(order) else []


def shuffled_length_buckets(
    tokens: TokenizedTexts, rows: np.ndarray, batch_size: int, generator: torch.Generator, window: int = 1
) -> list[np.ndarray]:
    """Training batches for one epoch: a random permutation, then length bucketing within windows.

    The rows are shuffled with `generator`; each run of `window` consecutive batches
    (`window * batch_size` rows) is sorted by length and cut into batches, and the order of all
    batches is shuffled again. Every row is seen once per epoch, batch membership stays random
    beyond the window, and padding drops (AG News, batch 16: padded tokens 1.74x the real ones
    with plain shuffling, 1.14x with window=8). This is the megabatch scheme of fairseq and of
    transformers' `group_by_length` (which uses window=50). `window=1` is the plain shuffle
    (only the first draw is made), so results equal an unbucketed run bit for bit.
    The number of batches, ceil(len(rows) / batch_size), does not change.
    """
    rows = np.asarray(rows)
    order = rows[torch.randperm(len(rows), generator=generator).numpy()]
    if window <= 1:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    span = window * batch_size
    batches: list[np.ndarray] = []
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(row_lengths(tokens, chunk), kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
