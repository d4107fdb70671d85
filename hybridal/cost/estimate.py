"""Cost before launch: a run's training and inference FLOPs from the round schedule.

The estimate uses the same FLOPs model as the runs (hybridal.model.flops), the real token lengths of
the dataset when it can be read here (otherwise typical lengths, flagged as approximate), and
the batch shapes the engine will form: training batches bucketed by length within shuffled
windows, length-sorted inference batches. HybridAL's switch round is unknown before it runs, so its
training cost is a range: never switching (upper) to switching at the earliest round (lower: k+1, or
k+2 with `monitor: acquired`). Inference is split as the records split it (docs/accounting.md):
scoring and the passes the ΔF1 rule reads to decide (`policy_flops`, a range like training's: the
rule reads its monitor until it decides) are AL cost; validation read by no policy and test
evaluation (`test_flops`) are measurement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hybridal.cost.batch_flops import inference_max_tokens, inference_pass_flops, train_epoch_flops, training_window
from hybridal.config import ExperimentConfig
from hybridal.model.flops import FlopsModel
from hybridal.samplers import build_sampler
from hybridal.samplers.base import EMBEDDINGS, LABELED_EMBEDDINGS, LOG_PROBS, MC_PROBS, PROBS
from hybridal.loop.schedule import RoundStep, round_plan
from hybridal.strategies import DeltaF1Strategy, strategy_for

# Dense bf16 tensor-core peaks (vendor datasheets, TFLOP/s) for the GPU-hour estimate.
GPU_PEAK_TFLOPS = {"A10G": 125.0, "L4": 121.0, "A100": 312.0, "H100": 989.0, "T4": 65.0}
DEFAULT_UTILIZATION = 0.3   # a typical achieved fraction of peak for small encoder fine-tuning

# Architectures of common hub models, so a dry run needs no download.
KNOWN_ARCHITECTURES = {
    "distilbert-base-uncased": dict(model_type="distilbert", hidden_size=768, num_layers=6, num_heads=12, intermediate_size=3072),
    "bert-base-uncased": dict(model_type="bert", hidden_size=768, num_layers=12, num_heads=12, intermediate_size=3072),
    "roberta-base": dict(model_type="roberta", hidden_size=768, num_layers=12, num_heads=12, intermediate_size=3072),
}
# Used only when the dataset cannot be read here: (pool rows, test rows, mean tokens), approximate.
TYPICAL_DATASETS = {"agnews": (120_000, 7_600, 52), "imdb": (25_000, 25_000, 300), "jigsaw": (159_571, 63_978, 95)}


@dataclass
class SplitLengths:
    pool: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    exact: bool     # True: real token lengths; False: typical lengths (approximate)
    test_labels: Optional[np.ndarray] = None   # when known, the per-round test rows are the run's own


@dataclass
class RunEstimate:
    train_flops: int        # upper bound for deltaf1 (never switches)
    train_flops_min: int    # deltaf1 switching at its earliest round; equals train_flops otherwise
    infer_flops: int        # scoring, validation and monitor passes (test apart, as in the records)
    rounds: int
    labels: int             # labels acquired
    exact_lengths: bool
    test_flops: int = 0     # per-round test evaluations and the final full-split one
    plan: list[RoundStep] = field(default_factory=list)                  # the rounds costed (deltaf1: never switching)
    plan_earliest_switch: list[RoundStep] = field(default_factory=list)  # deltaf1 switching as early as it can
    scoring_flops: int = 0       # AL cost: the sampler's scoring passes
    policy_flops: int = 0        # AL cost: monitor passes the ΔF1 rule reads, never deciding (upper)
    policy_flops_min: int = 0    # … deciding at its earliest round (lower)
    labels_read_by_policy: int = 0   # validation labels the ΔF1 rule reads (monitor: validation)

    @property
    def al_flops(self) -> int:
        """The AL cost's upper bound: training + scoring + policy, as the records' cum_total_flops."""
        return self.train_flops + self.scoring_flops + self.policy_flops

    @property
    def al_flops_min(self) -> int:
        return self.train_flops_min + self.scoring_flops + self.policy_flops_min

    @property
    def labels_used(self) -> int:
        return self.labels + self.labels_read_by_policy


def flops_model_for(cfg: ExperimentConfig, num_labels: int) -> FlopsModel:
    known = KNOWN_ARCHITECTURES.get(cfg.model_name_or_path)
    if known is not None:
        return FlopsModel(num_labels=num_labels, embedding_size=known["hidden_size"], **known)
    from hybridal.model.pretrained import load_model_config

    return FlopsModel.from_config(load_model_config(cfg.model_name_or_path, num_labels), num_labels)


def split_lengths(cfg: ExperimentConfig) -> tuple[SplitLengths, int]:
    """Token lengths of the run's splits, and the number of labels."""
    try:
        from hybridal.loop.run_parts import load_run_splits
        from hybridal.model.pretrained import load_tokenizer
        from hybridal.data.tokenization import tokenize_cached

        splits = load_run_splits(cfg)
        tokenizer = load_tokenizer(cfg.model_name_or_path)
        lengths = [tokenize_cached(getattr(splits, s).texts, tokenizer, cfg.max_length)[0].lengths for s in ("pool", "validation", "test")]
        return SplitLengths(*lengths, exact=True, test_labels=splits.test.labels), splits.num_labels
    except Exception:
        if cfg.data not in TYPICAL_DATASETS:
            raise
    n_pool, n_test, mean = TYPICAL_DATASETS[cfg.data]
    if cfg.max_train_size:
        n_pool = min(n_pool, cfg.max_train_size)
    if cfg.max_test_size:
        n_test = min(n_test, cfg.max_test_size)
    n_val = min(1000, round(0.1 * n_pool)) if cfg.val_size is None else int(cfg.val_size if cfg.val_size >= 1 else cfg.val_size * n_pool)
    width = min(cfg.max_length, mean)
    fill = lambda n: np.full(n, width, dtype=np.int64)
    labels = cfg.num_labels or {"agnews": 4}.get(cfg.data, 2)
    return SplitLengths(fill(n_pool - n_val), fill(n_val), fill(n_test), exact=False), labels


def earliest_switch_round(k: int, monitor: str) -> int:
    """The first round HybridAL can train with `after` (docs/design.md §4): Δ is first defined at
    round 1, so count >= k first after round k and the switch is k+1; with `monitor: acquired` the
    monitor set is empty at round 0, Δ is first defined at round 2, and the switch is k+2."""
    first_delta = 2 if monitor == "acquired" else 1
    return first_delta + k


def flops_of_test_evaluations(cfg: ExperimentConfig, lengths: SplitLengths, plan: list[RoundStep], model: FlopsModel,
                              pad_to: Optional[int], max_tokens: Optional[int], rng: np.random.Generator) -> int:
    """FLOPs of the run's test evaluations: the rows each planned round evaluates."""
    from hybridal.data.splits import per_round_test_rows

    full = inference_pass_flops(lengths.test, cfg.eval_batch_size, model, pad_to, max_tokens)
    costs = {"full": full, None: 0}
    if any(step.test_rows == "subsample" for step in plan):
        n_test = len(lengths.test)
        rows = (per_round_test_rows(lengths.test_labels, cfg.test_subsample_size, cfg.seed) if lengths.test_labels is not None
                else rng.choice(n_test, size=cfg.test_subsample_size, replace=False))
        costs["subsample"] = inference_pass_flops(lengths.test[rows], cfg.eval_batch_size, model, pad_to, max_tokens)
    return sum(costs[step.test_rows] for step in plan)


def train_flops(cfg: ExperimentConfig, lengths: SplitLengths, plan: list[RoundStep], model: FlopsModel, pad_to: Optional[int]) -> int:
    """Expected training FLOPs of the planned rounds."""
    return sum(round_train_flops(cfg, lengths, plan, model, pad_to))


def round_train_flops(cfg: ExperimentConfig, lengths: SplitLengths, plan: list[RoundStep], model: FlopsModel,
                      pad_to: Optional[int]) -> list[int]:
    """Expected training FLOPs of each planned round (what a shared-prefix sweep splits between
    a trunk and its forks)."""
    window = training_window()
    return [step.epochs * train_epoch_flops(lengths.pool, step.train_rows, cfg.batch_size, window, model, pad_to)
            for step in plan]


@dataclass
class InferencePasses:
    """Expected FLOPs of a plan's non-test passes, per part (docs/accounting.md)."""
    scoring: int
    monitor: list[int]       # per round: the pass the ΔF1 rule reads (validation, or the acquired monitor)
    total: int               # scoring + validation + acquired-monitor passes

    def policy(self, decided_round: Optional[int]) -> int:
        """The monitor passes a rule reads until it decides at `decided_round` (None: never)."""
        return sum(self.monitor[:decided_round] if decided_round is not None else self.monitor)


def al_inference_flops(cfg: ExperimentConfig, lengths: SplitLengths, plan: list[RoundStep], model: FlopsModel,
                       pad_to: Optional[int], max_tokens: Optional[int], rng: np.random.Generator) -> InferencePasses:
    """Expected FLOPs of the planned scoring, validation and monitor passes."""
    sampler = build_sampler(cfg.sampler_class, **cfg.sampler_kwargs)
    n_pool = len(lengths.pool)

    def passes(rows: np.ndarray) -> int:
        return inference_pass_flops(rows, cfg.eval_batch_size, model, pad_to, max_tokens)

    val_cost = passes(lengths.validation)
    forward_needed = bool(sampler.requires & {PROBS, LOG_PROBS, EMBEDDINGS})
    scoring_passes = int(forward_needed) + (sampler.mc_passes if MC_PROBS in sampler.requires else 0)
    scoring, total, labeled, monitored, monitor = 0, 0, 0, 0, []
    for step in plan:
        if step.round > 0 and step.n_query and scoring_passes:   # random sampling scores nothing: skip the (slow) estimate
            unlabeled = n_pool - labeled - step.n_monitor
            scored = min(unlabeled, cfg.candidate_pool_size or unlabeled)
            scoring += scoring_passes * passes(lengths.pool[rng.choice(n_pool, size=scored, replace=False)])
        if step.round > 0 and step.n_query and LABELED_EMBEDDINGS in sampler.requires:
            scoring += passes(lengths.pool[rng.choice(n_pool, size=labeled - monitored, replace=False)])
        labeled += step.n_new
        monitored += step.n_monitor
        total += val_cost
        if step.monitor == "acquired":
            monitor.append(passes(lengths.pool[:monitored]) if monitored else 0)
            total += monitor[-1]
        else:
            monitor.append(val_cost)
    return InferencePasses(scoring, monitor, scoring + total)


def estimate_run(cfg: ExperimentConfig, lengths: SplitLengths, model: FlopsModel, device_type: str = "cpu") -> RunEstimate:
    """Expected FLOPs of one run on a `device_type` ('cpu' or 'cuda') machine, from its round schedule."""
    rng = np.random.default_rng(cfg.seed)
    pad_to = cfg.max_length if cfg.fixed_padding else None
    max_tokens = inference_max_tokens(device_type)
    strategy = strategy_for(cfg)
    n_pool, n_test = len(lengths.pool), len(lengths.test)
    never = round_plan(cfg, n_pool, n_test, switch_round=None)
    earliest = (round_plan(cfg, n_pool, n_test, switch_round=earliest_switch_round(strategy.k, cfg.monitor))
                if isinstance(strategy, DeltaF1Strategy) else never)
    upper = train_flops(cfg, lengths, never, model, pad_to)
    lower = train_flops(cfg, lengths, earliest, model, pad_to) if earliest is not never else upper
    infer = al_inference_flops(cfg, lengths, never, model, pad_to, max_tokens, rng)
    test = flops_of_test_evaluations(cfg, lengths, never, model, pad_to, max_tokens, rng)
    # The rule reads its monitor until it decides: every round if it never does, else the rounds
    # before its earliest switch (the guard can only delay a decision, so this bound holds with it).
    deciding = isinstance(strategy, DeltaF1Strategy)
    earliest_decision = earliest_switch_round(strategy.k, cfg.monitor) if deciding else None
    policy_hi = infer.policy(None) if deciding else 0
    policy_lo = infer.policy(earliest_decision) if deciding else 0
    validation_rows = len(lengths.validation) if deciding and cfg.monitor == "validation" else 0
    return RunEstimate(int(upper), int(lower), int(infer.total), len(never), sum(s.n_new for s in never), lengths.exact,
                       int(test), plan=never, plan_earliest_switch=earliest, scoring_flops=int(infer.scoring),
                       policy_flops=int(policy_hi), policy_flops_min=int(policy_lo), labels_read_by_policy=validation_rows)


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
    cache: dict = {}
    runs = []
    for cfg in configs:
        key = (cfg.data, cfg.text_column, cfg.label_column, str(cfg.data_kwargs), cfg.seed, cfg.val_size,
               cfg.max_train_size, cfg.max_test_size, cfg.model_name_or_path, cfg.max_length)
        if key not in cache:
            lengths, num_labels = split_lengths(cfg)
            cache[key] = (lengths, flops_model_for(cfg, num_labels))
        lengths, model = cache[key]
        runs.append(estimate_run(cfg, lengths, model, device_type))
    return GridEstimate(runs)


def describe(estimate: GridEstimate, gpu: str = "A10G", utilization: float = DEFAULT_UTILIZATION) -> str:
    """A few lines for --dry-run: FLOPs and the GPU-hours they mean at a stated utilisation."""
    train_hi, train_lo, infer, test = estimate.train_flops, estimate.train_flops_min, estimate.infer_flops, estimate.test_flops
    al_lo, al_hi = estimate.al_flops_min, estimate.al_flops
    lines = [
        f"estimated training FLOPs: {train_lo:.3e} – {train_hi:.3e} (HybridAL switching at its earliest round … never)",
        f"estimated AL cost (training + scoring + the passes a policy reads): {al_lo:.3e} – {al_hi:.3e}",
        f"estimated inference FLOPs besides test (scoring, policy, validation read by no policy): {infer:.3e}",
        f"labels: {estimate.labels} acquired, {estimate.labels_used} used (validation labels a ΔF1 rule reads are charged)",
        f"estimated test-evaluation FLOPs (reported apart, not AL cost): {test:.3e} = "
        f"{test / max(train_hi + infer + test, 1):.1%} – {test / max(train_lo + infer + test, 1):.1%} of all compute",
        f"estimated GPU time on {gpu} ({GPU_PEAK_TFLOPS[gpu]:.0f} TFLOP/s bf16 peak) at {utilization:.0%} utilisation, test included: "
        f"{gpu_hours(train_lo + infer + test, gpu, utilization):.2f} – {gpu_hours(train_hi + infer + test, gpu, utilization):.2f} GPU-hours",
    ]
    if not estimate.exact:
        lines.append("note: some datasets could not be read here; their lengths are typical values, so the estimate is approximate.")
    return "\n".join(lines)
