"""summary.json: the run's complete description (docs/design.md §6).

Written when the run starts (`status: running`), after every round and at the end
(`status: finished`); always with `trial` (the canonical columns, hybridal.loop.trial_columns) and `config`
(the whole engine config), so a reader needs no other file to know what a run was.
"""

from __future__ import annotations

import platform
from typing import Any, Optional, Sequence

import numpy as np
import torch

from hybridal.data.splits import indices_fingerprint
from hybridal.loop.trial_columns import trial_columns
from hybridal.records import SCHEMA_VERSION, RoundRecord

TIMES = ("train_seconds", "query_seconds", "eval_seconds", "wall_seconds")


def run_summary(al: Any) -> dict:
    """summary.json of `al`, an ActiveLearning run (typed loosely: the run imports this module)."""
    cfg, parts = al.cfg, al.parts
    splits = parts.splits
    final = al.final_metrics() if al.final_test is not None else {}
    val = al.final_validation
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "finished" if al.finished else "running",
        "experiment_name": cfg.experiment_name,
        "trial": trial_columns(cfg),
        "config": cfg.to_dict(),
        "final_test": {
            **{
                k: final.get(k2)
                for k, k2 in (
                    ("f1", "f1_score"),
                    ("accuracy", "accuracy"),
                    ("loss", "loss"),
                    ("per_class_f1", "per_class_f1"),
                )
            },
            "pred_counts": al.final_test.pred_counts if al.final_test else None,
            "degenerate": al.final_test.degenerate if al.final_test else None,
            **({"multilabel": al.final_test.multilabel} if parts.multi_label and al.final_test else {}),
        },
        "final_validation": {
            "f1": val.f1,
            "accuracy": val.accuracy,
            "loss": val.loss,
            **({"multilabel": val.multilabel} if parts.multi_label else {}),
        }
        if val
        else None,
        **al.switch_columns(),
        "rounds": len(al.records),
        "n_labeled": al.pool.n_labeled,
        "labels": labels_used(al.records),
        "totals": totals(al.records),
        "data": {
            "source": splits.source,
            "pool": len(splits.pool),
            "validation": len(splits.validation),
            "test": len(splits.test),
            "num_labels": splits.num_labels,
            "label_names": splits.label_names,
            "notes": splits.notes,
            "task": task_summary(parts),
            "tokenization_cached": parts.tokenization_cached,
        },
        "environment": al.environment,
        "selected_indices": {str(r): idx for r, idx in al.pool.selected_by_round().items()},
        "monitor_indices": al.pool.monitor_indices().tolist(),
        "test_subsample": per_round_test_summary(parts.test_subsample, len(splits.test), cfg.test_every),
        **al.stopping.summary(al.records),
        **({"shared_prefix": al.provenance} if al.provenance else {}),
    }


def task_summary(parts: Any) -> dict:
    """Single- or multi-label; a multi-label run's threshold, monitored metric and each label's positives
    per split (a label with a handful of positives has metrics to read with care: docs/multilabel.md)."""
    if not parts.multi_label:
        return {"type": "single_label"}
    return {
        "type": "multi_label",
        "decision_threshold": parts.task.threshold,
        "monitor_metric": parts.task.metric,
        "positives": {split: [int(c) for c in labels.sum(axis=0)] for split, labels in parts.labels.items()},
    }


def labels_used(records: list[RoundRecord]) -> dict:
    """Labels acquired, labelled rows a policy read besides them, and their sum (docs/accounting.md)."""
    last = records[-1] if records else None
    return {
        "acquired": last.labels_acquired if last else 0,
        "read_by_policy": last.labels_read_by_policy if last else 0,
        "used": last.labels_used if last else 0,
    }


def totals(records: list[RoundRecord]) -> dict:
    return {
        "train_flops": sum(r.train_flops for r in records),
        "infer_flops": sum(r.infer_flops for r in records),
        # infer_flops = scoring + policy (AL cost) + validation (measurement): docs/accounting.md
        "flops_scoring": sum(r.flops_scoring for r in records),
        "flops_policy": sum(r.flops_policy for r in records),
        "flops_validation": sum(r.flops_validation for r in records),
        "total_flops": records[-1].cum_total_flops if records else 0,  # AL cost: training + scoring + policy
        "test_flops": sum(r.test_flops for r in records),
        "flops_stop_set": sum(r.flops_stop_set for r in records),  # AL cost only in the rounds a policy read it
        "train_samples": sum(r.train_samples for r in records),
        "train_tokens": sum(r.train_tokens for r in records),
        **{f: sum(getattr(r, f) for r in records) for f in TIMES},
    }


def per_round_test_summary(rows: Optional[np.ndarray], n_test: int, test_every: int) -> dict:
    """The per-round test rows (positions in the run's test split), so runs can be checked
    for having used the same rows; null indices: every round used the full split."""
    return {
        "size": n_test if rows is None else len(rows),
        "of": n_test,
        "test_every": test_every,
        "fingerprint": None if rows is None else indices_fingerprint(rows),
        "indices": None if rows is None else rows.tolist(),
    }


def package_versions(packages: Sequence[str]) -> dict:
    """Installed versions from package metadata (nothing is imported); None where not installed."""
    import importlib.metadata as md

    versions: dict[str, Optional[str]] = {}
    for package in packages:
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = None
    return versions


def environment(device: torch.device, precision: str) -> dict:
    versions = package_versions(
        ("hybridal", "torch", "transformers", "datasets", "ray", "scikit-learn", "numpy", "pandas")
    )
    return {
        "versions": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "precision": precision,
        "torch_threads": torch.get_num_threads(),
    }
