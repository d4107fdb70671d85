"""The shrink-and-perturb step (Ash & Adams 2020, "On Warm-Starting Neural Network Training";
docs/design.md §3): before a `shrink_perturb` round trains, every parameter θ becomes

    θ ← λ·θ + (1 − λ)·θ_start + σ·ξ

with θ_start the run's starting weights (the pretrained body and the seeded head init that
`retrain` resets to, `ResettableModel.initial_state`) and ξ a fresh draw of the model's own
initialisation: N(0, initializer_range²) for every parameter of two or more dimensions (the
Linear and embedding weights BERT-style models initialise so) and 0 for one-dimensional ones
(biases and LayerNorm gains and shifts, which the init sets to constants). ξ is drawn on the
CPU from its own generator, seeded by (seed, round, SHRINK_PERTURB): the same on any device,
and no other draw of the run moves.

λ = 1 leaves θ as it is and λ = 0 restores θ_start exactly (both bit for bit); σ = 0 adds nothing.
"""

from __future__ import annotations

import torch
from torch import nn

BLEND_FLOPS = 3  # per parameter element: λ·θ, (1 − λ)·θ_start and their sum
NOISE_FLOPS = 2  # per perturbed element: σ·ξ and the add
DEFAULT_INITIALIZER_RANGE = 0.02  # BERT's, for a config that names none


def noise_std(model: nn.Module) -> float:
    """The standard deviation of the model's own init of its weight matrices."""
    return float(getattr(getattr(model, "config", None), "initializer_range", DEFAULT_INITIALIZER_RANGE))


def _perturbed(param: torch.Tensor) -> bool:
    return param.dim() >= 2


def shrink_perturb_flops(model: nn.Module, perturb: float) -> int:
    """The step's FLOPs: 3 per parameter element for the blend (whatever λ) and, with σ > 0,
    2 per perturbed element for the noise. Drawing ξ is not counted (no arithmetic on weights)."""
    params = list(model.parameters())
    noisy = sum(p.numel() for p in params if _perturbed(p)) if perturb > 0 else 0
    return BLEND_FLOPS * sum(p.numel() for p in params) + NOISE_FLOPS * noisy


@torch.no_grad()
def shrink_perturb(
    model: nn.Module, start_state: dict[str, torch.Tensor], shrink: float, perturb: float, seed: int
) -> int:
    """Apply the step to `model` in place; returns its FLOPs (`shrink_perturb_flops`)."""
    generator = torch.Generator().manual_seed(seed)
    std = noise_std(model)
    for name, param in model.named_parameters():
        start = start_state[name].to(device=param.device, dtype=param.dtype)
        if shrink == 0:
            param.copy_(start)
        elif shrink != 1:
            param.mul_(shrink).add_(start, alpha=1.0 - shrink)
        if perturb > 0 and _perturbed(param):
            noise = torch.randn(param.shape, generator=generator, dtype=torch.float32) * std
            param.add_(noise.to(device=param.device, dtype=param.dtype), alpha=perturb)
    return shrink_perturb_flops(model, perturb)
