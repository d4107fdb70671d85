"""Tiny transformers and torch's FlopCounterMode, shared by the FLOPs tests (analytic counts vs measured)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import (
    AutoModelForSequenceClassification,
    BertConfig,
    DistilBertConfig,
    ElectraConfig,
    PretrainedConfig,
    RobertaConfig,
)

TOLERANCE = 0.05  # docs/design.md §7
NUM_LABELS = 4
VOCAB = 1000
# (batch, padded seq_len): odd lengths, a single token, a single sequence.
SHAPES = [(1, 1), (3, 17), (2, 33), (5, 64)]


def random_batch(batch_size: int, seq_len: int, vocab: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, vocab, (batch_size, seq_len), generator=gen)
    attention_mask = torch.ones_like(input_ids)
    # Right padding on every other row: padded positions are still processed and counted.
    for row in range(1, batch_size, 2):
        keep = max(1, seq_len // 2)
        attention_mask[row, keep:] = 0
        input_ids[row, keep:] = 1
    labels = torch.randint(0, NUM_LABELS, (batch_size,), generator=gen)
    return input_ids, attention_mask, labels


def measured_flops(model, input_ids, attention_mask, labels, train: bool) -> int:
    """FlopCounterMode total of one inference pass or one training step."""
    if train:
        model.train()
        model.zero_grad(set_to_none=True)
        with FlopCounterMode(display=False) as counter:
            out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
            out.loss.backward()
    else:
        model.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(input_ids=input_ids, attention_mask=attention_mask)
    return int(counter.get_total_flops())


def assert_close(ours: int, measured: int, what: str) -> float:
    assert measured > 0, f"{what}: FlopCounterMode saw no FLOPs"
    ratio = ours / measured
    assert abs(ratio - 1.0) <= TOLERANCE, f"{what}: ours {ours} vs measured {measured} (ratio {ratio:.4f})"
    return ratio


def tiny_model(config: PretrainedConfig):
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_config(config, attn_implementation="eager")


def tiny_configs() -> dict[str, PretrainedConfig]:
    common = dict(vocab_size=VOCAB, num_labels=NUM_LABELS, max_position_embeddings=128)
    return {
        "bert": BertConfig(
            hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512, **common
        ),
        "distilbert": DistilBertConfig(dim=128, n_layers=2, n_heads=2, hidden_dim=512, **common),
        # Not in the brief's list of required cases, but cheap: they pin the other head
        # layouts (RoBERTa classification head; ELECTRA head + embedding projection).
        "roberta": RobertaConfig(
            hidden_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=512,
            pad_token_id=1,
            **{**common, "max_position_embeddings": 130},
        ),
        "electra": ElectraConfig(
            embedding_size=64,
            hidden_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=512,
            **common,
        ),
    }
