"""The whole AL run on the prototype's own config: our defaults, ours in fp32 and the prototype's
pipeline, three worker processes in lockstep (one step of each in turn, the order rotating; only
one computes at a time), each with a cold tokenization cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.al_workers import KINDS
from benchmarks.common import paired_bootstrap_se

REPO = Path(__file__).resolve().parents[1]  # workers run `-m benchmarks.al_workers` from here
PHASES = ("train", "query", "eval")


class Workers:
    """The three worker processes and the line protocol that drives them."""

    def __init__(self, spec: dict, device: str, tmp: Path):
        self.procs = {}
        for kind in KINDS:
            env = dict(os.environ, HYBRIDAL_CACHE_DIR=str(tmp / f"cache-{kind}"))  # cold caches
            self.procs[kind] = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.al_workers", kind, json.dumps(spec), device],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=REPO,
            )
        try:
            for kind in KINDS:  # all have imported torch & co before any timed step
                self.ask(kind, "ping")
        except Exception:
            self.close()
            raise

    def ask(self, kind: str, command: str) -> dict:
        p = self.procs[kind]
        p.stdin.write(command + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"the {kind} worker died during {command!r} (exit code {p.wait()}).")
        return json.loads(line)

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    p.stdin.write("exit\n")
                    p.stdin.flush()
                except BrokenPipeError:
                    pass
            p.wait()


def run_lockstep(spec: dict, device: str, log) -> dict[str, list[dict]]:
    results = {kind: [] for kind in KINDS}
    steps = ["prepare"] + [f"round {r}" for r in range(spec["total_rounds"])]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "runs").mkdir()
        workers = Workers(dict(spec, save_dir=str(Path(tmp) / "runs")), device, Path(tmp))
        try:
            for i, command in enumerate(steps):
                for j in range(len(KINDS)):
                    kind = KINDS[(i + j) % len(KINDS)]
                    results[kind].append(workers.ask(kind, command))
                log(f"  AL {command}: " + ", ".join(f"{k} {results[k][-1]['seconds']:.1f} s" for k in KINDS))
        finally:
            workers.close()
    return results


def side_figures(steps: list[dict]) -> dict:
    rounds, last = steps[1:], steps[-1]
    return {
        "seconds": sum(x["seconds"] for x in steps),
        "cpu_seconds": sum(x["cpu_seconds"] for x in steps),
        "prepare_seconds": steps[0]["seconds"],
        "round_seconds": [x["seconds"] for x in rounds],
        "phase_seconds": {k: sum(x["parts"][k] for x in rounds) for k in PHASES},
        "val_f1": [x["val_f1"] for x in rounds],
        "final_test_f1": last["test_f1"],
        "n_labeled": [x["n_labeled"] for x in rounds],
        "train_flops": sum(x["train_flops"] for x in rounds),
        "infer_flops": sum(x["infer_flops"] for x in rounds),
        "peak_rss_gib": max(x["peak_rss_gib"] for x in steps),
        "precision": steps[0]["precision"],
    }


def compare(ours: dict, proto: dict, y, pred_ours, pred_proto, num_labels: int) -> dict:
    """One of our runs against the prototype's: speed ratios and the paired F1 difference."""
    return {
        "speedup": proto["seconds"] / ours["seconds"],
        "speedup_cpu_time": proto["cpu_seconds"] / ours["cpu_seconds"],
        "phase_speedups": {k: proto["phase_seconds"][k] / max(ours["phase_seconds"][k], 1e-9) for k in PHASES},
        "flops_ratio": (proto["train_flops"] + proto["infer_flops"]) / (ours["train_flops"] + ours["infer_flops"]),
        "test_f1_diff": ours["final_test_f1"] - proto["final_test_f1"],
        "test_f1_diff_bootstrap_se": paired_bootstrap_se(y, pred_ours, pred_proto, num_labels),
        "test_prediction_agreement": float(np.mean(np.asarray(pred_ours) == np.asarray(pred_proto))),
    }


def bench_al_run(spec: dict, device: str, log) -> dict:
    results = run_lockstep(spec, device, log)
    out = {"spec": spec, **{kind: side_figures(steps) for kind, steps in results.items()}}
    last = results["ours"][-1]
    y, num_labels = last["test_labels"], last["num_labels"]
    proto_pred = results["prototype"][-1]["test_predictions"]
    for kind in ("ours", "ours_fp32"):
        out[f"{kind}_vs_prototype"] = compare(
            out[kind], out["prototype"], y, results[kind][-1]["test_predictions"], proto_pred, num_labels
        )
    out["test_rows"] = len(y)
    return out
