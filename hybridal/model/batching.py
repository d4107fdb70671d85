"""How the passes form and run their batches (`Batching`): padding (dynamic, to the longest row, or
fixed), the copy to the device (pinned and non-blocking on CUDA), the FLOPs model that counts each
batch, the length-bucket window of training batches and the token cap of inference batches. One
object is shared by training, evaluation and scoring (hybridal.model.training), and the pre-launch
estimate reads the same settings (hybridal.cost.batch_flops), so it forms the batches the engine does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hybridal.data.tokenization import TokenizedTexts, pad_batch
from hybridal.model.flops import FlopsModel

CPU_INFER_MAX_TOKENS = 2048


@dataclass
class Batching:
    """How batches are formed and run (shared by training, evaluation and scoring)."""

    device: torch.device
    precision: str  # fp32 | bf16
    pad_id: int
    pad_to: int | None  # None = dynamic padding
    flops: FlopsModel
    # Training batches are drawn within shuffled windows of this many batches sorted by length
    # (1 = plain shuffle; ignored with fixed padding, where it cannot save anything).
    train_window: int = 8
    # Inference batches hold at most this many padded tokens besides the row limit. On CPU
    # a batch's activations should stay in cache: MiniLM scored 1.33x faster per token in
    # batches of ~2,048 tokens than of 128 rows x 53 tokens (2-core EPYC). None = by device
    # (CPU: 2,048; GPU: no cap, big batches fill it); 0 = no cap.
    infer_max_tokens: int | None = None
    # Multi-label heads (docs/multilabel.md): the passes apply a sigmoid per label, not a softmax.
    multi_label: bool = False

    def batch(self, tokens: TokenizedTexts, rows: np.ndarray):
        ids, mask = pad_batch(tokens, rows, self.pad_id, self.pad_to)
        return self.to_device(ids), self.to_device(mask)

    @property
    def max_tokens(self) -> int | None:
        if self.infer_max_tokens is None:
            return CPU_INFER_MAX_TOKENS if self.device.type == "cpu" else None
        return self.infer_max_tokens or None

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.to(self.device)
