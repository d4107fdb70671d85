"""Shared-prefix planning (docs/design.md §11): which runs a grid needs, and when each can start.

Trials whose configs differ only in the strategy and its post-switch knobs form a *group*
(`hybridal.loop.prefix_forks.group_key`). Each group runs one *trunk*: a retrain run (the grid's
`retrain` configuration when it has one, else a hidden run). Every other configuration of the
group is then one of:

- a **fork**: it switches at round s < the run's length, so it continues the trunk's state
  after round s-1 (a checkpoint the trunk writes for it) and trains rounds s, s+1, ... itself;
  configurations with the same (s, mode, knobs) share one fork, run by the first of them;
- a **copy**: its rounds are exactly another run's (the trunk's, if it never switches; its
  fork's, if another configuration runs that fork), so it trains nothing and adopts them.

`SharePlan` is the bookkeeping: it learns what the trunk's rounds tell the switch rules, decides each
configuration's role as soon as its rule fixes it, and says which jobs may start now (plain Python).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Sequence

from hybridal.config import ExperimentConfig
from hybridal.loop.prefix_forks import group_key, switch_round_within
from hybridal.strategies import DeltaF1Strategy, StopObservation, strategy_for

STANDALONE, TRUNK, FORK, COPY, BLOCKED = "standalone", "trunk", "fork", "copy", "blocked"


@dataclass
class Job:
    """One Ray trial of a sweep: a configuration of the grid, or a hidden trunk."""

    name: str
    config: ExperimentConfig
    role: Optional[str] = None  # None until the trunk's F1 series decides it
    reported: bool = True  # False: a hidden trunk, which is no configuration of the grid
    trunk: Optional[str] = None  # the trunk of its group
    fork_round: Optional[int] = None  # fork: the first round it trains itself (it continues the trunk after s-1)
    source: Optional[str] = None  # copy: the run whose rounds it adopts
    state: str = "waiting"  # waiting | ready | started | done | failed | blocked
    failure: Optional[str] = None  # failed: "input" (its own result; rerun as a new trial) or "crash" (Tune's error)
    blocked_by: Optional[str] = None  # blocked: the failed run whose rounds it needs (it never started)

    def to_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "config"}


@dataclass
class Group:
    trunk: str
    members: list[str]  # the group's other jobs
    monitor_f1s: list = field(default_factory=list)  # the trunk's, round by round
    monitor_degenerate: list = field(default_factory=list)  # the trunk's guard flags, round by round
    stops: list = field(default_factory=list)  # the trunk's stop-set signals (StopObservation), round by round
    prefixes: set = field(default_factory=set)  # rounds r after which the trunk saved its state
    trunk_rounds: Optional[int] = None  # set when the trunk has finished
    forks: dict = field(default_factory=dict)  # fork key -> the job that runs it


def _after_mode(cfg: ExperimentConfig) -> str:
    strategy = strategy_for(cfg)
    return strategy.after if isinstance(strategy, DeltaF1Strategy) else strategy.steady_mode


def fork_key(cfg: ExperimentConfig, switch_round: int) -> tuple:
    """Configurations that train identically from their switch on: the same round, the same
    cheaper mode and the same knobs that mode reads."""
    mode = _after_mode(cfg)
    knobs = {
        "finetune": (cfg.steady_finetune_epochs, cfg.keep_optimizer),
        "new_only": (cfg.replay,),
        "shrink_perturb": (cfg.steady_finetune_epochs, cfg.shrink, cfg.perturb),
    }[mode]
    return (switch_round, mode, *knobs)


def trunk_config(members: Sequence[Job]) -> tuple[ExperimentConfig, Optional[Job]]:
    """The group's trunk config and, when a configuration of the grid is that run, its job.

    The trunk keeps its optimizer when a finetune fork with keep_optimizer will continue it (a
    retrain round ignores the kept optimizer, so the trunk's rounds are unchanged)."""
    keeps = any(
        m.config.keep_optimizer and _after_mode(m.config) == "finetune"
        for m in members
        if m.config.strategy_class not in ("retrain", "RetrainStrategy", "RetrainingStrategy")
    )
    for job in members:
        if _after_mode(job.config) == "retrain" and (job.config.keep_optimizer or not keeps):
            return job.config, job
    base = members[0].config
    return base.replace(strategy_class="retrain", strategy_kwargs={}, keep_optimizer=keeps), None


def planned_group_key(cfg: ExperimentConfig) -> str:
    """`group_key` with `precision: auto` resolved on the machine that plans: configurations that
    would train in different precisions never share a trunk. A fork checks it again where it runs
    (`ActiveLearning.continue_from_prefix`), since a worker may resolve `auto` otherwise."""
    from hybridal.errors import ConfigError
    from hybridal.model.hardware import resolve_device, resolve_precision

    values = cfg.to_dict()
    if values.get("precision") == "auto":
        try:
            values["precision"] = resolve_precision("auto", resolve_device(cfg.device))
        except (ConfigError, RuntimeError, AssertionError):  # e.g. a CUDA device on a planner without one
            pass
    return group_key(values)


def needs_prefix(
    member_configs: Sequence[ExperimentConfig],
    monitor_f1s: Sequence[Optional[float]],
    degenerate: Optional[Sequence[Optional[bool]]] = None,
    stops: Optional[Sequence[Optional[StopObservation]]] = None,
) -> bool:
    """Whether the trunk, having trained rounds 0..len(monitor_f1s)-1 (and not its last), must save its
    state: a configuration of its group switches next round (the guard reads `degenerate`, a label-free
    trigger `stops`)."""
    nxt = len(monitor_f1s)
    return any(switch_round_within(strategy_for(c), monitor_f1s, degenerate, stops) == nxt for c in member_configs)


class SharePlan:
    """The jobs of a sweep and their readiness. `share=False` runs every configuration standalone."""

    def __init__(self, trials: Sequence, share: bool = True):
        self.jobs: dict[str, Job] = {}
        self.groups: dict[str, Group] = {}
        by_key: dict[str, list[Job]] = {}
        for t in trials:
            job = Job(t.name, t.config)
            self.jobs[job.name] = job
            by_key.setdefault(planned_group_key(t.config) if share else job.name, []).append(job)
        for members in by_key.values():
            if len(members) == 1:
                members[0].role, members[0].state = STANDALONE, "ready"
                continue
            config, trunk = trunk_config(members)
            if trunk is None:
                name = f"trunk-{members[0].name}"
                trunk = Job(name, config.replace(experiment_name=name), reported=False)
                self.jobs[name] = trunk
            trunk.role, trunk.state = TRUNK, "ready"
            others = [m.name for m in members if m is not trunk]
            self.groups[trunk.name] = Group(trunk.name, others)
            for name in others:
                self.jobs[name].trunk = trunk.name

    # ---- what may start --------------------------------------------------------------------
    def take_ready(self) -> list[Job]:
        """Jobs that may start now (each returned once)."""
        ready = [j for j in self.jobs.values() if j.state == "ready"]
        for job in ready:
            job.state = "started"
        return ready

    @property
    def finished(self) -> bool:
        """Every job started or ended: none waits on a run that may still succeed in this sweep."""
        return all(j.state in ("started", "done", "failed", "blocked") for j in self.jobs.values())

    def blocked(self) -> dict[str, str]:
        """Configuration -> the failed run that blocks it (the closing table names it)."""
        return {n: j.blocked_by for n, j in self.jobs.items() if j.state == "blocked" and j.reported}

    def members_of(self, trunk: str) -> list[ExperimentConfig]:
        return [self.jobs[m].config for m in self.groups[trunk].members]

    # ---- what the runs tell us -------------------------------------------------------------
    def on_trunk_round(
        self,
        trunk: str,
        round_idx: int,
        monitor_f1: Optional[float],
        prefix_saved: bool,
        monitor_degenerate: Optional[bool] = None,
        stop: Optional[StopObservation] = None,
    ) -> None:
        group = self.groups[trunk]
        del group.monitor_f1s[round_idx:]  # a resumed trunk reports its rounds again
        del group.monitor_degenerate[round_idx:]
        del group.stops[round_idx:]
        group.monitor_f1s.append(monitor_f1)
        group.monitor_degenerate.append(monitor_degenerate)
        group.stops.append(stop)
        if prefix_saved:
            group.prefixes.add(round_idx)
        self._assign(group)

    def on_done(self, name: str, ok: bool, rounds: Optional[int] = None, failure: str = "crash") -> None:
        job = self.jobs[name]
        job.state, job.failure = ("done", None) if ok else ("failed", failure)
        if job.role == TRUNK:
            group = self.groups[name]
            if ok:
                group.trunk_rounds = rounds if rounds is not None else len(group.monitor_f1s)
                self._assign(group)
            else:
                self._block([m for m in group.members if self.jobs[m].state == "waiting"], name)
        dependants = [
            j.name for j in self.jobs.values() if j.role == COPY and j.source == name and j.state == "waiting"
        ]
        if ok:
            for d in dependants:
                self.jobs[d].state = "ready"
        else:
            self._block(dependants, name)

    def _assign(self, group: Group) -> None:
        for name in group.members:
            job = self.jobs[name]
            if job.role is not None or job.state == "blocked":
                continue
            s = switch_round_within(strategy_for(job.config), group.monitor_f1s, group.monitor_degenerate, group.stops)
            if s is not None and s - 1 in group.prefixes:
                key = fork_key(job.config, s)
                runner = group.forks.setdefault(key, name)
                if runner == name:
                    job.role, job.fork_round, job.state = FORK, s, "ready"
                else:
                    job.role, job.source = COPY, runner
                    job.state = "ready" if self.jobs[runner].state == "done" else "waiting"
            elif group.trunk_rounds is not None:  # the trunk ended before this config switched
                job.role, job.source, job.state = COPY, group.trunk, "ready"

    def _block(self, names: list[str], cause: str) -> None:
        """Jobs that need a failed run's rounds: they keep their role and wait for `retry`."""
        for name in names:
            job = self.jobs[name]
            job.state, job.blocked_by = "blocked", cause

    def retry(self, name: str, by_tune: bool) -> None:
        """--resume runs a job again (docs/design.md §12): Tune retries an errored or unfinished
        trial itself (`by_tune`: it is started); a run that ended on its input, or was suggested but
        never registered, is suggested anew (ready). What it blocked waits for it again."""
        job = self.jobs[name]
        job.state, job.failure = ("started" if by_tune else "ready"), None
        for other in self.jobs.values():
            if other.state == "blocked" and other.blocked_by == name:
                other.state, other.blocked_by = "waiting", None
        if name in self.groups:
            self._assign(self.groups[name])

    # ---- resume ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "jobs": {n: j.to_json() for n, j in self.jobs.items()},
            "groups": {
                n: {
                    "monitor_f1s": g.monitor_f1s,
                    "monitor_degenerate": g.monitor_degenerate,
                    "stops": [dataclasses.asdict(x) if x else None for x in g.stops],
                    "prefixes": sorted(g.prefixes),
                    "trunk_rounds": g.trunk_rounds,
                    "forks": [[list(k), v] for k, v in g.forks.items()],
                }
                for n, g in self.groups.items()
            },
        }

    def load_state_dict(self, state: dict) -> None:
        for name, values in state["jobs"].items():
            job = self.jobs[name]
            for key, value in values.items():
                setattr(job, key, value)
            if job.role == BLOCKED:  # saved before blocked jobs kept their role: decided again from the trunk
                job.role, job.state, job.blocked_by, job.source = None, "blocked", job.source, None
        for name, values in state["groups"].items():
            group = self.groups[name]
            group.monitor_f1s, group.prefixes = list(values["monitor_f1s"]), set(values["prefixes"])
            group.monitor_degenerate = list(values.get("monitor_degenerate") or [None] * len(group.monitor_f1s))
            stops = values.get("stops") or [None] * len(group.monitor_f1s)  # saved before stop sets: none
            group.stops = [StopObservation(**x) if x else None for x in stops]
            group.trunk_rounds = values["trunk_rounds"]
            group.forks = {tuple(k): v for k, v in values["forks"]}
