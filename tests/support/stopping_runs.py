"""Synthetic runs with stopping criteria (summary.json ``stop_set``, ``stopping``, ``halt_on``,
``halted_round``; records with the stop-set signals), for the analysis's stopping table.

The numbers are chosen so that every figure of the table is known by hand: round r has
``labels_used`` = 100 + 50 r, ``cum_total_flops`` = (r + 1)·10¹², ``test_f1`` = 0.5 + 0.05 r,
and the final full-split test F1 is FINAL_F1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from hybridal.records import RoundRecord
from tests.support.analysis_experiments import config, write_run

FINAL_F1 = 0.7  # the last (round 4) record's full-split test F1
STOP_SET = 300
# the engine's `stopping` setting: a list of names and mappings (canonical JSON in the analysis)
STOPPING_SETTING = [{"kappa_average": {"kappa": 0.99, "window_size": 3}, "label": "kappa"}, "labelling_budget"]


def stop_records(rounds: int, subsample: tuple[int, ...] = ()) -> list[dict]:
    """Records of rounds 0..rounds-1 (see the module docstring); rounds in `subsample` test a subsample."""
    out = []
    for r in range(rounds):
        n = 100 + 50 * r
        out.append(
            RoundRecord(
                round=r,
                n_labeled=n,
                n_new=100 if r == 0 else 50,
                strategy_used="retrain",
                switched=False,
                val_f1=0.5 + 0.05 * r,
                val_accuracy=0.5 + 0.05 * r,
                val_loss=0.5,
                delta_f1=None if r == 0 else 0.05,
                stable_count=0,
                test_f1=round(0.5 + 0.05 * r, 5),
                test_accuracy=0.5 + 0.05 * r,
                train_samples=3 * n,
                train_tokens=3 * n * 128,
                train_flops=10**12,
                cum_train_flops=(r + 1) * 10**12,
                infer_flops=0,
                cum_total_flops=(r + 1) * 10**12,
                train_seconds=1.0,
                query_seconds=0.0,
                eval_seconds=0.0,
                wall_seconds=1.0,
                test_rows="subsample" if r in subsample else "full",
                test_n=100 if r in subsample else 1000,
                schema_version=2,
                flops_scoring=0,
                flops_policy=0,
                labels_acquired=n,
                labels_read_by_policy=0,
                labels_used=n,
                degenerate=False,
                stop_kappa=None if r == 0 else 0.9 + 0.02 * r,
                stop_changed=None if r == 0 else 30 - 5 * r,
                stop_changed_fraction=None if r == 0 else (30 - 5 * r) / STOP_SET,
                stop_entropy=0.5,
                stop_entropy_nats=0.35,
                stop_degenerate=False,
                flops_stop_set=10**9,
            ).to_dict()
        )
    return out


def write_stopping_run(
    folder: Path,
    seed: int,
    stops: dict[str, Optional[int]],
    rounds: int = 5,
    subsample: tuple[int, ...] = (),
    halt_on: Optional[str] = None,
    halted_round: Optional[int] = None,
    engine: Optional[dict] = None,
) -> Path:
    """A finished retrain run with criteria "kappa" (reads the stop set) and "budget" stopping at `stops`."""
    cfg = config("agnews", "retrain", seed)
    records = stop_records(rounds, subsample)
    over = {"stop_set_size": STOP_SET, "stopping": STOPPING_SETTING, "halt_on": halt_on} | (engine or {})
    write_run(folder, cfg, records, engine=over)
    summary = json.loads((folder / "summary.json").read_text())
    reads = {"kappa": ("kappa_average", {"kappa": 0.99, "window_size": 3}, "stop_set")}
    reads["budget"] = ("labelling_budget", {"budget": 300}, "budget")
    summary |= {
        "final_test": {"f1": FINAL_F1, "accuracy": FINAL_F1, "loss": 0.4},
        "stop_set": {"size": STOP_SET, "of": 4500, "fingerprint": "ab12"},
        "stopping": {
            label: {"criterion": reads[label][0], "params": reads[label][1], "stop_round": r, "reads": reads[label][2]}
            for label, r in stops.items()
        },
        "halt_on": halt_on,
        "halted_round": halted_round,
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def make_stopping_experiment(root: Path) -> Path:
    """Three seeds run to their budget (kappa stops after round 2, after round 1 where round 1 tested a
    subsample, never) and one run that halted on kappa after round 2."""
    write_stopping_run(root / "s1", 1, {"kappa": 2, "budget": 4})
    write_stopping_run(root / "s2", 2, {"kappa": 1, "budget": 4}, subsample=(1,))
    write_stopping_run(root / "s3", 3, {"kappa": None, "budget": 4})
    write_stopping_run(root / "halted", 1, {"kappa": 2, "budget": None}, rounds=3, halt_on="kappa", halted_round=2)
    return root
