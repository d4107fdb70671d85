"""Run outputs: config.yaml, rounds.jsonl, summary.json and TensorBoard events, written atomically."""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from .records import RoundRecord

TB_DIR = "tensorboard"


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + os.replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def json_default(value: Any):
    import numpy as np

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(value: Any, indent: int | None = None) -> str:
    return json.dumps(_finite(value), default=json_default, indent=indent)


def _finite(value: Any):
    """NaN/inf become null: JSON has no NaN, and readers (pandas, Ray) choke on it."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class RunWriter:
    """Owns one run folder. Records are rewritten whole each round, so a crash leaves only full rounds."""

    def __init__(self, run_dir: Path, tensorboard: bool = True):
        self.run_dir = Path(run_dir)
        self.tensorboard = tensorboard
        self._tb = None

    def start(self, config_yaml: str, records: Iterable[RoundRecord] = ()) -> None:
        """(Re)start the run folder: config, the records known so far, fresh TensorBoard events."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "config.yaml", config_yaml)
        summary = self.run_dir / "summary.json"
        if summary.exists():
            summary.unlink()   # a stale summary would describe another run
        records = list(records)
        self.write_records(records)
        if self.tensorboard:
            tb = self.run_dir / TB_DIR
            for old in tb.glob("events.out.tfevents.*") if tb.exists() else ():
                old.unlink()   # resumed runs re-log every record, so old events would duplicate steps
            for record in records:
                self.log_scalars(record)

    def write_records(self, records: list[RoundRecord]) -> None:
        text = "".join(to_json(r.to_dict()) + "\n" for r in records)
        atomic_write_text(self.run_dir / "rounds.jsonl", text)

    def log_scalars(self, record: RoundRecord) -> None:
        if not self.tensorboard:
            return
        writer = self._writer()
        step = record.round
        for name, value in record.to_dict().items():
            if isinstance(value, bool):
                value = float(value)
            if isinstance(value, (int, float)) and value is not None and math.isfinite(float(value)):
                writer.add_scalar(f"round/{name}", float(value), step)
        # Cost-vs-accuracy: F1 against cumulative training FLOPs, the AL cost (training + scoring +
        # policy) and labels used (TensorBoard steps are int64).
        for name in ("val_f1", "test_f1"):
            value = getattr(record, name)
            if value is not None and math.isfinite(value):
                writer.add_scalar(f"vs_train_flops/{name}", value, int(record.cum_train_flops))
                writer.add_scalar(f"vs_total_flops/{name}", value, int(record.cum_total_flops))
                writer.add_scalar(f"vs_labels_used/{name}", value, int(record.labels_used))
        writer.flush()

    def write_summary(self, summary: dict) -> None:
        atomic_write_text(self.run_dir / "summary.json", to_json(summary, indent=2) + "\n")

    def _writer(self):
        if self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.run_dir / TB_DIR))
        return self._tb

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
