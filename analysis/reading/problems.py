"""Error types and the log of data problems found while reading an experiment."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional


class AnalysisError(Exception):
    """A problem that stops the analysis; its message is one sentence for the user."""


class NoUsableDataError(AnalysisError):
    """The experiment folder holds nothing that can be analysed."""


@dataclass
class ProblemLog:
    """Data problems, grouped by message so one issue in 200 trials is one line.

    Each message maps to the trials it concerns (None: the problem is not about one trial).
    """

    entries: "OrderedDict[str, list[str]]" = field(default_factory=OrderedDict)

    def add(self, message: str, trial: Optional[str] = None) -> None:
        trials = self.entries.setdefault(message, [])
        if trial is not None and trial not in trials:
            trials.append(trial)

    def extend(self, other: "ProblemLog") -> None:
        for message, trials in other.entries.items():
            if not trials:
                self.add(message)
            for t in trials:
                self.add(message, t)

    def __len__(self) -> int:
        return len(self.entries)

    def lines(self, max_trials: int = 3) -> list[str]:
        """One readable line per distinct problem, naming at most `max_trials` trials."""
        out = []
        for message, trials in self.entries.items():
            if not trials:
                out.append(message)
                continue
            shown = ", ".join(trials[:max_trials])
            more = f", and {len(trials) - max_trials} more" if len(trials) > max_trials else ""
            noun = "trial" if len(trials) == 1 else "trials"
            out.append(f"{message} ({len(trials)} {noun}: {shown}{more})")
        return out
