"""A sweep's trials: each a name (also its folder) and the run's whole config. Imports no Ray."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hybridal.config import ExperimentConfig
from hybridal.errors import ConfigError
from hybridal.loop.trial_columns import trial_columns


@dataclass(frozen=True, eq=False)
class Trial:
    """One trial of a sweep: its name (also its folder) and the run's whole config."""

    name: str
    config: ExperimentConfig
    columns: dict = field(default_factory=dict)  # trial_columns(config), filled by `of`

    @classmethod
    def of(cls, name: str, config: ExperimentConfig) -> "Trial":
        return cls(name, config, trial_columns(config))

    def to_json(self) -> dict:
        """What the sweep file stores (the columns follow from the config)."""
        return {"trial_name": self.name, "engine": self.config.to_dict()}

    @classmethod
    def from_json(cls, values: dict) -> "Trial":
        if not isinstance(values.get("engine"), dict):
            raise ConfigError(
                f"a stored trial has no 'engine' mapping ({str(values)[:80]}); it was not written by sweeps/grid.py."
            )
        return cls.of(str(values["trial_name"]), ExperimentConfig.from_dict(dict(values["engine"])).validate())


def grid_key(trials: list[Trial]) -> list[str]:
    """A comparable description of a trial list (for 'is this the same sweep?')."""
    return sorted(json.dumps(trial_identity(t.config), sort_keys=True, default=str) for t in trials)


def trial_identity(cfg: ExperimentConfig) -> dict:
    """What makes two trials the same run (the name and output folder do not)."""
    values = cfg.to_dict()
    for key in ("experiment_name", "save_dir"):
        values.pop(key, None)
    return values
