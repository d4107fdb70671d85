"""The report's study sections: the paired headline (tables and sentences), switch rounds,
samplers, compute and environment, and the notes file."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.formatting import _ok, _pct, _pts, _ratio, f3, flops, pm, seconds
from analysis.render import Block, Bullets, Heading, Para, Table

if TYPE_CHECKING:
    from analysis.pipeline import Analysis


def headline_table(h: pd.DataFrame, tol: float) -> Table:
    rows = []
    for _, r in h.iterrows():
        if r["config"] is None or pd.isna(r["config"]):
            rows.append([str(r["dataset"]), str(r["sampler"]), r["role"], f"none within {tol:g} val pts"] + ["–"] * 10)
            continue
        sw = "–" if pd.isna(r["switched"]) else (
            f"{int(r['switched'])}/{int(r['n_seeds'])}" + (f", median {r['switch_round_median']:g}"
                                                           if _ok(r["switch_round_median"]) else ""))
        rows.append([str(r["dataset"]), str(r["sampler"]), r["role"], f"`{r['config']}`", str(int(r["n_seeds"])),
                     f3(r["val_f1_mean"]), pm(r["test_f1_mean"], r["test_f1_ci95"]),
                     pm(r["test_accuracy_mean"], r["test_accuracy_ci95"]), flops(r["train_flops_mean"]),
                     _pct(r["flops_saved_pct_mean"], r["flops_saved_pct_ci95"]),
                     _pts(r["test_gap_points_mean"], r["test_gap_points_ci95"]),
                     _pts(r["vs_finetune_test_gap_points_mean"], r["vs_finetune_test_gap_points_ci95"]),
                     _ratio(r["vs_finetune_flops_ratio_mean"]), sw])
    cols = ["dataset", "sampler", "role", "configuration", "seeds", "val F1", "test F1", "test accuracy", "train FLOPs",
            "FLOPs saved vs retrain", "Δ test F1 vs retrain (pts)", "Δ test F1 vs finetune (pts)", "FLOPs vs finetune",
            "switched (round)"]
    return Table(cols, rows, "HybridAL configurations chosen on validation F1 only: the best, and the cheapest within "
                 f"{tol:g} validation-F1 points of retrain. Savings and F1 differences are paired by seed (mean ± 95% "
                 "t-interval over the seeds both finished); test F1 and accuracy are seed means ± 95% intervals; F1 "
                 "differences in points (100 × macro-F1), negative = worse.", set(range(4, 14)))


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
    """One sentence per retrain group: the HybridAL choice against retrain and finetune."""
    h = a.headline
    if h is None or not len(h):
        return []
    out = []
    for (ds, sampler, _), g in h.groupby(["dataset", "sampler", "baseline"], sort=True, dropna=False):
        roles = {r["role"]: r for _, r in g.iterrows()}
        best = roles.get("HybridAL best (val)")
        if best is None or best["config"] is None or pd.isna(best["config"]):
            continue
        ft = roles.get("finetune")
        text = f"**{ds}** ({sampler}, n = {int(best['n_paired'])} paired seeds): the best HybridAL by validation F1, `{best['config']}`, "
        if best["switched"] == 0:
            text += "never switched in any seed, so it is retrain (the same runs, no saving)"
        else:
            text += (f"switched in {int(best['switched'])} of {int(best['n_seeds'])} seeds and trains with "
                     f"{_pct(best['flops_saved_pct_mean'], best['flops_saved_pct_ci95'])} fewer FLOPs than retrain at a "
                     f"test-F1 difference of {_pts(best['test_gap_points_mean'], best['test_gap_points_ci95'])} points "
                     f"({_pts(best['vs_finetune_test_gap_points_mean'], best['vs_finetune_test_gap_points_ci95'])} against "
                     f"finetune at {_ratio(best['vs_finetune_flops_ratio_mean'])} its FLOPs)")
        cheap = roles.get("HybridAL cheapest matched (val)")
        if cheap is not None and cheap["config"] is not None and not pd.isna(cheap["config"]) \
                and cheap["config"] != best["config"]:
            text += (f"; the cheapest within {a.tolerance_points:g} validation points of retrain, `{cheap['config']}` "
                     f"(switched in {int(cheap['switched'])} of {int(cheap['n_seeds'])} seeds), saves "
                     f"{_pct(cheap['flops_saved_pct_mean'], cheap['flops_saved_pct_ci95'])} of retrain's training FLOPs at "
                     f"{_pts(cheap['test_gap_points_mean'], cheap['test_gap_points_ci95'])} test-F1 points and is "
                     f"{_pts(cheap['vs_finetune_test_gap_points_mean'], cheap['vs_finetune_test_gap_points_ci95'])} points "
                     f"against finetune at {_ratio(cheap['vs_finetune_flops_ratio_mean'])} its FLOPs")
        elif cheap is None or cheap["config"] is None or pd.isna(cheap["config"]):
            text += f"; no HybridAL configuration stays within {a.tolerance_points:g} validation points of retrain"
        if ft is not None and ft["config"] is not None and not pd.isna(ft["config"]):
            text += (f". Finetune alone saves {_pct(ft['flops_saved_pct_mean'], ft['flops_saved_pct_ci95'])} at "
                     f"{_pts(ft['test_gap_points_mean'], ft['test_gap_points_ci95'])} points")
        out.append(text + ".")
    return out



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


