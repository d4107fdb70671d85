"""Fixtures the unit tests share."""

from __future__ import annotations

import pytest

from tests.support.flop_counting import tiny_configs, tiny_model


@pytest.fixture(scope="module")
def tiny_models():
    """One random-init tiny model per architecture the FLOPs model supports (eager attention)."""
    return {name: tiny_model(cfg) for name, cfg in tiny_configs().items()}
