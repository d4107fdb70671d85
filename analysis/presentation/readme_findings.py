"""``python -m analysis.presentation.readme_findings RESULTS_DIR``: the README's findings table, from a
report's headline.csv.

The README quotes the committed study through this table; a test checks that the README holds
exactly what this prints for docs/results/study, so the two cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from analysis.presentation.render import Table, to_markdown
from analysis.presentation.study_tables import headline_table

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


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(
            "usage: python -m analysis.presentation.readme_findings RESULTS_DIR (a folder written by "
            "python -m analysis.report)",
            file=sys.stderr,
        )
        return 2
    path = Path(args[0]) / "headline.csv"
    if not path.is_file():
        print(
            f"error: {path} does not exist; allowed: a folder written by `python -m analysis.report`.", file=sys.stderr
        )
        return 2
    print(findings_markdown(pd.read_csv(path)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
