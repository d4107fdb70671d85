"""The report's section for a study's pre-registered comparisons (analysis/statistics/preregistered.py):
the findings as sentences and as a table, every arm against the reference, the targets reached, and
the stopping criteria on the reference arm. Absent where the report has no protocol."""

from __future__ import annotations

import pandas as pd

from analysis.presentation.formatting import f3, flops, has_value, percent_pm, pm, seconds
from analysis.presentation.render import Block, Heading, Para, Table
from analysis.statistics.preregistered_findings import Preregistered


def interval_text(mean, lo, hi) -> str:
    """Signed points with their 95% interval: ``+0.18 [-0.50, +0.86]``; the mean alone without one."""
    if not has_value(mean):
        return "–"
    return f"{mean:+.2f} [{lo:+.2f}, {hi:+.2f}]" if has_value(lo) and has_value(hi) else f"{mean:+.2f}"


def _labels(x) -> str:
    return f"{x:,.0f}" if has_value(x) else "–"


def _against(name: str) -> str:
    return name if name == "its own end" else f"`{name}`"


def finding_sentences(pre: Preregistered) -> list[str]:
    """One sentence per finding row, for the report's Findings list."""
    out = []
    for _, r in pre.findings.iterrows():
        tag = "" if not r["exploratory"] else " (exploratory)"
        if r["verdict"] == "no cheaper arm resolved":
            out.append(
                f"**{r['dataset']}**{tag} {r['question']} of `{r['against']}`: no arm that uses no more labels "
                f"has an interval that shows it, so the answer is `{r['against']}` itself."
            )
            continue
        out.append(
            f"**{r['dataset']}**{tag} {r['question']}: `{r['arm']}` vs {_against(r['against'])}, {r['effect']} "
            f"{interval_text(r['effect_mean'], r['effect_lo'], r['effect_hi'])} over {int(r['n_paired'])} paired "
            f"seed(s); AL FLOPs saved {percent_pm(r['al_flops_saved_pct_mean'], r['al_flops_saved_pct_ci95'])}, "
            f"labels saved {_labels(r['labels_saved_mean'])}: **{r['verdict']}**."
        )
    return out


def findings_block(findings: pd.DataFrame, margin_points: float) -> Table:
    """The findings table (findings.csv) as the report and docs/findings.md show it."""
    rows = [
        [
            r["dataset"],
            "primary" if not r["exploratory"] else "exploratory",
            r["question"],
            f"`{r['arm']}`",
            _against(r["against"]),
            str(int(r["n_paired"])),
            r["effect"],
            interval_text(r["effect_mean"], r["effect_lo"], r["effect_hi"]),
            percent_pm(r["al_flops_saved_pct_mean"], r["al_flops_saved_pct_ci95"]),
            _labels(r["labels_saved_mean"]),
            r["verdict"],
        ]
        for _, r in findings.iterrows()
    ]
    return Table(
        [
            "dataset",
            "kind",
            "question",
            "arm",
            "against",
            "seeds paired",
            "effect",
            "mean [95% CI]",
            "AL FLOPs saved",
            "labels saved",
            "verdict",
        ],
        rows,
        f"Paired by seed, 95% t-intervals. Non-inferiority: the interval's lower end above −{margin_points:g} "
        "points (the cheapest arm: Bonferroni intervals over the arms that are candidates); a difference: the "
        "interval excludes 0; F1 given up: the interval's upper end below the margin. Where the interval "
        "straddles the line: not resolved. Only the primary rows are confirmatory; the rest are exploratory "
        "(protocol.json). Stopping rows: on the reference's runs, against their own end, AL FLOPs saved net of "
        "the passes the criterion reads (a criterion that never fired only costs), F1 given up on validation.",
        {5, 7, 8, 9},
    )


def arms_block(arms: pd.DataFrame, p_reference: str, margin: float) -> Table:
    rows = [
        [
            f"`{a['arm']}`",
            f"`{a['config']}`",
            str(int(a["n_seeds"])),
            pm(a["test_f1_mean"], a["test_f1_ci95"]),
            pm(a["aulc_mean"], a["aulc_ci95"]),
            _labels(a["labels_used_mean"]),
            flops(a["al_flops_mean"]),
            flops(a["train_flops_mean"]),
            seconds(a["wall_seconds_mean"]),
            f"{int(a['switched'])}/{int(a['n_seeds'])}" if "deltaf1" in str(a["config"]) else "–",
            interval_text(a["d_test_f1_points_mean"], a["d_test_f1_points_lo"], a["d_test_f1_points_hi"]),
            interval_text(a["d_aulc_points_mean"], a["d_aulc_points_lo"], a["d_aulc_points_hi"]),
            percent_pm(a["al_flops_saved_pct_mean"], a["al_flops_saved_pct_ci95"]),
            a["verdict"] or "reference",
        ]
        for _, a in arms.sort_values("al_flops_mean").iterrows()
    ]
    return Table(
        [
            "arm",
            "configuration",
            "seeds",
            "test F1",
            "AULC",
            "labels used",
            "AL FLOPs",
            "train FLOPs",
            "wall time",
            "switched",
            f"Δ test F1 vs {p_reference} (pts)",
            "Δ AULC (pts)",
            "AL FLOPs saved",
            f"within {margin:g} pts",
        ],
        rows,
        f"Seed means ± 95% intervals; against `{p_reference}` paired by seed, mean [95% CI]; sorted by AL FLOPs. "
        "Wall time: per run, two runs at a time on the machine in Compute and environment.",
        {2, 3, 4, 5, 6, 7, 8, 10, 11, 12},
    )


def targets_block(targets: pd.DataFrame, reference: str) -> Table:
    rows = [
        [
            f"`{t['arm']}`",
            f"{t['target']:.0%}",
            f"{int(t['seeds_reached'])}/{int(t['seeds'])}",
            _labels(t["labels_to_reach_median"]),
            flops(t["al_flops_to_reach_median"]),
            "–" if t["arm"] == reference else _signed_pm(t["d_labels_mean"], t["d_labels_ci95"]),
            "–" if t["arm"] == reference else percent_pm(t["al_flops_saved_pct_mean"], t["al_flops_saved_pct_ci95"]),
            str(int(t["n_paired"])),
        ]
        for _, t in targets.sort_values(["target", "al_flops_to_reach_median"]).iterrows()
    ]
    return Table(
        [
            "arm",
            "target",
            "reached",
            "labels (median)",
            "AL FLOPs (median)",
            f"Δ labels vs {reference}",
            f"AL FLOPs saved vs {reference}",
            "seeds paired",
        ],
        rows,
        f"Labels used and AL FLOPs at the first round whose validation F1 reaches the fraction of `{reference}`'s "
        "final validation F1 of the same seed (validation: the same rows every round; the per-round test F1 is on "
        "a subsample until the last round). Median over seeds, a seed that never reached counting as infinite "
        f"(– where half or more never did); against `{reference}`'s own, paired by seed over the seeds both "
        "reached, mean ± 95% interval.",
        {2, 3, 4, 5, 6, 7},
    )


def _signed_pm(mean, half) -> str:
    if not has_value(mean):
        return "–"
    return f"{mean:+,.0f} ± {half:,.0f}" if has_value(half) else f"{mean:+,.0f}"


def stopping_block(stopping: pd.DataFrame, reference: str, margin: float) -> Table:
    rows = [
        [
            f"`{s['label']}`",
            s["reads"],
            f"{int(s['seeds_stopped'])}/{int(s['seeds'])}",
            f3(s["stop_round_median"]).replace(".000", "") if has_value(s["stop_round_median"]) else "–",
            _labels(s["labels_saved_mean"]),
            percent_pm(s["al_flops_saved_pct_mean"], s["al_flops_saved_pct_ci95"]),
            interval_text(s["f1_given_up_points_mean"], s["f1_given_up_points_lo"], s["f1_given_up_points_hi"]),
            s["verdict"],
        ]
        for _, s in stopping[stopping["arm"] == reference].iterrows()
    ]
    return Table(
        [
            "criterion",
            "reads",
            "seeds stopped",
            "stop round (median)",
            "labels saved (mean)",
            "AL FLOPs saved",
            "validation F1 given up (pts)",
            f"given up vs {margin:g} pts",
        ],
        rows,
        f"On `{reference}`'s runs: had the run stopped after the criterion's round, against the same run's end. "
        "Saved: net of what the criterion reads every round until it stops (the stop-set pass; the validation "
        "pass and its labels), so a criterion that never fires only costs. Given up: validation F1 at the end − "
        "at the stop round (the same rows every round; 0 where it never stopped), mean [95% CI]. Every arm: "
        "stopping_paired.csv.",
        {2, 3, 4, 5, 6},
    )


def preregistered_blocks(pre: Preregistered) -> list[Block]:
    """The section: findings table, then per dataset the arms, targets and stopping tables."""
    p = pre.protocol
    blocks: list[Block] = [
        Heading(2, "Pre-registered comparisons"),
        Para(
            f"The comparisons `protocol.json` fixes: every arm against `{p.reference}`, non-inferiority of the "
            f"final test F1 (full test split) at {p.margin_points:g} points, targets at "
            + ", ".join(f"{t:.0%}" for t in p.targets)
            + f" of `{p.reference}`'s final validation F1 (a run's rounds are compared on validation F1, the same "
            "rows every round); arms are read from the trial names (`<dataset>-arm-<arm>-s<seed>`)."
        ),
        findings_block(pre.findings, p.margin_points),
    ]
    for ds in sorted(pre.arms["dataset"].unique()):
        arms = pre.arms[pre.arms["dataset"] == ds]
        tag = " (exploratory)" if ds in p.exploratory else ""
        blocks += [Heading(3, f"{ds}{tag}: arms against {p.reference}"), arms_block(arms, p.reference, p.margin_points)]
        blocks.append(targets_block(pre.targets[pre.targets["dataset"] == ds], p.reference))
        st = pre.stopping[pre.stopping["dataset"] == ds] if len(pre.stopping) else pre.stopping
        if len(st):
            blocks.append(stopping_block(st, p.reference, p.margin_points))
    return blocks
