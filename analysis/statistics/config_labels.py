"""Short unique names of configurations (``retrain``, ``deltaf1→finetune ε=0.01 k=2``, ``retrain lr=0.0001``).

A name spells the strategy, deltaf1's switch knobs, and only the knobs and settings that vary
within a dataset, so tables stay readable; where two configurations would share a name every
varying knob and setting is spelled out.
"""

from __future__ import annotations

import json
from typing import Optional

import pandas as pd

from analysis.reading.configuration import GROUP_COLUMNS, SETTINGS, parse_settings, setting_text, varying_settings
from hybridal.records import TRIAL_COLUMNS

# Which knobs matter to each strategy (docs/configuration.md: finetune_epochs, replay); used for labels and matching.
RELEVANT_KNOBS: dict[str, tuple[str, ...]] = {
    "retrain": ("model", "sampler", "epochs"),
    "finetune": ("model", "sampler", "epochs", "finetune_epochs"),
    "new_only": ("model", "sampler", "epochs", "replay"),
}


RULE_KNOBS = ("after", "epsilon", "k", "c", "guard")  # deltaf1's own columns, named after its strategy


def _fmt_value(v) -> str:
    return setting_text(v)  # floats as %g, lists and mappings (e.g. `stopping`) as canonical JSON


def config_labels(summary: pd.DataFrame) -> pd.Series:
    """Short unique names: the strategy, deltaf1's switch knobs, and knobs and settings that vary in a dataset.

    e.g. ``retrain``, ``deltaf1→finetune ε=0.01 k=2``, ``new_only replay=32``, ``retrain lr=0.0001``.
    """
    labels = pd.Series("", index=summary.index, dtype=object)
    for _, g in summary.groupby("dataset", dropna=False, sort=False):
        varying = [
            c
            for c in GROUP_COLUMNS
            if c not in ("dataset", "strategy", "guard")
            and g[c].astype(object).map(_fmt_value).nunique(dropna=False) > 1
        ]
        rules = g[g["strategy"] == "deltaf1"]  # the guard is the rule's: named only where two rules differ in it
        if rules["guard"].astype(object).map(_fmt_value).nunique(dropna=False) > 1:
            varying.append("guard")
        names = _setting_names(varying_settings(g))
        usual = _usual_settings(g, names)
        for i, row in g.iterrows():
            labels[i] = _label(row, varying) + _settings_label(row, names, usual)
        dup = labels[g.index].duplicated(keep=False)
        for i in g.index[dup.to_numpy()]:  # same short label: spell out every varying knob and setting
            labels[i] = _label(summary.loc[i], varying, everything=True) + _settings_label(summary.loc[i], names)
        # still the same (e.g. one has no run config): number them so every label names one row
        for _, same in labels[g.index].groupby(labels[g.index], sort=False):
            if len(same) > 1:
                for n, i in enumerate(same.index, start=1):
                    labels[i] = f"{labels[i]} #{n}"
    return labels


def _setting_names(keys: list[str]) -> dict[str, str]:
    """Setting key -> its name in labels: the last part of the key (``lr``) where that is unambiguous."""
    leaf = {k: k.rsplit(".", 1)[-1] for k in keys}
    taken = list(leaf.values())
    return {k: n if taken.count(n) == 1 and n not in TRIAL_COLUMNS else k for k, n in leaf.items()}


def _usual_settings(g: pd.DataFrame, keys) -> dict[str, str]:
    """Each setting's most common value among the rows (JSON; ties to the first in sorted order)."""
    rows = [parse_settings(v) or {} for v in g[SETTINGS]]
    out = {}
    for k in keys:
        counts = pd.Series([json.dumps(d.get(k), sort_keys=True) for d in rows]).value_counts()
        out[k] = sorted(counts.index[counts == counts.max()])[0]
    return out


def _settings_label(row: pd.Series, names: dict[str, str], usual: Optional[dict[str, str]] = None) -> str:
    """`` lr=0.0001``: the settings where `row` departs from `usual` (every one if `usual` is None)."""
    settings = parse_settings(row.get(SETTINGS)) or {}
    parts = []
    for k, name in names.items():
        value = settings.get(k)
        if usual is None or json.dumps(value, sort_keys=True) != usual[k]:
            parts.append(f" {name}={'–' if value is None else _fmt_value(value)}")
    return "".join(parts)


def _label(row: pd.Series, varying: list[str], everything: bool = False) -> str:
    strategy = "?" if pd.isna(row["strategy"]) else str(row["strategy"])
    parts = [strategy]
    relevant = RELEVANT_KNOBS.get(strategy)
    if strategy == "deltaf1":
        if not pd.isna(row["after"]):
            parts[0] += f"→{row['after']}"
        for knob, sym in (("epsilon", "ε"), ("k", "k"), ("c", "c"), ("guard", "guard")):
            if not pd.isna(row[knob]) and (knob not in ("c", "guard") or knob in varying):
                parts.append(f"{sym}={_fmt_value(row[knob])}")
    for c in varying:
        if c in RULE_KNOBS and not everything:
            continue
        if strategy == "deltaf1" and c in RULE_KNOBS:
            continue
        if not everything and relevant is not None and c not in relevant:
            continue
        if pd.isna(row[c]):
            if everything:
                parts.append(f"{c}=–")
            continue
        parts.append(f"{c}={_fmt_value(row[c])}")
    return " ".join(parts)
