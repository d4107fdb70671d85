"""The config's `stopping:` list and `halt_on:` (docs/stopping.md, "In a run"): which criteria a run
records a stop round for, under which labels, and which one, if any, ends the run.

An entry is a criterion's name (`kappa_average`) or a mapping with `name:`, its parameters and an
optional `label:` (default: the name), so one list can hold a criterion twice with different
thresholds. `stopping: null` means the default set: the criteria that need no parameter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from hybridal.errors import ConfigError

from .base import StoppingCriterion
from .history import RoundSignals, StopHistory
from .registry import CRITERIA, build_criterion

# What each criterion reads: the stop set's signals (no labels), a labelled metric (the monitor's
# macro-F1: the validation split's labels unless monitor: acquired), or only the labels bought.
READS = {
    "kappa_average": "stop_set",
    "delta_f_score": "stop_set",
    "classification_change": "stop_set",
    "overall_uncertainty": "stop_set",
    "low_average_uncertainty": "stop_set",
    "early_stopping": "labels",
    "max_iterations": "budget",
    "labelling_budget": "budget",
}
# `stopping: null`: every criterion without a required parameter (delta_f_score on binary tasks only).
DEFAULT_CRITERIA = ("kappa_average", "classification_change", "overall_uncertainty", "early_stopping")


@dataclass(frozen=True)
class ConfiguredCriterion:
    label: str
    criterion: StoppingCriterion

    @property
    def reads(self) -> str:
        return READS[self.criterion.name]

    def describe(self, stop_round: Optional[int]) -> dict[str, Any]:
        """The summary's entry: which criterion, its parameters, what it reads and its stop round."""
        params = dataclasses.asdict(self.criterion)  # type: ignore[call-overload]
        return {"criterion": self.criterion.name, "params": params, "reads": self.reads, "stop_round": stop_round}


def parse_stopping(
    entries: Any, halt_on: Any, num_classes: Optional[int] = None, stop_set: bool = True, multi_label: bool = False
) -> list[ConfiguredCriterion]:
    """The configured criteria, checked in one sentence each. `num_classes` (when known) drops
    delta_f_score from the default set of a multi-class task and refuses it where it was asked for;
    unknown (a config checked before its data loads), the default set keeps it, so `halt_on:
    delta_f_score` passes until the run knows its classes. Without a stop set (`stop_set_size: 0`)
    the default set keeps the criteria that read none. A multi-label task has no binary ΔF (its
    signals are per label: docs/multilabel.md), so delta_f_score is neither a default nor allowed."""
    if entries is None:
        binary = num_classes in (2, None) and not multi_label
        names = DEFAULT_CRITERIA + (("delta_f_score",) if binary else ())
        names = tuple(n for n in names if stop_set or READS[n] != "stop_set")
        configured = [ConfiguredCriterion(name, build_criterion(name)) for name in names]
    elif isinstance(entries, list):
        configured = [_entry(i, entry) for i, entry in enumerate(entries)]
    else:
        raise ConfigError(
            f"stopping={entries!r} is invalid; allowed: null (the default criteria) or a list of criterion names "
            "or mappings with name: (e.g. [kappa_average, {name: classification_change, threshold: 0.01}])."
        )
    labels = [c.label for c in configured]
    for label in labels:
        if labels.count(label) > 1:
            raise ConfigError(f"stopping lists the label {label!r} twice; give each entry its own label:.")
    for c in configured:
        if multi_label and c.criterion.binary_only:
            raise ConfigError(
                f"stopping entry {c.label!r} is defined for single-label binary tasks only; a multi-label run allows: "
                f"{', '.join(n for n in READS if n != 'delta_f_score')}."
            )
        if num_classes is not None:
            c.criterion.check_task(num_classes)
        if not stop_set and c.reads == "stop_set":
            raise ConfigError(
                f"stopping entry {c.label!r} reads the stop set, but stop_set_size is 0; allowed: a stop_set_size "
                "of at least 1 (or null: the validation split's size), or criteria that read no stop set."
            )
    if halt_on is not None and halt_on not in labels:
        raise ConfigError(
            f"halt_on={halt_on!r} names no entry of stopping; allowed: null or one of {', '.join(labels) or '(none)'}."
        )
    return configured


def _entry(i: int, entry: Any) -> ConfiguredCriterion:
    if isinstance(entry, str):
        return ConfiguredCriterion(entry, build_criterion(entry))
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ConfigError(
            f"stopping[{i}]={entry!r} is invalid; allowed: a criterion name or a mapping with name: and its "
            f"parameters ({', '.join(sorted(CRITERIA))})."
        )
    params = {k: v for k, v in entry.items() if k not in ("name", "label")}
    for key in params:
        if not isinstance(key, str):
            raise ConfigError(
                f"stopping[{i}] has the parameter {key!r}, which is not a name; allowed: the parameters of "
                f"{entry['name']} as names (e.g. {{name: kappa_average, kappa: 0.9}})."
            )
    label = entry.get("label", entry["name"])
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f"stopping[{i}].label={label!r} is invalid; allowed: a non-empty string.")
    return ConfiguredCriterion(label, build_criterion(entry["name"], **params))


def stop_rounds(configured: list[ConfiguredCriterion], history: StopHistory) -> dict[str, Optional[int]]:
    """Each criterion's stop round over `history` (label → round or None)."""
    return {c.label: c.criterion.stop_round(history) for c in configured}


def history_of(rounds: list[RoundSignals], num_classes: int, stop_set_size: int) -> StopHistory:
    """A run's signal history; a run without a stop set (size 0) is a history of one notional row,
    which only the criteria that read no stop-set signal can be asked about."""
    return StopHistory(num_classes, max(1, stop_set_size), tuple(rounds))
