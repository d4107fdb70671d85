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

from .cache import cache_root, file_lock
from .data import texts_fingerprint


@dataclass
class TokenizedTexts:
    """Ragged token ids: row i is ids[offsets[i]:offsets[i+1]] (special tokens included, no padding)."""
    ids: np.ndarray       # int32, flat
    offsets: np.ndarray   # int64, len n+1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i]:self.offsets[i + 1]]


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


def tokenize_cached(texts: list[str], tokenizer, max_length: int, cache_dir: Path | None = None) -> tuple[TokenizedTexts, bool]:
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
            os.replace(tmp, folder)   # atomic: readers see all files or none
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return tokens, False


def _load(folder: Path) -> TokenizedTexts:
    return TokenizedTexts(np.load(folder / "ids.npy", allow_pickle=False), np.load(folder / "offsets.npy", allow_pickle=False))


def _tokenize(texts: list[str], tokenizer, max_length: int, chunk: int = 2048) -> TokenizedTexts:
    pieces, lengths = [], []
    for start in range(0, len(texts), chunk):
        enc = tokenizer(texts[start:start + chunk], truncation=True, max_length=max_length,
                        padding=False, return_attention_mask=False, return_token_type_ids=False)
        for row in enc["input_ids"]:
            pieces.append(np.asarray(row, dtype=np.int32))
            lengths.append(len(row))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int32)
    return TokenizedTexts(ids, offsets)


def pad_batch(tokens: TokenizedTexts, rows: np.ndarray, pad_id: int, pad_to: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) for `rows`, padded to the longest row (or to `pad_to`)."""
    lengths = tokens.lengths[rows]
    width = int(pad_to if pad_to is not None else lengths.max())
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for j, (i, n) in enumerate(zip(rows, lengths)):
        ids[j, :n] = tokens.row(i)
        mask[j, :n] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def length_sorted_batches(tokens: TokenizedTexts, rows: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Inference batches of similar length (less padding); results are scattered back by the caller."""
    rows = np.asarray(rows)
    order = rows[np.argsort(tokens.lengths[rows], kind="stable")]
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
