"""Issue 25 foundation: the training loop already trains a multi-label head (independent sigmoid
outputs, binary cross-entropy on an (n, L) 0/1 float target) with no change, and counts the same
FLOPs for the same batches as a single-label head of as many outputs."""

from __future__ import annotations

import numpy as np
import torch

from hybridal.model.pretrained import TINY_BERT, load_model
from hybridal.model.training import train_epochs
from tests.unit.test_precision import _run, _tokens

N_LABELS = 4


def _train(labels: torch.Tensor, criterion: torch.nn.Module, epochs: int = 12) -> list:
    tokens = _tokens(32, seed=3)
    model = load_model(TINY_BERT, N_LABELS, 0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    run = _run(model, "fp32")
    return [
        train_epochs(model, tokens, np.arange(32), labels, 1, 8, opt, None, "epoch", criterion, run, gen, 1.0)
        for _ in range(epochs)
    ]


def test_a_multi_label_head_learns_with_binary_cross_entropy_and_costs_the_same_flops():
    rng = np.random.default_rng(4)
    matrix = torch.from_numpy((rng.random((32, N_LABELS)) < 0.3).astype(np.float32))
    multi = _train(matrix, torch.nn.BCEWithLogitsLoss())
    # Below half the first epoch's loss, and far below the base rate's 0.61 nats (p = 0.3 per label):
    # it learns the rows' label sets, not just each label's frequency.
    assert multi[-1].mean_loss < 0.5 * multi[0].mean_loss and multi[-1].mean_loss < 0.45
    single = _train(torch.from_numpy(rng.integers(0, N_LABELS, 32)), torch.nn.CrossEntropyLoss())
    assert [s.flops for s in multi] == [s.flops for s in single] and multi[0].flops > 0
