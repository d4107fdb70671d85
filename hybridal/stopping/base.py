"""What every stopping criterion is, and the one-sentence checks of its parameters.

A criterion is a frozen dataclass of its parameters with one method, `stop_round(history)`: the
first round at which the peer it mirrors would say stop if asked once per round, in order; None
if it never would. It holds no state between calls, so it is a pure function of the history.
"""

from __future__ import annotations

import math
from typing import ClassVar, Optional

from hybridal.errors import ConfigError

from .history import StopHistory


class StoppingCriterion:
    """Base of the criteria: a registry `name`, the `peer` it mirrors, and whether it is `binary_only`."""

    name: ClassVar[str]
    peer: ClassVar[str]
    binary_only: ClassVar[bool] = False

    def stop_round(self, history: StopHistory) -> Optional[int]:
        raise NotImplementedError

    def check_task(self, num_classes: int) -> None:
        """Refuse a task this criterion is not defined for (before any round is run, if called early)."""
        if self.binary_only and num_classes != 2:
            raise ConfigError(
                f"{self.name} is defined for binary tasks only (num_classes={num_classes}); for multi-class tasks "
                "use kappa_average, classification_change or overall_uncertainty, which support them."
            )


def check_int(owner: str, field: str, value: object, minimum: int) -> None:
    """`value` must be an integer (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{owner}.{field}={value!r} is invalid; allowed: an integer >= {minimum}.")


def check_number(
    owner: str, field: str, value: object, low: float, high: float, low_open: bool = False, high_open: bool = False
) -> None:
    """`value` must be a real number in the interval from `low` to `high` (open ends as flagged)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{owner}.{field}={value!r} is invalid; allowed: a number in {interval}.")
