"""What a round costs (docs/accounting.md): AL cost and measurement kept apart.

The rule: what a policy reads to decide is AL cost, its labels and its passes; what we read only
to report is measurement, like test. Training and the sampler's scoring passes are always AL
cost. The monitor pass is AL cost only in the rounds where a policy reads it to decide (the ΔF1
rule before its decision, or `halt_on` an early_stopping criterion); the stop-set pass likewise
(a label-free trigger before its decision, or `halt_on` a criterion reading the stop set). For
every other run they are measurement, and so are the test passes. Labels: a run uses the labels
it acquired plus the labelled rows outside them that a policy read (the validation split, for a
policy reading the validation monitor).

One function charges a round, so the live loop and a shared-prefix copy (whose rounds another
configuration trained and measured) charge identically.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

from hybridal.records import RoundRecord
from hybridal.strategies import TrainingStrategy


def policy_labels(
    strategy: TrainingStrategy, monitor: str, validation_rows: int, halt_reads: Optional[str] = None
) -> int:
    """Labelled rows outside the acquired ones that a run's policy reads: the validation split for
    the ΔF1 rule on the validation monitor (read from round 0 on: F1_0 starts its first Δ), or for
    `halt_on` a criterion that reads the monitor's F1 (`halt_reads` "labels"), else 0. A
    label-free trigger reads none; the acquired monitor's rows are already acquired."""
    rule_reads = strategy.name == "deltaf1" and getattr(strategy, "trigger", "monitor_f1") == "monitor_f1"
    return validation_rows if (rule_reads or halt_reads == "labels") and monitor == "validation" else 0


def charge(
    record: RoundRecord,
    prev: Optional[RoundRecord],
    reads_monitor: bool,
    labels_read: int,
    reads_stop_set: bool = False,
) -> RoundRecord:
    """`record` with its cost fields set: the monitor and stop-set passes are policy cost if a
    policy read them this round, measurement otherwise; the cumulative AL cost continues `prev`'s.

    Needs the measured parts: `infer_flops` (scoring, validation and monitor passes),
    `flops_scoring`, `flops_monitor`, `flops_stop_set` (kept out of infer_flops, like test)."""
    monitor = record.flops_monitor if reads_monitor else 0
    policy = monitor + (record.flops_stop_set if reads_stop_set else 0)
    al_flops = record.train_flops + record.flops_scoring + policy
    return dataclasses.replace(
        record,
        flops_policy=policy,
        flops_validation=record.infer_flops - record.flops_scoring - monitor,
        cum_total_flops=(prev.cum_total_flops if prev else 0) + al_flops,
        labels_acquired=record.n_labeled,
        labels_read_by_policy=labels_read,
        labels_used=record.n_labeled + labels_read,
    )


def recharge(
    records: Sequence[RoundRecord],
    reads_monitor: Sequence[bool],
    labels_read: int,
    reads_stop_set: Optional[Sequence[bool]] = None,
) -> list[RoundRecord]:
    """Every record charged as a run whose policy read the monitor (and the stop set) in the rounds
    flagged (a copy of another configuration's rounds: the measurements stay, the cost is this
    configuration's)."""
    out: list[RoundRecord] = []
    stops = reads_stop_set if reads_stop_set is not None else [False] * len(records)
    for record, reads, stop in zip(records, reads_monitor, stops):
        out.append(charge(record, out[-1] if out else None, reads, labels_read, stop))
    return out
