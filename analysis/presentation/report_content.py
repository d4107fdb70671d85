"""What the report says, in order: its blocks (report.md and report.html), the method notes, and the
summary printed on the terminal."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from analysis.presentation.dataset_tables import config_table, hv_table, pareto_table, savings_table
from analysis.presentation.findings_sentences import (
    chosen,
    dataset_findings,
    headline_findings,
    noise_findings,
    single_seed_note,
    sweep_cost_line,
    unranked_findings,
)
from analysis.presentation.formatting import f1_name, f1_points, f3, pm, points
from analysis.presentation.multilabel_tables import multilabel_blocks
from analysis.presentation.preregistered_tables import finding_sentences, preregistered_blocks
from analysis.presentation.render import Block, Bullets, Heading, Image, Para, notes_blocks
from analysis.presentation.stopping_tables import stopping_blocks
from analysis.presentation.study_tables import cost_table, headline_table, noise_table, sampler_table, switch_table
from analysis.reading.schema_versions import V1_CONVERSION_NOTE
from analysis.statistics.frontier import HV_REF_FLOPS_FACTOR
from analysis.statistics.pipeline import Analysis, status_counts
from analysis.statistics.validation_noise import SE_FORMULA

MULTI_LABEL_NOTE = (
    "For a multi-label dataset (named `<data> (multi-label)`), `val_f1` and `test_f1` hold the run's "
    "`monitor_metric` (micro-F1 by default, docs/multilabel.md): every macro-F1 below, and in the plots' "
    '"monitored F1", reads as that metric there; its micro-F1, macro-F1 and ROC AUC per round are in '
    '"Multi-label metrics per round".'
)


def f1_name_is_macro(a: Analysis) -> bool:
    return all(f1_name(d) == "macro-F1" for d in a.summary["dataset"])


def method_notes(a: Analysis) -> list[str]:
    multi = [] if f1_name_is_macro(a) else [MULTI_LABEL_NOTE]
    return multi + [
        "Choices are made on validation metrics only (docs/design.md §9): the best configuration, the cheapest "
        f"configuration within {a.tolerance_points:g} points, the Pareto sets and the hypervolume use the final "
        "round's validation macro-F1 (`val_f1`), averaged over seeds (per round: that round's). Test F1 is reported "
        "next to them and never used to choose.",
        "Cost is the AL cost, `cum_total_flops`: training + the sampler's scoring passes + the passes a policy "
        "reads to decide (the ΔF1 rule's validation monitor, in its rounds before the decision). A validation pass "
        "no policy reads, and every test pass, is measurement and not charged. Labels used = labels acquired + "
        "labelled rows a policy reads (the validation set for the validation-monitor rule). Training FLOPs are shown "
        "beside the cost.",
        V1_CONVERSION_NOTE,
        "A configuration is the run's whole config but the seed (also `sampler_kwargs.seed`), its name and output "
        "folder, and how it executes (`device`, `num_threads`, `tensorboard`): runs that differ in, e.g., learning "
        "rate or batch size are separate configurations, and the settings that vary get their own columns.",
        "Only finished trials enter the aggregates; incomplete and errored trials are listed under Data problems and "
        "kept in rounds.csv / rounds.parquet with their status.",
        "Seed aggregation: mean, sample std (ddof = 1), 95% interval half-width t(0.975, n−1)·std/√n, and n. "
        "With n = 1 the std and interval are NaN.",
        "AULC: area under test macro-F1 against labeled examples (trapezoid rule over the rounds where test F1 was "
        "evaluated), divided by the label range, so it lies in [0, 1]; a single evaluated point gives that F1.",
        "Pareto set: a configuration is dominated if another has ≤ AL FLOPs and ≥ validation F1, one of them "
        "strictly; ties are all kept. The per-round front uses every (configuration, round) seed-mean point.",
        f"Hypervolume: area dominated by a family's front in (log10 AL FLOPs, validation F1) space, bounded by the "
        f"reference point (log10({HV_REF_FLOPS_FACTOR:g} × the largest AL cost in the dataset), F1 = 0), divided "
        "by the box from the dataset's smallest AL cost to the reference and F1 0 to 1. Shared by all families "
        "of a dataset; in [0, 1]. With the F1 reference at 0 the cost axis weighs heavily: a family of cheap but "
        "clearly less accurate configurations can score highest, so read it next to the F1 gaps.",
        "Savings: each configuration against the retrain configuration of the same dataset, model, sampler and epochs "
        "(retrain's own knobs) and the same settings but those retrain never reads (`keep_optimizer`, `shrink`, "
        f"`perturb`, the switch rule's `trigger` and `threshold`); F1 gaps are in points "
        f"({f1_points(a.summary['dataset'])}).",
        "Wall time is the sum of per-round `wall_seconds`; a switch round is averaged over the trials that switched.",
        f"Headline: per retrain configuration, every arm (finetune, new_only, every HybridAL) is a candidate: the best "
        f"by validation F1 and the cheapest (AL cost) within {a.tolerance_points:g} validation points of retrain, both "
        "on paired means over retrain's seeds (a configuration missing one of them is listed, not ranked); the best "
        "HybridAL is shown too. Each is compared seed by seed with retrain and with finetune (a seed fixes the splits, "
        "the initial pool and the sampler): the mean of the per-seed differences ± its 95% t-interval. Choosing among "
        "many configurations on the same validation sets favours the chosen one's validation F1; its test F1, never "
        "used to choose, is the unbiased figure.",
        f"Noise: one seed's validation F1 has the binomial standard error {SE_FORMULA} (n = validation rows, F1 = "
        "retrain's mean); predictions are not stored, so this is an analytic approximation, and for macro-F1 an "
        "underestimate where a small class carries half the average. A tolerance below it is flagged.",
        "Ended degenerate: summary.json's final test pass (`final_test.degenerate`) or the last round's validation "
        "pass (`degenerate`) predicted a single class; unknown for schema-1 records, which never recorded it.",
    ]


# ----------------------------------------------------------------------------- the report


def report_blocks(
    a: Analysis, plots: dict[str, dict[str, str]], files: list[str], notes: Optional[str] = None
) -> list[Block]:
    """Everything report.md / report.html show, in order."""
    c = status_counts(a.trials)
    datasets = sorted(a.summary["dataset"].dropna().unique())
    blocks: list[Block] = [
        Heading(1, f"hybridal sweep report: {a.root}"),
        Para(
            f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from `{a.root}`: {len(a.trials)} trials "
            f"({c['finished']} finished, {c['incomplete']} incomplete, {c['errored']} errored), "
            f"{len(a.used)} used in {len(a.summary)} configurations over {len(datasets)} dataset(s)."
        ),
        Heading(2, "Findings"),
    ]
    if a.prereg is not None:  # the study's own answers first; the general choices below are not pre-registered
        blocks += [Bullets(finding_sentences(a.prereg)), Heading(3, NOT_PREREGISTERED)]
    items = (
        headline_findings(a)
        + noise_findings(a)
        + unranked_findings(a)
        + [f for ds in datasets for f in dataset_findings(a, ds)]
    )
    note = single_seed_note(a)
    if note:
        items.append(note)
    items.append("Selection is on validation F1; test F1 is only reported.")
    sharing = sweep_cost_line(a.sweep)
    if sharing:
        items.append(sharing)
    blocks.append(Bullets(items))
    if a.headline is not None and len(a.headline):
        blocks += [
            Heading(2, "Headline: every arm against retrain and finetune"),
            headline_table(a.headline, a.tolerance_points),
        ]
        if a.noise is not None and len(a.noise):
            blocks.append(noise_table(a.noise))
        if "savings_vs_retrain" in plots.get("", {}):
            blocks.append(
                Image(
                    plots[""]["savings_vs_retrain"],
                    "AL FLOPs saved vs test-F1 difference, every configuration against retrain, paired by seed",
                )
            )
    if a.prereg is not None:
        blocks += preregistered_blocks(a.prereg)
    if notes:
        blocks += [Heading(2, "Scope, limits and notes")] + notes_blocks(notes)
    blocks += [
        Heading(2, "Data problems"),
        Bullets(a.problems.lines(max_trials=5)) if len(a.problems) else Para("None found."),
    ]
    for ds in datasets:
        s = a.summary[a.summary["dataset"] == ds]
        dc = status_counts(a.trials, ds)
        blocks += [
            Heading(2, f"Dataset: {ds}"),
            Para(
                f"{len(s)} configurations; trials: {dc['finished']} finished, {dc['incomplete']} incomplete, "
                f"{dc['errored']} errored."
            ),
            Heading(3, "Configurations"),
            config_table(s),
            Heading(3, "Pareto set"),
            pareto_table(s),
            Heading(3, f"Savings against retrain at matched accuracy (within {a.tolerance_points:g} points)"),
            savings_table(s, a.tolerance_points),
            Heading(3, "Hypervolume per strategy family"),
            hv_table(a.hypervolume[a.hypervolume["dataset"] == ds]),
        ]
        sw = a.switches[a.switches["dataset"] == ds] if a.switches is not None else None
        if sw is not None and len(sw):
            blocks += [Heading(3, "Where HybridAL switched"), switch_table(sw)]
        st = a.samplers[a.samplers["dataset"] == ds] if a.samplers is not None else None
        if st is not None and len(st):
            blocks += [Heading(3, "Samplers compared"), sampler_table(st)]
        blocks.append(Heading(3, "Figures"))
        for kind, path in plots.get(ds, {}).items():
            blocks.append(Image(path, f"{ds}: {kind.replace('_', ' ')}"))
        if "switch_rounds" not in plots.get(ds, {}):
            blocks.append(Para("No finished deltaf1 trials in this dataset, so no switch-round plot."))
    blocks += stopping_blocks(a)  # none where no run has stopping criteria
    blocks += multilabel_blocks(a)  # none where no run is multi-label
    if a.sweep:
        blocks += [Heading(2, "Compute and environment"), cost_table(a.sweep)]
    blocks += [Heading(2, "Method"), Bullets(method_notes(a)), Heading(2, "Files"), Bullets([f"`{f}`" for f in files])]
    return blocks


NOT_PREREGISTERED = (
    "Not pre-registered: the general report's choices (on validation F1, each retrain configuration its own "
    "baseline), exploratory"
)


def cli_summary(a: Analysis, out_dir: str) -> str:
    """A few lines for the terminal: per dataset counts and the best configuration."""
    c = status_counts(a.trials)
    lines = [
        f"Analysed {a.root}: {len(a.trials)} trials ({c['finished']} finished, {c['incomplete']} incomplete, "
        f"{c['errored']} errored)."
    ]
    sharing = sweep_cost_line(a.sweep)
    if sharing:
        lines.append("  " + sharing.replace("**", ""))
    for ds in sorted(a.summary["dataset"].dropna().unique()):
        dc = status_counts(a.trials, ds)
        n_cfg = int((a.summary["dataset"] == ds).sum())
        lines.append(
            f"  {ds}: {n_cfg} configs; trials {dc['finished']} finished / {dc['incomplete']} incomplete / "
            f"{dc['errored']} errored"
        )
        for _, r in chosen(a, ds, "best (val)").iterrows():
            lines.append(
                f"    best by validation F1: {r['config']} (val {f3(r['val_f1_mean'])}, "
                f"test {pm(r['test_f1_mean'], r['test_f1_ci95'])}, n={int(r['n_seeds'])})"
            )
        for _, ch in chosen(a, ds, "cheapest within tolerance (val)").iterrows():
            if ch["strategy"] != "retrain":
                lines.append(
                    f"    cheapest within {a.tolerance_points:g} pts of {ch['baseline']}: {ch['config']} "
                    f"({ch['flops_saved_pct_mean']:.0f}% less AL cost, test {points(ch['test_gap_points_mean'])} pts)"
                )
    for line in noise_findings(a):
        lines.append(line.replace("**", "").replace("\\", ""))
    note = single_seed_note(a)
    if note:
        lines.append(note.replace("**", ""))
    if len(a.problems):
        lines.append(f"Data problems ({len(a.problems)}):")
        lines += [f"  - {p}" for p in a.problems.lines(max_trials=2)[:10]]
        if len(a.problems) > 10:
            lines.append(f"  ... and {len(a.problems) - 10} more in the report")
    lines.append(f"Report: {out_dir}/report.html (also report.md, summary.csv, rounds.parquet)")
    return "\n".join(lines)
