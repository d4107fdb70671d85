"""One side of the whole-run comparison in its own process: our engine (as a user runs it) or
the prototype's pipeline, one step per command read from stdin, one JSON line back per step.

    python -m benchmarks.al_workers KIND SPEC_JSON DEVICE     (started by al_run_bench.py)
"""

from __future__ import annotations

import json
import sys
import time

import torch

import benchmarks.common  # noqa: F401  (the environment, before torch)
from benchmarks.common import MAX_LENGTH, MODEL, SEED, peak_rss_gib
from benchmarks.prototype import PrototypeWorker
from hybridal.loop.active_learning import ActiveLearning

KINDS = ("ours", "ours_fp32", "prototype")


def ours_config(spec: dict, device: str, precision: str) -> dict:
    """The prototype's config in our keys; every key it does not fix keeps the engine default
    (dynamic padding, eval batch, test evaluation plan, TensorBoard, gradient clipping, ...)."""
    return dict(
        seed=spec.get("seed", SEED),
        experiment_name=f"bench_ours_{precision}",
        save_dir=spec["save_dir"],
        data="agnews",
        model_name_or_path=MODEL,
        tokenizer_kwargs={"max_length": MAX_LENGTH},
        strategy_class="retrain",
        sampler_class="entropy",
        candidate_pool_size=spec["candidate_pool_size"],
        total_rounds=spec["total_rounds"],
        initial_pool_size=spec["initial_pool_size"],
        acquisition_batch_size=spec["acquisition_batch_size"],
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        optimizer_class="Adam",
        optimizer_kwargs=spec["optimizer_kwargs"],
        scheduler_class="StepLR",
        scheduler_kwargs=spec["scheduler_kwargs"],
        max_train_size=spec["max_train_size"],
        max_test_size=spec["max_test_size"],
        device=device,
        precision=precision,
        **spec.get("ours_overrides", {}),
    )


class OursWorker:
    """Our engine, one round per command, exactly as a user runs it."""

    def __init__(self, spec: dict, device: str, precision: str):
        self.cfg = ours_config(spec, device, precision)

    def prepare(self) -> dict:
        self.al = ActiveLearning(self.cfg)
        prepare = getattr(self.al, "prepare", None)  # the constructor may build the run in one step
        if callable(prepare):
            prepare()
        return {"precision": self.al.parts.precision}

    def round(self, r: int) -> dict:
        rec = self.al.run_round()
        out = {
            "val_f1": rec.val_f1,
            "test_f1": rec.test_f1,
            "n_labeled": rec.n_labeled,
            # all inference, test included, as the prototype's side counts it
            "train_flops": rec.train_flops,
            "infer_flops": rec.infer_flops + rec.test_flops,
            "parts": {"query": rec.query_seconds, "train": rec.train_seconds, "eval": rec.eval_seconds},
        }
        if self.al.finished:
            self.al.save_experiment()
            out["test_predictions"] = self.al.final_test.predictions.tolist()
            out["test_labels"] = self.al.parts.labels["test"].tolist()
            out["num_labels"] = self.al.parts.num_labels
        return out


def make_worker(kind: str, spec: dict, device: str):
    if kind == "prototype":
        return PrototypeWorker(spec, device)
    return OursWorker(spec, device, "fp32" if kind == "ours_fp32" else "auto")


def serve(kind: str, spec: dict, device: str) -> None:
    """Serve 'ping' / 'prepare' / 'round R' / 'exit' from stdin, one JSON reply line each."""
    worker = make_worker(kind, spec, device)
    reply = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not break the protocol
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "exit":
            break
        if cmd[0] == "ping":  # imports are done
            reply.write("{}\n")
            reply.flush()
            continue
        start, cpu = time.perf_counter(), time.process_time()
        result = worker.prepare() if cmd[0] == "prepare" else worker.round(int(cmd[1]))
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = time.process_time() - cpu
        result["peak_rss_gib"] = peak_rss_gib()
        reply.write(json.dumps(result) + "\n")
        reply.flush()


if __name__ == "__main__":
    serve(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])
