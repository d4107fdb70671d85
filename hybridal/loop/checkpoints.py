"""Checkpoints of a run at its last finished round: model weights as safetensors, the run's
progress as JSON, a kept optimizer's state as optimizer.pt (read with weights_only=True, which
unpickles no code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Union

import torch
from torch import nn

from hybridal.atomic_write import atomic_write_text, to_json
from hybridal.errors import ConfigError
from hybridal.model.metrics import EvalResult

MODEL_FILE, STATE_FILE, OPTIMIZER_FILE = "model.safetensors", "state.json", "optimizer.pt"


def write_checkpoint(
    folder: Union[str, Path], model: nn.Module, optimizer: Optional[torch.optim.Optimizer], state: dict
) -> None:
    from safetensors.torch import save_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / MODEL_FILE))
    if optimizer is not None:
        torch.save(optimizer.state_dict(), folder / OPTIMIZER_FILE)
    atomic_write_text(folder / STATE_FILE, to_json(state))


def read_checkpoint(folder: Union[str, Path], model: nn.Module, device: torch.device) -> tuple[dict, Optional[dict]]:
    """Load the weights into `model`; returns (progress state, optimizer state or None)."""
    from safetensors.torch import load_model

    folder = Path(folder)
    state = json.loads((folder / STATE_FILE).read_text())
    try:
        load_model(model, str(folder / MODEL_FILE), device=str(device))
    except RuntimeError as exc:  # another head: most likely a binary Jigsaw run from before Jigsaw's six labels
        if "size mismatch" not in str(exc):
            raise
        raise ConfigError(
            f"checkpoint {str(folder)!r} holds a model of another shape than this run's ({_first_mismatch(exc)}); "
            "allowed: a checkpoint of the same task (a binary Jigsaw run from before multi-label Jigsaw resumes "
            "with data_kwargs.jigsaw_label: toxic)."
        ) from None
    optimizer = folder / OPTIMIZER_FILE
    optimizer_state = torch.load(optimizer, weights_only=True, map_location=device) if optimizer.is_file() else None
    return state, optimizer_state


def _first_mismatch(exc: RuntimeError) -> str:
    lines = [ln.strip().rstrip(".") for ln in str(exc).splitlines() if "size mismatch" in ln]
    return lines[0] if lines else "size mismatch"


def eval_state(result: Optional[EvalResult]) -> Optional[dict]:
    if result is None:
        return None
    return {
        "f1": result.f1,
        "accuracy": result.accuracy,
        "loss": result.loss,
        "per_class_f1": result.per_class_f1,
        "flops": result.flops,
        "seconds": result.seconds,
        "n": result.n,
        "pred_counts": result.pred_counts,
        "majority_f1": result.majority_f1,
        "multilabel": result.multilabel,
    }


def eval_from_state(state: Optional[dict]) -> Optional[EvalResult]:
    if state is None:
        return None
    # JSON wrote NaN metrics as null (hybridal.atomic_write.to_json): they come back as NaN.
    values: dict[str, Any] = {
        k: (float("nan") if v is None and k in ("f1", "accuracy", "loss", "majority_f1") else v)
        for k, v in state.items()
    }
    return EvalResult(**values)
