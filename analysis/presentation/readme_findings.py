"""``python -m analysis.presentation.readme_findings RESULTS_DIR``: the README's findings table, from a
report's headline.csv; for a study with a ``protocol.json``, its pre-registered findings table, from
the report's findings.csv.

The README and docs/findings.md quote the committed studies through these tables; tests check that
they hold exactly what this prints for docs/results/study and docs/results/study2, so they cannot
drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from analysis.presentation.preregistered_tables import findings_block
from analysis.presentation.render import Table, to_markdown
from analysis.presentation.study_tables import headline_table
from analysis.reading.protocol import PROTOCOL_FILE, read_protocol

# The headline columns the README shows (the report has them all).
README_COLUMNS = (
    "dataset",
    "sampler",
    "role",
    "configuration",
    "seeds",
    "test F1",
    "labels used",
    "AL FLOPs saved vs retrain",
    "train FLOPs saved",
    "Δ test F1 vs retrain (pts)",
    "Δ test F1 vs finetune (pts)",
    "switched (round)",
)


def findings_markdown(headline: pd.DataFrame, tolerance_points: float = 0.5) -> str:
    """The headline table, README columns only, as Markdown (no caption)."""
    full = headline_table(headline, tolerance_points)
    keep = [full.columns.index(c) for c in README_COLUMNS]
    table = Table(
        [full.columns[i] for i in keep],
        [[row[i] for i in keep] for row in full.rows],
        align_right={j for j, i in enumerate(keep) if i in full.align_right},
    )
    return to_markdown([table]).strip() + "\n"


def prereg_markdown(findings: pd.DataFrame, margin_points: float) -> str:
    """A pre-registered study's findings table as Markdown (no caption)."""
    table = findings_block(findings, margin_points)
    return to_markdown([Table(table.columns, table.rows, align_right=table.align_right)]).strip() + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(
            "usage: python -m analysis.presentation.readme_findings RESULTS_DIR (a folder written by "
            "python -m analysis.report)",
            file=sys.stderr,
        )
        return 2
    folder = Path(args[0])
    if (folder / "findings.csv").is_file() and (folder / PROTOCOL_FILE).is_file():
        margin = read_protocol(str(folder / PROTOCOL_FILE)).margin_points
        print(prereg_markdown(pd.read_csv(folder / "findings.csv"), margin), end="")
        return 0
    path = folder / "headline.csv"
    if not path.is_file():
        print(
            f"error: {path} does not exist; allowed: a folder written by `python -m analysis.report`.", file=sys.stderr
        )
        return 2
    print(findings_markdown(pd.read_csv(path)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
