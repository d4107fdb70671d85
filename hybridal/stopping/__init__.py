"""Stopping criteria (docs/stopping.md): pure functions of a run's per-round signals, each giving
the first round at which it would stop the run, or None.

The criteria mirror small-text 1.4.1 (`KappaAverage`, `DeltaFScore`, `ClassificationChange`,
`OverallUncertainty`, `MaxIterations`) and baal 2.1.0 (`LabellingBudget`, `LowAverageUncertainty`,
`EarlyStopping`): same names, parameters and defaults, and the same stop round as the peer's
`stop()` / `should_stop()` called once per round. The signals are computed from a fixed stop set's
predictions (`signals`, `history`) and are small enough for the engine to record every round.
"""

from __future__ import annotations

from .agreement import ClassificationChange, DeltaFScore, KappaAverage
from .base import StoppingCriterion
from .budget import LabellingBudget, MaxIterations
from .history import RoundSignals, StopHistory, history_from_predictions, round_signals
from .metric import EarlyStopping
from .registry import CRITERIA, build_criterion, criterion_names, criterion_parameters
from .signals import (
    changed_count,
    changed_fraction,
    cohen_kappa,
    delta_f_binary,
    mean_entropy,
    mean_normalised_entropy,
    prediction_kappa,
)
from .uncertainty import LowAverageUncertainty, OverallUncertainty

__all__ = [
    "CRITERIA",
    "ClassificationChange",
    "DeltaFScore",
    "EarlyStopping",
    "KappaAverage",
    "LabellingBudget",
    "LowAverageUncertainty",
    "MaxIterations",
    "OverallUncertainty",
    "RoundSignals",
    "StopHistory",
    "StoppingCriterion",
    "build_criterion",
    "changed_count",
    "changed_fraction",
    "cohen_kappa",
    "criterion_names",
    "criterion_parameters",
    "delta_f_binary",
    "history_from_predictions",
    "mean_entropy",
    "mean_normalised_entropy",
    "prediction_kappa",
    "round_signals",
]
