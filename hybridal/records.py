"""The per-round record (docs/design.md §6): one schema for rounds.jsonl, tune.report and TensorBoard.

Schema 2 (docs/accounting.md) splits inference into AL cost and measurement, charges the labels a
policy reads, and keeps per-round diagnostics. Records without `schema_version` are schema 1: their
`cum_total_flops` counted every validation pass as AL cost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Optional

STRATEGIES_USED = ("retrain", "finetune", "new_only", "shrink_perturb")
SCHEMA_VERSION = 2


@dataclass
class RoundRecord:
    round: int
    n_labeled: int  # labels revealed so far (monitor examples included: they cost labels)
    n_new: int  # labels revealed this round
    strategy_used: str  # retrain | finetune | new_only | shrink_perturb
    switched: bool  # True once HybridAL has switched (this round trains with `after`)
    val_f1: float
    val_accuracy: float
    val_loss: float
    delta_f1: Optional[float]  # F1_r - F1_{r-1} on the monitor set; None where undefined
    stable_count: int
    test_f1: Optional[float]
    test_accuracy: Optional[float]
    train_samples: int  # examples passed through training this round (epochs included)
    train_tokens: int  # token positions processed by training, padding included
    train_flops: int
    cum_train_flops: int
    infer_flops: int  # scoring, validation and monitor passes this round (test apart: test_flops)
    cum_total_flops: int  # the AL cost so far: training + scoring + policy FLOPs (schema 1: + all infer_flops)
    train_seconds: float
    query_seconds: float
    eval_seconds: float
    wall_seconds: float
    monitor_f1: Optional[float] = None  # the F1 the ΔF1 rule saw (validation or acquired monitor set)
    short_batch: bool = False  # the acquisition batch was cut by the budget or an empty pool
    monitor_classes: Optional[int] = None  # distinct classes among the monitor labels (None: no monitor set yet)
    # Test evaluation is measurement, not AL cost: its FLOPs are in neither infer_flops nor cum_total_flops.
    test_flops: int = 0
    cum_test_flops: int = 0
    test_rows: Optional[str] = None  # which rows test_f1 used: "subsample" | "full" (None: not evaluated)
    test_n: Optional[int] = None  # how many test rows that was
    precision: Optional[str] = None  # what the passes ran in: fp32 | bf16 (`precision: auto` resolved)
    # ---- schema 2: cost vs measurement (docs/accounting.md); infer_flops = scoring + policy + validation
    schema_version: int = SCHEMA_VERSION
    flops_scoring: int = 0  # the sampler's scoring passes (AL cost)
    flops_policy: int = 0  # passes a policy read to decide (the ΔF1 rule's monitor pass): AL cost
    flops_validation: int = 0  # validation (and unread monitor) passes: measurement
    flops_monitor: int = 0  # the monitor pass the ΔF1 rule reads when deciding, whoever read it
    labels_acquired: int = 0  # = n_labeled
    labels_read_by_policy: int = 0  # labelled rows outside the acquired ones a policy has read (validation)
    labels_used: int = 0  # labels_acquired + labels_read_by_policy
    # ---- schema 2: diagnostics
    train_loss: Optional[float] = None  # mean training loss of the round
    train_loss_per_epoch: Optional[list] = None
    labels_per_class: Optional[list] = None  # training labels per class after this round's acquisition
    val_pred_counts: Optional[list] = None  # predicted validation rows per class
    test_pred_counts: Optional[list] = None  # predicted test rows per class (None: no test this round)
    degenerate: Optional[bool] = None  # the validation predictions are all one class
    monitor_degenerate: Optional[bool] = None  # monitor predictions one class or no better than the majority class
    # ---- stability signals on the stop set (docs/stopping.md): unlabelled rows, None where not measured
    stop_kappa: Optional[float] = None  # Cohen's κ between this and the previous round's predictions
    stop_changed: Optional[int] = None  # rows whose predicted label changed since the previous round
    stop_changed_fraction: Optional[float] = None  # stop_changed / the stop set's size
    stop_entropy: Optional[float] = None  # mean predictive entropy / log K, in [0, 1]
    stop_entropy_nats: Optional[float] = None  # mean predictive entropy in nats
    stop_delta_f: Optional[float] = None  # small-text's binary ΔF between the two rounds' predictions
    stop_degenerate: Optional[bool] = None  # the stop set is predicted one class everywhere
    # The stop-set pass, kept out of infer_flops like test: AL cost (in flops_policy) only in the
    # rounds a policy reads the signals (a label-free trigger deciding, halt_on), measurement otherwise.
    flops_stop_set: int = 0
    # ---- multi-label runs (docs/multilabel.md), None in a single-label run: val_f1, test_f1 and monitor_f1
    # hold the monitored metric (`monitor_metric`, default micro-F1), labels_per_class each label's positives,
    # *_pred_counts each label's predicted positives, and `*_undefined` names what a round could not measure.
    val_micro_f1: Optional[float] = None
    val_macro_f1: Optional[float] = None
    val_mean_auc: Optional[float] = None  # mean ROC AUC over the labels with both classes among the rows
    val_subset_accuracy: Optional[float] = None
    val_hamming_loss: Optional[float] = None
    val_per_label_f1: Optional[list] = None
    val_per_label_auc: Optional[list] = None  # None for a label whose true column is constant
    val_undefined: Optional[list] = None  # e.g. "roc_auc:threat" (left out of the mean), "f1:threat" (0.0)
    test_micro_f1: Optional[float] = None
    test_macro_f1: Optional[float] = None
    test_mean_auc: Optional[float] = None
    test_subset_accuracy: Optional[float] = None
    test_hamming_loss: Optional[float] = None
    test_per_label_f1: Optional[list] = None
    test_per_label_auc: Optional[list] = None
    test_undefined: Optional[list] = None

    def to_dict(self) -> dict[str, Any]:
        """The record as written; a single-label run's records leave the multi-label fields out, as
        they were before multi-label runs existed."""
        out = asdict(self)
        if self.val_micro_f1 is None:
            for name in MULTILABEL_FIELDS:
                del out[name]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RoundRecord":
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in names}
        values.setdefault("schema_version", 1)  # written before schema 2 existed
        return cls(**values)


RECORD_FIELDS = tuple(f.name for f in fields(RoundRecord))
# The stop set's signals and its pass (docs/stopping.md): None / 0 in a run without a stop set.
STOP_SET_FIELDS = tuple(name for name in RECORD_FIELDS if name.startswith("stop_")) + ("flops_stop_set",)
# A multi-label evaluation's metrics, recorded as val_<name> and test_<name> (hybridal.model.multilabel_eval).
MULTILABEL_METRICS = (
    "micro_f1",
    "macro_f1",
    "mean_auc",
    "subset_accuracy",
    "hamming_loss",
    "per_label_f1",
    "per_label_auc",
    "undefined",
)
MULTILABEL_LISTS = ("per_label_f1", "per_label_auc", "undefined")
MULTILABEL_FIELDS = tuple(f"{split}_{name}" for split in ("val", "test") for name in MULTILABEL_METRICS)
# The fields every record carries, in order: a single-label run's records leave MULTILABEL_FIELDS out.
SINGLE_LABEL_FIELDS = tuple(f for f in RECORD_FIELDS if f not in MULTILABEL_FIELDS)
# Fields that are numbers every round, so they can be plotted as scalars.
LIST_FIELDS = ("train_loss_per_epoch", "labels_per_class", "val_pred_counts", "test_pred_counts") + tuple(
    f for f in MULTILABEL_FIELDS if f.split("_", 1)[1] in MULTILABEL_LISTS
)
NUMERIC_FIELDS = tuple(
    name for name in RECORD_FIELDS if name not in ("strategy_used", "test_rows", "precision") + LIST_FIELDS
)

# The canonical columns of a trial (docs/design.md §8), in order: the readable description of a
# run that summary.json's "trial", the sweep's table and HParams, and analysis share.
TRIAL_COLUMNS = (
    "dataset",
    "strategy",
    "after",
    "epsilon",
    "k",
    "c",
    "guard",
    "monitor",
    "seed",
    "model",
    "sampler",
    "epochs",
    "finetune_epochs",
    "replay",
)
# Knobs added after the canonical columns, shown beside them where a run reads them
# (hybridal.loop.trial_columns.knob_columns); not in summary.json's "trial".
KNOB_COLUMNS = ("trigger", "threshold", "shrink", "perturb", "task", "monitor_metric")
