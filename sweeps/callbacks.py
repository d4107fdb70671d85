"""The driver's side of Tune: trial names and per-round progress lines.

A trial's Ray config (sweeps.searcher) is `trial_index`, `trial_name`, the canonical columns
(what Tune's tables, params.json and progress.csv show; analysis reads them only for a trial
that stopped before its run wrote summary.json) and its shared-prefix role. The run's full
config is not in it: it reaches the trainable once, through `tune.with_parameters`.
"""

from __future__ import annotations

from ray import tune

from hybridal.cli import format_record
from hybridal.records import RoundRecord


class TrialNames:
    """Tune's trial name and folder name: the job's own (unique in a sweep), without Ray's trial id.

    Every trial config the sweep's searcher suggests carries its `trial_name`; picklable, so a
    restored Tuner keeps it."""

    def __call__(self, trial) -> str:
        name = trial.config.get("trial_name")
        return name if isinstance(name, str) else str(trial.trainable_name)


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
        if result.get("adopted"):  # rounds another run trained (a copy's, a fork's first): one line for them all
            if result.get("adopted_through") is not None:
                print(
                    f"[{name}] same as {result.get('adopted_from')} through round {result['adopted_through']}: adopted",
                    flush=True,
                )
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
