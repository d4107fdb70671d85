"""Cost before launch: a run's training and inference FLOPs from the round schedule.

The estimate uses the same FLOPs model as the runs (hybridal.model.flops), the real token lengths of
the dataset when it can be read here (otherwise typical lengths, flagged as approximate), and
the batch shapes the engine will form: training batches bucketed by length within shuffled
windows, length-sorted inference batches. HybridAL's switch round is unknown before it runs, so its
training cost is a range: never switching (upper) to switching at the earliest round (lower: k+1, or
k+2 with `monitor: acquired`; k+1 for a label-free trigger). Inference is split as the records
split it (docs/accounting.md): scoring and the passes a policy reads to decide (`policy_flops`, a
range like training's: the rule reads its monitor, or a label-free trigger the stop set, until it
decides; `halt_on`'s criterion reads every round) are AL cost; validation and stop-set passes read
by no policy and test evaluation (`test_flops`) are measurement. A run that `halt_on` may end early
is costed to its budget (upper) and to its earliest possible halt (lower; both, when the halt
follows from the schedule alone: hybridal.cost.halting).

This module holds a run's and a grid's estimate and their description; what they are costed from
(the splits' lengths, the FLOPs model) is in hybridal.cost.inputs, the FLOPs of a plan's passes in
hybridal.cost.plan_flops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hybridal.config import ExperimentConfig
from hybridal.cost.batch_flops import inference_max_tokens
from hybridal.cost.halting import earliest_halt, halt_criterion
from hybridal.cost.inputs import SliceInputs, SplitLengths
from hybridal.cost.plan_flops import al_inference_flops, flops_of_test_evaluations, train_flops
from hybridal.loop.schedule import RoundStep, round_plan
from hybridal.model.flops import FlopsModel
from hybridal.strategies import DeltaF1Strategy, TrainingStrategy, strategy_for

# Dense bf16 tensor-core peaks (vendor datasheets, TFLOP/s) for the GPU-hour estimate.
GPU_PEAK_TFLOPS = {"A10G": 125.0, "L4": 121.0, "A100": 312.0, "H100": 989.0, "T4": 65.0}
DEFAULT_UTILIZATION = 0.3  # a typical achieved fraction of peak for small encoder fine-tuning


@dataclass
class RunEstimate:
    train_flops: int  # upper bound for deltaf1 (never switches)
    train_flops_min: int  # deltaf1 switching at its earliest round; equals train_flops otherwise
    infer_flops: int  # scoring, validation and monitor passes (test apart, as in the records)
    rounds: int
    labels: int  # labels acquired
    exact_lengths: bool
    test_flops: int = 0  # per-round test evaluations and the final full-split one
    plan: list[RoundStep] = field(default_factory=list)  # the rounds costed (deltaf1: never switching)
    plan_earliest_switch: list[RoundStep] = field(default_factory=list)  # deltaf1 switching as early as it can
    scoring_flops: int = 0  # AL cost: the sampler's scoring passes
    policy_flops: int = 0  # AL cost: monitor passes the ΔF1 rule reads, never deciding (upper)
    policy_flops_min: int = 0  # … deciding at its earliest round (lower)
    labels_read_by_policy: int = 0  # validation labels a policy reads (monitor: validation)
    rounds_min: int = 0  # the fewest rounds a halt_on run may train (rounds, without halt_on)
    scoring_flops_min: Optional[int] = None  # scoring until halt_on's earliest halt (None: scoring_flops)
    labels_min: Optional[int] = None  # labels acquired until halt_on's earliest halt (None: labels)
    # Every round's stop-set pass (docs/stopping.md), as the records' flops_stop_set: outside infer_flops,
    # measurement except in the rounds a policy reads it (those are in policy_flops too).
    stop_set_flops: int = 0

    @property
    def al_flops(self) -> int:
        """The AL cost's upper bound: training + scoring + policy, as the records' cum_total_flops."""
        return self.train_flops + self.scoring_flops + self.policy_flops

    @property
    def al_flops_min(self) -> int:
        scoring = self.scoring_flops if self.scoring_flops_min is None else self.scoring_flops_min
        return self.train_flops_min + scoring + self.policy_flops_min

    @property
    def labels_used(self) -> int:
        return self.labels + self.labels_read_by_policy


def earliest_switch_round(k: int, monitor: str) -> int:
    """The first round HybridAL can train with `after` (docs/design.md §4): Δ is first defined at
    round 1, so count >= k first after round k and the switch is k+1; with `monitor: acquired` the
    monitor set is empty at round 0, Δ is first defined at round 2, and the switch is k+2."""
    first_delta = 2 if monitor == "acquired" else 1
    return first_delta + k


def earliest_rule_switch(strategy: TrainingStrategy, monitor: str) -> Optional[int]:
    """The earliest switch of a config's rule (None: not HybridAL): a label-free trigger's first
    signal is κ (or the changed share) at round 1 whatever the monitor, so k+1; the ΔF1 rule's, as
    `earliest_switch_round`."""
    if not isinstance(strategy, DeltaF1Strategy):
        return None
    return strategy.k + 1 if strategy.trigger != "monitor_f1" else earliest_switch_round(strategy.k, monitor)


def estimate_run(
    cfg: ExperimentConfig, lengths: SplitLengths, model: FlopsModel, device_type: str = "cpu"
) -> RunEstimate:
    """Expected FLOPs of one run on a `device_type` ('cpu' or 'cuda') machine, from its round schedule."""
    rng = np.random.default_rng(cfg.seed)
    pad_to = cfg.max_length if cfg.fixed_padding else None
    max_tokens = inference_max_tokens(device_type)
    strategy = strategy_for(cfg)
    rule = strategy if isinstance(strategy, DeltaF1Strategy) else None
    label_free = rule is not None and rule.trigger != "monitor_f1"
    n_pool, n_test = len(lengths.pool), len(lengths.test)
    budget = round_plan(cfg, n_pool, n_test, switch_round=None)
    halt_on = halt_criterion(cfg)
    halt, certain = earliest_halt(halt_on, budget)
    never = round_plan(cfg, n_pool, n_test, switch_round=None, halt_round=halt if certain else None)
    switch = earliest_rule_switch(strategy, cfg.monitor)
    earliest = (
        round_plan(cfg, n_pool, n_test, switch_round=switch, halt_round=halt) if rule or halt is not None else never
    )
    upper = train_flops(cfg, lengths, never, model, pad_to)
    lower = train_flops(cfg, lengths, earliest, model, pad_to) if earliest is not never else upper
    infer = al_inference_flops(cfg, lengths, never, model, pad_to, max_tokens, rng)
    test = flops_of_test_evaluations(cfg, lengths, never, model, pad_to, max_tokens, rng)
    scoring_min = None  # a halt that may come early: scoring and labels only until then (lower bound)
    if halt is not None and not certain:
        fresh = np.random.default_rng(cfg.seed)  # the same draws as `infer` round by round
        scoring_min = int(al_inference_flops(cfg, lengths, earliest, model, pad_to, max_tokens, fresh).scoring)
    # The rule reads its monitor (a label-free trigger: the stop set) until it decides: every round if it
    # never does, else the rounds before its earliest switch (the guard can only delay a decision, so
    # this bound holds with it). halt_on's criterion reads its monitor or stop set every round it runs.
    halt_reads = halt_on.reads if halt_on else None
    rule_monitor, rule_stop = rule is not None and not label_free, label_free
    reads_monitor = rule_monitor or halt_reads == "labels"
    n_hi, n_lo = len(never), len(earliest)

    def policy(rounds: int, decided: Optional[int]) -> int:
        """The policy FLOPs of `rounds` rounds whose rule decides at round `decided` (None: never)."""
        until = rounds if decided is None else min(decided, rounds)
        monitor_rounds = rounds if halt_reads == "labels" else (until if rule_monitor else 0)
        stop_rounds = rounds if halt_reads == "stop_set" else (until if rule_stop else 0)
        return int(sum(infer.monitor[:monitor_rounds]) + infer.stop_set * stop_rounds)

    validation_rows = len(lengths.validation) if reads_monitor and cfg.monitor == "validation" else 0
    return RunEstimate(
        int(upper),
        int(lower),
        int(infer.total),
        n_hi,
        sum(s.n_new for s in never),
        lengths.exact,
        int(test),
        plan=never,
        plan_earliest_switch=earliest,
        scoring_flops=int(infer.scoring),
        policy_flops=policy(n_hi, None),
        policy_flops_min=policy(n_lo, switch),
        labels_read_by_policy=validation_rows,
        rounds_min=n_lo,
        scoring_flops_min=scoring_min,
        labels_min=sum(s.n_new for s in earliest) if scoring_min is not None else None,
        stop_set_flops=int(infer.stop_set) * n_hi,
    )


def gpu_hours(flops: float, gpu: str = "A10G", utilization: float = DEFAULT_UTILIZATION) -> float:
    if gpu not in GPU_PEAK_TFLOPS:
        raise ValueError(f"gpu={gpu!r} is not known; allowed: {', '.join(sorted(GPU_PEAK_TFLOPS))}.")
    return flops / (GPU_PEAK_TFLOPS[gpu] * 1e12 * utilization) / 3600.0


@dataclass
class GridEstimate:
    runs: list[RunEstimate]

    @property
    def train_flops(self) -> int:
        return sum(r.train_flops for r in self.runs)

    @property
    def train_flops_min(self) -> int:
        return sum(r.train_flops_min for r in self.runs)

    @property
    def stop_set_flops(self) -> int:
        return sum(r.stop_set_flops for r in self.runs)

    @property
    def infer_flops(self) -> int:
        return sum(r.infer_flops for r in self.runs)

    @property
    def test_flops(self) -> int:
        return sum(r.test_flops for r in self.runs)

    @property
    def al_flops(self) -> int:
        return sum(r.al_flops for r in self.runs)

    @property
    def al_flops_min(self) -> int:
        return sum(r.al_flops_min for r in self.runs)

    @property
    def labels_used(self) -> int:
        return sum(r.labels_used for r in self.runs)

    @property
    def labels(self) -> int:
        return sum(r.labels for r in self.runs)

    @property
    def exact(self) -> bool:
        return all(r.exact_lengths for r in self.runs)


def estimate_grid(configs: list[ExperimentConfig], device_type: str = "cpu") -> GridEstimate:
    """Estimates for many runs, reading each distinct dataset slice's lengths once."""
    inputs = SliceInputs()
    runs = []
    for cfg in configs:
        lengths, model = inputs(cfg)
        runs.append(estimate_run(cfg, lengths, model, device_type))
    return GridEstimate(runs)


def describe(estimate: GridEstimate, gpu: str = "A10G", utilization: float = DEFAULT_UTILIZATION) -> str:
    """A few lines for --dry-run: FLOPs and the GPU-hours they mean at a stated utilisation."""
    train_hi, train_lo, infer, test = (
        estimate.train_flops,
        estimate.train_flops_min,
        estimate.infer_flops,
        estimate.test_flops,
    )
    al_lo, al_hi = estimate.al_flops_min, estimate.al_flops
    stop = estimate.stop_set_flops
    all_lo, all_hi = train_lo + infer + stop + test, train_hi + infer + stop + test  # all compute, test included
    lines = [
        f"estimated training FLOPs: {train_lo:.3e} – {train_hi:.3e} (HybridAL switching at its earliest round … never)",
        f"estimated AL cost (training + scoring + the passes a policy reads): {al_lo:.3e} – {al_hi:.3e}",
        f"estimated inference FLOPs besides test (scoring, policy, validation read by no policy): {infer:.3e}",
        f"estimated stop-set FLOPs (every round's stability pass; AL cost only where a policy reads it): {stop:.3e}",
        f"labels: {estimate.labels} acquired, {estimate.labels_used} used "
        "(validation labels a ΔF1 rule reads are charged)",
        f"estimated test-evaluation FLOPs (reported apart, not AL cost): {test:.3e} = "
        f"{test / max(all_hi, 1):.1%} – {test / max(all_lo, 1):.1%} of all compute",
        f"estimated GPU time on {gpu} ({GPU_PEAK_TFLOPS[gpu]:.0f} TFLOP/s bf16 peak) "
        f"at {utilization:.0%} utilisation, test included: "
        f"{gpu_hours(all_lo, gpu, utilization):.2f} – {gpu_hours(all_hi, gpu, utilization):.2f} GPU-hours",
    ]
    if not estimate.exact:
        lines.append(
            "note: some datasets could not be read here; their lengths are typical values, "
            "so the estimate is approximate."
        )
    return "\n".join(lines)
