"""The findings table of a pre-registered study: one row per question and dataset, each a paired
interval and its verdict (analysis/statistics/preregistered.py computes the arms' comparisons).

Questions, in the protocol's terms:
- ``non-inferior within <margin> pts``: the primary arm's non-inferiority to the reference at the
  margin (final test F1); the only row not exploratory (unless its dataset is);
- ``cheapest within margin``: among arms that use no more labels than the reference and whose
  interval shows non-inferiority, the one with the lowest AL FLOPs (exploratory, no correction for
  the several arms compared: each arm's own interval is shown in the arms table);
- ``label-free vs validation switch``: the label-free HybridAL arm against the validation-monitor
  one: labels and AL FLOPs saved, Δ test F1;
- ``stopping: <criterion>``: on the reference arm, what stopping where the criterion said would
  have saved and given up;
- ``shrink-perturb vs cheap strategy``: at equal cost, Δ test F1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import pandas as pd

from analysis.reading.problems import ProblemLog
from analysis.reading.protocol import Protocol
from analysis.statistics.preregistered import (
    Interval,
    arms_table,
    difference,
    mean_saved,
    named_arms,
    non_inferiority,
    paired_points,
    paired_saved_pct,
    targets_table,
)
from analysis.statistics.preregistered_stopping import stopping_table

FINDING_COLUMNS = (
    "dataset",
    "question",
    "arm",
    "against",
    "n_paired",
    "effect",
    "effect_mean",
    "effect_lo",
    "effect_hi",
    "al_flops_saved_pct_mean",
    "al_flops_saved_pct_ci95",
    "labels_saved_mean",
    "verdict",
    "exploratory",
)
F1_DELTA = "Δ test F1 (pts)"
GIVEN_UP = "validation F1 given up (pts)"
PRIMARY = "non-inferior within {:g} pts"


def _row(ds: str, question: str, arm: str, against: str, d: Interval, saved: Interval, labels: float, verdict: str):
    return {
        "dataset": ds,
        "question": question,
        "arm": arm,
        "against": against,
        "n_paired": d.n,
        "effect": F1_DELTA,
        "effect_mean": d.mean,
        "effect_lo": d.lo,
        "effect_hi": d.hi,
        "al_flops_saved_pct_mean": saved.mean,
        "al_flops_saved_pct_ci95": saved.half,
        "labels_saved_mean": labels,
        "verdict": verdict,
    }


def _from_arms(ds: str, question: str, a: pd.Series, against: str) -> dict:
    d = Interval(a["d_test_f1_points_mean"], a["d_test_f1_points_mean"] - a["d_test_f1_points_lo"], a["n_paired"])
    saved = Interval(a["al_flops_saved_pct_mean"], a["al_flops_saved_pct_ci95"], a["n_paired"])
    return _row(ds, question, a["arm"], against, d, saved, a["labels_saved_mean"], a["verdict"])


def _versus(runs: pd.DataFrame, ds: str, question: str, arm: str, against: str) -> dict:
    d = paired_points(runs, ds, arm, against, "final_test_f1")
    saved = paired_saved_pct(runs, ds, arm, against, "total_flops")
    return _row(ds, question, arm, against, d, saved, mean_saved(runs, ds, arm, against, "labels_used"), difference(d))


def _cheapest(runs: pd.DataFrame, ds: str, arms: pd.DataFrame, p: Protocol) -> dict:
    """The cheapest arm (AL FLOPs) whose Bonferroni interval over the candidates shows non-inferiority,
    among the arms that use no more labels than the reference; the reference itself where none does."""
    reference = arms[arms["arm"] == p.reference]
    candidates = arms[arms["arm"] != p.reference]
    if len(reference):
        candidates = candidates[candidates["labels_used_mean"] <= float(reference["labels_used_mean"].iloc[0]) + 0.5]
    m = max(len(candidates), 1)
    question = f"cheapest within {p.margin_points:g} pts (Bonferroni over {m})"
    for _, a in candidates.sort_values("al_flops_mean").iterrows():
        d = paired_points(runs, ds, a["arm"], p.reference, "final_test_f1", comparisons=m)
        if non_inferiority(d, p.margin_points) == "non-inferior":
            saved = Interval(a["al_flops_saved_pct_mean"], a["al_flops_saved_pct_ci95"], a["n_paired"])
            return _row(ds, question, a["arm"], p.reference, d, saved, a["labels_saved_mean"], "non-inferior")
    nan = Interval(math.nan, math.nan, 0)
    return _row(ds, question, p.reference, p.reference, nan, nan, math.nan, "no cheaper arm resolved")


def findings_table(runs: pd.DataFrame, arms: pd.DataFrame, stopping: pd.DataFrame, p: Protocol) -> pd.DataFrame:
    """One row per dataset x question (see the module docstring)."""
    rows = []
    for ds in sorted(arms["dataset"].unique()) if len(arms) else []:
        a = arms[arms["dataset"] == ds].set_index("arm", drop=False)
        has = set(a.index)
        if p.primary.get(ds) in has and p.reference in has:
            primary = _from_arms(ds, PRIMARY.format(p.margin_points), a.loc[p.primary[ds]], p.reference)
            rows.append(primary | {"exploratory": ds in p.exploratory})
        if p.reference in has:
            rows.append(_cheapest(runs, ds, a, p))
        free = p.label_free_switch.get(ds)
        if free in has and p.validation_switch in has:
            rows.append(_versus(runs, ds, "label-free vs validation switch", free, p.validation_switch))
        st = stopping[(stopping["dataset"] == ds) & (stopping["arm"] == p.reference)] if len(stopping) else stopping
        for _, s in st.iterrows():
            d = Interval(
                s["f1_given_up_points_mean"], s["f1_given_up_points_mean"] - s["f1_given_up_points_lo"], s["seeds"]
            )
            saved = Interval(s["al_flops_saved_pct_mean"], s["al_flops_saved_pct_ci95"], s["seeds"])
            row = _row(
                ds,
                f"stopping: {s['label']}",
                p.reference,
                "its own end",
                d,
                saved,
                s["labels_saved_mean"],
                s["verdict"],
            )
            rows.append(row | {"effect": GIVEN_UP})
        if p.shrink_perturb in has and p.cheap_strategy in has:
            rows.append(_versus(runs, ds, "shrink-perturb vs cheap strategy", p.shrink_perturb, p.cheap_strategy))
    out = pd.DataFrame([{"exploratory": True} | r for r in rows], columns=list(FINDING_COLUMNS))
    out["exploratory"] = out["exploratory"].astype(bool)
    return out


@dataclass
class Preregistered:
    """Every table of a study's pre-registered comparisons."""

    protocol: Protocol
    arms: pd.DataFrame
    targets: pd.DataFrame
    stopping: pd.DataFrame
    findings: pd.DataFrame


def note_unmatched(runs: pd.DataFrame, p: Protocol, problems: ProblemLog) -> None:
    """Every arm or dataset the protocol names that no finished run has (a typo, or a piece not yet run)
    is a data problem, so a comparison is never dropped without a word."""
    arms_of = {ds: set(g["arm"]) for ds, g in runs.groupby("dataset")}
    for key, per_dataset in (("primary", p.primary), ("label_free_switch", p.label_free_switch)):
        for ds, arm in per_dataset.items():
            if arm not in arms_of.get(ds, set()):
                problems.add(f"protocol.json: {key}.{ds} names arm {arm}, which has no finished run on dataset {ds}")
    for key in ("reference", "validation_switch", "cheap_strategy", "shrink_perturb"):
        arm = getattr(p, key)
        if arm and not any(arm in names for names in arms_of.values()):
            problems.add(f"protocol.json: {key} names arm {arm}, which has no finished run")
    for ds in sorted(arms_of):
        if p.reference not in arms_of[ds]:
            problems.add(f"dataset {ds}: no finished run of the reference arm {p.reference}, so nothing is compared")


def preregistered(
    used: pd.DataFrame,
    summary: pd.DataFrame,
    rounds: pd.DataFrame,
    stopping_seeds: Optional[pd.DataFrame],
    protocol: Protocol,
    problems: ProblemLog,
) -> Preregistered:
    """The protocol's comparisons on the finished trials of its named arms."""
    labels = summary[["dataset", "config_id", "config"]]
    runs = named_arms(
        used.drop(columns=["config"], errors="ignore").merge(labels, on=["dataset", "config_id"]), problems
    )
    arms = arms_table(runs, protocol)
    stopping = stopping_table(runs, rounds, stopping_seeds, protocol)
    note_unmatched(runs, protocol, problems)
    return Preregistered(
        protocol, arms, targets_table(runs, rounds, protocol), stopping, findings_table(runs, arms, stopping, protocol)
    )
