"""The per-round record (DESIGN.md section 6): one schema for rounds.jsonl, tune.report and TensorBoard."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Optional

STRATEGIES_USED = ("retrain", "finetune", "new_only")


@dataclass
class RoundRecord:
    round: int
    n_labeled: int          # labels revealed so far (monitor examples included: they cost labels)
    n_new: int              # labels revealed this round
    strategy_used: str      # retrain | finetune | new_only
    switched: bool          # True once HybridAL has switched (this round trains with `after`)
    val_f1: float
    val_accuracy: float
    val_loss: float
    delta_f1: Optional[float]   # F1_r - F1_{r-1} on the monitor set; None where undefined
    stable_count: int
    test_f1: Optional[float]
    test_accuracy: Optional[float]
    train_samples: int      # examples passed through training this round (epochs included)
    train_tokens: int       # token positions processed by training, padding included
    train_flops: int
    cum_train_flops: int
    infer_flops: int        # scoring, validation and monitor passes this round (test apart: test_flops)
    cum_total_flops: int    # cum_train_flops + all infer_flops so far: what AL itself costs
    train_seconds: float
    query_seconds: float
    eval_seconds: float
    wall_seconds: float
    monitor_f1: Optional[float] = None   # the F1 the ΔF1 rule saw (validation or acquired monitor set)
    short_batch: bool = False            # the acquisition batch was cut by the budget or an empty pool
    monitor_classes: Optional[int] = None   # distinct classes among the monitor labels (None: no monitor set yet)
    # Test evaluation is measurement, not AL cost: its FLOPs are in neither infer_flops nor cum_total_flops.
    test_flops: int = 0
    cum_test_flops: int = 0
    test_rows: Optional[str] = None      # which rows test_f1 used: "subsample" | "full" (None: not evaluated)
    test_n: Optional[int] = None         # how many test rows that was
    precision: Optional[str] = None      # what the passes ran in: fp32 | bf16 (`precision: auto` resolved)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RoundRecord":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


RECORD_FIELDS = tuple(f.name for f in fields(RoundRecord))
# Fields that are numbers every round, so they can be plotted as scalars.
NUMERIC_FIELDS = tuple(
    name for name in RECORD_FIELDS if name not in ("strategy_used", "test_rows", "precision")
)

# The canonical columns of a trial (DESIGN.md section 8), in order: the readable description of a
# run that summary.json's "trial", the sweep's table and HParams, and analysis share.
TRIAL_COLUMNS = (
    "dataset", "strategy", "after", "epsilon", "k", "c", "monitor", "seed",
    "model", "sampler", "epochs", "finetune_epochs", "replay",
)
