"""A study's pre-registered comparisons, read from its ``protocol.json`` (docs/results/study2/).

The notes of a study say in prose which comparison is primary, at which margin, and which questions
the findings answer; this file says the same for the analysis, so the report computes exactly those
comparisons and no others. Arms are named as in the grid file's ``arms:`` (a named arm's trial is
``<dataset>-arm-<arm>-s<seed>``, sweeps/trial_names.py). Keys:

- ``reference``: the arm every other is compared with (e.g. ``retrain``);
- ``margin_points``: the non-inferiority margin in F1 points (also the report's tolerance);
- ``targets``: fractions of the reference's final test F1 to reach (e.g. ``[0.95, 0.98]``);
- ``primary``: dataset -> the arm whose non-inferiority to the reference is the primary comparison;
- ``label_free_switch``: dataset -> the label-free HybridAL arm; ``validation_switch``: the
  validation-monitor HybridAL arm it is compared with;
- ``cheap_strategy`` and ``shrink_perturb``: the two arms compared at equal cost;
- ``exploratory``: datasets with no primary comparison (said so in the tables).

Any other key is refused, so a typo never silently drops a comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.reading.problems import AnalysisError

PROTOCOL_FILE = "protocol.json"
_KEYS = (
    "about",
    "reference",
    "margin_points",
    "targets",
    "primary",
    "label_free_switch",
    "validation_switch",
    "cheap_strategy",
    "shrink_perturb",
    "exploratory",
)


@dataclass(frozen=True)
class Protocol:
    """The comparisons a study fixed before its reported seeds ran."""

    reference: str
    margin_points: float
    targets: tuple[float, ...] = (0.95, 0.98)
    primary: dict[str, str] = field(default_factory=dict)  # dataset -> arm
    label_free_switch: dict[str, str] = field(default_factory=dict)  # dataset -> arm
    validation_switch: str = ""
    cheap_strategy: str = ""
    shrink_perturb: str = ""
    exploratory: tuple[str, ...] = ()


def _bad(path: str, key: str, value: Any, allowed: str) -> AnalysisError:
    return AnalysisError(f"{path}: {key} is {value!r}; allowed: {allowed}.")


def _name(path: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(path, key, value, "an arm name (text)")
    return value


def _per_dataset(path: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _bad(path, key, value, "an object of dataset -> arm name")
    return {str(ds): _name(path, f"{key}.{ds}", arm) for ds, arm in value.items()}


def parse_protocol(raw: Any, path: str) -> Protocol:
    """A Protocol from parsed JSON; one-sentence AnalysisError naming the key for anything else."""
    if not isinstance(raw, dict):
        raise _bad(path, "the file", type(raw).__name__, "a JSON object")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise _bad(path, "key", unknown[0], ", ".join(_KEYS))
    for key in ("reference", "margin_points"):
        if key not in raw:
            raise AnalysisError(f"{path}: {key} is missing; it is required.")
    margin = raw["margin_points"]
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin < 100:
        raise _bad(path, "margin_points", margin, "a number of F1 points above 0 and below 100")
    targets = raw.get("targets", [0.95, 0.98])
    if (
        not isinstance(targets, list)
        or not targets
        or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t <= 1 for t in targets)
    ):
        raise _bad(path, "targets", targets, "a non-empty list of fractions in (0, 1]")
    exploratory = raw.get("exploratory", [])
    if not isinstance(exploratory, list) or not all(isinstance(d, str) for d in exploratory):
        raise _bad(path, "exploratory", exploratory, "a list of dataset names")
    optional = {
        k: _name(path, k, raw[k]) for k in ("validation_switch", "cheap_strategy", "shrink_perturb") if k in raw
    }
    return Protocol(
        reference=_name(path, "reference", raw["reference"]),
        margin_points=float(margin),
        targets=tuple(float(t) for t in targets),
        primary=_per_dataset(path, "primary", raw.get("primary", {})),
        label_free_switch=_per_dataset(path, "label_free_switch", raw.get("label_free_switch", {})),
        exploratory=tuple(exploratory),
        **optional,
    )


def read_protocol(path: str) -> Protocol:
    """The protocol in `path` (a JSON file); AnalysisError where it is unreadable or malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AnalysisError(
            f"protocol file {path!r} cannot be read ({exc.strerror or exc}); allowed: a JSON file."
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnalysisError(
            f"{path}: not valid JSON at line {exc.lineno} ({exc.msg}); allowed: a JSON object."
        ) from None
    return parse_protocol(raw, path)
