"""Builders of synthetic experiment folders for the analysis tests (checked in tests/unit/test_analysis_fixtures.py).

`make_experiment` writes a sweep in either layout: Ray Tune trial folders (the run's own files
beside Ray's params.json, result.json, progress.csv, experiment_state-*.json) or plain
`hybridal run` folders (rounds.jsonl, summary.json, config.yaml). summary.json follows the
engine's contract: written when the run starts ("running") and at its end ("finished"), always
with "trial" (the canonical columns) and "config" (the whole engine config). Curves and costs
are simulated so that retrain is the most accurate and most expensive, new_only the cheapest,
and deltaf1 switches by the real ΔF1 rule on a noisy validation curve. Records are schema 2
(the AL cost charges scoring and the passes the rule reads; `labels_used` the validation rows it
reads); `as_schema1` turns them into what an older engine wrote.
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from hybridal.records import TRIAL_COLUMNS, RoundRecord

FLOPS_PER_SAMPLE = 6 * 22.7e6 * 128  # one training pass of one example (MiniLM-ish)
INFER_PER_SAMPLE = FLOPS_PER_SAMPLE / 3
INITIAL, BATCH = 200, 32
VAL_ROWS, SCORED_ROWS = 500, 2000  # the validation pass; the sampler's scoring pass (rounds >= 1)
CEILING = {"agnews": 0.90, "imdb": 0.86}


def config(
    dataset: str,
    strategy: str,
    seed: int,
    epsilon: Optional[float] = None,
    k: Optional[int] = None,
    after: Optional[str] = None,
    **over: Any,
) -> dict:
    """A canonical trial config (the flat dict a sweep puts in params.json / summary['trial'])."""
    cfg = {
        "dataset": dataset,
        "strategy": strategy,
        "after": after if strategy == "deltaf1" else None,
        "epsilon": epsilon,
        "k": k,
        "c": None,
        "monitor": "validation",
        "seed": seed,
        "model": "minilm",
        "sampler": "entropy",
        "epochs": 3,
        "finetune_epochs": 1,
        "replay": 0,
    }
    if strategy == "deltaf1" and after is None:
        cfg["after"] = "finetune"
    cfg.update(over)
    return cfg


def canonical(cfg: dict) -> dict:
    """The canonical columns the analysis reads for a `config` dict: it writes no guard (as runs before
    the guard existed), which the analysis reads as False for deltaf1 (the rule ran unguarded)."""
    guard = cfg.get("guard", False if cfg["strategy"] == "deltaf1" else None)
    return {c: (guard if c == "guard" else cfg[c]) for c in TRIAL_COLUMNS}


def simulate(cfg: dict, total_rounds: int = 8) -> list[dict]:
    """Round records (as dicts) for one run of `cfg`."""
    rng = np.random.default_rng(zlib.crc32(json.dumps(cfg, sort_keys=True).encode()))
    ceiling = CEILING.get(cfg["dataset"], 0.88)
    penalty = {"retrain": 0.0, "finetune": 0.012, "new_only": 0.05}
    records: list[dict] = []
    cum_train = cum_total = 0.0
    count, switched, prev_val, decided = 0, False, None, False
    reads_validation = cfg["strategy"] == "deltaf1" and cfg["monitor"] == "validation"
    for r in range(total_rounds):
        n = INITIAL + BATCH * r
        if cfg["strategy"] == "deltaf1":
            used = cfg["after"] if switched else "retrain"
        else:
            used = "retrain" if r == 0 else cfg["strategy"]
        base = ceiling - 0.35 * math.exp(-n / 160.0)
        # a run that switched keeps part of its gap to retrain
        val = base - penalty[used] * (0.6 if cfg["strategy"] == "deltaf1" else 1.0) + rng.normal(0, 0.004)
        test = val - 0.01 + rng.normal(0, 0.004)
        delta = None if prev_val is None else val - prev_val
        if delta is not None and cfg["strategy"] == "deltaf1" and not switched:
            count = count + 1 if abs(delta) < cfg["epsilon"] else 0
        samples = {
            "retrain": cfg["epochs"] * n,
            "finetune": cfg["finetune_epochs"] * n,
            "new_only": cfg["epochs"] * (BATCH if r else n),
        }[used]
        train_flops = samples * FLOPS_PER_SAMPLE
        validation = int(VAL_ROWS * INFER_PER_SAMPLE)
        scoring = int(SCORED_ROWS * INFER_PER_SAMPLE) if r else 0
        policy = validation if reads_validation and not decided else 0
        cum_train += train_flops
        cum_total += int(train_flops) + scoring + policy
        read = VAL_ROWS if reads_validation else 0
        rec = RoundRecord(
            round=r,
            n_labeled=n,
            n_new=INITIAL if r == 0 else BATCH,
            strategy_used=used,
            switched=switched,
            val_f1=round(val, 5),
            val_accuracy=round(val + 0.005, 5),
            val_loss=round(1 - val, 5),
            delta_f1=None if delta is None else round(delta, 5),
            stable_count=count,
            test_f1=round(test, 5),
            test_accuracy=round(test + 0.006, 5),
            train_samples=samples,
            train_tokens=samples * 128,
            train_flops=int(train_flops),
            cum_train_flops=int(cum_train),
            infer_flops=scoring + validation,
            cum_total_flops=int(cum_total),
            train_seconds=samples / 21.0,
            query_seconds=2.0,
            eval_seconds=5.0,
            wall_seconds=samples / 21.0 + 7.0,
            monitor_f1=round(val, 5),
            schema_version=2,
            flops_scoring=scoring,
            flops_policy=policy,
            flops_validation=validation - policy,
            flops_monitor=validation,
            labels_acquired=n,
            labels_read_by_policy=read,
            labels_used=n + read,
            degenerate=False,
        ).to_dict()
        records.append(rec)
        if cfg["strategy"] == "deltaf1" and not switched and count >= cfg["k"]:
            switched = decided = True
        prev_val = val
    return records


def as_schema1(records: list[dict]) -> list[dict]:
    """What an engine before schema 2 wrote: no schema-2 fields, and every non-test pass in the AL cost."""
    out, cum = [], 0
    v2 = {
        "schema_version",
        "flops_scoring",
        "flops_policy",
        "flops_validation",
        "flops_monitor",
        "labels_acquired",
        "labels_read_by_policy",
        "labels_used",
        "train_loss",
        "train_loss_per_epoch",
        "labels_per_class",
        "val_pred_counts",
        "test_pred_counts",
        "degenerate",
        "monitor_degenerate",
    }
    for r in records:
        cum += r["train_flops"] + r["infer_flops"]
        out.append({k: v for k, v in r.items() if k not in v2} | {"cum_total_flops": cum})
    return out


def switch_round_of(records: list[dict]) -> Optional[int]:
    return next((r["round"] for r in records if r.get("switched")), None)


def engine_config(cfg: dict, total_rounds: int = 8, engine: Optional[dict] = None) -> dict:
    """The full run config in ExperimentConfig field names (config.yaml; a Ray trial's `engine`);
    `engine` overrides some of its keys."""
    kwargs = {k: cfg[k] for k in ("epsilon", "k", "after") if cfg.get(k) is not None}
    return {
        "seed": cfg["seed"],
        "experiment_name": f"run_{cfg['seed']}",
        "save_dir": "./experiments",
        "total_rounds": total_rounds,
        "data": cfg["dataset"],
        "model_name_or_path": cfg["model"],
        "tokenizer_kwargs": {"max_length": 128},
        "strategy_class": cfg["strategy"],
        "strategy_kwargs": kwargs,
        "finetune_epochs": cfg.get("finetune_epochs"),
        "replay": cfg.get("replay"),
        "monitor": cfg["monitor"],
        "monitor_fraction": 0.1,
        "sampler_class": cfg["sampler"],
        "sampler_kwargs": {"seed": cfg["seed"]},
        "epochs": cfg["epochs"],
        "optimizer_kwargs": {"lr": 5e-5, "weight_decay": 0.01},
    } | (engine or {})


def run_config_yaml(cfg: dict, total_rounds: int = 8, engine: Optional[dict] = None) -> str:
    """config.yaml as `hybridal run` writes it (ExperimentConfig field names, not the canonical ones)."""
    return "".join(
        f"{k}: {json.dumps(v)}\n" for k, v in engine_config(cfg, total_rounds, engine).items()
    )  # JSON is YAML


def summary_json(cfg: dict, records: list[dict], total_rounds: int, engine: Optional[dict] = None) -> dict:
    """summary.json as the engine writes it: "running" until the last round, then "finished" with
    the final test metrics (a running one holds them empty, as the engine's does)."""
    finished = len(records) >= total_rounds
    last = records[-1] if finished and records else {}
    return {
        "status": "finished" if finished else "running",
        "trial": cfg,
        "config": engine_config(cfg, total_rounds, engine),
        "rounds": len(records),
        "switch_round": switch_round_of(records),
        "final_test": {
            "f1": last.get("test_f1"),
            "accuracy": last.get("test_accuracy"),
            "loss": 0.4 if finished else None,
        },
        "data": {"validation": VAL_ROWS},
    }


def write_run(
    folder: Path,
    cfg: dict,
    records: list[dict],
    finished: bool = True,
    engine: Optional[dict] = None,
    total_rounds: Optional[int] = None,
) -> Path:
    """A `hybridal run` output folder; `engine` overrides keys of its engine config. An unfinished
    run has `total_rounds` (default: two more than recorded) and a "running" summary.json."""
    total = total_rounds if total_rounds is not None else len(records) + (0 if finished else 2)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "config.yaml").write_text(run_config_yaml(cfg, total, engine))
    (folder / "summary.json").write_text(json.dumps(summary_json(cfg, records, total, engine)))
    return folder


def write_ray_trial(
    exp: Path,
    name: str,
    cfg: dict,
    records: list[dict],
    total_rounds: int,
    error: Optional[str] = None,
    engine: Optional[dict] = None,
    run_files: bool = True,
) -> Path:
    """A sweep trial folder as Ray 2.x and the trainable write it: the run's own files (unless
    `run_files` is False: the trial failed before its run began) beside Ray's params.json,
    result.json, progress.csv and, where it failed, error.txt."""
    d = exp / name
    d.mkdir(parents=True, exist_ok=True)
    if run_files:
        write_run(d, cfg, records, finished=len(records) >= total_rounds, engine=engine, total_rounds=total_rounds)
    # as the sweep writes it: canonical columns, total_rounds, trial_name, the nested engine config
    params = dict(cfg) | {
        "total_rounds": total_rounds,
        "trial_name": name,
        "engine": engine_config(cfg, total_rounds, engine),
    }
    (d / "params.json").write_text(json.dumps(params, indent=2))
    lines = []
    t = 0.0
    for i, r in enumerate(records):
        t += r.get("wall_seconds", 1.0) or 1.0
        lines.append(
            json.dumps(
                r
                | {
                    "timestamp": 1795554494 + i,
                    "checkpoint_dir_name": f"checkpoint_{i:06d}",
                    "done": False,
                    "training_iteration": i + 1,
                    "trial_id": "_".join(name.split("_")[1:3]) or name,
                    "time_total_s": t,
                    "config": params,
                }
            )
        )
    (d / "result.json").write_text("".join(line + "\n" for line in lines))
    if records:
        keys = list(records[0])
        (d / "progress.csv").write_text(
            ",".join(keys)
            + "\n"
            + "".join(",".join("" if r.get(k) is None else str(r.get(k)) for k in keys) + "\n" for r in records)
        )
    (d / "params.pkl").write_bytes(b"\x80\x05N.")  # never read
    if error:
        (d / "error.txt").write_text(f"Failure # 1\nTraceback (most recent call last):\n  ...\n{error}\n")
    return d


def write_ray_state(exp: Path, entries: Iterable[tuple[str, str, str]]) -> None:
    """experiment_state-*.json with (trial_id, status, relative_logdir) entries, as Ray writes it."""
    data = [
        [
            json.dumps(
                {
                    "trial_id": tid,
                    "status": st,
                    "relative_logdir": rel,
                    "storage": {"_type": "CLOUDPICKLE_FALLBACK", "value": "8005"},
                }
            ),
            json.dumps({"num_failures": 0}),
        ]
        for tid, st, rel in entries
    ]
    (exp / "experiment_state-2026-11-24_21-08-09.json").write_text(
        json.dumps({"trial_data": data, "runner_data": "{}"})
    )
    (exp / "tuner.pkl").write_bytes(b"\x80\x05N.")
    (exp / "basic-variant-state-2026-11-24_21-08-09.json").write_bytes(b"\x80\x05N.")


def grid(
    datasets=("agnews", "imdb"),
    seeds=(1, 2, 3),
    epsilons=(0.005, 0.01, 0.02),
    ks=(1, 2),
    afters=("finetune",),
    sampler: str = "entropy",
) -> list[dict]:
    """The sweep grid: baselines x seeds, and deltaf1 x after x epsilon x k x seeds."""
    cfgs = []
    for ds in datasets:
        for seed in seeds:
            for s in ("retrain", "finetune", "new_only"):
                cfgs.append(config(ds, s, seed, sampler=sampler))
            for after in afters:
                for e in epsilons:
                    for k in ks:
                        cfgs.append(config(ds, "deltaf1", seed, epsilon=e, k=k, after=after, sampler=sampler))
    return cfgs


def make_experiment(root: Path, layout: str = "ray", total_rounds: int = 8, **grid_kw: Any) -> Path:
    """Write a whole synthetic sweep under `root` in the given layout; return `root`."""
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, cfg in enumerate(grid(**grid_kw)):
        records = simulate(cfg, total_rounds)
        tag = f"{cfg['dataset']}_{cfg['strategy']}_e{cfg['epsilon']}_k{cfg['k']}_s{cfg['seed']}"
        if layout == "ray":
            name = f"trainable_abc12_{i:05d}_{i}_{tag}"
            write_ray_trial(root, name, cfg, records, total_rounds)
            entries.append((f"abc12_{i:05d}", "TERMINATED", name))
        else:
            write_run(root / cfg["dataset"] / tag, cfg, records)
    if layout == "ray":
        write_ray_state(root, entries)
    return root
