"""The machine-wide cache folder and a cross-process lock, so concurrent trials prepare data once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

CACHE_ENV = "HYBRIDAL_CACHE_DIR"


def cache_root() -> Path:
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "hybridal")
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive advisory lock on `path` (created if needed), held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
