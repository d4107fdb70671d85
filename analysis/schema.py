"""The round-record schema, from ``hybridal.records`` (a light module: it imports no torch)."""
from __future__ import annotations

from hybridal.records import RECORD_FIELDS

__all__ = ["RECORD_FIELDS"]
