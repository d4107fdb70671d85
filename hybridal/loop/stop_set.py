"""The stop set (docs/stopping.md): unlabelled pool rows predicted after every round, whose
stability signals (κ with the previous round, changed predictions, mean entropy) the stopping
criteria and the label-free triggers read.

Drawn once, at round 0, from the rows the initial draw left unlabelled, with its own seed purpose
(`seeds.STOP_SET`), and never removed from the pool: the sampler may acquire its rows later, and
every other draw of a run is the one it makes without a stop set. Its pass is its own, not a
reuse of the sampler's scoring pass: that pass scores the previous round's model at the next
round's start, only over candidates the stop set's acquired rows drop out of, and a batch holding
different rows could change the sampler's scores in the last bit (and so the acquisitions).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from hybridal.config import ExperimentConfig
from hybridal.data.splits import indices_fingerprint
from hybridal.errors import ConfigError
from hybridal.loop.pool import LabelPool
from hybridal.loop.run_parts import RunParts
from hybridal.model import training
from hybridal.model.multilabel_metrics import predict_labels
from hybridal.records import RoundRecord
from hybridal.seeds import STOP_SET, round_rng
from hybridal.stopping import RoundSignals, round_signals
from hybridal.stopping.multilabel_signals import multilabel_round_signals
from hybridal.strategies import StopObservation


def stop_set_size(cfg: ExperimentConfig, n_pool: int, n_validation: int) -> int:
    """The stop set's size: `stop_set_size`, or (null) the validation split's size, capped by the
    rows left unlabelled at round 0: the same noise as the set the ΔF1 rule reads, at the cost of
    one more validation-sized pass per round. Raised before any round if the pool cannot hold it."""
    unlabelled = n_pool - cfg.initial_pool_size
    if cfg.stop_set_size is None:
        return max(0, min(n_validation, unlabelled))
    if cfg.stop_set_size > unlabelled:
        raise ConfigError(
            f"stop_set_size={cfg.stop_set_size} is larger than the {unlabelled} pool rows left unlabelled at round 0; "
            f"allowed: 0..{unlabelled} (or null: the validation split's size)."
        )
    return cfg.stop_set_size


# Record field -> the RoundSignals field it carries as it is (both directions: `record_fields`, `signals_of`).
RECORDED_SIGNALS = {
    "stop_kappa": "kappa",
    "stop_changed": "n_changed",
    "stop_delta_f": "delta_f",
    "stop_entropy": "mean_normalised_entropy",
    "stop_entropy_nats": "mean_entropy",
}


@dataclass
class StopMeasurement:
    """One round's pass over the stop set."""

    signals: RoundSignals
    degenerate: bool  # every stop-set row predicted the same class
    flops: int
    seconds: float
    n_rows: int

    @property
    def changed_fraction(self) -> Optional[float]:
        return None if self.signals.n_changed is None else self.signals.n_changed / self.n_rows

    def observation(self) -> StopObservation:
        return StopObservation(self.signals.kappa, self.changed_fraction, self.degenerate)

    def record_fields(self) -> dict[str, Any]:
        """The round record's stop-set fields (hybridal.records.STOP_SET_FIELDS)."""
        carried = {field: getattr(self.signals, name) for field, name in RECORDED_SIGNALS.items()}
        return {
            **carried,
            "stop_changed_fraction": self.changed_fraction,
            "stop_degenerate": self.degenerate,
            "flops_stop_set": self.flops,
        }


class StopSet:
    def __init__(self, rows: np.ndarray, previous: Optional[np.ndarray] = None):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.previous = previous  # the last measured round's predictions

    @classmethod
    def draw(cls, cfg: ExperimentConfig, pool: LabelPool, size: int) -> "StopSet":
        """`size` rows of those unlabelled now (after round 0's draw), seeded by (seed, 0, STOP_SET)."""
        rows = round_rng(cfg.seed, 0, STOP_SET).choice(pool.unlabeled(), size=size, replace=False)
        return cls(np.sort(rows))

    def measure(
        self, cfg: ExperimentConfig, parts: RunParts, n_labeled: int, metric: Optional[float]
    ) -> StopMeasurement:
        """Predict the stop set with the model as trained now; the signals against the previous round's."""
        started = time.perf_counter()
        log_probs, flops = training.predict_log_probs(
            parts.model.model, parts.tokens["pool"], self.rows, cfg.eval_batch_size, parts.batching
        )
        if parts.task is not None:
            predictions = predict_labels(np.exp(log_probs), parts.task.threshold)
            signals = multilabel_round_signals(predictions, self.previous, np.exp(log_probs), n_labeled, metric)
        else:
            predictions = log_probs.argmax(axis=1)
            signals = round_signals(parts.num_labels, predictions, self.previous, np.exp(log_probs), n_labeled, metric)
        self.previous = predictions
        degenerate = bool(np.all(predictions == predictions[0]))  # one class (multi-label: one label set) everywhere
        return StopMeasurement(signals, degenerate, flops, time.perf_counter() - started, len(self.rows))

    def describe(self, n_unlabelled: int) -> dict[str, Any]:
        """summary.json's `stop_set`: its size, of how many unlabelled rows, and a fingerprint of its rows."""
        return {"size": len(self.rows), "of": n_unlabelled, "fingerprint": indices_fingerprint(self.rows)}

    def state_dict(self) -> dict:
        previous = None if self.previous is None else self.previous.tolist()
        return {"rows": self.rows.tolist(), "previous": previous}

    @classmethod
    def from_state(cls, state: Optional[dict]) -> Optional["StopSet"]:
        if not state:
            return None
        previous = state.get("previous")
        return cls(np.asarray(state["rows"]), None if previous is None else np.asarray(previous, dtype=np.int64))


def signals_of(record: RoundRecord, num_classes: int) -> RoundSignals:
    """A recorded round's signals, as the stopping criteria read them (metric: the monitor's F1).

    JSON has no nan, so an undefined binary ΔF (neither round predicted class 1) is written as null;
    on a binary task a round compared with its predecessor (κ recorded) reads it back as nan, the
    value small-text records, so a resumed run or a fork replays exactly what the live run read."""
    carried = {name: getattr(record, field) for field, name in RECORDED_SIGNALS.items()}
    if carried["delta_f"] is None and num_classes == 2 and record.stop_kappa is not None:
        carried["delta_f"] = math.nan
    return RoundSignals(n_labeled=record.n_labeled, metric=record.monitor_f1, **carried)
