"""Are two sweeps' results the same, timings aside? For a refactor that must not change results.

    python -m benchmarks.compare_sweeps BEFORE_DIR AFTER_DIR [--logs BEFORE.log AFTER.log]

BEFORE_DIR and AFTER_DIR are sweep folders (`sweeps/grid.py --storage-path S --preset P` writes S/P).
Compared, per trial folder: every field of every record in rounds.jsonl, and summary.json, except
what measures the machine rather than the run (`*_seconds`, `environment`, whether tokens came
from the cache, the storage paths a fork names). With `--logs`, the closing tables the two sweeps
printed are compared too, line by line, the sweep's wall time aside. Exit status 0 when
identical, 1 with each difference listed otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

MACHINE_KEYS = {"environment", "tokenization_cached"}
TABLE_START = re.compile(r"^trial\s+dataset\s+")
WALL_TIME = re.compile(r"; sweep wall time [\d.]+ s")


def without_machine_fields(value: Any, root: str) -> Any:
    """`value` with timings, environment and the sweep's own storage path removed."""
    if isinstance(value, dict):
        return {
            k: without_machine_fields(v, root)
            for k, v in value.items()
            if not k.endswith("_seconds") and k not in MACHINE_KEYS
        }
    if isinstance(value, list):
        return [without_machine_fields(v, root) for v in value]
    if isinstance(value, str) and root in value:
        return value.replace(root, "<sweep>")
    return value


def trial_folders(sweep: Path) -> dict[str, Path]:
    return {p.parent.name: p.parent for p in sorted(sweep.glob("*/summary.json"))}


def read_trial(folder: Path, root: str) -> dict:
    records = [json.loads(line) for line in (folder / "rounds.jsonl").read_text().splitlines() if line]
    summary = json.loads((folder / "summary.json").read_text())
    return {"rounds": without_machine_fields(records, root), "summary": without_machine_fields(summary, root)}


def differences(a: Any, b: Any, where: str = "") -> Iterator[str]:
    """Each place where `a` and `b` differ, as 'path: a != b'."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{where}/{key}: only in {'after' if key not in a else 'before'}"
            else:
                yield from differences(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{where}[{i}]")
    elif a != b:
        yield f"{where}: {a!r} != {b!r}"


def closing_table(log: Path) -> list[str]:
    """The table a sweep prints when it ends, through its FLOPs line, wall time removed."""
    lines = log.read_text(errors="replace").splitlines()
    start = next((i for i, line in enumerate(lines) if TABLE_START.match(line)), None)
    if start is None:
        raise SystemExit(f"{log}: no closing table (a line starting 'trial  dataset') found; is it a sweep's log?")
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("training FLOPs:")), len(lines) - 1)
    return [WALL_TIME.sub("", line.rstrip()) for line in lines[start : end + 1]]


def compare(before: Path, after: Path, logs: tuple[Path, Path] | None) -> list[str]:
    found: list[str] = []
    trials_a, trials_b = trial_folders(before), trial_folders(after)
    if not trials_a:
        raise SystemExit(f"{before}: no trial folder with a summary.json; pass a sweep folder.")
    for name in sorted(set(trials_a) ^ set(trials_b)):
        found.append(f"{name}: only in {'before' if name in trials_a else 'after'}")
    for name in sorted(set(trials_a) & set(trials_b)):
        a, b = read_trial(trials_a[name], str(before)), read_trial(trials_b[name], str(after))
        found.extend(f"{name}{d}" for d in differences(a, b))
    if logs:
        table_a, table_b = closing_table(logs[0]), closing_table(logs[1])
        if table_a != table_b:
            found.append(
                "closing table differs:\n  before: "
                + "\n  before: ".join(table_a)
                + "\n  after:  "
                + "\n  after:  ".join(table_b)
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument(
        "--logs",
        nargs=2,
        type=Path,
        metavar=("BEFORE_LOG", "AFTER_LOG"),
        help="the two sweeps' printed output, to compare their closing tables",
    )
    args = parser.parse_args(argv)
    found = compare(args.before, args.after, tuple(args.logs) if args.logs else None)
    n = len(trial_folders(args.before))
    if found:
        print(f"{len(found)} difference(s) between {args.before} and {args.after}:")
        print("\n".join(found))
        return 1
    print(
        f"identical, timings aside: {n} trials' records and summaries" + (" and the closing table" if args.logs else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
