"""A round's record (docs/design.md §6) from what its phases measured: the plan's step, the
acquisition, the training, the evaluations and the ΔF1 rule's (Δ, count). The cost fields (policy
and validation FLOPs, `cum_total_flops`, the labels used) are left at zero here for
hybridal.loop.accounting.charge to set, which the live loop and a shared-prefix copy share.
"""

from __future__ import annotations

from typing import Any, Optional

from hybridal.loop import phases
from hybridal.loop.pool import LabelPool
from hybridal.loop.run_parts import RunParts
from hybridal.loop.schedule import RoundStep
from hybridal.loop.stop_set import StopMeasurement
from hybridal.model.metrics import EvalResult
from hybridal.model.training import TrainStats
from hybridal.records import MULTILABEL_METRICS, RoundRecord


def measured_record(
    step: RoundStep,
    acquisition: phases.Acquisition,
    trained: TrainStats,
    evaluation: phases.Evaluation,
    delta: Optional[float],
    count: int,
    wall_seconds: float,
    prev: Optional[RoundRecord],
    parts: RunParts,
    pool: LabelPool,
    stop: Optional[StopMeasurement] = None,
) -> RoundRecord:
    """The round's record from what its phases measured; `prev` is the run's previous record (None
    at round 0), which the cumulative fields continue; `stop` the stop-set pass (None: no stop set).
    Cost fields are zero until `charge`."""
    infer_flops = acquisition.flops + evaluation.infer_flops
    test = evaluation.test  # cost fields (policy, validation, cum_total_flops, labels): accounting.charge
    test_flops = test.flops if test else 0  # measurement, kept out of the AL cost
    return RoundRecord(
        round=step.round,
        n_labeled=pool.n_labeled,
        n_new=step.n_new,
        strategy_used=step.mode,
        switched=step.switched,
        val_f1=evaluation.validation.f1,
        val_accuracy=evaluation.validation.accuracy,
        val_loss=evaluation.validation.loss,
        delta_f1=delta,
        stable_count=count,
        test_f1=test.f1 if test else None,
        test_accuracy=test.accuracy if test else None,
        train_samples=trained.samples,
        train_tokens=trained.tokens,
        train_flops=trained.flops,
        cum_train_flops=(prev.cum_train_flops if prev else 0) + trained.flops,
        infer_flops=infer_flops,
        cum_total_flops=0,
        train_seconds=trained.seconds,
        query_seconds=acquisition.seconds,
        eval_seconds=evaluation.seconds,
        wall_seconds=wall_seconds,
        monitor_f1=evaluation.monitor_f1,
        short_batch=step.short_batch,
        monitor_classes=evaluation.monitor_classes,
        test_flops=test_flops,
        cum_test_flops=(prev.cum_test_flops if prev else 0) + test_flops,
        test_rows=step.test_rows,
        test_n=test.n if test else None,
        precision=parts.precision,
        flops_scoring=acquisition.flops,
        flops_monitor=evaluation.monitor_flops,
        train_loss=_finite_or_none(trained.mean_loss),
        train_loss_per_epoch=trained.epoch_losses,
        labels_per_class=phases.labels_per_class(parts, pool),
        val_pred_counts=evaluation.validation.pred_counts,
        test_pred_counts=test.pred_counts if test else None,
        degenerate=evaluation.validation.degenerate,
        monitor_degenerate=evaluation.monitor_degenerate,
        **(stop.record_fields() if stop else {}),
        **multilabel_fields("val", evaluation.validation),
        **multilabel_fields("test", test),
    )


def multilabel_fields(prefix: str, result: Optional[EvalResult]) -> dict[str, Any]:
    """A multi-label evaluation's metrics as `<prefix>_<metric>` record fields ({} when there are none)."""
    if result is None or result.multilabel is None:
        return {}
    return {f"{prefix}_{name}": result.multilabel[name] for name in MULTILABEL_METRICS}


def _finite_or_none(value: float) -> Optional[float]:
    return value if value == value and abs(value) != float("inf") else None
