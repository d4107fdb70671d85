"""What a round costs (docs/accounting.md): AL cost and measurement kept apart.

The rule: what a policy reads to decide is AL cost, its labels and its passes; what we read only
to report is measurement, like test. Training and the sampler's scoring passes are always AL
cost. The validation pass is AL cost only in the rounds where the ΔF1 rule reads it to decide
(monitor: validation, before its decision); for every other arm it is measurement, and so are
the test passes. Labels: a run uses the labels it acquired plus the labelled rows outside them
that a policy read (the validation split, for the validation-monitor rule).

One function charges a round, so the live loop and a shared-prefix copy (whose rounds another
configuration trained and measured) charge identically.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

from hybridal.records import RoundRecord
from hybridal.strategies import TrainingStrategy


def policy_labels(strategy: TrainingStrategy, monitor: str, validation_rows: int) -> int:
    """Labelled rows outside the acquired ones that a run's policy reads: the validation split for
    the ΔF1 rule on the validation monitor (read from round 0 on: F1_0 starts its first Δ), else 0.
    The acquired monitor's rows are already acquired, so they cost nothing more."""
    return validation_rows if strategy.name == "deltaf1" and monitor == "validation" else 0


def charge(record: RoundRecord, prev: Optional[RoundRecord], reads_monitor: bool, labels_read: int) -> RoundRecord:
    """`record` with its cost fields set: the monitor pass is policy cost if the rule read it this
    round, measurement otherwise; the cumulative AL cost continues `prev`'s.

    Needs the measured parts: `infer_flops` (every non-test pass), `flops_scoring`, `flops_monitor`."""
    policy = record.flops_monitor if reads_monitor else 0
    al_flops = record.train_flops + record.flops_scoring + policy
    return dataclasses.replace(
        record,
        flops_policy=policy,
        flops_validation=record.infer_flops - record.flops_scoring - policy,
        cum_total_flops=(prev.cum_total_flops if prev else 0) + al_flops,
        labels_acquired=record.n_labeled,
        labels_read_by_policy=labels_read,
        labels_used=record.n_labeled + labels_read,
    )


def recharge(records: Sequence[RoundRecord], reads_monitor: Sequence[bool], labels_read: int) -> list[RoundRecord]:
    """Every record charged as a run whose policy read the monitor in the rounds flagged (a copy of
    another configuration's rounds: the measurements stay, the cost is this configuration's)."""
    out: list[RoundRecord] = []
    for record, reads in zip(records, reads_monitor):
        out.append(charge(record, out[-1] if out else None, reads, labels_read))
    return out
