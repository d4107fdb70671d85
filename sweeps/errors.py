"""Bad input for a sweep: one sentence on stderr, exit status 2, no traceback."""

from __future__ import annotations


class SweepError(Exception):
    """A sweep-level input error (flags, storage, cluster); the engine's own are ConfigError/DataError."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (library errors can span many)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
