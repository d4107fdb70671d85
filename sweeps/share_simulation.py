"""A shared-prefix sweep played on given trunk series, every run succeeding: the dry run's cost
range (sweeps/share_cost.py's callers) and the tests use it to see which forks and copies a grid gets."""

from __future__ import annotations

from typing import Optional, Sequence

from hybridal.strategies import StopObservation
from sweeps.sharing import TRUNK, SharePlan, needs_prefix


def simulate(
    plan: SharePlan,
    trunk_f1s: dict[str, Sequence[Optional[float]]],
    trunk_degenerate: Optional[dict[str, Sequence[Optional[bool]]]] = None,
    trunk_stops: Optional[dict[str, Sequence[Optional[StopObservation]]]] = None,
) -> SharePlan:
    """Play each trunk's monitor F1 (guard flags, stop-set signals) through the plan as if every run
    succeeded (the dry run's cost range, tests). Trunk-saved prefixes follow `needs_prefix`."""
    for trunk, f1s in trunk_f1s.items():
        members = plan.members_of(trunk)
        flags = list((trunk_degenerate or {}).get(trunk) or [None] * len(f1s))
        stops = list((trunk_stops or {}).get(trunk) or [None] * len(f1s))
        for r, f1 in enumerate(f1s):
            last = r == len(f1s) - 1
            saved = not last and needs_prefix(members, list(f1s[: r + 1]), flags[: r + 1], stops[: r + 1])
            plan.on_trunk_round(trunk, r, f1, prefix_saved=saved, monitor_degenerate=flags[r], stop=stops[r])
        plan.on_done(trunk, True, len(f1s))
    pending = True
    while pending:
        pending = False
        for job in plan.take_ready():
            if job.role != TRUNK:
                plan.on_done(job.name, True)
                pending = True
    return plan
