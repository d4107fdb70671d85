"""What the pre-launch estimate knows of `halt_on` (docs/stopping.md, "In a run"): the earliest round
after which the run may end, and whether it surely ends there.

A criterion on the labels bought (max_iterations, labelling_budget) reads nothing the run measures,
so its halt round follows from the schedule alone: the estimate costs exactly that many rounds. A
criterion on the stop set or a metric may end the run no earlier than on the steadiest history
possible (κ 1, nothing changed, no uncertainty, a constant metric); it may also never end it, so
the estimate's upper bound runs to the budget.
"""

from __future__ import annotations

from typing import Optional

from hybridal.config import ExperimentConfig
from hybridal.loop.schedule import RoundStep
from hybridal.stopping import RoundSignals
from hybridal.stopping.configured import ConfiguredCriterion, history_of, parse_stopping


def halt_criterion(cfg: ExperimentConfig) -> Optional[ConfiguredCriterion]:
    """`halt_on`'s criterion, or None."""
    if cfg.halt_on is None:
        return None
    configured = parse_stopping(cfg.stopping, cfg.halt_on, stop_set=cfg.stop_set_size != 0)
    return next(c for c in configured if c.label == cfg.halt_on)


def earliest_halt(halt: Optional[ConfiguredCriterion], plan: list[RoundStep]) -> tuple[Optional[int], bool]:
    """(the earliest round after which `halt` (halt_on's criterion) may end a run of this plan, whether
    it surely does); (None, False) without one or when it cannot stop within the plan."""
    if halt is None:
        return None, False
    bought, steadiest = 0, []
    for step in plan:
        bought += step.n_new
        first = step.round == 0
        steadiest.append(
            RoundSignals(
                n_labeled=bought,
                kappa=None if first else 1.0,
                n_changed=None if first else 0,
                delta_f=None if first else 0.0,
                mean_normalised_entropy=0.0,
                mean_entropy=0.0,
                metric=0.5,
            )
        )
    # Two classes: the steadiest history satisfies every criterion, binary-only ones included.
    stop = halt.criterion.stop_round(history_of(steadiest, 2, 1))
    if stop is None or stop >= len(plan) - 1:
        return None, False
    return stop, halt.reads == "budget"
