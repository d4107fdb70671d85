"""Cost before launch: a run's training and inference FLOPs from the round schedule.

The estimate uses the same FLOPs model as the runs (hybridal.flops), the real token lengths of
the dataset when it can be read here (otherwise typical lengths, flagged as approximate), and
the batch shapes the engine will form: training batches bucketed by length within shuffled
windows, length-sorted inference batches. HybridAL's switch round is unknown before it runs, so its
training cost is a range: never switching (upper) to switching at the earliest round (lower: k+1, or
k+2 with `monitor: acquired`). Test evaluation is estimated apart (`test_flops`): it is measurement,
not AL cost, as in the run records.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .config import ExperimentConfig
from .first_token import FIRST_TOKEN_HEADS
from .flops import FlopsModel
from .samplers import build_sampler
from .samplers.base import EMBEDDINGS, LABELED_EMBEDDINGS, LOG_PROBS, MC_PROBS, PROBS
from .strategies import DeltaF1Strategy, build_strategy

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
    labels: int
    exact_lengths: bool
    test_flops: int = 0     # per-round test evaluations and the final full-split one


def flops_model_for(cfg: ExperimentConfig, num_labels: int) -> FlopsModel:
    known = KNOWN_ARCHITECTURES.get(cfg.model_name_or_path)
    if known is not None:
        return FlopsModel(num_labels=num_labels, embedding_size=known["hidden_size"], **known)
    from .models import load_model_config

    return FlopsModel.from_config(load_model_config(cfg.model_name_or_path, num_labels), num_labels)


def split_lengths(cfg: ExperimentConfig) -> tuple[SplitLengths, int]:
    """Token lengths of the run's splits, and the number of labels."""
    try:
        from .data import load_named_or_path, make_run_splits
        from .models import load_tokenizer
        from .tokenization import tokenize_cached

        dataset = load_named_or_path(cfg.data, cfg.text_column, cfg.label_column, cfg.data_kwargs, cfg.seed, cfg.num_labels)
        splits = make_run_splits(dataset, cfg.seed, cfg.val_size, cfg.max_train_size, cfg.max_test_size)
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


def _sorted_batches_flops(lengths: np.ndarray, batch: int, model: FlopsModel, pad_to: Optional[int],
                          max_tokens: Optional[int] = None) -> int:
    """FLOPs of one inference pass, batched exactly as the engine batches it."""
    from .tokenization import TokenizedTexts, length_sorted_positions

    if len(lengths) == 0:
        return 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = TokenizedTexts(np.empty(0, dtype=np.int32), offsets)
    # The engine skips the last layer's non-first tokens on these heads (first_token.py).
    first_only = model.model_type in FIRST_TOKEN_HEADS
    total = 0
    for positions in length_sorted_positions(tokens, np.arange(len(lengths)), batch, None if pad_to else max_tokens):
        total += model.forward(len(positions), int(pad_to or lengths[positions].max()), first_only)
    return total


def inference_max_tokens(device_type: str) -> Optional[int]:
    """The engine's per-batch token budget for inference on this kind of device."""
    from .training import CPU_INFER_MAX_TOKENS

    return CPU_INFER_MAX_TOKENS if device_type == "cpu" else None


def expected_max_length(lengths: np.ndarray, batch: int) -> float:
    """E[longest row] of a batch of `batch` rows drawn at random from `lengths`.

    With F the empirical CDF, P(max <= L) = F(L)^batch (drawing with replacement, which is close
    for batches much smaller than the set).
    """
    values, counts = np.unique(lengths, return_counts=True)
    cdf = np.cumsum(counts) / counts.sum()
    below = np.concatenate([[0.0], cdf[:-1]])
    return float(np.sum(values * (cdf ** batch - below ** batch)))


def expected_order_statistic(lengths: np.ndarray, i: int, n: int) -> float:
    """E[i-th smallest of n rows drawn at random from `lengths`] (1-based; i = n is the maximum).

    P(X_(i) <= L) = P(Binomial(n, F(L)) >= i), with F the empirical CDF.
    """
    from scipy.stats import binom

    values, counts = np.unique(lengths, return_counts=True)
    cdf = np.cumsum(counts) / counts.sum()
    at_most = binom.sf(i - 1, n, cdf)
    return float(np.sum(values * np.diff(np.concatenate([[0.0], at_most]))))


def training_window() -> int:
    """How many batches the engine sorts by length together when it forms training batches."""
    from .training import Batching

    return int(Batching.__dataclass_fields__["train_window"].default)


def _train_epoch_flops(lengths: np.ndarray, rows: int, batch: int, window: int, model: FlopsModel, pad_to: Optional[int]) -> int:
    """Expected FLOPs of one epoch over `rows` rows like `lengths`, batched as the engine does:
    a random permutation cut into windows of `window` batches, each window sorted by length."""
    first_only = model.model_type in FIRST_TOKEN_HEADS   # as in _sorted_batches_flops
    total = 0
    span = max(1, window) * batch
    widths: dict[tuple[int, int], float] = {}   # full windows repeat the same order statistics
    for start in range(0, rows, span):
        n = min(span, rows - start)
        for first in range(0, n, batch):
            size = min(batch, n - first)
            if pad_to:
                width = pad_to
            elif window <= 1:
                width = expected_max_length(lengths, size)
            else:   # the batch's longest row is the (first + size)-th shortest of the window
                key = (first + size, n)
                if key not in widths:
                    widths[key] = expected_order_statistic(lengths, *key)
                width = widths[key]
            total += model.train_step(size, int(round(width)), first_only)
    return total


def earliest_switch_round(k: int, monitor: str) -> int:
    """The first round HybridAL can train with `after` (DESIGN.md section 4): Δ is first defined at
    round 1, so count >= k first after round k and the switch is k+1; with `monitor: acquired` the
    monitor set is empty at round 0, Δ is first defined at round 2, and the switch is k+2."""
    first_delta = 2 if monitor == "acquired" else 1
    return first_delta + k


def eval_plan_flops(cfg: ExperimentConfig, lengths: SplitLengths, rounds: int, model: FlopsModel,
                    pad_to: Optional[int], max_tokens: Optional[int], rng: np.random.Generator) -> int:
    """FLOPs of the run's test evaluations: the per-round rows every `test_every` rounds and the
    full split after the last round, as the engine plans them."""
    from .data import per_round_test_rows

    full = _sorted_batches_flops(lengths.test, cfg.eval_batch_size, model, pad_to, max_tokens)
    n_test = len(lengths.test)
    if cfg.test_subsample_size is None or cfg.test_subsample_size >= n_test:
        per_round = full
    else:
        rows = (per_round_test_rows(lengths.test_labels, cfg.test_subsample_size, cfg.seed) if lengths.test_labels is not None
                else rng.choice(n_test, size=cfg.test_subsample_size, replace=False))
        per_round = _sorted_batches_flops(lengths.test[rows], cfg.eval_batch_size, model, pad_to, max_tokens)
    curve_rounds = sum(1 for r in range(rounds - 1) if r % cfg.test_every == 0)
    return curve_rounds * per_round + full


def estimate_run(cfg: ExperimentConfig, lengths: SplitLengths, model: FlopsModel, device_type: str = "cpu") -> RunEstimate:
    """Expected FLOPs of one run on a `device_type` ('cpu' or 'cuda') machine."""
    rng = np.random.default_rng(cfg.seed)
    pad_to = cfg.max_length if cfg.fixed_padding else None
    strategy = build_strategy(cfg.strategy_class, **cfg.strategy_kwargs)
    sampler = build_sampler(cfg.sampler_class, **cfg.sampler_kwargs)
    n_pool = len(lengths.pool)
    monitor_per_batch = max(1, round(cfg.monitor_fraction * cfg.acquisition_batch_size)) if cfg.monitor == "acquired" else 0
    # The labels bought by each round, as the engine's stopping rules would (DESIGN.md section 2).
    bought = [cfg.initial_pool_size]
    while len(bought) < cfg.total_rounds:
        room = n_pool - sum(bought)
        if cfg.label_budget is not None:
            room = min(room, cfg.label_budget - sum(bought))
        if room <= 0:
            break
        bought.append(min(cfg.acquisition_batch_size, room))
    rounds = len(bought)
    switch_at = earliest_switch_round(strategy.k, cfg.monitor) if isinstance(strategy, DeltaF1Strategy) else None
    window = training_window()
    max_tokens = inference_max_tokens(device_type)

    def train_cost(mode_for_round) -> int:
        total, trained = 0, 0
        for r, n in enumerate(bought):
            new_train = n - (min(n, monitor_per_batch) if r else 0)
            mode = mode_for_round(r)
            if mode == "new_only":
                rows = new_train + min(cfg.replay, trained)
                epochs = cfg.epochs
            else:
                rows = trained + new_train
                epochs = cfg.steady_finetune_epochs if mode == "finetune" else cfg.epochs
            trained += new_train
            total += epochs * _train_epoch_flops(lengths.pool, rows, cfg.batch_size, window, model, pad_to)
        return total

    steady = getattr(strategy, "steady_mode", "retrain")
    after = strategy.after if isinstance(strategy, DeltaF1Strategy) else steady
    upper = train_cost(lambda r: "retrain" if r == 0 else steady)
    lower = train_cost(lambda r: after if r >= switch_at else "retrain") if switch_at is not None else upper

    infer = 0
    val_cost = _sorted_batches_flops(lengths.validation, cfg.eval_batch_size, model, pad_to, max_tokens)
    forward_needed = bool(sampler.requires & {PROBS, LOG_PROBS, EMBEDDINGS})
    scoring_passes = int(forward_needed) + (sampler.mc_passes if MC_PROBS in sampler.requires else 0)
    labeled = 0
    for r, n in enumerate(bought):
        if r > 0 and scoring_passes:   # random sampling scores nothing: skip the (slow) pass estimate
            unlabeled = n_pool - labeled
            scored = min(unlabeled - min(n, monitor_per_batch), cfg.candidate_pool_size or unlabeled)
            subset = lengths.pool[rng.choice(n_pool, size=scored, replace=False)]
            infer += scoring_passes * _sorted_batches_flops(subset, cfg.eval_batch_size, model, pad_to, max_tokens)
        if r > 0 and LABELED_EMBEDDINGS in sampler.requires:
            infer += _sorted_batches_flops(lengths.pool[rng.choice(n_pool, size=labeled, replace=False)], cfg.eval_batch_size, model, pad_to, max_tokens)
        labeled += n
        infer += val_cost
        if monitor_per_batch and r > 0:
            infer += _sorted_batches_flops(lengths.pool[:monitor_per_batch * r], cfg.eval_batch_size, model, pad_to, max_tokens)
    test = eval_plan_flops(cfg, lengths, rounds, model, pad_to, max_tokens, rng)
    return RunEstimate(int(upper), int(lower), int(infer), rounds, labeled, lengths.exact, int(test))


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
    lines = [
        f"estimated training FLOPs: {train_lo:.3e} – {train_hi:.3e} (HybridAL switching at its earliest round … never)",
        f"estimated AL inference FLOPs (scoring, validation, monitor): {infer:.3e}",
        f"estimated test-evaluation FLOPs (reported apart, not AL cost): {test:.3e} = "
        f"{test / max(train_hi + infer + test, 1):.1%} – {test / max(train_lo + infer + test, 1):.1%} of all compute",
        f"estimated GPU time on {gpu} ({GPU_PEAK_TFLOPS[gpu]:.0f} TFLOP/s bf16 peak) at {utilization:.0%} utilisation, test included: "
        f"{gpu_hours(train_lo + infer + test, gpu, utilization):.2f} – {gpu_hours(train_hi + infer + test, gpu, utilization):.2f} GPU-hours",
    ]
    if not estimate.exact:
        lines.append("note: some datasets could not be read here; their lengths are typical values, so the estimate is approximate.")
    return "\n".join(lines)
