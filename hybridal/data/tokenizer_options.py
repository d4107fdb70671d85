"""The config's `tokenizer_kwargs`, checked before any tokenizer loads (docs/configuration.md)."""

from __future__ import annotations

from typing import Any

from hybridal.errors import ConfigError, choice_error

PADDINGS = ("longest", "max_length")
# tokenizer_kwargs the engine understands; the rest of the prototype's keys are accepted and ignored.
TOKENIZER_KEYS = ("max_length", "padding", "truncation", "add_special_tokens", "return_tensors")


def check_tokenizer_kwargs(tk: Any) -> None:
    """One-sentence error for the first unsupported key or value of `tokenizer_kwargs`."""
    if not isinstance(tk, dict):
        raise ConfigError(f"tokenizer_kwargs={tk!r} is invalid; allowed: a mapping with max_length and padding.")
    for key in tk:
        if key not in TOKENIZER_KEYS:
            raise choice_error("tokenizer_kwargs key", key, TOKENIZER_KEYS)
    length = tk.get("max_length", 128)
    if isinstance(length, bool) or not isinstance(length, int) or length < 8:
        raise ConfigError(f"tokenizer_kwargs.max_length={length!r} is invalid; allowed: an integer >= 8.")
    if tk.get("padding", "longest") not in PADDINGS and tk.get("padding") not in (True,):
        raise choice_error("tokenizer_kwargs.padding", tk.get("padding"), PADDINGS)
    if tk.get("truncation", True) is False:
        raise ConfigError(
            "tokenizer_kwargs.truncation=False is not supported; allowed: true (texts are cut at max_length)."
        )
