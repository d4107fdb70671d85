"""The sweep's closing table and exit status. Imports no Ray (it reads Tune's results as data).

Columns: the trial's knobs, its final test F1 (a multi-label run's `monitor_metric`, micro-F1 by
default, its dataset marked "(multi-label)"; marked ``*`` when the run ended degenerate: the
final test pass or the last validation pass predicted one class, or one label set everywhere),
labels used (acquired + the labelled rows a policy read), the AL cost (``cum_total_flops``: training + scoring + policy
FLOPs) and training FLOPs beside it, where it switched, how it ran, and its status.

Statuses: finished; input-error (the trial reported a ConfigError/DataError as its result);
errored (Ray gave up after the retries); blocked (never started: a run whose rounds it needs
failed; `--resume` runs it once that run succeeds); unfinished (interrupted); not started.
A configuration that ran again on `--resume` is shown by its newest trial.
Exit status: 2 any input error, 0 all finished, 1 some errored, 130 interrupted.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Optional

from hybridal.strategies import trained_switch_round
from sweeps.trials import Trial

HEADER = (
    "trial",
    "dataset",
    "strategy",
    "ε",
    "k",
    "seed",
    "test F1",
    "labels",
    "AL FLOPs",
    "train FLOPs",
    "switch",
    "run",
    "status",
)
DEGENERATE_MARK = "*"
SWEEP_SUMMARY = "sweep_summary.json"


def _num(value, fmt: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _count(value) -> str:
    return _num(int(value) if isinstance(value, (int, float)) and value == value else None, "d")


def _switch_cell(metrics: dict) -> str:
    """The first round a trial trained with `after`. Results reported before `switch_round`
    meant that could hold a switch decided after the last round, which never trained: "-"."""
    rounds = metrics.get("round")
    switch = metrics.get("switch_round")
    return _num(trained_switch_round(switch, rounds + 1) if isinstance(rounds, int) else switch, "d")


def ended_degenerate(metrics: dict) -> bool:
    """Whether a trial's last report says its predictions were one class: the final test pass
    (``final_test_degenerate``, or summary.json's ``final_test.degenerate``) or the last round's validation pass."""
    final = metrics.get("final_test")
    return any(
        v is True
        for v in (
            metrics.get("final_test_degenerate"),
            metrics.get("degenerate"),
            final.get("degenerate") if isinstance(final, dict) else None,
        )
    )


def _test_cell(metrics: dict) -> str:
    return _num(metrics.get("test_f1"), ".4f") + (DEGENERATE_MARK if ended_degenerate(metrics) else "")


def _run_cell(metrics: dict) -> str:
    """How the configuration's rounds were computed: alone, as a trunk, a fork or a copy."""
    role = metrics.get("role")
    if role == "fork":
        return f"fork@{metrics.get('fork_round', '?')}" if metrics.get("fork_round") is not None else "fork"
    return {"standalone": "alone", None: "-"}.get(role, role)


def _status(result) -> str:
    metrics = result.metrics or {}
    if metrics.get("error"):
        return "input-error"
    if metrics.get("blocked"):
        return "blocked"
    if result.error is not None:
        return "errored"
    return "finished" if metrics.get("done") else "unfinished"


def newest(results) -> dict:
    """trial_index -> the newest of Tune's results for it (a job rerun on --resume has several)."""
    return {(r.config or {}).get("trial_index"): r for r in results}


def rows(results, trials: list[Trial], blocked: Optional[dict] = None) -> list[tuple]:
    """One row per trial, in the sweep's order; Tune's results are matched by trial_index."""
    by_index = newest(results)
    table = []
    for i, t in enumerate(trials):
        result = by_index.get(i)
        metrics = (result.metrics or {}) if result is not None else {}
        c = t.columns
        table.append(
            (
                t.name,
                c["dataset"] + (" (multi-label)" if c.get("task") == "multi_label" else ""),
                c["strategy"],
                _num(c["epsilon"], "g"),
                _num(c["k"], "d"),
                str(c["seed"]),
                _test_cell(metrics),
                _count(metrics.get("labels_used")),
                _num(metrics.get("cum_total_flops"), ".3e"),
                _num(metrics.get("cum_train_flops"), ".3e"),
                _switch_cell(metrics),
                _run_cell(
                    {**metrics, "fork_round": (result.config or {}).get("fork_round")} if result is not None else {}
                ),
                _status(result) if result is not None else ("blocked" if t.name in (blocked or {}) else "not started"),
            )
        )
    return table


def input_errors(results, trials: list[Trial]) -> list[tuple[str, str]]:
    """(trial name, message) of every trial that reported an input error."""
    names = {i: t.name for i, t in enumerate(trials)}
    return [
        (names.get((r.config or {}).get("trial_index"), "?"), r.metrics["error"])
        for r in newest(results).values()
        if (r.metrics or {}).get("error")
    ]


def sweep_summary(results, trials: list[Trial], seconds: float, environment: Optional[dict] = None) -> dict:
    """What the sweep computed against what its configurations cost (docs/design.md §8).

    `attributed_train_flops`: the sum over configurations of their own records' training FLOPs
    (each as if run alone); `spent_train_flops`: what the sweep's trials actually trained
    (a trunk every round, a fork from its switch round, a copy nothing). `environment`
    (sweeps.environment.describe_environment) is added when given."""
    names = {i for i in range(len(trials))}
    spent = attributed = 0.0
    roles: dict[str, int] = {}
    results = list(newest(results).values())
    for r in results:
        metrics = r.metrics or {}
        spent += float(metrics.get("spent_train_flops") or 0)
        if (r.config or {}).get("trial_index") in names:
            attributed += float(metrics.get("cum_train_flops") or 0)
        role = metrics.get("role") or (r.config or {}).get("role") or "unknown"
        key = role if (r.config or {}).get("reported", True) else "hidden trunk"
        roles[key] = roles.get(key, 0) + 1
    return {
        "configurations": len(trials),
        "trials": len(list(results)),
        "runs": roles,
        "spent_train_flops": spent,
        "attributed_train_flops": attributed,
        "saved_fraction": 1 - spent / attributed if attributed else None,
        "wall_seconds": seconds,
        **({"environment": environment} if environment is not None else {}),
    }


def report(
    results,
    trials: list[Trial],
    uri: str,
    seconds: float,
    store=None,
    environment: Optional[dict] = None,
    blocked: Optional[dict] = None,
) -> int:
    """Print the table, the sharing line and the next steps; write sweep_summary.json; returns the exit status.
    `blocked`: configuration -> the failed run that kept it from starting (sweeps.sharing)."""
    table = rows(results, trials, blocked)
    widths = [max(len(h), *(len(row[j]) for row in table)) for j, h in enumerate(HEADER)]
    print()
    for row in (HEADER, *table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    counts = {
        s: sum(row[-1] == s for row in table)
        for s in ("finished", "input-error", "errored", "blocked", "unfinished", "not started")
    }
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    name = Path(uri).name
    degenerate = sum(row[6].endswith(DEGENERATE_MARK) for row in table)
    if degenerate:
        print(
            f"{DEGENERATE_MARK} ended degenerate ({degenerate} trial(s)): the final test or last validation pass "
            "predicted a single class"
        )
    print(f"\n{len(trials)} configurations: {summary}; sweep wall time {seconds:.0f} s")
    totals = sweep_summary(results, trials, seconds, environment)
    if store is not None:
        store.write_json(SWEEP_SUMMARY, totals)
    if totals["attributed_train_flops"]:
        runs = ", ".join(f"{n} {k}" for k, n in sorted(totals["runs"].items()))
        print(
            f"training FLOPs: spent {totals['spent_train_flops']:.3e} for {totals['attributed_train_flops']:.3e} "
            "attributed "
            f"to the configurations ({totals['saved_fraction']:.0%} saved by shared prefixes; runs: {runs})"
        )
    print(f"results: {uri}  (one folder per trial: params.json, result.json, rounds.jsonl, summary.json, tensorboard/)")
    print(f"compare: tensorboard --logdir {uri}")
    print(f"report:  python -m analysis.report {uri} --out reports/{name}")
    for cause in sorted(set((blocked or {}).values())):
        waiting = sorted(n for n, c in blocked.items() if c == cause)
        print(f"blocked by {cause}, which failed: {', '.join(waiting)}")
    n_blocked = counts.get("blocked", 0)
    bad = input_errors(results, trials)
    if bad:
        more = f" ({len(bad) - 1} more in the table)" if len(bad) > 1 else ""
        print(
            f"grid.py: error: trial {bad[0][0]} failed for its input{more}: {bad[0][1]} "
            f"(fix it and rerun with --resume --name {name})",
            file=sys.stderr,
        )
        return 2
    if counts["finished"] == len(trials):
        return 0
    if counts["errored"] or n_blocked:
        print(
            f"grid.py: {counts['errored']} trial(s) failed after their retries and {n_blocked} could not run without "
            "them; "
            "see error.txt in their folders, "
            f"and rerun with --resume --name {name}: it retries the failed runs, then runs what they blocked.",
            file=sys.stderr,
        )
        return 1
    print(
        f"grid.py: the sweep was interrupted; continue it with: python sweeps/grid.py --resume --name {name} "
        f"--storage-path {uri.rsplit('/', 1)[0]}",
        file=sys.stderr,
    )
    return 130
