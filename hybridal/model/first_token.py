"""Forward passes that finish the last encoder layer on the first token only.

A BERT-style sequence classifier reads nothing of the last layer but its first token: the
BERT pooler, and the RoBERTa/ELECTRA heads, all take `hidden[:, 0]`. The other positions'
output projection and feed-forward in that layer are wasted work: 9 of the 12 h^2-sized
matmuls per token of one layer, i.e. 12.5% of a 6-layer MiniLM forward. Keys, values and
attention still see every token, so the first token's output is the same computation as
before (tested to float tolerance); only what nobody reads is skipped.

Training uses it too: the loss reads the first token only, so the skipped positions carry
no gradient and the update is the same computation (dropout in that layer draws masks for
the first token only, so the random stream differs from a full forward's; the run stays
reproducible from its seed). Every pass counts its FLOPs with the flag it ran with.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from torch import nn

from hybridal.model.flops import BERT_LIKE_MODEL_TYPES

# Model types with BERT's layer layout whose head reads only the first token of the last
# hidden state (the same families the FLOPs model counts as BERT-like).
FIRST_TOKEN_HEADS = BERT_LIKE_MODEL_TYPES


def last_attention_output(model: nn.Module) -> Optional[nn.Module]:
    """The last layer's attention output block (dense + residual LayerNorm), or None where
    the model is not a BERT-style sequence classifier this applies to."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) not in FIRST_TOKEN_HEADS:
        return None
    if not type(model).__name__.endswith("ForSequenceClassification"):
        return None
    base = getattr(model, "base_model", None)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if not layers:
        return None
    last = layers[-1]
    if getattr(last, "add_cross_attention", False):
        return None
    return getattr(getattr(last, "attention", None), "output", None)


def _keep_first_token(module: nn.Module, args: tuple) -> tuple:
    # BertSelfOutput.forward(attention_output, residual): slice both; the feed-forward that
    # follows then runs on [batch, 1, hidden].
    attention_output, residual = args[0], args[1]
    return (attention_output[:, :1], residual[:, :1], *args[2:])


@contextmanager
def first_token_last_layer(model: nn.Module) -> Iterator[bool]:
    """Within, the last layer runs its output projection and FFN on the first token only.

    Yields whether it applies to `model` (the FLOPs count depends on it)."""
    block = last_attention_output(model)
    if block is None:
        yield False
        return
    handle = block.register_forward_pre_hook(_keep_first_token)
    try:
        yield True
    finally:
        handle.remove()
