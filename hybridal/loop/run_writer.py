"""A run folder's outputs: config.yaml, rounds.jsonl, summary.json and TensorBoard events, written atomically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

from hybridal.atomic_write import atomic_write_text, to_json
from hybridal.records import RoundRecord

TB_DIR = "tensorboard"


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
            summary.unlink()  # a stale summary would describe another run
        records = list(records)
        self.write_records(records)
        if self.tensorboard:
            tb = self.run_dir / TB_DIR
            for old in tb.glob("events.out.tfevents.*") if tb.exists() else ():
                old.unlink()  # resumed runs re-log every record, so old events would duplicate steps
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
