"""bf16 numerics and the precision choice (numbers, not speed: these also run where bf16 is emulated).

Tolerances: bf16 keeps 8 significant bits, so each operand a matmul reads is rounded by at
most 2^-9 relative; accumulation stays fp32 and LayerNorm/softmax run in fp32 under
autocast. On MiniLM over 1,000 AG News texts the largest log-probability difference to fp32
measured 5e-4; LOGPROB_TOL is 40x that, still ~5 bf16 steps of a unit logit, so it catches a
pass that runs fp32-rounded-wrong (e.g. bf16 accumulation or LayerNorm) but not rounding.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from hybridal.data.tokenization import TokenizedTexts
from hybridal.model import hardware
from hybridal.model.batching import Batching
from hybridal.model.flops import FlopsModel
from hybridal.model.hardware import autocast, bf16_linear_weights, resolve_precision
from hybridal.model.pretrained import TINY_BERT, load_model
from hybridal.model.training import _forward_log_probs, train_epochs

LOGPROB_TOL = 0.02
EPOCHS = 15
NUM_LABELS = 4
CPU = torch.device("cpu")


def _tokens(n: int, seed: int = 0) -> TokenizedTexts:
    """`n` random texts of 5-40 tokens, [CLS] first, as the tokenizer cache stores them."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 41, n)
    rows = [np.concatenate([[101], rng.integers(1000, 5000, k - 1)]).astype(np.int32) for k in lengths]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return TokenizedTexts(np.concatenate(rows), offsets)


def _model(seed: int = 0):
    model = load_model(TINY_BERT, NUM_LABELS, seed)
    # A random-init head gives near-uniform outputs; scale it so rows have clear winners.
    with torch.no_grad():
        model.classifier.weight.mul_(20.0)
    return model


def _run(model, precision: str) -> Batching:
    return Batching(CPU, precision, 0, None, FlopsModel.from_config(model.config, NUM_LABELS))


def test_bf16_inference_log_probs_close_to_fp32_and_same_argmax():
    model, tokens = _model(), _tokens(200)
    rows = np.arange(200)
    fp32, _ = _forward_log_probs(model, tokens, rows, 32, _run(model, "fp32"))
    bf16, _ = _forward_log_probs(model, tokens, rows, 32, _run(model, "bf16"))
    assert np.abs(bf16 - fp32).max() < LOGPROB_TOL
    # A row may flip only where fp32's top two are within the tolerance of each other.
    top2 = np.sort(fp32, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * LOGPROB_TOL
    assert clear.mean() > 0.5
    assert (bf16.argmax(1) == fp32.argmax(1))[clear].all()


def test_bf16_inference_casts_linear_weights_once_and_restores_fp32():
    """The pass sees bf16 Linear weights (no per-batch cast), the same numbers as per-batch
    autocast, and leaves the fp32 master weights untouched."""
    model, tokens = _model(), _tokens(64)
    before = {name: (p.data_ptr(), p.detach().clone()) for name, p in model.named_parameters()}
    seen = set()
    hook = model.classifier.register_forward_pre_hook(lambda m, a: seen.add(m.weight.dtype))
    ours, _ = _forward_log_probs(model, tokens, np.arange(64), 16, _run(model, "bf16"))
    hook.remove()
    assert seen == {torch.bfloat16}
    for name, p in model.named_parameters():
        assert p.dtype == torch.float32 and p.data_ptr() == before[name][0] and torch.equal(p, before[name][1]), name
    # Same operands as autocast casting the fp32 weights itself: the same log-probs.
    reference = copy.deepcopy(model)
    with torch.inference_mode(), autocast(CPU, "bf16"):
        ids = torch.tensor(tokens.ids[tokens.offsets[0] : tokens.offsets[1]]).unsqueeze(0)
        expected = torch.log_softmax(reference(input_ids=ids).logits.float(), -1)
    with torch.inference_mode(), bf16_linear_weights(model, "bf16"), autocast(CPU, "bf16"):
        got = torch.log_softmax(model(input_ids=ids).logits.float(), -1)
    assert torch.equal(got, expected)
    assert np.allclose(ours[0], expected[0].numpy(), atol=1e-6)


def test_bf16_training_decreases_loss_like_fp32():
    tokens = _tokens(32, seed=1)
    labels = torch.from_numpy(np.random.default_rng(2).integers(0, NUM_LABELS, 32))
    losses = {}
    for precision in ("fp32", "bf16"):
        model = load_model(TINY_BERT, NUM_LABELS, 0)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(0)
        curve = []
        for _ in range(EPOCHS):
            stats = train_epochs(
                model,
                tokens,
                np.arange(32),
                labels,
                1,
                8,
                opt,
                None,
                "epoch",
                torch.nn.CrossEntropyLoss(),
                _run(model, precision),
                gen,
                1.0,
            )
            curve.append(stats.mean_loss)
        assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
        losses[precision] = curve
    for curve in losses.values():
        assert curve[-1] < 0.25 * curve[0], losses  # memorises the 32 rows
    # Same data order and init: the curves agree to rounding (measured max gap 0.011).
    assert max(abs(b - f) for b, f in zip(losses["bf16"], losses["fp32"])) < 0.1 * losses["fp32"][0], losses


def test_bf16_training_runs_attention_on_the_math_backend_on_cpu():
    with autocast(CPU, "bf16", training=True):
        assert not torch.backends.cuda.flash_sdp_enabled()
    with autocast(CPU, "bf16"):
        assert torch.backends.cuda.flash_sdp_enabled()


@pytest.mark.parametrize(
    "native, speedup, expected",
    [
        (False, None, "fp32"),  # emulated bf16: never measured, never picked
        (True, 1.0, "fp32"),  # native but not faster
        (True, 2.4, "bf16"),
    ],
)
def test_auto_precision_on_cpu_picks_bf16_only_where_native_and_measured_faster(monkeypatch, native, speedup, expected):
    def measured() -> float:
        assert speedup is not None, "emulated bf16 must not be measured"
        return speedup

    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: native)
    monkeypatch.setattr(hardware, "cpu_bf16_matmul_speedup", measured)
    assert resolve_precision("auto", CPU) == expected
    assert resolve_precision("fp32", CPU) == "fp32" and resolve_precision("bf16", CPU) == "bf16"
