"""What a shared-prefix sweep trains, against what its configurations would cost run alone.

Every configuration's *attributed* cost is its standalone cost (the FLOPs its own records
add up to); the sweep *spends* each trunk's rounds once and each fork's rounds from its
switch round on. Before launch the switch rounds are unknown, so the dry run bounds them by
two scenarios; after a real or simulated trunk they come from the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Optional

from hybridal.config import ExperimentConfig
from hybridal.cost.estimate import earliest_rule_switch
from hybridal.cost.inputs import SliceInputs
from hybridal.cost.plan_flops import round_train_flops
from hybridal.loop.schedule import round_plan
from hybridal.strategies import DeltaF1Strategy, strategy_for
from sweeps.sharing import COPY, FORK, STANDALONE, TRUNK, SharePlan, fork_key

RoundFlops = Callable[[ExperimentConfig, Optional[int]], list]


@dataclass
class ShareCost:
    naive: float  # training FLOPs of every configuration run alone (the sum of attributed costs)
    spent: float  # training FLOPs the shared sweep computes
    trunks: int
    forks: int

    @property
    def ratio(self) -> float:
        return self.spent / self.naive if self.naive else float("nan")


def cost_of(plan: SharePlan, switch: dict[str, Optional[int]], round_flops: RoundFlops) -> ShareCost:
    """Naive and spent training FLOPs if each configuration switches at `switch[name]`
    (None: never; baselines switch at 1 whatever is given)."""
    naive = spent = 0.0
    forks: set = set()
    for job in plan.jobs.values():
        if job.role == STANDALONE:
            cost = sum(round_flops(job.config, switch.get(job.name)))
            naive, spent = naive + cost, spent + cost
    for trunk_name, group in plan.groups.items():
        trunk = plan.jobs[trunk_name]
        trunk_cost = sum(round_flops(trunk.config, None))
        spent += trunk_cost
        naive += trunk_cost if trunk.reported else 0.0
        for name in group.members:
            job = plan.jobs[name]
            s = _switch_of(job.config, switch.get(name))
            per_round = round_flops(job.config, s)
            naive += sum(per_round)
            if s is not None and s < len(per_round):
                key = (trunk_name, fork_key(job.config, s))
                if key not in forks:
                    forks.add(key)
                    spent += sum(per_round[s:])
    return ShareCost(naive, spent, len(plan.groups), len(forks))


def _switch_of(cfg: ExperimentConfig, s: Optional[int]) -> Optional[int]:
    strategy = strategy_for(cfg)
    if isinstance(strategy, DeltaF1Strategy):
        return s
    return None if strategy.steady_mode == "retrain" else 1


def switches_in_plan(plan: SharePlan) -> dict[str, Optional[int]]:
    """Each configuration's switch round in a plan whose roles are all decided (e.g. simulated)."""
    out = {}
    for job in plan.jobs.values():
        if job.role == FORK:
            out[job.name] = job.fork_round
        elif job.role == COPY:
            source = plan.jobs[job.source]
            out[job.name] = source.fork_round if source.role == FORK else None
    return out


def scenario_switches(
    plan: SharePlan, rounds: Callable[[ExperimentConfig], int], distinct: bool
) -> dict[str, Optional[int]]:
    """Switch rounds bounding the dry run's range. `distinct=False`: every HybridAL config of a
    group switches at one round (the first all of them can reach); True: each at its own round,
    as early as its k allows (rounds taken by a config of the same fork kind are skipped)."""
    out: dict[str, Optional[int]] = {}
    for group in plan.groups.values():
        hybrids = [
            plan.jobs[n] for n in group.members if plan.jobs[n].config.strategy_class in ("deltaf1", "DeltaF1Strategy")
        ]
        if not hybrids:
            continue
        total = rounds(hybrids[0].config)
        earliest = {j.name: earliest_rule_switch(strategy_for(j.config), j.config.monitor) for j in hybrids}
        if not distinct:
            s = max(earliest.values())
            out.update({j.name: (s if s < total else None) for j in hybrids})
            continue
        taken: dict[tuple, set] = {}
        for job in sorted(hybrids, key=lambda j: earliest[j.name]):
            kind = fork_key(job.config, 0)[1:]
            used = taken.setdefault(kind, set())
            free = [r for r in range(earliest[job.name], total) if r not in used]
            out[job.name] = free[0] if free else (max(used) if used else None)
            if free:
                used.add(free[0])
    return out


def estimated_round_flops(device_type: str = "cpu") -> tuple[RoundFlops, Callable[[ExperimentConfig], int]]:
    """Per-round training FLOPs from the pre-launch estimate (hybridal.cost.estimate), memoised, and the
    number of rounds a config plans."""
    lengths_of = SliceInputs()
    memo: dict = {}

    def round_flops(cfg: ExperimentConfig, s: Optional[int]) -> list:
        key = (json.dumps({**cfg.to_dict(), "experiment_name": None}, sort_keys=True, default=str), s)
        if key not in memo:
            lengths, model = lengths_of(cfg)
            plan = round_plan(cfg, len(lengths.pool), len(lengths.test), s)
            memo[key] = round_train_flops(cfg, lengths, plan, model, cfg.max_length if cfg.fixed_padding else None)
        return memo[key]

    def rounds(cfg: ExperimentConfig) -> int:
        lengths, _ = lengths_of(cfg)
        return len(round_plan(cfg, len(lengths.pool), len(lengths.test)))

    return round_flops, rounds


def describe_sharing(plan: SharePlan, round_flops: RoundFlops, rounds: Callable[[ExperimentConfig], int]) -> str:
    """Dry-run lines: naive and shared training FLOPs over the two switch scenarios."""
    from hybridal.cost.estimate import gpu_hours

    together = cost_of(plan, scenario_switches(plan, rounds, distinct=False), round_flops)
    apart = cost_of(plan, scenario_switches(plan, rounds, distinct=True), round_flops)
    hidden = sum(1 for j in plan.jobs.values() if j.role == TRUNK and not j.reported)
    lo, hi = sorted((together, apart), key=lambda c: c.spent)
    return "\n".join(
        [
            f"shared prefixes: {len(plan.groups)} trunks ({hidden} hidden), forks as the trunks reveal switch rounds "
            f"(--no-share runs every configuration alone)",
            f"training FLOPs, every configuration alone: {min(together.naive, apart.naive):.3e} – "
            f"{max(together.naive, apart.naive):.3e}",
            f"training FLOPs, shared: {lo.spent:.3e} ({lo.forks} forks; HybridAL configs of a group switching "
            "together) – "
            f"{hi.spent:.3e} ({hi.forks} forks; each at its own round) = {lo.ratio:.0%} – {hi.ratio:.0%} of alone",
            f"training GPU time on A10G at 30%: alone {gpu_hours(max(together.naive, apart.naive)):.3g} GPU-hours, "
            f"shared {gpu_hours(lo.spent):.3g} – {gpu_hours(hi.spent):.3g}",
        ]
    )
