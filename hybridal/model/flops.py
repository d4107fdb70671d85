"""Analytic FLOPs of encoder sequence classifiers (docs/design.md §7).

The count covers the model's matrix multiplications, 2 FLOPs per multiply-add, for every
token position of a padded batch (padding included):

* per encoder layer and token: the Q, K, V and output projections and the two FFN matmuls;
* per encoder layer: the attention scores ``Q K^T`` and the attention-weighted values
  ``softmax(.) V`` (each ``batch * seq_len^2 * attention width`` multiply-adds);
* ELECTRA only, per token: the embedding projection when ``embedding_size != hidden_size``;
* per sequence: the classification head on the pooled (first) token, i.e. a dense
  ``hidden x hidden`` layer (BERT pooler, RoBERTa/ELECTRA head ``dense``, DistilBERT
  ``pre_classifier``) and the ``hidden x num_labels`` classifier.

Embedding lookups, layer norms, softmax, activations, bias additions and the loss are not
matmuls and are not counted. A training step is forward + backward with backward = 2 x
forward, so ``train_step = 3 * forward``. This agrees with
``torch.utils.flop_counter.FlopCounterMode`` (with eager attention) to well within 5%
(see ``tests/unit/test_flops.py``). The popular ``6 * parameters * tokens`` rule is *not* used:
it charges the embedding table (half of MiniLM's parameters) as if it were a matmul.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import PretrainedConfig

__all__ = ["FlopsModel", "SUPPORTED_MODEL_TYPES"]

# model_type -> family whose config field names and head layout it shares.
BERT_LIKE_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "electra", "camembert")
_DISTILBERT = ("distilbert",)
SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(BERT_LIKE_MODEL_TYPES + _DISTILBERT))


@dataclass(frozen=True)
class FlopsModel:
    """Matmul FLOPs of one encoder sequence classifier, from its architecture sizes."""

    model_type: str
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    num_labels: int
    # Width of the token embeddings before any projection to hidden_size (ELECTRA-small
    # style); equal to hidden_size where there is no projection.
    embedding_size: int

    @classmethod
    def from_config(cls, config: PretrainedConfig, num_labels: int | None = None) -> "FlopsModel":
        """Read the sizes from a transformers config; ``num_labels`` overrides the config's."""
        model_type = getattr(config, "model_type", "") or ""
        config_labels = num_labels if num_labels is not None else config.num_labels
        assert config_labels is not None, "the config has no id2label, so no num_labels: pass num_labels"
        labels = int(config_labels)
        if model_type in BERT_LIKE_MODEL_TYPES:
            hidden = int(config.hidden_size)
            embedding = hidden
            if model_type == "electra":
                embedding = int(getattr(config, "embedding_size", hidden) or hidden)
            return cls(
                model_type=model_type,
                hidden_size=hidden,
                num_layers=int(config.num_hidden_layers),
                num_heads=int(config.num_attention_heads),
                intermediate_size=int(config.intermediate_size),
                num_labels=labels,
                embedding_size=embedding,
            )
        if model_type in _DISTILBERT:
            return cls(
                model_type=model_type,
                hidden_size=int(config.dim),
                num_layers=int(config.n_layers),
                num_heads=int(config.n_heads),
                intermediate_size=int(config.hidden_dim),
                num_labels=labels,
                embedding_size=int(config.dim),
            )
        raise ValueError(
            f"FlopsModel does not support model_type {model_type!r}; "
            f"supported model types: {', '.join(SUPPORTED_MODEL_TYPES)}."
        )

    @property
    def attention_width(self) -> int:
        """Total width of Q/K/V (heads x head size; equals hidden_size for these models)."""
        return self.num_heads * (self.hidden_size // self.num_heads)

    def forward(self, batch_size: int, seq_len: int, first_token_last_layer: bool = False) -> int:
        """FLOPs of one forward pass over a ``batch_size x seq_len`` padded batch.

        ``first_token_last_layer``: the last layer's output projection and FFN ran on each
        sequence's first token only (`hybridal.model.first_token`)."""
        b, s = _check_shape(batch_size, seq_len)
        h, a, i = self.hidden_size, self.attention_width, self.intermediate_size
        tokens = b * s
        # Multiply-adds per token and layer: Q, K, V (h -> a), output (a -> h), FFN h->i->h.
        per_token_after_attention = a * h + 2 * h * i
        per_token_layer = 3 * h * a + per_token_after_attention
        # Multiply-adds per layer of QK^T and softmax(QK^T) V: 2 * b * s * s * a.
        attention_layer = 2 * b * s * s * a
        macs = self.num_layers * (tokens * per_token_layer + attention_layer)
        if first_token_last_layer and self.num_layers:
            macs -= (tokens - b) * per_token_after_attention
        if self.embedding_size != h:
            macs += tokens * self.embedding_size * h
        # Head on the first token of each sequence: dense h x h, then classifier h x C.
        macs += b * (h * h + h * self.num_labels)
        return 2 * macs

    def train_step(self, batch_size: int, seq_len: int, first_token_last_layer: bool = False) -> int:
        """FLOPs of one training step (forward + backward = 3 x forward)."""
        return 3 * self.forward(batch_size, seq_len, first_token_last_layer)


def _check_shape(batch_size: int, seq_len: int) -> tuple[int, int]:
    b, s = int(batch_size), int(seq_len)
    if b < 0 or s < 0:
        raise ValueError(f"batch_size and seq_len must be >= 0, got ({batch_size}, {seq_len}).")
    return b, s
