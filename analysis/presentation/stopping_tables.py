"""The report's "Stopping criteria" section: each criterion's stop round and what stopping there would
have saved, paired by seed (analysis/statistics/stopping.py), and the runs that halted on a criterion.

Emitted only where some run has criteria, so reports of runs without them are unchanged."""

from __future__ import annotations

import pandas as pd

from analysis.presentation.formatting import count, flops, has_value, points
from analysis.presentation.render import Block, Heading, Para, Table
from analysis.statistics.pipeline import Analysis

_READS = {"stop_set": "unlabelled stop set", "labels": "a labelled metric", "budget": "the budget"}


def _spread(r: pd.Series, m: str, fmt) -> str:
    """``median [min, max]`` of measure `m`; "–" where no seed has it."""
    if not has_value(r[f"{m}_median"]):
        return "–"
    return f"{fmt(r[f'{m}_median'])} [{fmt(r[f'{m}_min'])}, {fmt(r[f'{m}_max'])}]"


def _round(x) -> str:
    return f"{x:g}" if has_value(x) else "–"


def criteria_table(agg: pd.DataFrame) -> Table:
    rows = [
        [
            str(r["dataset"]),
            f"`{r['config']}`",
            f"`{r['label']}`",
            str(r["criterion"]),
            _READS.get(r["reads"], str(r["reads"])),
            f"{int(r['seeds_stopped'])}/{int(r['seeds'])}",
            _spread(r, "stop_round", _round),
            _spread(r, "labels_saved", count),
            _spread(r, "flops_saved", flops),
            _spread(r, "test_f1_given_up_points", points)
            + ("" if r["f1_seeds"] == r["seeds"] else f" ({int(r['f1_seeds'])} seeds)"),
        ]
        for _, r in agg.iterrows()
    ]
    return Table(
        [
            "dataset",
            "configuration",
            "criterion",
            "rule",
            "reads",
            "seeds stopped",
            "stop round",
            "labels saved",
            "AL FLOPs saved",
            "test F1 given up (pts)",
        ],
        rows,
        "Median [min, max] over seeds; the stop round over the seeds that stopped, the rest over every seed "
        "(a seed that never stopped saves 0 and gives up 0).",
        align_right={5, 6, 7, 8, 9},
    )


def halted_table(h: pd.DataFrame) -> Table:
    rows = [
        [
            str(r["dataset"]),
            f"`{r['config']}`",
            "–" if not has_value(r["seed"]) else str(int(r["seed"])),
            f"`{r['halt_on']}`",
            str(int(r["halted_round"])),
            count(r["labels_used"]),
            flops(r["al_flops"]),
            "–" if not has_value(r["final_test_f1"]) else f"{r['final_test_f1']:.3f}",
        ]
        for _, r in h.iterrows()
    ]
    return Table(
        ["dataset", "configuration", "seed", "halted on", "halted after round", "labels used", "AL FLOPs", "test F1"],
        rows,
        align_right={2, 4, 5, 6, 7},
    )


def stopping_blocks(a: Analysis) -> list[Block]:
    """The section's blocks; none where no run has stopping criteria."""
    agg, halted, seeds = a.stopping, a.stopping_halted, a.stopping_seeds
    if (agg is None or not len(agg)) and (halted is None or not len(halted)):
        return []
    blocks: list[Block] = [
        Heading(2, "Stopping criteria"),
        Para(
            "Each criterion's stop round r (it would have stopped the run after round r), paired by seed with the "
            "same run's end: labels saved = labels used at the end − at round r; AL FLOPs saved likewise with the "
            "AL cost; test F1 given up = the final full-split test F1 − round r's test F1, in points. Only runs "
            "that ran to their budget are compared (stopping.csv; per seed: stopping_seeds.csv)."
        ),
    ]
    if agg is not None and len(agg):
        blocks.append(criteria_table(agg))
    if seeds is not None and seeds["f1_note"].notna().any():
        blocks.append(
            Para(
                "Test F1 given up is left out (–, or fewer seeds) where the stop round's test F1 was measured on a "
                "test subsample: a per-round F1 on a subsample is not comparable to the full split."
            )
        )
    if halted is not None and len(halted):
        blocks += [
            Heading(3, "Runs that halted on a criterion"),
            Para(
                "These runs ended when their `halt_on` criterion said stop, so they have no end of their own to "
                "compare with; their labels and AL cost are what they spent (stopping_halted.csv)."
            ),
            halted_table(halted),
        ]
    return blocks
