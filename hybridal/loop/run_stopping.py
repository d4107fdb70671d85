"""A run's stopping side (docs/stopping.md, "In a run"): its stop set, the criteria whose stop
rounds it records, and `halt_on`, the one whose stop ends it.

The criteria are asked after every round over the history of recorded signals (`signals_of`), so
summary.json's stop rounds are those a replay of rounds.jsonl gives, and a resumed run or a
shared-prefix fork (whose records are its trunk's) answers exactly as a standalone run.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from hybridal.config import ExperimentConfig
from hybridal.errors import ConfigError
from hybridal.loop.pool import LabelPool
from hybridal.loop.run_parts import RunParts
from hybridal.loop.schedule import RoundStep
from hybridal.loop.stop_set import StopMeasurement, StopSet, signals_of, stop_set_size
from hybridal.records import RoundRecord
from hybridal.stopping import RoundSignals
from hybridal.stopping.configured import history_of, parse_stopping, stop_rounds
from hybridal.strategies import TrainingStrategy


class RunStopping:
    def __init__(self, cfg: ExperimentConfig, parts: RunParts, strategy: TrainingStrategy):
        splits = parts.splits
        self.num_classes = parts.num_labels
        self.size = stop_set_size(cfg, len(splits.pool), len(splits.validation))
        self.n_unlabelled = len(splits.pool) - cfg.initial_pool_size
        if self.size == 0 and cfg.stop_set_size is None and strategy.reads_stop_set:
            raise ConfigError(
                "strategy_kwargs.trigger reads the stop set, but stop_set_size: null resolved to 0 (no pool row is "
                "left unlabelled at round 0); allowed: a pool larger than initial_pool_size, or trigger: monitor_f1."
            )
        self.criteria = parse_stopping(
            cfg.stopping, cfg.halt_on, parts.num_labels, stop_set=self.size > 0, multi_label=parts.multi_label
        )
        self.halt = next((c for c in self.criteria if c.label == cfg.halt_on), None)
        self.stop_set: Optional[StopSet] = None
        self.halted_round: Optional[int] = None  # the round after which halt_on's criterion ended the run
        # A run resumed from a checkpoint written before stop sets existed: its earlier rounds have no
        # signals, so the criteria reading them are reported as not measured instead of replayed.
        self.unmeasured = False

    @property
    def halt_reads(self) -> Optional[str]:
        """What `halt_on`'s criterion reads every round (a policy: its passes and labels are AL cost)."""
        return self.halt.reads if self.halt else None

    def measure(
        self, cfg: ExperimentConfig, parts: RunParts, pool: LabelPool, step: RoundStep, metric: Optional[float]
    ) -> Optional[StopMeasurement]:
        """The stop-set pass after this round's training (the set is drawn at round 0); None without one."""
        if step.round == 0 and self.size:
            self.stop_set = StopSet.draw(cfg, pool, self.size)
        return self.stop_set.measure(cfg, parts, pool.n_labeled, metric) if self.stop_set else None

    def halts_after(
        self,
        records: Sequence[RoundRecord],
        step: RoundStep,
        stop: Optional[StopMeasurement],
        n_labeled: int,
        metric: Optional[float],
    ) -> bool:
        """Whether `halt_on`'s criterion says stop after this round (then the run ends here)."""
        if self.halt is None or step.last:
            return False
        now = stop.signals if stop else RoundSignals(n_labeled=n_labeled, metric=metric)
        history = history_of([signals_of(r, self.num_classes) for r in records] + [now], self.num_classes, self.size)
        if self.halt.criterion.stop_round(history) is None:
            return False
        self.halted_round = step.round
        return True

    def summary(self, records: Sequence[RoundRecord]) -> dict[str, Any]:
        """summary.json's stop set, each criterion's stop round so far, halt_on and the halted round."""
        history = history_of([signals_of(r, self.num_classes) for r in records], self.num_classes, self.size)
        replayed = [c for c in self.criteria if not (self.unmeasured and c.reads == "stop_set")]
        rounds = stop_rounds(replayed, history) if records else {}
        described = self.stop_set.describe(self.n_unlabelled) if self.stop_set else None
        stopping = {c.label: c.describe(rounds.get(c.label)) for c in self.criteria}
        for c in self.criteria:
            if c not in replayed:
                stopping[c.label]["measured"] = False  # resumed from a checkpoint without a stop set
        return {
            "stop_set": described or {"size": self.size, "of": self.n_unlabelled, "fingerprint": None},
            "stopping": stopping,
            "halt_on": self.halt.label if self.halt else None,
            "halted_round": self.halted_round,
        }

    def state_dict(self) -> dict:
        return {"stop_set": self.stop_set.state_dict() if self.stop_set else None, "halted_round": self.halted_round}

    def load_state_dict(self, state: Optional[dict], rounds_done: int, reads_stop_set: bool = False) -> None:
        """From a checkpoint after `rounds_done` rounds. One written before stop sets existed has none:
        its criteria on the stop set are then not measured, and a policy reading it is refused."""
        state = state or {}
        self.stop_set = StopSet.from_state(state.get("stop_set"))
        self.halted_round = state.get("halted_round")
        self.unmeasured = self.size > 0 and self.stop_set is None and rounds_done > 0
        readers = ["halt_on"] if self.halt_reads == "stop_set" else []
        readers += ["strategy_kwargs.trigger"] if reads_stop_set else []
        if self.unmeasured and readers:
            raise ConfigError(
                f"{readers[0]} reads the stop set, but the checkpoint holds none (it was written before stop sets "
                "existed); allowed: resume it without a policy reading the stop set, or start the run anew."
            )
