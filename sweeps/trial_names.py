"""Trial names: what a grid varies, spelled short (`agnews-deltaf1-e0.02-k1-s42`; a named arm's trial
`agnews-arm-retrain1ep-s42`), so every trial of a sweep has a unique, readable, folder-safe name.
`check_unique` refuses a sweep where two different trials would still get one name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from hybridal.errors import ConfigError


def _fmt(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _short(name: str) -> str:
    """A folder-safe short form of a dataset name or path."""
    stem = Path(name).stem if ("/" in name or "." in name) else name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "data"


@dataclass
class TrialNaming:
    """Trial names show what varies: dataset, strategy, (after,) ε, k, (c,) (guard,) (sampler,) seed."""

    multi_sampler: bool
    multi_after: bool
    default_after: str
    multi_guard: bool = False  # names say "guard"/"noguard" only when the grid compares both

    def name(self, dataset, strategy, sampler, seed, eps, k, after, c, guard=None) -> str:
        parts = [_short(dataset), strategy]
        if strategy == "deltaf1":
            parts += [after] if self.multi_after or after != self.default_after else []
            parts += [f"e{_fmt(float(eps))}", f"k{k}"] + ([f"c{_fmt(float(c))}"] if c is not None else [])
            parts += ["guard" if guard else "noguard"] if self.multi_guard else []
        parts += [_short(sampler)] if self.multi_sampler else []
        return "-".join(parts + [f"s{seed}"])

    def arm_name(self, dataset, arm: str, sampler: Optional[str], seed) -> str:
        """A named arm's trial: dataset, "arm", the arm's name, (the sampler where the grid crosses the
        arm with several,) seed. No strategy is named "arm", so it never meets an axes trial's name."""
        parts = [_short(dataset), "arm", arm]
        parts += [_short(sampler)] if sampler is not None and self.multi_sampler else []
        return "-".join(parts + [f"s{seed}"])


def check_unique(names: Iterable[str], source: str) -> None:
    """Two different trials never share a name (their folder): e.g. two data files with one stem, or
    ε values that print alike, fail here, before Ray starts."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(
                f"{source}: two different trials would both be named {name!r} (one folder); rename an arm or a "
                "data file, or drop one of two axis values that print alike."
            )
        seen.add(name)
