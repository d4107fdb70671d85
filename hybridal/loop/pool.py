"""The label pool: which examples are labeled, in which round, and for what (training or monitoring).

Keeping the acquisition round per example (as baal does) makes `new_only`, replay, provenance
and cost accounting simple filters instead of extra bookkeeping.
"""

from __future__ import annotations

import numpy as np

UNLABELED, TRAIN, MONITOR = 0, 1, 2


class LabelPool:
    def __init__(self, size: int):
        self.round = np.full(size, -1, dtype=np.int32)  # acquisition round, -1 = unlabeled
        self.role = np.zeros(size, dtype=np.int8)

    def __len__(self) -> int:
        return len(self.round)

    def label(self, indices: np.ndarray, round_idx: int, role: int = TRAIN) -> None:
        indices = np.asarray(indices, dtype=np.int64)
        if len(np.unique(indices)) != len(indices):
            raise ValueError("an acquisition batch selected the same example twice.")
        if (self.role[indices] != UNLABELED).any():
            raise ValueError("an acquisition batch selected an already-labeled example.")
        self.round[indices] = round_idx
        self.role[indices] = role

    def unlabeled(self) -> np.ndarray:
        return np.flatnonzero(self.role == UNLABELED)

    def train_indices(self) -> np.ndarray:
        return np.flatnonzero(self.role == TRAIN)

    def monitor_indices(self) -> np.ndarray:
        return np.flatnonzero(self.role == MONITOR)

    def new_train_indices(self, round_idx: int) -> np.ndarray:
        return np.flatnonzero((self.role == TRAIN) & (self.round == round_idx))

    def earlier_train_indices(self, round_idx: int) -> np.ndarray:
        return np.flatnonzero((self.role == TRAIN) & (self.round < round_idx) & (self.round >= 0))

    @property
    def n_labeled(self) -> int:
        """Labels paid for: training and monitor examples alike."""
        return int((self.role != UNLABELED).sum())

    def selected_by_round(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for r in np.unique(self.round[self.round >= 0]):
            out[int(r)] = np.flatnonzero(self.round == r).tolist()
        return out

    def state_dict(self) -> dict:
        return {"round": self.round.tolist(), "role": self.role.tolist()}

    def load_state_dict(self, state: dict) -> None:
        self.round = np.asarray(state["round"], dtype=np.int32)
        self.role = np.asarray(state["role"], dtype=np.int8)
