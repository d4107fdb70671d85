"""What the report says: findings sentences, method notes, the report's blocks in order, CLI summary."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import pandas as pd

from analysis.dataset_tables import config_table, hv_table, pareto_table, savings_table
from analysis.formatting import f3, flops, pm, points
from analysis.frontier import HV_REF_FLOPS_FACTOR
from analysis.headline_content import (cost_table, headline_findings, headline_table, noise_findings, noise_table,
                                       notes_blocks, sampler_table, switch_table, unranked_findings)
from analysis.noise import SE_FORMULA
from analysis.pipeline import Analysis, status_counts
from analysis.render import Block, Bullets, Heading, Image, Para
from analysis.schema import V1_CONVERSION_NOTE


# ----------------------------------------------------------------------------- findings

def chosen(a: Analysis, ds: str, role: str) -> pd.DataFrame:
    """The headline rows of `ds` in `role` that name a configuration."""
    h = a.headline if a.headline is not None else pd.DataFrame(columns=["dataset", "role", "config"])
    return h[(h["dataset"] == ds) & (h["role"] == role) & h["config"].notna()]


def dataset_findings(a: Analysis, ds: str) -> list[str]:
    s = a.summary[a.summary["dataset"] == ds]
    out = []
    for _, r in chosen(a, ds, "best (val)").iterrows():
        out.append(f"**{ds}**: best configuration by mean final validation F1 (over the seeds of `{r['baseline']}`) "
                   f"is `{r['config']}` (validation F1 {f3(r['val_f1_mean'])}; test F1 "
                   f"{pm(r['test_f1_mean'], r['test_f1_ci95'])}, n = {int(r['n_seeds'])}).")
    for _, c in chosen(a, ds, "cheapest within tolerance (val)").iterrows():
        if c["strategy"] == "retrain":
            out.append(f"**{ds}**: nothing is cheaper than `{c['baseline']}` while staying within "
                       f"{a.tolerance_points:g} validation-F1 points of it.")
        else:
            base = s[s["config"] == c["baseline"]].iloc[0]
            out.append(
                f"**{ds}**: `{c['config']}` is the cheapest configuration within {a.tolerance_points:g} validation-F1 "
                f"points of `{c['baseline']}`: it saves {c['flops_saved_pct_mean']:.0f}% of that baseline's AL cost, paired by seed "
                f"({flops(c['al_flops_mean'])} vs {flops(base['total_flops_mean'])} FLOPs; training FLOPs "
                f"{c['train_flops_saved_pct_mean']:.0f}% saved) at a test-F1 difference of "
                f"{points(c['test_gap_points_mean'])} points (validation {points(c['val_gap_points_mean'])}).")
    front = s[s["pareto"]].sort_values("total_flops_mean")
    out.append(f"**{ds}**: {len(front)} of {len(s)} configurations form the Pareto set of AL FLOPs vs validation "
               "F1: " + ", ".join(f"`{r['config']}` (val {f3(r['final_val_f1_mean'])}, test {f3(r['final_test_f1_mean'])})"
                                  for _, r in front.iterrows()) + ".")
    hv = a.hypervolume[a.hypervolume["dataset"] == ds].sort_values("hv_final", ascending=False)
    if len(hv) > 1:
        out.append(f"**{ds}**: hypervolume of each strategy family's front on validation F1 (higher is better; on "
                   "test F1 in brackets): " + ", ".join(f"{r['strategy']} {f3(r['hv_final'])} ({f3(r['hv_final_test'])})"
                                                        for _, r in hv.iterrows()) + ".")
    degenerate = s[s["degenerate_seeds"].fillna(0) > 0]
    if len(degenerate):
        out.append(f"**{ds}**: runs that ended degenerate (the final test or last validation pass predicted one class): "
                   + ", ".join(f"`{r['config']}` {int(r['degenerate_seeds'])}/{int(r['n_seeds'])} seeds"
                               for _, r in degenerate.iterrows()) + ".")
    return out


def single_seed_note(a: Analysis) -> Optional[str]:
    n1 = int((a.summary["n_seeds"] == 1).sum())
    if not n1:
        return None
    if n1 == len(a.summary):
        return ("**Single seed**: every configuration ran one seed, so no spread or 95% interval can be computed "
                "(they are NaN in summary.csv). Treat these numbers as a smoke test, not a finding.")
    return (f"**Single seed**: {n1} of {len(a.summary)} configurations ran one seed; their std and 95% interval "
            "are NaN in summary.csv and their numbers are a smoke test, not a finding.")


def sweep_cost_line(sweep: Optional[dict]) -> Optional[str]:
    """What the sweep computed against what its configurations are charged (shared prefixes)."""
    if not sweep or not sweep.get("attributed_train_flops"):
        return None
    spent, attributed = float(sweep.get("spent_train_flops") or 0), float(sweep["attributed_train_flops"])
    runs = ", ".join(f"{n} {k}" for k, n in sorted((sweep.get("runs") or {}).items()))
    return (f"**Sweep cost**: the sweep trained {flops(spent)} FLOPs for {flops(attributed)} attributed to its configurations "
            f"({1 - spent / attributed:.0%} saved by shared prefixes; runs: {runs}). Every table charges each configuration "
            "its attributed cost, as if run alone.")


def method_notes(a: Analysis) -> list[str]:
    return [
        "Choices are made on validation metrics only (README.md, Honest evaluation): the best configuration, the cheapest "
        f"configuration within {a.tolerance_points:g} points, the Pareto sets and the hypervolume use the final "
        "round's validation macro-F1 (`val_f1`), averaged over seeds (per round: that round's). Test F1 is reported "
        "next to them and never used to choose.",
        "Cost is the AL cost, `cum_total_flops`: training + the sampler's scoring passes + the passes a policy reads to "
        "decide (the ΔF1 rule's validation monitor, in its rounds before the decision). A validation pass no policy "
        "reads, and every test pass, is measurement and not charged. Labels used = labels acquired + labelled rows a "
        "policy reads (the validation set for the validation-monitor rule). Training FLOPs are shown beside the cost.",
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
        "(retrain's own knobs) and the same settings but `keep_optimizer`; F1 gaps are in points (100 × macro-F1).",
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

def report_blocks(a: Analysis, plots: dict[str, dict[str, str]], files: list[str],
                  notes: Optional[str] = None) -> list[Block]:
    """Everything report.md / report.html show, in order."""
    c = status_counts(a.trials)
    datasets = sorted(a.summary["dataset"].dropna().unique())
    blocks: list[Block] = [
        Heading(1, f"hybridal sweep report: {a.root}"),
        Para(f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from `{a.root}`: {len(a.trials)} trials "
             f"({c['finished']} finished, {c['incomplete']} incomplete, {c['errored']} errored), "
             f"{len(a.used)} used in {len(a.summary)} configurations over {len(datasets)} dataset(s)."),
        Heading(2, "Findings"),
    ]
    items = (headline_findings(a) + noise_findings(a) + unranked_findings(a)
             + [f for ds in datasets for f in dataset_findings(a, ds)])
    note = single_seed_note(a)
    if note:
        items.append(note)
    items.append("Selection is on validation F1; test F1 is only reported.")
    sharing = sweep_cost_line(a.sweep)
    if sharing:
        items.append(sharing)
    blocks.append(Bullets(items))
    if a.headline is not None and len(a.headline):
        blocks += [Heading(2, "Headline: every arm against retrain and finetune"),
                   headline_table(a.headline, a.tolerance_points)]
        if a.noise is not None and len(a.noise):
            blocks.append(noise_table(a.noise))
        if "savings_vs_retrain" in plots.get("", {}):
            blocks.append(Image(plots[""]["savings_vs_retrain"], "AL FLOPs saved vs test-F1 difference, "
                                "every configuration against retrain, paired by seed"))
    if notes:
        blocks += [Heading(2, "Scope, limits and notes")] + notes_blocks(notes)
    blocks += [Heading(2, "Data problems"),
               Bullets(a.problems.lines(max_trials=5)) if len(a.problems) else Para("None found.")]
    for ds in datasets:
        s = a.summary[a.summary["dataset"] == ds]
        dc = status_counts(a.trials, ds)
        blocks += [
            Heading(2, f"Dataset: {ds}"),
            Para(f"{len(s)} configurations; trials: {dc['finished']} finished, {dc['incomplete']} incomplete, "
                 f"{dc['errored']} errored."),
            Heading(3, "Configurations"), config_table(s),
            Heading(3, "Pareto set"), pareto_table(s),
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
    if a.sweep:
        blocks += [Heading(2, "Compute and environment"), cost_table(a.sweep)]
    blocks += [Heading(2, "Method"), Bullets(method_notes(a)),
               Heading(2, "Files"), Bullets([f"`{f}`" for f in files])]
    return blocks


def cli_summary(a: Analysis, out_dir: str) -> str:
    """A few lines for the terminal: per dataset counts and the best configuration."""
    c = status_counts(a.trials)
    lines = [f"Analysed {a.root}: {len(a.trials)} trials ({c['finished']} finished, {c['incomplete']} incomplete, "
             f"{c['errored']} errored)."]
    sharing = sweep_cost_line(a.sweep)
    if sharing:
        lines.append("  " + sharing.replace("**", ""))
    for ds in sorted(a.summary["dataset"].dropna().unique()):
        dc = status_counts(a.trials, ds)
        n_cfg = int((a.summary["dataset"] == ds).sum())
        lines.append(f"  {ds}: {n_cfg} configs; trials {dc['finished']} finished / {dc['incomplete']} incomplete / "
                     f"{dc['errored']} errored")
        for _, r in chosen(a, ds, "best (val)").iterrows():
            lines.append(f"    best by validation F1: {r['config']} (val {f3(r['val_f1_mean'])}, "
                         f"test {pm(r['test_f1_mean'], r['test_f1_ci95'])}, n={int(r['n_seeds'])})")
        for _, ch in chosen(a, ds, "cheapest within tolerance (val)").iterrows():
            if ch["strategy"] != "retrain":
                lines.append(f"    cheapest within {a.tolerance_points:g} pts of {ch['baseline']}: {ch['config']} "
                             f"({ch['flops_saved_pct_mean']:.0f}% less AL cost, test {points(ch['test_gap_points_mean'])} pts)")
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
