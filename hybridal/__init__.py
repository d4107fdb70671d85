"""hybridal: pool-based active learning for text classification with measured training strategies.

The engine (torch, transformers) is imported on first use, so light modules such as
`hybridal.records` load in milliseconds (analysis on a laptop needs no torch).
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_EXPORTS = {
    "ActiveLearning": "loop.active_learning",
    "trial_columns": "loop.trial_columns",
    "ExperimentConfig": "config",
    "ConfigError": "errors",
    "DataError": "errors",
    "RoundRecord": "records",
    "RECORD_FIELDS": "records",
    # Moved into sub-packages in 0.2.0 (CHANGELOG.md); re-exported here, where user code can reach them.
    "round_plan": "loop.schedule",
    "copy_run": "loop.prefix_forks",
    "estimate_run": "cost.estimate",
    "estimate_grid": "cost.estimate",
    "strategy_for": "strategies",
    "build_strategy": "strategies",
    "build_sampler": "samplers",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'hybridal' has no attribute {name!r}")
