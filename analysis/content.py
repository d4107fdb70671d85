"""What the report says: findings sentences, formatted tables, method notes, CLI summary."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import pandas as pd

from analysis.configuration import parse_settings, setting_column, varying_settings
from analysis.frontier import HV_REF_FLOPS_FACTOR
from analysis.pipeline import Analysis, status_counts
from analysis.formatting import _ok, _ratio, f3, flops, pm, points, seconds
from analysis.headline_content import cost_table, headline_findings, headline_table, notes_blocks, sampler_table, switch_table
from analysis.render import Block, Bullets, Heading, Image, Para, Table



# ----------------------------------------------------------------------------- tables

def _switch_cell(r: pd.Series) -> str:
    n, k = int(r["n_seeds"]), int(r["switched"])
    if k == 0:
        return f"never (0/{n})"
    m, ci = r["switch_round_mean"], r["switch_round_ci95"]
    mean = f"{m:.1f} ± {ci:.1f}" if _ok(ci) else f"{m:.1f}"
    return f"{mean} ({k}/{n} switched)"


def _setting_cell(v) -> str:
    return "–" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def config_table(s: pd.DataFrame) -> Table:
    keys = varying_settings(s)  # the settings that tell this dataset's configurations apart
    rows = []
    for _, r in s.sort_values(["final_val_f1_mean", "total_train_flops_mean"], ascending=[False, True],
                              kind="stable").iterrows():
        sw = _switch_cell(r) if r["strategy"] == "deltaf1" else "–"
        settings = parse_settings(r.get("settings")) or {}
        rows.append([
            f"`{r['config']}`", *[_setting_cell(settings.get(k)) for k in keys], str(int(r["n_seeds"])),
            pm(r["final_val_f1_mean"], r["final_val_f1_ci95"]),
            pm(r["final_test_f1_mean"], r["final_test_f1_ci95"]),
            pm(r["final_test_accuracy_mean"], r["final_test_accuracy_ci95"]),
            pm(r["aulc_mean"], r["aulc_ci95"]),
            flops(r["total_train_flops_mean"]), _ratio(r.get("flops_ratio")), flops(r["total_flops_mean"]),
            seconds(r["wall_seconds_mean"]), sw, "yes" if r["pareto"] else "",
        ])
    cols = ["configuration", *[setting_column(k) for k in keys], "seeds", "val F1", "test F1", "test accuracy",
            "AULC", "train FLOPs", "vs retrain", "total FLOPs", "wall time", "switch round", "Pareto (val F1)"]
    return Table(cols, rows, "Seed means ± 95% t-interval half-width (no interval where n = 1); "
                 "sorted by validation F1. FLOPs and wall time are per run; vs retrain: training FLOPs over those of the "
                 "matching retrain configuration. Pareto: on the front of training FLOPs vs validation F1.",
                 set(range(1 + len(keys), 11 + len(keys))))


def savings_table(s: pd.DataFrame, tol: float) -> Table:
    rows = []
    for _, r in s.sort_values(["total_train_flops_mean"], kind="stable").iterrows():
        ratio = f"{r['flops_ratio']:.2f}×" if _ok(r["flops_ratio"]) else "–"
        saved = f"{r['flops_saved_pct']:.0f}%" if _ok(r["flops_saved_pct"]) else "–"
        rows.append([f"`{r['config']}`", f"`{r['baseline']}`" if _ok(r["baseline"]) else "–", ratio, saved,
                     points(r["val_gap_points"]), points(r["test_gap_points"]),
                     ("yes" if r["matched"] else "no") if _ok(r["baseline"]) else "–"])
    cols = ["configuration", "retrain baseline", "train FLOPs vs baseline", "saved",
            "Δ val F1 (pts)", "Δ test F1 (pts)", f"within {tol:g} pts (val)"]
    return Table(cols, rows, "Training FLOPs relative to the retrain run with the same model, sampler, epochs and settings; "
                 "F1 gaps in points (100 × macro-F1), negative = worse than retrain. Sorted by training FLOPs.",
                 {2, 3, 4, 5})


def pareto_table(s: pd.DataFrame) -> Table:
    rows = [[f"`{r['config']}`", flops(r["total_train_flops_mean"]), pm(r["final_val_f1_mean"], r["final_val_f1_ci95"]),
             pm(r["final_test_f1_mean"], r["final_test_f1_ci95"]), str(int(r["n_seeds"]))]
            for _, r in s[s["pareto"]].sort_values("total_train_flops_mean").iterrows()]
    return Table(["configuration", "train FLOPs", "val F1 (front)", "test F1 (reported)", "seeds"], rows,
                 "Configurations no other configuration beats on both training FLOPs (lower) and final validation F1 "
                 "(higher), seed means. Test F1 is shown beside them, never used to choose.", {1, 2, 3, 4})


def hv_table(hv: pd.DataFrame) -> Table:
    rows = [[str(r["strategy"]), str(int(r["configs"])), str(int(r["front_size"])), f3(r["hv_final"]), f3(r["hv_rounds"]),
             f3(r["hv_final_test"])]
            for _, r in hv.sort_values("hv_final", ascending=False).iterrows()]
    return Table(["strategy family", "configs", "on its front", "hypervolume (final, val F1)",
                  "hypervolume (per round, val F1)", "hypervolume (final, test F1; reported)"], rows,
                 "Normalised hypervolume in (log10 training FLOPs, validation F1) space; higher is better; the test-F1 "
                 "value is shown beside it, never used to choose; see Method.", {1, 2, 3, 4, 5})


# ----------------------------------------------------------------------------- findings

def dataset_findings(a: Analysis, ds: str) -> list[str]:
    s = a.summary[a.summary["dataset"] == ds]
    out = []
    b = a.best[a.best["dataset"] == ds]
    if len(b):
        r = b.iloc[0]
        out.append(f"**{ds}**: best configuration by mean final validation F1 is `{r['config']}` "
                   f"(validation F1 {f3(r['final_val_f1_mean'])}; test F1 {pm(r['final_test_f1_mean'], r['final_test_f1_ci95'])}, "
                   f"n = {int(r['n_seeds'])}).")
    ch = a.cheapest[a.cheapest["dataset"] == ds]
    for _, c in ch.iterrows():
        base = s[s["config"] == c["baseline"]].iloc[0]
        if c["config"] == c["baseline"] or not c["flops_ratio"] < 1:
            out.append(f"**{ds}**: nothing is cheaper than `{c['baseline']}` while staying within "
                       f"{a.tolerance_points:g} validation-F1 points of it.")
        else:
            out.append(
                f"**{ds}**: `{c['config']}` is the cheapest configuration within {a.tolerance_points:g} validation-F1 "
                f"points of `{c['baseline']}`: it uses {c['flops_ratio']:.2f}× the training FLOPs "
                f"({c['flops_saved_pct']:.0f}% saved; {flops(c['total_train_flops_mean'])} vs "
                f"{flops(base['total_train_flops_mean'])}) at a test-F1 difference of {points(c['test_gap_points'])} points "
                f"(validation {points(c['val_gap_points'])}).")
    front = s[s["pareto"]].sort_values("total_train_flops_mean")
    out.append(f"**{ds}**: {len(front)} of {len(s)} configurations form the Pareto set of training FLOPs vs validation "
               "F1: " + ", ".join(f"`{r['config']}` (val {f3(r['final_val_f1_mean'])}, test {f3(r['final_test_f1_mean'])})"
                                  for _, r in front.iterrows()) + ".")
    hv = a.hypervolume[a.hypervolume["dataset"] == ds].sort_values("hv_final", ascending=False)
    if len(hv) > 1:
        out.append(f"**{ds}**: hypervolume of each strategy family's front on validation F1 (higher is better; on "
                   "test F1 in brackets): " + ", ".join(f"{r['strategy']} {f3(r['hv_final'])} ({f3(r['hv_final_test'])})"
                                                        for _, r in hv.iterrows()) + ".")
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
        "Choices are made on validation metrics only (DESIGN.md §9): the best configuration, the cheapest "
        f"configuration within {a.tolerance_points:g} points, the Pareto sets and the hypervolume use the final "
        "round's validation macro-F1 (`val_f1`), averaged over seeds (per round: that round's). Test F1 is reported "
        "next to them and never used to choose.",
        "A configuration is the run's whole config but the seed (also `sampler_kwargs.seed`), its name and output "
        "folder, and how it executes (`device`, `num_threads`, `tensorboard`): runs that differ in, e.g., learning "
        "rate or batch size are separate configurations, and the settings that vary get their own columns.",
        "Only finished trials enter the aggregates; incomplete and errored trials are listed under Data problems and "
        "kept in rounds.csv / rounds.parquet with their status.",
        "Seed aggregation: mean, sample std (ddof = 1), 95% interval half-width t(0.975, n−1)·std/√n, and n. "
        "With n = 1 the std and interval are NaN.",
        "AULC: area under test macro-F1 against labeled examples (trapezoid rule over the rounds where test F1 was "
        "evaluated), divided by the label range, so it lies in [0, 1]; a single evaluated point gives that F1.",
        "Pareto set: a configuration is dominated if another has ≤ training FLOPs and ≥ validation F1, one of them "
        "strictly; ties are all kept. The per-round front uses every (configuration, round) seed-mean point.",
        f"Hypervolume: area dominated by a family's front in (log10 training FLOPs, validation F1) space, bounded by the "
        f"reference point (log10({HV_REF_FLOPS_FACTOR:g} × the largest training FLOPs in the dataset), F1 = 0), divided "
        "by the box from the dataset's smallest training FLOPs to the reference and F1 0 to 1. Shared by all families "
        "of a dataset; in [0, 1]. With the F1 reference at 0 the cost axis weighs heavily: a family of cheap but "
        "clearly less accurate configurations can score highest, so read it next to the F1 gaps.",
        "Savings: each configuration against the retrain configuration of the same dataset, model, sampler and epochs "
        "(retrain's own knobs) and the same settings but `keep_optimizer`; F1 gaps are in points (100 × macro-F1).",
        "Wall time is the sum of per-round `wall_seconds`; a switch round is averaged over the trials that switched.",
        f"Headline: per retrain configuration, the HybridAL configurations are chosen on validation F1 alone (the best; "
        f"the cheapest within {a.tolerance_points:g} validation points of retrain's mean) and then compared seed by seed "
        "with retrain and with finetune (a seed fixes the splits, the initial pool and the sampler): the mean of the "
        "per-seed differences ± its 95% t-interval. Choosing among many configurations on the same validation sets "
        "favours the chosen one's validation F1; its test F1, never used to choose, is the unbiased figure.",
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
    items = headline_findings(a) + [f for ds in datasets for f in dataset_findings(a, ds)]
    note = single_seed_note(a)
    if note:
        items.append(note)
    items.append("Selection is on validation F1; test F1 is only reported.")
    sharing = sweep_cost_line(a.sweep)
    if sharing:
        items.append(sharing)
    blocks.append(Bullets(items))
    if a.headline is not None and len(a.headline):
        blocks += [Heading(2, "Headline: HybridAL against retrain and finetune"),
                   headline_table(a.headline, a.tolerance_points)]
        if "savings_vs_retrain" in plots.get("", {}):
            blocks.append(Image(plots[""]["savings_vs_retrain"], "training FLOPs saved vs test-F1 difference, "
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
        b = a.best[a.best["dataset"] == ds]
        if len(b):
            r = b.iloc[0]
            lines.append(f"    best by validation F1: {r['config']} (val {f3(r['final_val_f1_mean'])}, "
                         f"test {pm(r['final_test_f1_mean'], r['final_test_f1_ci95'])}, n={int(r['n_seeds'])})")
        for _, ch in a.cheapest[a.cheapest["dataset"] == ds].iterrows():
            if ch["config"] != ch["baseline"] and ch["flops_ratio"] < 1:
                lines.append(f"    cheapest within {a.tolerance_points:g} pts of {ch['baseline']}: {ch['config']} "
                             f"({ch['flops_saved_pct']:.0f}% fewer training FLOPs, test {points(ch['test_gap_points'])} pts)")
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
