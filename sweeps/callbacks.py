"""The driver's side of Tune: the param space, trial names and per-round progress lines.

A trial's Ray config is `trial_index`, `trial_name` and the canonical columns (what Tune's
tables, params.json and progress.csv show; analysis reads them only for a trial that stopped
before its run wrote summary.json). The run's full config is not in it: it reaches the
trainable once, through `tune.with_parameters`.
"""
from __future__ import annotations

import functools

from ray import tune

from hybridal.cli import format_record
from hybridal.records import RoundRecord

from sweeps.spec import Trial


def ray_configs(trials: list[Trial]) -> list[dict]:
    return [{"trial_name": t.name, **t.columns} for t in trials]


def pick(rows: list[dict], key: str, config: dict):
    """`tune.sample_from` helper: the value of `key` for the trial at `config["trial_index"]`."""
    return rows[config["trial_index"]].get(key)


def param_space(trials: list[Trial]) -> dict:
    """A Tune param space whose trials are exactly `trials`, with flat (top-level) keys."""
    rows = ray_configs(trials)
    space = {"trial_index": tune.grid_search(list(range(len(rows))))}
    space.update({k: tune.sample_from(functools.partial(pick, rows, k)) for k in rows[0]})
    return space


class TrialNames:
    """Tune's trial name and folder name: ours (unique in a sweep), without Ray's trial id.

    Looked up by `trial_index`, the one key Tune has resolved when it names a trial (the
    `sample_from` keys are still placeholders then); picklable, so a restored Tuner keeps it.
    """

    def __init__(self, trials: list[Trial]):
        self.names = [t.name for t in trials]

    def __call__(self, trial) -> str:
        index = trial.config.get("trial_index")
        return self.names[index] if isinstance(index, int) and 0 <= index < len(self.names) else str(trial.trainable_name)


class SweepCallback(tune.Callback):
    """One progress line per round and per finished trial (a trial's input error included)."""

    def __init__(self, total_rounds: dict[str, int], quiet: bool = False):
        self.total_rounds, self.quiet = dict(total_rounds), quiet

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.quiet:
            return
        name = self._name(trial)
        if result.get("error"):
            print(f"[{name}] {result['error']}", flush=True)
            return
        if "round" not in result:
            return
        try:
            line = format_record(RoundRecord.from_dict(result))
        except Exception:  # noqa: BLE001 - progress output must never stop a sweep
            line = f"round {result.get('round')}"
        print(f"[{name}] {line} ({result.get('round', 0) + 1}/{self.total_rounds.get(name, '?')})", flush=True)

    def on_trial_complete(self, iteration, trials, trial, **info):
        if not self.quiet:
            print(f"[{self._name(trial)}] finished", flush=True)

    @staticmethod
    def _name(trial) -> str:
        return str(trial.config.get("trial_name", trial))
