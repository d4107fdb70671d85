"""The last layer finished on the first token only: same outputs and gradients, fewer (and
correctly counted) FLOPs."""

from __future__ import annotations

import pytest
import torch

from hybridal.model.first_token import first_token_last_layer
from hybridal.model.flops import FlopsModel
from tests.support.flop_counting import (
    NUM_LABELS,
    SHAPES,
    VOCAB,
    assert_close,
    measured_flops,
    random_batch,
    tiny_configs,
    tiny_model,
)


@pytest.mark.parametrize("arch", ["bert", "roberta", "electra"])
def test_outputs_match_the_full_forward(tiny_models, arch):
    model = tiny_models[arch].eval()
    input_ids, attention_mask, _ = random_batch(5, 33, VOCAB)  # right-padded rows included
    with torch.inference_mode():
        full = model(input_ids=input_ids, attention_mask=attention_mask).logits
        with first_token_last_layer(model) as applied:
            short = model(input_ids=input_ids, attention_mask=attention_mask).logits
        again = model(input_ids=input_ids, attention_mask=attention_mask).logits
    assert applied
    assert torch.allclose(short, full, atol=1e-5, rtol=1e-4)
    assert torch.equal(again, full)  # the hook is gone after the block


@pytest.mark.parametrize("arch", ["bert", "roberta", "electra"])
@pytest.mark.parametrize("batch_size,seq_len", SHAPES)
def test_flops_match_flop_counter(tiny_models, arch, batch_size, seq_len):
    model = tiny_models[arch]
    flops = FlopsModel.from_config(model.config)
    input_ids, attention_mask, labels = random_batch(batch_size, seq_len, VOCAB)
    with first_token_last_layer(model) as applied:
        measured = measured_flops(model, input_ids, attention_mask, labels, train=False)
    assert applied
    ours = flops.forward(batch_size, seq_len, first_token_last_layer=True)
    assert_close(ours, measured, f"{arch} first-token forward {batch_size}x{seq_len}")
    if seq_len > 1:
        assert ours < flops.forward(batch_size, seq_len)


@pytest.mark.parametrize("arch", ["bert", "roberta", "electra"])
def test_gradients_match_the_full_forward(arch):
    # Dropout off (eval mode) so both passes are the same function; the gradients of every
    # parameter must agree: the skipped positions never reached the loss.
    model = tiny_model(tiny_configs()[arch]).eval()
    input_ids, attention_mask, labels = random_batch(4, 21, VOCAB)
    grads = []
    for first_only in (False, True):
        model.zero_grad(set_to_none=True)
        if first_only:
            with first_token_last_layer(model):
                model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss.backward()
        else:
            model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss.backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name, full in grads[0].items():
        assert torch.allclose(grads[1][name], full, atol=1e-6, rtol=1e-4), name


@pytest.mark.parametrize("arch", ["bert", "electra"])
def test_train_step_flops_match_flop_counter(tiny_models, arch):
    model = tiny_models[arch]
    flops = FlopsModel.from_config(model.config)
    input_ids, attention_mask, labels = random_batch(5, 64, VOCAB)
    with first_token_last_layer(model):
        measured = measured_flops(model, input_ids, attention_mask, labels, train=True)
    assert_close(flops.train_step(5, 64, first_token_last_layer=True), measured, f"{arch} first-token train step")


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
    input_ids, attention_mask, _ = random_batch(3, 17, VOCAB)
    with torch.inference_mode():
        full = model(input_ids=input_ids, attention_mask=attention_mask).logits
        with first_token_last_layer(model) as applied:
            same = model(input_ids=input_ids, attention_mask=attention_mask).logits
    assert not applied
    assert torch.equal(same, full)
