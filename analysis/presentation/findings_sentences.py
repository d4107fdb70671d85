"""The report's findings, as sentences: per retrain group (the paired headline), per dataset (best,
cheapest within tolerance, Pareto set, hypervolume, degenerate runs), the validation noise beside the
tolerance, unranked configurations, single seeds and the sweep's cost."""

from __future__ import annotations

from typing import Optional

import pandas as pd

from analysis.presentation.formatting import count, f3, flops, has_value, percent_pm, pm, points, points_pm
from analysis.presentation.study_tables import has_config
from analysis.statistics.pipeline import Analysis
from analysis.statistics.validation_noise import SE_FORMULA


def chosen(a: Analysis, ds: str, role: str) -> pd.DataFrame:
    """The headline rows of `ds` in `role` that name a configuration."""
    h = a.headline if a.headline is not None else pd.DataFrame(columns=["dataset", "role", "config"])
    return h[(h["dataset"] == ds) & (h["role"] == role) & h["config"].notna()]


def headline_findings(a: Analysis) -> list[str]:
    """One sentence per retrain group: what finetune, the best HybridAL and the pick among all arms save on AL cost."""
    h = a.headline
    if h is None or not len(h):
        return []
    out = []
    for (ds, sampler, _), g in h.groupby(["dataset", "sampler", "baseline"], sort=True, dropna=False):
        roles = {r["role"]: r for _, r in g.iterrows()}
        base, ft, hyb = roles.get("retrain"), roles.get("finetune"), roles.get("HybridAL best (val)")
        best, cheap = roles.get("best (val)"), roles.get("cheapest within tolerance (val)")
        parts = [f"**{ds}** ({sampler}; AL cost = training + scoring + policy FLOPs, paired by seed)"]
        if ft is not None and has_config(ft):
            parts.append(f"finetune saves {_saving(ft)} of retrain's AL cost at {_gap(ft)} test-F1 points")
        if hyb is not None and has_config(hyb):
            if hyb["switched"] == 0:
                parts.append(
                    f"the best HybridAL by validation F1, `{hyb['config']}`, never switched (it is retrain, "
                    f"charged {count(hyb['labels_used_mean'])} labels to retrain's {count(base['labels_used_mean'])})"
                )
            else:
                parts.append(
                    f"the best HybridAL, `{hyb['config']}` (switched in {int(hyb['switched'])} of "
                    f"{int(hyb['n_seeds'])} seeds), saves {_saving(hyb)} at {_gap(hyb)} points and uses "
                    f"{count(hyb['labels_used_mean'])} labels to retrain's {count(base['labels_used_mean'])}"
                )
        if best is not None and has_config(best):
            parts.append(f"among every arm the best by validation F1 is `{best['config']}`")
        if cheap is not None and has_config(cheap):
            what = (
                "nothing is cheaper than retrain"
                if cheap["strategy"] == "retrain"
                else f"`{cheap['config']}` ({_saving(cheap)} saved, {_gap(cheap)} test-F1 points)"
            )
            parts.append(f"the cheapest within {a.tolerance_points:g} validation points of retrain: {what}")
        out.append(parts[0] + ": " + "; ".join(parts[1:]) + ".")
    return out


def dataset_findings(a: Analysis, ds: str) -> list[str]:
    s = a.summary[a.summary["dataset"] == ds]
    out = []
    for _, r in chosen(a, ds, "best (val)").iterrows():
        out.append(
            f"**{ds}**: best configuration by mean final validation F1 (over the seeds of `{r['baseline']}`) "
            f"is `{r['config']}` (validation F1 {f3(r['val_f1_mean'])}; test F1 "
            f"{pm(r['test_f1_mean'], r['test_f1_ci95'])}, n = {int(r['n_seeds'])})."
        )
    for _, c in chosen(a, ds, "cheapest within tolerance (val)").iterrows():
        if c["strategy"] == "retrain":
            out.append(
                f"**{ds}**: nothing is cheaper than `{c['baseline']}` while staying within "
                f"{a.tolerance_points:g} validation-F1 points of it."
            )
        else:
            base = s[s["config"] == c["baseline"]].iloc[0]
            out.append(
                f"**{ds}**: `{c['config']}` is the cheapest configuration within {a.tolerance_points:g} validation-F1 "
                f"points of `{c['baseline']}`: it saves {c['flops_saved_pct_mean']:.0f}% of that baseline's AL cost, "
                f"paired by seed ({flops(c['al_flops_mean'])} vs {flops(base['total_flops_mean'])} FLOPs; "
                f"training FLOPs {c['train_flops_saved_pct_mean']:.0f}% saved) at a test-F1 difference of "
                f"{points(c['test_gap_points_mean'])} points (validation {points(c['val_gap_points_mean'])})."
            )
    front = s[s["pareto"]].sort_values("total_flops_mean")
    out.append(
        f"**{ds}**: {len(front)} of {len(s)} configurations form the Pareto set of AL FLOPs vs validation "
        "F1: "
        + ", ".join(
            f"`{r['config']}` (val {f3(r['final_val_f1_mean'])}, test {f3(r['final_test_f1_mean'])})"
            for _, r in front.iterrows()
        )
        + "."
    )
    hv = a.hypervolume[a.hypervolume["dataset"] == ds].sort_values("hv_final", ascending=False)
    if len(hv) > 1:
        out.append(
            f"**{ds}**: hypervolume of each strategy family's front on validation F1 (higher is better; on "
            "test F1 in brackets): "
            + ", ".join(f"{r['strategy']} {f3(r['hv_final'])} ({f3(r['hv_final_test'])})" for _, r in hv.iterrows())
            + "."
        )
    degenerate = s[s["degenerate_seeds"].fillna(0) > 0]
    if len(degenerate):
        out.append(
            f"**{ds}**: runs that ended degenerate (the final test or last validation pass predicted one class): "
            + ", ".join(
                f"`{r['config']}` {int(r['degenerate_seeds'])}/{int(r['n_seeds'])} seeds"
                for _, r in degenerate.iterrows()
            )
            + "."
        )
    return out


def noise_findings(a: Analysis) -> list[str]:
    """The noise of the validation F1 beside the tolerance, with a warning where the tolerance is smaller."""
    n = a.noise
    if n is None or not len(n) or not n["se_points"].notna().any():
        return []
    per = ", ".join(
        f"{r['dataset']} ({r['sampler']}) {r['se_points']:.1f}" for _, r in n.iterrows() if has_value(r["se_points"])
    )
    text = (
        f"**Noise vs tolerance**: one seed's validation F1 has a standard error of about {per} points "
        f"(binomial approximation {SE_FORMULA}, n = validation rows; approximate for macro-F1) against a tolerance "
        f"of {a.tolerance_points:g} points."
    )
    if n["tolerance_below_noise"].any():
        text += (
            ' **Warning**: the tolerance is smaller than that noise, so "within tolerance" separates configurations '
            "by the draw of the validation set as much as by their accuracy; read the choices with the paired "
            "intervals, or raise `--tolerance`."
        )
    return [text]


def unranked_findings(a: Analysis) -> list[str]:
    u = a.unranked
    if u is None or not len(u):
        return []
    items = "; ".join(
        f"`{r['config']}` ({r['dataset']}, missing seed(s) {r['missing_seeds']})" for _, r in u.iterrows()
    )
    return [f"**Not ranked** (missing some of their retrain's seeds, so no paired mean over retrain's seeds): {items}."]


def single_seed_note(a: Analysis) -> Optional[str]:
    n1 = int((a.summary["n_seeds"] == 1).sum())
    if not n1:
        return None
    if n1 == len(a.summary):
        return (
            "**Single seed**: every configuration ran one seed, so no spread or 95% interval can be computed "
            "(they are NaN in summary.csv). Treat these numbers as a smoke test, not a finding."
        )
    return (
        f"**Single seed**: {n1} of {len(a.summary)} configurations ran one seed; their std and 95% interval "
        "are NaN in summary.csv and their numbers are a smoke test, not a finding."
    )


def sweep_cost_line(sweep: Optional[dict]) -> Optional[str]:
    """What the sweep computed against what its configurations are charged (shared prefixes)."""
    if not sweep or not sweep.get("attributed_train_flops"):
        return None
    spent, attributed = float(sweep.get("spent_train_flops") or 0), float(sweep["attributed_train_flops"])
    runs = ", ".join(f"{n} {k}" for k, n in sorted((sweep.get("runs") or {}).items()))
    return (
        f"**Sweep cost**: the sweep trained {flops(spent)} FLOPs for {flops(attributed)} attributed to its "
        f"configurations ({1 - spent / attributed:.0%} saved by shared prefixes; runs: {runs}). Every table "
        "charges each configuration its attributed cost, as if run alone."
    )


def _saving(r: pd.Series) -> str:
    return percent_pm(r["flops_saved_pct_mean"], r["flops_saved_pct_ci95"])


def _gap(r: pd.Series) -> str:
    return points_pm(r["test_gap_points_mean"], r["test_gap_points_ci95"])
