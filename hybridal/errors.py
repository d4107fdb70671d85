"""Errors the user can act on: one sentence naming the field, the bad value and what is allowed."""

from __future__ import annotations

import difflib
from typing import Iterable


class ConfigError(ValueError):
    """A configuration value is invalid (raised before any expensive work)."""


class DataError(ValueError):
    """A dataset file, column or value is invalid."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' when a close choice exists, else ''."""
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def choice_error(field: str, value: object, choices: Iterable[str], cls: type = ConfigError) -> Exception:
    choices = sorted(set(choices))
    return cls(f"{field}={value!r} is not known{did_you_mean(str(value), choices)}; allowed: {', '.join(choices)}.")
