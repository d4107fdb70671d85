"""The report's "Multi-label metrics per round" section (analysis/statistics/multilabel.py): per dataset
and configuration, the seed means of micro-F1, macro-F1 and mean ROC AUC after every round.

Emitted only where some run is multi-label, so reports of single-label runs are unchanged."""

from __future__ import annotations

import pandas as pd

from analysis.presentation.formatting import count, has_value
from analysis.presentation.render import Block, Heading, Para, Table
from analysis.statistics.pipeline import Analysis


def _score(x) -> str:
    return f"{x:.3f}" if has_value(x) else "–"


def rounds_table(t: pd.DataFrame) -> Table:
    rows = [
        [
            f"`{r['config']}`",
            str(int(r["round"])),
            count(r["n_labeled"]),
            _score(r["test_micro_f1"]),
            _score(r["test_macro_f1"]),
            _score(r["test_mean_auc"]),
            _score(r["val_micro_f1"]),
            _score(r["val_macro_f1"]),
            f"{int(r['seeds'])}",
            (r["undefined_labels"] or "–") if isinstance(r["undefined_labels"], str) else "–",
        ]
        for _, r in t.iterrows()
    ]
    return Table(
        [
            "configuration",
            "round",
            "labels",
            "test micro-F1",
            "test macro-F1",
            "test mean ROC AUC",
            "val micro-F1",
            "val macro-F1",
            "seeds",
            "undefined on test",
        ],
        rows,
        "Seed means. Undefined on test: metrics some seed's test rows could not measure that round "
        "(roc_auc:<label>: no positive among the rows, left out of the mean AUC; f1:<label>: no positive true "
        "or predicted, F1 0 in macro-F1).",
        align_right={1, 2, 3, 4, 5, 6, 7, 8},
    )


def multilabel_blocks(a: Analysis) -> list[Block]:
    """The section's blocks; none where no run is multi-label."""
    t = a.multilabel
    if t is None or not len(t):
        return []
    blocks: list[Block] = [
        Heading(2, "Multi-label metrics per round"),
        Para(
            "`test_f1` elsewhere in this report is the metric each run monitored (`monitor_metric`, micro-F1 by "
            "default); here are micro-F1, macro-F1 over labels and the mean column-wise ROC AUC after every round "
            "(multilabel_rounds.csv). Rounds tested on a subsample are not comparable with the final full-split "
            "round; see docs/multilabel.md for which metrics a small copy can support."
        ),
    ]
    for ds in sorted(t["dataset"].unique()):
        blocks += [Heading(3, str(ds)), rounds_table(t[t["dataset"] == ds])]
    return blocks
