"""The sweep's closing table and exit status. Imports no Ray (it reads Tune's results as data).

Statuses: finished; input-error (the trial reported a ConfigError/DataError as its result);
errored (Ray gave up after the retries); unfinished (interrupted); not started.
Exit status: 2 any input error, 0 all finished, 1 some errored, 130 interrupted.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from hybridal.strategies import trained_switch_round

from sweeps.spec import Trial

HEADER = ("trial", "dataset", "strategy", "ε", "k", "seed", "test F1", "train FLOPs", "switch", "status")


def _num(value, fmt: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _switch_cell(metrics: dict) -> str:
    """The first round a trial trained with `after`. Results reported before `switch_round`
    meant that could hold a switch decided after the last round, which never trained: "-"."""
    rounds = metrics.get("round")
    switch = metrics.get("switch_round")
    return _num(trained_switch_round(switch, rounds + 1) if isinstance(rounds, int) else switch, "d")


def _status(result) -> str:
    metrics = result.metrics or {}
    if metrics.get("error"):
        return "input-error"
    if result.error is not None:
        return "errored"
    return "finished" if metrics.get("done") else "unfinished"


def rows(results, trials: list[Trial]) -> list[tuple]:
    """One row per trial, in the sweep's order; Tune's results are matched by trial_index."""
    by_index = {(r.config or {}).get("trial_index"): r for r in results}
    table = []
    for i, t in enumerate(trials):
        result = by_index.get(i)
        metrics = (result.metrics or {}) if result is not None else {}
        c = t.columns
        table.append((t.name, c["dataset"], c["strategy"], _num(c["epsilon"], "g"), _num(c["k"], "d"), str(c["seed"]),
                      _num(metrics.get("test_f1"), ".4f"), _num(metrics.get("cum_train_flops"), ".3e"),
                      _switch_cell(metrics), _status(result) if result is not None else "not started"))
    return table


def input_errors(results, trials: list[Trial]) -> list[tuple[str, str]]:
    """(trial name, message) of every trial that reported an input error."""
    names = {i: t.name for i, t in enumerate(trials)}
    return [(names.get((r.config or {}).get("trial_index"), "?"), r.metrics["error"])
            for r in results if (r.metrics or {}).get("error")]


def report(results, trials: list[Trial], uri: str, seconds: float) -> int:
    """Print the table and the next steps; returns the exit status."""
    table = rows(results, trials)
    widths = [max(len(h), *(len(row[j]) for row in table)) for j, h in enumerate(HEADER)]
    print()
    for row in (HEADER, *table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    counts = {s: sum(row[-1] == s for row in table) for s in ("finished", "input-error", "errored", "unfinished", "not started")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    name = Path(uri).name
    print(f"\n{len(trials)} trials: {summary}; sweep wall time {seconds:.0f} s")
    print(f"results: {uri}  (one folder per trial: params.json, result.json, rounds.jsonl, summary.json, tensorboard/)")
    print(f"compare: tensorboard --logdir {uri}")
    print(f"report:  python -m analysis.report {uri} --out reports/{name}")
    bad = input_errors(results, trials)
    if bad:
        more = f" ({len(bad) - 1} more in the table)" if len(bad) > 1 else ""
        print(f"grid.py: error: trial {bad[0][0]} failed for its input{more}: {bad[0][1]}", file=sys.stderr)
        return 2
    if counts["finished"] == len(trials):
        return 0
    if counts["errored"]:
        print(f"grid.py: {counts['errored']} trial(s) failed after their retries; see error.txt in their folders, "
              f"and rerun with --resume --name {name} to retry them.", file=sys.stderr)
        return 1
    print(f"grid.py: the sweep was interrupted; continue it with: python sweeps/grid.py --resume --name {name} "
          f"--storage-path {uri.rsplit('/', 1)[0]}", file=sys.stderr)
    return 130
