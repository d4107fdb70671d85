"""The last layer finished on the first token only: same outputs, fewer (and correctly counted) FLOPs."""
from __future__ import annotations

import pytest
import torch

from hybridal.first_token import first_token_last_layer
from hybridal.flops import FlopsModel
from test_flops import NUM_LABELS, SHAPES, VOCAB, _assert_close, _batch, _measure, _tiny, _tiny_configs


@pytest.fixture(scope="module")
def tiny_models():
    return {name: _tiny(cfg) for name, cfg in _tiny_configs().items()}


@pytest.mark.parametrize("arch", ["bert", "roberta", "electra"])
def test_outputs_match_the_full_forward(tiny_models, arch):
    model = tiny_models[arch].eval()
    input_ids, attention_mask, _ = _batch(5, 33, VOCAB)   # right-padded rows included
    with torch.inference_mode():
        full = model(input_ids=input_ids, attention_mask=attention_mask).logits
        with first_token_last_layer(model) as applied:
            short = model(input_ids=input_ids, attention_mask=attention_mask).logits
        again = model(input_ids=input_ids, attention_mask=attention_mask).logits
    assert applied
    assert torch.allclose(short, full, atol=1e-5, rtol=1e-4)
    assert torch.equal(again, full)   # the hook is gone after the block


@pytest.mark.parametrize("arch", ["bert", "roberta", "electra"])
@pytest.mark.parametrize("batch_size,seq_len", SHAPES)
def test_flops_match_flop_counter(tiny_models, arch, batch_size, seq_len):
    model = tiny_models[arch]
    flops = FlopsModel.from_config(model.config)
    input_ids, attention_mask, labels = _batch(batch_size, seq_len, VOCAB)
    with first_token_last_layer(model) as applied:
        measured = _measure(model, input_ids, attention_mask, labels, train=False)
    assert applied
    ours = flops.forward(batch_size, seq_len, first_token_last_layer=True)
    _assert_close(ours, measured, f"{arch} first-token forward {batch_size}x{seq_len}")
    if seq_len > 1:
        assert ours < flops.forward(batch_size, seq_len)


def test_saving_on_minilm_shapes_is_one_eighth_of_the_linear_work():
    # 6 layers of 12 h^2 multiply-adds per token; the last layer's output projection and FFN
    # (9 h^2) are skipped for all but one token: 9 / 72 = 12.5% when attention is negligible.
    flops = FlopsModel("bert", 384, 6, 12, 1536, NUM_LABELS, 384)
    full, short = flops.forward(64, 1), flops.forward(64, 1, True)
    assert full == short
    full, short = flops.forward(32, 64), flops.forward(32, 64, True)
    assert 0.10 < 1 - short / full < 0.125


def test_distilbert_is_left_alone(tiny_models):
    model = tiny_models["distilbert"].eval()
    input_ids, attention_mask, _ = _batch(3, 17, VOCAB)
    with torch.inference_mode():
        full = model(input_ids=input_ids, attention_mask=attention_mask).logits
        with first_token_last_layer(model) as applied:
            same = model(input_ids=input_ids, attention_mask=attention_mask).logits
    assert not applied
    assert torch.equal(same, full)
