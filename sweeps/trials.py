"""A sweep's trials: each a name (also its folder), the run's whole config and, for a trial of a
named arm (sweeps/arms.py), the arm's name. Imports no Ray."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from hybridal.config import ExperimentConfig
from hybridal.errors import ConfigError
from hybridal.loop.trial_columns import knob_columns, trial_columns


@dataclass(frozen=True, eq=False)
class Trial:
    """One trial of a sweep: its name (also its folder), the run's whole config and its arm, if any."""

    name: str
    config: ExperimentConfig
    columns: dict = field(default_factory=dict)  # trial_columns(config) (+ "arm"), filled by `of`
    arm: Optional[str] = None  # the named arm (grid file `arms:`) it runs; None for the axes' trials

    @classmethod
    def of(cls, name: str, config: ExperimentConfig, arm: Optional[str] = None) -> "Trial":
        """The columns are the engine's canonical ones, then the knobs the run reads beyond them
        (`knob_columns`: trigger, threshold, shrink, perturb) and, for an arm's trial, "arm" (what
        Tune's params.json and the dry run show; summary.json's "trial" is the engine's alone)."""
        columns = {**trial_columns(config), **knob_columns(config)}
        return cls(name, config, {**columns, "arm": arm} if arm is not None else columns, arm)

    def to_json(self) -> dict:
        """What the sweep file stores (the columns follow from the config; "arm" only for an arm's trial)."""
        out = {"trial_name": self.name, "engine": self.config.to_dict()}
        return {**out, "arm": self.arm} if self.arm is not None else out

    @classmethod
    def from_json(cls, values: dict) -> "Trial":
        if not isinstance(values.get("engine"), dict):
            raise ConfigError(
                f"a stored trial has no 'engine' mapping ({str(values)[:80]}); it was not written by sweeps/grid.py."
            )
        arm = values.get("arm")  # absent in sweep files from before arms, and for the axes' trials
        config = ExperimentConfig.from_dict(dict(values["engine"])).validate()
        return cls.of(str(values["trial_name"]), config, None if arm is None else str(arm))


def grid_key(trials: list[Trial]) -> list[str]:
    """A comparable description of a trial list (for 'is this the same sweep?')."""
    return sorted(json.dumps(trial_identity(t.config), sort_keys=True, default=str) for t in trials)


def trial_identity(cfg: ExperimentConfig) -> dict:
    """What makes two trials the same run (the name and output folder do not)."""
    values = cfg.to_dict()
    for key in ("experiment_name", "save_dir"):
        values.pop(key, None)
    return values
