"""Final test macro-F1 of the whole AL run on the prototype's config, over several seeds, paired
by seed: no timing, no lockstep, only the F1 comparison of run.py's part 3 (issue 21, item 6).

Each (side, seed) is one whole run in its own process, on run.py's `PROTOTYPE_RUN` config with
`seed` changed (the seed draws the splits, the initial pool, the head's init, the candidates,
the shuffles and the dropout masks, on every side alike):

- `ours_bf16`: our engine with its defaults, `precision: bf16` (what `precision: auto` resolves
  to on a CPU with native bf16; the parent records what `auto` resolves to here, probed once
  before any run, since a probe under the other jobs' load could flip it);
- `ours_fp32`: our engine, `precision: fp32`;
- `prototype`: the prototype's pipeline (prototype.py, `f1_only`: its unused passes skipped);
- ablations: `ours_fp32_noclip` (`max_grad_norm: null`), `ours_fp32_nodropout` (our engine
  trained in eval mode, as the prototype trains; the engine itself always trains with dropout),
  `ours_fp32_proto_recipe` (both: the prototype's training recipe in our engine),
  `prototype_dropout` (the prototype's loop with `model.train()`).

Every run writes a raw JSON (per-round validation F1, training loss, labels per class, our
per-round test F1 on the 2,000-row subsample, the final full-test F1 and predictions) under
`--raw-dir`; an existing raw file is reused and a run another driver is running (its live
`.running` file) is left to it, so an interrupted run resumes and drivers can share the
machine (`--summary-only` then summarizes what is there). The summary
(`--out`) holds per-seed F1 per side and, for each comparison, the per-seed differences and
their mean with a 95% t-interval over seeds (`paired_interval`).

    python -m benchmarks.f1_parity --seeds 42 43 44 [--sides ...] [--jobs 2] [--threads 1] [--out F.json]
    python -m benchmarks.run --f1-seeds 42 43 44 [--f1-sides ...] [--f1-jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

import benchmarks.common  # noqa: F401  (the environment, before torch)
from benchmarks.common import load_avg
from hybridal.atomic_write import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
SIDES = {
    "ours_bf16": dict(engine="ours", precision="bf16"),
    "ours_fp32": dict(engine="ours", precision="fp32"),
    "prototype": dict(engine="prototype"),
    "ours_fp32_noclip": dict(engine="ours", precision="fp32", overrides={"max_grad_norm": None}),
    "ours_fp32_nodropout": dict(engine="ours", precision="fp32", dropout=False),
    "ours_fp32_proto_recipe": dict(engine="ours", precision="fp32", dropout=False, overrides={"max_grad_norm": None}),
    "prototype_dropout": dict(engine="prototype", dropout=True),
}
MAIN_SIDES = ("ours_bf16", "ours_fp32", "prototype")
# (a, b): a - b, each paired by seed; only pairs whose sides both ran are reported.
COMPARISONS = [
    ("ours_bf16", "prototype"),
    ("ours_fp32", "prototype"),
    ("ours_bf16", "ours_fp32"),
    ("ours_fp32_noclip", "ours_fp32"),
    ("ours_fp32_nodropout", "ours_fp32"),
    ("ours_fp32_nodropout", "prototype"),
    ("ours_fp32_proto_recipe", "ours_fp32"),
    ("ours_fp32_proto_recipe", "prototype"),
    ("prototype_dropout", "prototype"),
    ("ours_fp32", "prototype_dropout"),
]


def t_quantile(p: float, df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(p, df))


def paired_interval(a: dict, b: dict, level: float = 0.95) -> dict:
    """a - b over the seeds both have (dicts seed -> value): per-seed differences, their mean,
    sample SD and the two-sided t-interval of the mean (None with fewer than 2 seeds)."""
    seeds = sorted(set(a) & set(b), key=lambda s: int(s))
    diffs = [float(a[s]) - float(b[s]) for s in seeds]
    out = {
        "seeds": seeds,
        "per_seed": dict(zip(seeds, diffs)),
        "n": len(diffs),
        "mean": float(np.mean(diffs)) if diffs else None,
        "sd": None,
        "ci_low": None,
        "ci_high": None,
        "level": level,
    }
    if len(diffs) >= 2:
        sd = float(np.std(diffs, ddof=1))
        half = t_quantile(0.5 + level / 2, len(diffs) - 1) * sd / np.sqrt(len(diffs))
        out.update(sd=sd, half_width=float(half), ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    return out


def run_spec(quick: bool, seed: int) -> dict:
    from benchmarks.common import SIZES

    return dict(SIZES["quick" if quick else "full"]["al"], seed=seed)


# ---- one whole run, in this process ------------------------------------------------------


def eval_mode_training(model) -> None:
    """Make `model.train()` leave the model in eval mode (dropout off), as the prototype trains."""
    from torch import nn

    model.train = types.MethodType(lambda self, mode=True: nn.Module.train(self, False), model)


def run_ours(side: dict, spec: dict, device: str) -> dict:
    import hybridal.model.training as training
    from benchmarks.al_workers import OursWorker

    losses = []
    real = training.train_epochs

    def recording(*args, **kwargs):
        stats = real(*args, **kwargs)
        losses.append((stats.mean_loss, getattr(stats, "epoch_losses", None)))
        return stats

    training.train_epochs = recording
    spec = dict(spec, ours_overrides={**spec.get("ours_overrides", {}), **side.get("overrides", {})})
    worker = OursWorker(spec, device, side["precision"])
    prep = worker.prepare()
    if side.get("dropout", True) is False:
        eval_mode_training(worker.al.parts.model.model)
    rounds, r = [], 0
    while not worker.al.finished:
        out = worker.round(r)
        labels = worker.al.parts.labels["pool"][worker.al.pool.train_indices()]
        out.update(
            train_loss=losses[-1][0],
            train_epoch_losses=losses[-1][1],
            label_counts=np.bincount(labels, minlength=worker.al.parts.num_labels).tolist(),
        )
        rounds.append(out)
        r += 1
    return {"precision": prep["precision"], "rounds": rounds}


def run_prototype(side: dict, spec: dict, device: str) -> dict:
    from benchmarks.prototype import PrototypeWorker

    worker = PrototypeWorker(dict(spec, f1_only=True, train_dropout=side.get("dropout", False)), device)
    prep = worker.prepare()
    rounds = [worker.round(r) for r in range(spec["total_rounds"])]
    return {"precision": prep["precision"], "rounds": rounds}


def run_one(name: str, seed: int, device: str, quick: bool) -> dict:
    side, sources = SIDES[name], engine_sources_hash()  # at the run's start
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        spec = dict(run_spec(quick, seed), save_dir=tmp)
        result = (run_ours if side["engine"] == "ours" else run_prototype)(side, spec, device)
    rounds, last = result["rounds"], result["rounds"][-1]
    keep = ("n_labeled", "val_f1", "test_f1", "train_loss", "train_epoch_losses", "label_counts")
    return {
        "side": name,
        "seed": seed,
        "precision": result["precision"],
        "spec": {k: v for k, v in spec.items() if k != "save_dir"},
        "final_test_f1": last["test_f1"],
        "test_predictions": last["test_predictions"],
        "test_labels": last.get("test_labels"),
        "rounds": [{k: x.get(k) for k in keep} for x in rounds],
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "engine_sources_sha256": sources,
    }


def engine_sources_hash() -> str:
    """Which hybridal/ sources this run imported (the engine may change between runs)."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "hybridal").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# ---- the driver: jobs in parallel processes, then the summary -----------------------------


def raw_path(raw_dir: Path, side: str, seed: int) -> Path:
    return raw_dir / f"{side}-{seed}.json"


def run_jobs(
    jobs: list[tuple[str, int]], raw_dir: Path, parallel: int, threads: int, device: str, quick: bool, log
) -> None:
    """Each job in its own process, `parallel` at a time, each with `threads` threads."""
    todo = list(jobs)
    running: dict = {}
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    while todo or running:
        while todo and len(running) < parallel:
            side, seed = todo.pop(0)
            if raw_path(raw_dir, side, seed).exists() or running_elsewhere(raw_dir, side, seed):
                continue  # done, or another driver runs it (its raw file is read at the end)
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.f1_parity",
                "--one",
                side,
                str(seed),
                "--raw-dir",
                str(raw_dir.parent),
                "--device",
                device,
                "--threads",
                str(threads),
            ] + (["--quick"] if quick else [])
            job_env = dict(env, HYBRIDAL_CACHE_DIR=str(raw_dir / "cache" / f"{side}-{seed}"))
            running[(side, seed)] = subprocess.Popen(cmd, env=job_env, cwd=ROOT)
            log(f"started {side} seed {seed}")
        time.sleep(2)
        for job, p in list(running.items()):
            if p.poll() is not None:
                del running[job]
                log(f"finished {job[0]} seed {job[1]} (exit code {p.returncode})")


def running_elsewhere(raw_dir: Path, side: str, seed: int) -> bool:
    """A live process holds this job's `.running` file (written by the child, see main)."""
    lock = raw_path(raw_dir, side, seed).with_suffix(".running")
    try:
        os.kill(int(lock.read_text()), 0)
        return True
    except (OSError, ValueError):
        return False


def summarize(raws: list[dict], auto_precision: str | None = None) -> dict:
    f1 = {}
    for x in raws:
        f1.setdefault(x["side"], {})[str(x["seed"])] = x["final_test_f1"]
    by = {(x["side"], str(x["seed"])): x for x in raws}
    comparisons = {}
    for a, b in COMPARISONS:
        if a in f1 and b in f1:
            c = paired_interval(f1[a], f1[b])
            if c["n"]:
                c["test_prediction_agreement"] = {
                    s: float(
                        np.mean(
                            np.asarray(by[(a, s)]["test_predictions"]) == np.asarray(by[(b, s)]["test_predictions"])
                        )
                    )
                    for s in c["seeds"]
                }
                comparisons[f"{a} - {b}"] = c
    sides = {
        name: {
            "final_test_f1": vals,
            "mean": float(np.mean(list(vals.values()))),
            "sd": float(np.std(list(vals.values()), ddof=1)) if len(vals) > 1 else None,
        }
        for name, vals in f1.items()
    }
    for name, side in sides.items():  # each round's validation F1 and training loss, mean over seeds
        rs = [x["rounds"] for x in raws if x["side"] == name]
        side["round_means"] = {
            k: [float(np.mean([r[i][k] for r in rs])) for i in range(min(map(len, rs)))]
            for k in ("val_f1", "train_loss")
        }
    keys = (
        "side",
        "seed",
        "precision",
        "final_test_f1",
        "rounds",
        "seconds",
        "cpu_seconds",
        "threads",
        "engine_sources_sha256",
    )
    runs = {f"{x['side']}-{x['seed']}": {k: x.get(k) for k in keys} for x in raws}
    return {"auto_precision": auto_precision, "sides": sides, "comparisons": comparisons, "runs": runs}


def print_summary(summary: dict) -> None:
    sides = summary["sides"]
    seeds = sorted({s for v in sides.values() for s in v["final_test_f1"]}, key=int)
    print(f"\nfinal test macro-F1 (full test split), `precision: auto` here = {summary['auto_precision']}")
    print(f"{'side':<24}" + "".join(f"{'seed ' + s:>11}" for s in seeds) + f"{'mean':>9}{'sd':>8}")
    for name, v in sides.items():
        cells = "".join(f"{v['final_test_f1'].get(s, float('nan')):>11.4f}" for s in seeds)
        print(f"{name:<24}{cells}{v['mean']:>9.4f}{v['sd'] if v['sd'] is not None else float('nan'):>8.4f}")
    print("\neach round, mean over seeds: validation macro-F1 | mean training loss")
    for name, v in sides.items():
        m = v["round_means"]
        print(
            f"{name:<24}"
            + " ".join(f"{x:.3f}" for x in m["val_f1"])
            + " | "
            + " ".join(f"{x:.3f}" for x in m["train_loss"])
        )
    print("\npaired by seed: mean difference [95% t-interval]; per seed")
    for name, c in summary["comparisons"].items():
        ci = f"[{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]" if c["ci_low"] is not None else "[n/a]"
        per = ", ".join(f"{s}: {d:+.4f}" for s, d in c["per_seed"].items())
        print(f"{name:<44} {c['mean']:+.4f} {ci}  ({per}; n={c['n']})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--sides", nargs="+", default=list(MAIN_SIDES), choices=list(SIDES))
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (each with cores/jobs threads)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--raw-dir", default=str(ROOT / "benchmarks" / "out" / "f1"))
    parser.add_argument("--out", default=None, help="write the summary to this JSON file")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not results")
    parser.add_argument("--summary-only", action="store_true", help="start no run: summarize the raw files present")
    parser.add_argument("--one", nargs=2, metavar=("SIDE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not os.environ.get("HYBRIDAL_DATA_DIR"):
        sys.exit("HYBRIDAL_DATA_DIR is not set: point it at the offline datasets (e.g. ../shared/data).")
    raw_dir = Path(args.raw_dir) / ("quick" if args.quick else "full")
    raw_dir.mkdir(parents=True, exist_ok=True)
    import torch

    if args.one:  # a child: one whole run
        if args.threads:
            torch.set_num_threads(args.threads)
        side, seed = args.one[0], int(args.one[1])
        lock = raw_path(raw_dir, side, seed).with_suffix(".running")
        lock.write_text(str(os.getpid()))
        out = run_one(side, seed, args.device, args.quick)
        out.update(threads=torch.get_num_threads(), load_end=load_avg())
        atomic_write_text(raw_path(raw_dir, side, seed), json.dumps(out) + "\n")
        lock.unlink(missing_ok=True)
        print(f"{side} seed {seed}: final test F1 {out['final_test_f1']:.4f} ({out['seconds']:.0f} s)", flush=True)
        return
    from hybridal.model.hardware import resolve_precision

    auto = resolve_precision("auto", torch.device(args.device))  # probed before any job loads the machine
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s, load {load_avg()[0]:.2f}] {msg}", flush=True)

    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    # the main sides first, seed by seed, the longest (prototype) runs first; then each ablation's seeds
    jobs = [(side, seed) for seed in args.seeds for side in args.sides if side in MAIN_SIDES]
    jobs.sort(key=lambda j: SIDES[j[0]]["engine"] != "prototype")
    jobs += [(side, seed) for side in args.sides if side not in MAIN_SIDES for seed in args.seeds]
    log(
        f"{len(jobs)} runs"
        + ("" if args.summary_only else f", {args.jobs} at a time with {threads} threads each")
        + f"; precision auto = {auto}"
    )
    if not args.summary_only:
        run_jobs(jobs, raw_dir, args.jobs, threads, args.device, args.quick, log)
    raws = [json.loads(raw_path(raw_dir, *j).read_text()) for j in jobs if raw_path(raw_dir, *j).exists()]
    summary = summarize(raws, auto)
    summary.update(
        mode="quick" if args.quick else "full",
        seeds=args.seeds,
        spec=run_spec(args.quick, 0) | {"seed": "per run"},
        device=args.device,
        torch=torch.__version__,
        cpu=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        jobs=None if args.summary_only else args.jobs,
        threads=None if args.summary_only else threads,
        command=" ".join(["python", "-m", "benchmarks.f1_parity"] + (argv if argv is not None else sys.argv[1:])),
    )
    print_summary(summary)
    if args.out:
        atomic_write_text(Path(args.out), json.dumps(summary, indent=2, default=float) + "\n")
        print(f"summary written to {args.out}")


if __name__ == "__main__":
    main()
