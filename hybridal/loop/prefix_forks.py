"""Shared prefixes (docs/design.md §11): what lets one retrain trajectory serve many configs.

Configs of one *group* differ only in the strategy and in knobs that act after a switch, so
they all train exactly like `retrain` until their switch round s: every draw is a function
of (seed, round, purpose) and the ΔF1 rule is a pure function of the monitor F1 series. A
config's rounds before s are therefore the trunk's rounds, and its rounds from s on continue
the trunk's state after round s-1. Only the rule's own record fields (Δ, stable count,
switched) and what the config is charged (its policy's passes and labels, hybridal.loop.accounting)
depend on the config; `adopt_records` recomputes them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional, Sequence, Union

from hybridal.config import ExperimentConfig
from hybridal.loop.accounting import policy_labels, recharge
from hybridal.loop.run_writer import RunWriter
from hybridal.loop.summary import labels_used, totals
from hybridal.loop.trial_columns import trial_columns
from hybridal.records import RoundRecord
from hybridal.strategies import (
    RoundPlan,
    StopObservation,
    TrainingStrategy,
    strategy_for,
    trained_switch_round,
    with_resolved_guard,
)

# Engine keys that may differ within a group: the strategy, and knobs read only by rounds that
# train with `finetune`, `new_only` or `shrink_perturb` (a retrain round ignores them).
POST_SWITCH_KEYS = (
    "strategy_class",
    "strategy_kwargs",
    "finetune_epochs",
    "replay",
    "keep_optimizer",
    "shrink",
    "perturb",
)
# Keys that name a run or place its output; they never change what it computes.
NAMING_KEYS = ("experiment_name", "save_dir")


def group_key(config: dict) -> str:
    """Configs with the same key follow one retrain trajectory until they switch."""
    shared = {k: v for k, v in config.items() if k not in POST_SWITCH_KEYS + NAMING_KEYS}
    return json.dumps(shared, sort_keys=True, default=str)


@dataclasses.dataclass(frozen=True)
class RuleStep:
    plan: RoundPlan
    delta: Optional[float]
    count: int
    read_monitor: bool  # the rule read this round's monitor to decide (its pass is AL cost)
    read_stop_set: bool = False  # a label-free trigger read this round's stop-set signals to decide


def _at(values: Optional[Sequence], r: int) -> Optional[object]:
    return values[r] if values is not None and r < len(values) else None


def rule_trace(
    strategy: TrainingStrategy,
    monitor_f1s: Sequence[Optional[float]],
    degenerate: Optional[Sequence[Optional[bool]]] = None,
    stops: Optional[Sequence[Optional[StopObservation]]] = None,
) -> list[RuleStep]:
    """Every round's plan, Δ, stable count and what the rule read, replaying `strategy` over a
    monitor F1 series (and the guard's degenerate flags and the stop set's signals, where recorded).

    `strategy` must be fresh; it is left in the state it would have after those rounds."""
    trace = []
    for r, f1 in enumerate(monitor_f1s):
        plan, reads, reads_stop = strategy.plan(r), strategy.reads_monitor, strategy.reads_stop_set
        delta, count = strategy.observe(r, f1, _at(degenerate, r), _at(stops, r))  # type: ignore[arg-type]
        trace.append(RuleStep(plan, delta, count, reads, reads_stop))
    return trace


def switch_round_within(
    strategy: TrainingStrategy,
    monitor_f1s: Sequence[Optional[float]],
    degenerate: Optional[Sequence[Optional[bool]]] = None,
    stops: Optional[Sequence[Optional[StopObservation]]] = None,
) -> Optional[int]:
    """The first round among len(monitor_f1s)+1 rounds that would train with the cheaper
    strategy, given the trunk's monitor F1 (and degenerate flags and stop-set signals) so far;
    None if none of them would (yet).

    A baseline (finetune, new_only) trains cheaper from round 1; retrain never does."""
    rule_trace(strategy, monitor_f1s, degenerate, stops)
    for r in range(len(monitor_f1s) + 1):
        if strategy.plan(r).mode != "retrain":
            return r
    return None


class PrefixMismatch(ValueError):
    """A record's strategy disagrees with what the config's rule says for that round."""


def adopt_records(
    strategy: TrainingStrategy, source: Sequence[RoundRecord], labels_read: int, halt_reads: Optional[str] = None
) -> list[RoundRecord]:
    """`source` (a trunk's, or a fork's, records) as `strategy` would have recorded them.

    `strategy` must be fresh; it is left in the state it has after those rounds. Everything
    measured stays; Δ, the stable count, `switched` and the cost this config is charged (its
    policy's passes, `halt_on`'s (`halt_reads`: what its criterion reads every round), and
    `labels_read` validation labels: hybridal.loop.accounting) are recomputed.
    Raises PrefixMismatch if a round trained otherwise than the strategy would have."""
    trace = rule_trace(
        strategy,
        [rec.monitor_f1 for rec in source],
        [rec.monitor_degenerate for rec in source],
        [StopObservation.of(rec) for rec in source],
    )
    adopted = []
    for rec, step in zip(source, trace):
        if step.plan.mode != rec.strategy_used:
            raise PrefixMismatch(
                f"round {rec.round} trained with {rec.strategy_used} but {strategy.name} plans {step.plan.mode} there."
            )
        adopted.append(
            dataclasses.replace(rec, delta_f1=step.delta, stable_count=step.count, switched=step.plan.switched)
        )
    reads_monitor = [step.read_monitor or halt_reads == "labels" for step in trace]
    reads_stop_set = [step.read_stop_set or halt_reads == "stop_set" for step in trace]
    return recharge(adopted, reads_monitor, labels_read, reads_stop_set)


def copy_run(cfg: ExperimentConfig, source_dir: Union[str, Path], run_dir: Union[str, Path], provenance: dict) -> dict:
    """Write `cfg`'s run folder from a finished run of its group whose rounds trained as `cfg`
    would have (the trunk, for a config that never switches; a fork, for the configs sharing
    it): its records adopted, its summary re-described. Returns the new summary.

    Nothing is trained: the run's cost is attributed, as if it had run alone."""
    source_dir = Path(source_dir)
    source = json.loads((source_dir / "summary.json").read_text())
    if source.get("status") != "finished":
        raise ValueError(f"{source_dir} holds no finished run (status {source.get('status')!r}); a copy needs one.")
    lines = (source_dir / "rounds.jsonl").read_text().splitlines()
    strategy = strategy_for(cfg)
    cfg = cfg.replace(
        strategy_kwargs=with_resolved_guard(strategy, cfg.strategy_kwargs)
    )  # recorded as a run records it
    if cfg.device == "auto":  # its rounds ran where the source resolved `auto` (a sweep's trial: cpu without a GPU)
        cfg = cfg.replace(device=source.get("config", {}).get("device", "auto"))
    halt = source.get("halt_on")  # the group's (halt_on is no post-switch key): what its criterion reads
    halt_reads = source["stopping"][halt]["reads"] if halt else None
    labels_read = policy_labels(strategy, cfg.monitor, int(source["data"]["validation"]), halt_reads)
    source_records = [RoundRecord.from_dict(json.loads(x)) for x in lines if x]
    records = adopt_records(strategy, source_records, labels_read, halt_reads)
    decided = strategy.switch_decided_round
    summary = {
        **source,
        "experiment_name": cfg.experiment_name,
        "trial": trial_columns(cfg),
        "config": cfg.to_dict(),
        "switch_round": trained_switch_round(decided, len(records)),
        "switch_decided_round": decided,
        "labels": labels_used(records),
        "totals": totals(records),
        "shared_prefix": provenance,
    }
    writer = RunWriter(Path(run_dir), cfg.tensorboard)
    try:
        writer.start(cfg.to_yaml(), records)
        writer.write_summary(summary)
    finally:
        writer.close()
    return summary
