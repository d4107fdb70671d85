"""The report's study sections: the paired headline (tables and sentences), the validation noise
beside the tolerance, switch rounds, samplers, compute and environment, and the notes file."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.formatting import _ok, _pct, _pts, _ratio, count, f3, flops, pm, seconds
from analysis.noise import SE_FORMULA
from analysis.render import Block, Bullets, Heading, Para, Table

if TYPE_CHECKING:
    from analysis.pipeline import Analysis


def _known(r: pd.Series) -> bool:
    return r["config"] is not None and not pd.isna(r["config"])


def _degenerate_cell(r: pd.Series) -> str:
    return "–" if not _ok(r["degenerate_seeds"]) else f"{int(r['degenerate_seeds'])}/{int(r['n_seeds'])}"


def headline_table(h: pd.DataFrame, tol: float) -> Table:
    """The headline rows; an "ended degenerate" column only where some run recorded it (schema 2)."""
    show_degenerate = bool(h["degenerate_seeds"].notna().any()) if len(h) else False
    rows = []
    for _, r in h.iterrows():
        if not _known(r):
            rows.append([str(r["dataset"]), str(r["sampler"]), r["role"], f"none within {tol:g} val pts"]
                        + ["–"] * (15 + show_degenerate))
            continue
        sw = "–" if pd.isna(r["switched"]) else (
            f"{int(r['switched'])}/{int(r['n_seeds'])}" + (f", median {r['switch_round_median']:g}"
                                                           if _ok(r["switch_round_median"]) else ""))
        rows.append([str(r["dataset"]), str(r["sampler"]), r["role"], f"`{r['config']}`", str(int(r["n_seeds"])),
                     f3(r["val_f1_mean"]), pm(r["test_f1_mean"], r["test_f1_ci95"]),
                     pm(r["test_accuracy_mean"], r["test_accuracy_ci95"]), count(r["labels_used_mean"]),
                     flops(r["al_flops_mean"]), flops(r["train_flops_mean"]),
                     _pct(r["flops_saved_pct_mean"], r["flops_saved_pct_ci95"]),
                     _pct(r["train_flops_saved_pct_mean"], None),
                     _pts(r["test_gap_points_mean"], r["test_gap_points_ci95"]),
                     _pts(r["vs_finetune_test_gap_points_mean"], r["vs_finetune_test_gap_points_ci95"]),
                     _ratio(r["vs_finetune_flops_ratio_mean"]), *([_degenerate_cell(r)] if show_degenerate else []), sw])
    cols = ["dataset", "sampler", "role", "configuration", "seeds", "val F1", "test F1", "test accuracy", "labels used",
            "AL FLOPs", "train FLOPs", "AL FLOPs saved vs retrain", "train FLOPs saved", "Δ test F1 vs retrain (pts)",
            "Δ test F1 vs finetune (pts)", "AL FLOPs vs finetune", *(["ended degenerate"] if show_degenerate else []),
            "switched (round)"]
    return Table(cols, rows, "Chosen on validation F1 only, among every arm of the group (finetune, new_only, every "
                 "HybridAL) and among HybridAL alone: the best, and the cheapest (AL cost) within "
                 f"{tol:g} validation-F1 points of retrain, both on paired means over retrain's seeds. AL FLOPs: training "
                 "+ scoring + the passes a policy reads to decide; labels used: acquired + labelled rows a policy reads. "
                 "Savings and F1 differences are paired by seed (mean ± 95% t-interval over the seeds both finished); "
                 "test F1 and accuracy are seed means ± 95% intervals; F1 differences in points (100 × macro-F1), "
                 "negative = worse.", set(range(4, len(cols))))


def noise_table(noise: pd.DataFrame) -> Table:
    rows = [[str(r["dataset"]), str(r["sampler"]), count(r["validation_rows"]), f3(r["val_f1_mean"]),
             f"{r['se_points']:.2f}" if _ok(r["se_points"]) else "–",
             f"{r['seed_std_points']:.2f}" if _ok(r["seed_std_points"]) else "–", f"{r['tolerance_points']:g}",
             "yes" if r["tolerance_below_noise"] else "no"] for _, r in noise.iterrows()]
    return Table(["dataset", "sampler", "validation rows", "retrain val F1", f"per-seed SE (pts), {SE_FORMULA}",
                  "seed std of retrain val F1 (pts)", "tolerance (pts)", "tolerance below SE"], rows,
                 "The validation metric's noise beside the tolerance: the binomial standard error of one seed's "
                 f"validation F1, {SE_FORMULA} (n = validation rows; approximate for macro-F1, an underestimate where "
                 "a small class carries half the macro average), and the between-seed standard deviation.", {2, 3, 4, 5, 6})


def switch_table(sw: pd.DataFrame) -> Table:
    rows = [[f"`{r['config']}`", f"{r['epsilon']:g}", str(int(r["k"])), f"{int(r['switched'])}/{int(r['n_seeds'])}",
             r["switch_rounds"], f"{r['median']:g}" if _ok(r["median"]) else "never",
             f"{r['flops_saved_pct']:.0f}%" if _ok(r["flops_saved_pct"]) else "–"]
            for _, r in sw.iterrows()]
    return Table(["configuration", "ε", "k", "switched", "switch round by seed", "median", "FLOPs saved (mean)"], rows,
                 "Switch round: the first round trained with the cheaper strategy; never = retrained every round. "
                 "Seeds in the order " + (sw["seeds"].iloc[0] if len(sw) else "–") + ".", {1, 2, 3, 5, 6})


def sampler_table(st: pd.DataFrame) -> Table:
    rows = [[str(r["strategy"]), f"{r['sampler']} vs {r['reference']}", f3(r["test_f1"]), f3(r["reference_test_f1"]),
             _pts(r["test_gap_points_mean"], r["test_gap_points_ci95"]), str(int(r["n_paired"]))]
            for _, r in st.iterrows()]
    return Table(["strategy", "samplers", "test F1", "reference test F1", "Δ test F1 (pts, paired)", "seeds"], rows,
                 "Each strategy's final test macro-F1 under each sampler, means over the seeds both samplers ran, "
                 "and the difference paired by seed.", {2, 3, 4, 5})



def headline_findings(a: Analysis) -> list[str]:
    """One sentence per retrain group: what finetune, the best HybridAL and the choice among every arm save on AL cost."""
    h = a.headline
    if h is None or not len(h):
        return []
    out = []
    for (ds, sampler, _), g in h.groupby(["dataset", "sampler", "baseline"], sort=True, dropna=False):
        roles = {r["role"]: r for _, r in g.iterrows()}
        base, ft, hyb = roles.get("retrain"), roles.get("finetune"), roles.get("HybridAL best (val)")
        best, cheap = roles.get("best (val)"), roles.get("cheapest within tolerance (val)")
        parts = [f"**{ds}** ({sampler}; AL cost = training + scoring + policy FLOPs, paired by seed)"]
        if ft is not None and _known(ft):
            parts.append(f"finetune saves {_saving(ft)} of retrain's AL cost at {_gap(ft)} test-F1 points")
        if hyb is not None and _known(hyb):
            if hyb["switched"] == 0:
                parts.append(f"the best HybridAL by validation F1, `{hyb['config']}`, never switched (it is retrain, "
                             f"charged {count(hyb['labels_used_mean'])} labels to retrain's {count(base['labels_used_mean'])})")
            else:
                parts.append(f"the best HybridAL, `{hyb['config']}` (switched in {int(hyb['switched'])} of "
                             f"{int(hyb['n_seeds'])} seeds), saves {_saving(hyb)} at {_gap(hyb)} points and uses "
                             f"{count(hyb['labels_used_mean'])} labels to retrain's {count(base['labels_used_mean'])}")
        if best is not None and _known(best):
            parts.append(f"among every arm the best by validation F1 is `{best['config']}`")
        if cheap is not None and _known(cheap):
            what = ("nothing is cheaper than retrain" if cheap["strategy"] == "retrain" else
                    f"`{cheap['config']}` ({_saving(cheap)} saved, {_gap(cheap)} test-F1 points)")
            parts.append(f"the cheapest within {a.tolerance_points:g} validation points of retrain: {what}")
        out.append(parts[0] + ": " + "; ".join(parts[1:]) + ".")
    return out


def noise_findings(a: Analysis) -> list[str]:
    """The noise of the validation F1 beside the tolerance, with a warning where the tolerance is smaller."""
    n = a.noise
    if n is None or not len(n) or not n["se_points"].notna().any():
        return []
    per = ", ".join(f"{r['dataset']} ({r['sampler']}) {r['se_points']:.1f}" for _, r in n.iterrows() if _ok(r["se_points"]))
    text = (f"**Noise vs tolerance**: one seed's validation F1 has a standard error of about {per} points "
            f"(binomial approximation {SE_FORMULA}, n = validation rows; approximate for macro-F1) against a tolerance "
            f"of {a.tolerance_points:g} points.")
    if n["tolerance_below_noise"].any():
        text += (" **Warning**: the tolerance is smaller than that noise, so \"within tolerance\" separates configurations "
                 "by the draw of the validation set as much as by their accuracy; read the choices with the paired "
                 "intervals, or raise `--tolerance`.")
    return [text]


def unranked_findings(a: Analysis) -> list[str]:
    u = a.unranked
    if u is None or not len(u):
        return []
    items = "; ".join(f"`{r['config']}` ({r['dataset']}, missing seed(s) {r['missing_seeds']})" for _, r in u.iterrows())
    return [f"**Not ranked** (missing some of their retrain's seeds, so no paired mean over retrain's seeds): {items}."]


def _saving(r: pd.Series) -> str:
    return _pct(r["flops_saved_pct_mean"], r["flops_saved_pct_ci95"])


def _gap(r: pd.Series) -> str:
    return _pts(r["test_gap_points_mean"], r["test_gap_points_ci95"])


# ----------------------------------------------------------------------------- cost, environment, notes

def _env(sweep: dict, path: str):
    """A value of sweep_summary.json's environment by its dotted path (None where absent)."""
    value = sweep.get("environment")
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def cost_table(sweep: dict) -> Table:
    """Each sweep's wall time, spent vs attributed training FLOPs, machine and versions."""
    parts = sweep.get("sweeps") or [{"name": "sweep", **sweep}]
    rows = []
    for s in parts:
        spent, attributed = s.get("spent_train_flops"), s.get("attributed_train_flops")
        saved = f"{1 - spent / attributed:.0%}" if spent is not None and attributed else "–"
        threads = _env(s, "resources.cpus_per_trial")
        rows.append([f"`{s.get('name', 'sweep')}`", str(s.get("configurations", "–")), seconds(s.get("wall_seconds")),
                     _per_group(s),
                     flops(spent), flops(attributed), saved, str(_env(s, "cpu.model") or "–"),
                     str(_env(s, "cpu.logical_cpus") or "–"), "–" if threads is None else f"{threads:g}",
                     str(_env(s, "resources.max_concurrent") or "as CPUs allow"),
                     str(_env(s, "versions.torch") or "–")])
    if len(parts) > 1:
        spent, attributed = sweep.get("spent_train_flops"), sweep.get("attributed_train_flops")
        rows.append(["**all**", str(sweep.get("configurations", "–")), seconds(sweep.get("wall_seconds")), _per_group(sweep),
                     flops(spent),
                     flops(attributed), f"{1 - spent / attributed:.0%}" if attributed else "–", "", "", "", "", ""])
    return Table(["sweep", "configurations", "wall time", "wall per group", "spent train FLOPs", "attributed train FLOPs",
                  "saved by sharing", "CPU", "logical CPUs", "CPUs (threads) per trial", "concurrent trials", "torch"], rows,
                 "Spent: what the sweep's trials trained (shared prefixes once); attributed: the sum of every "
                 "configuration's own training FLOPs, as if run alone (what the tables charge). Machine and versions "
                 "from sweep_summary.json's environment (– where the sweep did not record it). A group is one retrain "
                 "trunk: a dataset, seed and sampler with all its configurations.", {1, 2, 3, 4, 5, 6, 8, 9, 10})


def _per_group(sweep: dict) -> str:
    runs = sweep.get("runs") or {}
    groups = int(runs.get("trunk", 0)) + int(runs.get("hidden trunk", 0))
    return seconds(sweep["wall_seconds"] / groups) if groups and _ok(sweep.get("wall_seconds")) else "–"


def notes_blocks(text: str) -> list[Block]:
    """A small Markdown file (paragraphs, '- ' lists, '## ' headings) as report blocks."""
    blocks: list[Block] = []
    for chunk in [c.strip() for c in text.split("\n\n") if c.strip()]:
        lines = chunk.splitlines()
        if chunk.startswith("#"):
            blocks.append(Heading(3, chunk.lstrip("#").strip()))
        elif all(line.startswith("- ") or line.startswith("  ") for line in lines):
            items, current = [], []
            for line in lines:
                if line.startswith("- ") and current:
                    items.append(" ".join(current))
                    current = []
                current.append(line[2:].strip() if line.startswith("- ") else line.strip())
            items.append(" ".join(current))
            blocks.append(Bullets(items))
        else:
            blocks.append(Para(" ".join(line.strip() for line in lines)))
    return blocks


