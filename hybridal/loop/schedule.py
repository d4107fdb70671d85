"""The round schedule (docs/design.md §2-4): what each round of a run buys, trains and evaluates.

A pure function of the config and the split sizes. The loop (`ActiveLearning.run_round`) follows
it round by round and the pre-launch estimate (`hybridal.cost.estimate`) costs it, so the two cannot
drift apart. HybridAL's switch round depends on the data: the loop passes the round the ΔF1 rule
has decided so far, the estimate its bounds (never, or the earliest round the rule allows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from hybridal.config import ExperimentConfig
from hybridal.data.splits import uses_test_subsample
from hybridal.strategies import strategy_for


@dataclass(frozen=True)
class RoundStep:
    round: int
    n_new: int  # labels bought this round (round 0: the random initial pool), monitor labels included
    n_monitor: int  # of those, set aside for the monitor (monitor: acquired), never trained on
    short_batch: bool  # the batch was cut by the label budget or an exhausted pool
    mode: str  # retrain | finetune | new_only | shrink_perturb (from the blended weights, as finetune)
    switched: bool  # HybridAL has switched: this round trains with `after`
    train_on: str  # "all" training labels, or "new": this round's plus `replay` earlier ones
    train_rows: int  # examples per epoch
    replay: int  # earlier labels mixed into a new_only round
    epochs: int
    continue_optimizer: bool  # a finetune round with keep_optimizer: the previous round's optimizer state
    monitor: str  # what ΔF1 reads: "validation" or the "acquired" monitor labels
    test_rows: Optional[str]  # "subsample" | "full": the test rows evaluated after training; None: no test
    last: bool

    @property
    def n_query(self) -> int:
        """Labels the sampler picks this round (round 0: the random draw)."""
        return self.n_new - self.n_monitor

    @property
    def train_samples(self) -> int:
        return self.train_rows * self.epochs


def labels_per_round(cfg: ExperimentConfig, n_pool: int) -> list[int]:
    """Labels bought by each round until `total_rounds`, the label budget or the pool runs out."""
    bought = [cfg.initial_pool_size]
    while len(bought) < cfg.total_rounds:
        room = n_pool - sum(bought)
        if cfg.label_budget is not None:
            room = min(room, cfg.label_budget - sum(bought))
        if room <= 0:
            break
        bought.append(min(cfg.acquisition_batch_size, room))
    return bought


def evaluated_test_rows(cfg: ExperimentConfig, round_idx: int, last: bool, n_test: int) -> Optional[str]:
    """The full split after the last round; every `test_every` rounds the per-round subsample
    (or the full split when the subsample would cover it)."""
    if last:
        return "full"
    if round_idx % cfg.test_every:
        return None
    return "subsample" if uses_test_subsample(cfg.test_subsample_size, n_test) else "full"


def round_plan(
    cfg: ExperimentConfig,
    n_pool: int,
    n_test: int,
    switch_round: Optional[int] = None,
    halt_round: Optional[int] = None,
) -> list[RoundStep]:
    """Every round of a run on a pool of `n_pool` rows and a test split of `n_test`, if HybridAL
    switches at `switch_round` (None: never; ignored by the other strategies) and the run ends
    after `halt_round` (`halt_on`: its criterion said stop then; None: it runs to its budget)."""
    strategy = strategy_for(cfg)
    bought = labels_per_round(cfg, n_pool)
    if halt_round is not None:
        bought = bought[: halt_round + 1]
    steps, trained = [], 0  # trained: training labels bought before this round
    for r, n_new in enumerate(bought):
        n_monitor = min(n_new, cfg.monitor_per_batch) if r and cfg.monitor == "acquired" else 0
        new_train = n_new - n_monitor
        plan = strategy.plan_for(r, switch_round)
        if plan.mode == "new_only":
            replay = min(cfg.replay, trained)
            train_on, rows, epochs = "new", new_train + replay, cfg.epochs
        else:
            replay = 0
            train_on, rows = "all", trained + new_train
            epochs = cfg.steady_finetune_epochs if plan.mode in ("finetune", "shrink_perturb") else cfg.epochs
        last = r == len(bought) - 1
        steps.append(
            RoundStep(
                round=r,
                n_new=n_new,
                n_monitor=n_monitor,
                short_batch=r > 0 and n_new < cfg.acquisition_batch_size,
                mode=plan.mode,
                switched=plan.switched,
                train_on=train_on,
                train_rows=rows,
                replay=replay,
                epochs=epochs,
                continue_optimizer=cfg.keep_optimizer and plan.mode == "finetune",
                monitor=cfg.monitor,
                test_rows=evaluated_test_rows(cfg, r, last, n_test),
                last=last,
            )
        )
        trained += new_train
    return steps
