"""The benchmark's summary figures and its printed table: each target, what was measured, met or
missed (issue 13's targets, plus the scoring and memory goals the README table carries)."""

from __future__ import annotations

from typing import Optional

G = 1e9


def summarize(f: dict) -> dict:
    """The flat figures a reader compares between runs (also written to the JSON)."""
    tr, sc, al = f["train"], f["scoring"], f["al_run"]
    out = {
        "auto_precision": f["auto_precision"],
        "bf16_native": f["bf16_native"],
        "train_samples_per_s_fp32": tr["fp32"]["samples_per_s"],
        "train_samples_per_s_bf16": tr["bf16"]["samples_per_s"],
        "train_utilization_fp32": tr["fp32"]["utilization"],
        "train_utilization_bf16": tr["bf16"]["utilization"],
        "train_utilization_fp32_cpu_time": tr["fp32"]["utilization_cpu_time"],
        "train_utilization_bf16_cpu_time": tr["bf16"]["utilization_cpu_time"],
        "matmul_peak_fp32": tr["fp32"]["matmul_peak_flops_per_s"],
        "matmul_peak_bf16": tr["bf16"]["matmul_peak_flops_per_s"],
        "bf16_train_speedup": tr["bf16"]["samples_per_s"] / tr["fp32"]["samples_per_s"],
        "bf16_infer_speedup": sc["bf16_slice"]["bf16_speedup"],
        "scoring_speedup": sc["speedup"],
        "scoring_speedup_cpu_time": sc["speedup_cpu_time"],
        "scoring_top_identical_up_to_ties": sc["top_fp32"]["identical_up_to_ties"],
        "run_speedup_default": al["ours_vs_prototype"]["speedup"],
        "run_speedup_fp32": al["ours_fp32_vs_prototype"]["speedup"],
        "run_speedup_default_cpu_time": al["ours_vs_prototype"]["speedup_cpu_time"],
        "run_speedup_fp32_cpu_time": al["ours_fp32_vs_prototype"]["speedup_cpu_time"],
        "run_precision_default": al["ours"]["precision"],
        "load_start": f["load_start"],
        "load_end": f["load_end"],
        "benchmark_seconds": f["benchmark_seconds"],
    }
    for kind in ("ours", "ours_fp32", "prototype"):
        out[f"final_test_f1_{kind}"] = al[kind]["final_test_f1"]
        out[f"phase_seconds_{kind}"] = al[kind]["phase_seconds"]
        out[f"run_seconds_{kind}"] = al[kind]["seconds"]
        out[f"peak_rss_gib_{kind}"] = al[kind]["peak_rss_gib"]
    for kind in ("ours", "ours_fp32"):
        out[f"test_f1_diff_{kind}"] = al[f"{kind}_vs_prototype"]["test_f1_diff"]
        out[f"test_f1_diff_bootstrap_se_{kind}"] = al[f"{kind}_vs_prototype"]["test_f1_diff_bootstrap_se"]
    return out


def _status(value: float, goal: float, applies: bool = True) -> str:
    if not applies:
        return "n/a"
    return "met" if value >= goal else "missed"


def targets(s: dict) -> list[tuple[str, str, str, str]]:
    """(target, measured, goal, met | missed | n/a) rows; bf16 goals apply only where bf16 is native."""
    native, runs = s["bf16_native"], s["auto_precision"]
    default_goal = 6.0 if s["run_precision_default"] == "bf16" else 4.0
    util = s[f"train_utilization_{runs}"]
    rows = [
        (
            "whole run: our defaults vs prototype",
            f"{s['run_speedup_default']:.2f}x ({s['run_precision_default']}; "
            f"{s['run_speedup_default_cpu_time']:.2f}x CPU time)",
            f">= {default_goal:.0f}x",
            _status(s["run_speedup_default"], default_goal),
        ),
        (
            "whole run: ours fp32 vs prototype",
            f"{s['run_speedup_fp32']:.2f}x ({s['run_speedup_fp32_cpu_time']:.2f}x CPU time)",
            ">= 4x",
            _status(s["run_speedup_fp32"], 4.0),
        ),
    ]
    for kind, name in (("ours", "defaults"), ("ours_fp32", "fp32")):
        diff, se = s[f"test_f1_diff_{kind}"], s[f"test_f1_diff_bootstrap_se_{kind}"]
        rows.append(
            (
                f"final test F1 ({name}) vs prototype",
                f"{s[f'final_test_f1_{kind}']:.4f} vs {s['final_test_f1_prototype']:.4f}"
                f" (diff {diff:+.4f}, SE {se:.4f})",
                "|diff| <= 2 SE",
                "met" if abs(diff) <= 2 * se else "missed",
            )
        )
    rows += [
        (
            "bf16 training vs fp32 (samples/s)",
            f"{s['bf16_train_speedup']:.2f}x",
            ">= 1.5x where native",
            _status(s["bf16_train_speedup"], 1.5, native),
        ),
        (
            "bf16 inference vs fp32 (scoring)",
            f"{s['bf16_infer_speedup']:.2f}x",
            ">= 2x where native",
            _status(s["bf16_infer_speedup"], 2.0, native),
        ),
        (
            f"training, share of {runs} matmul peak",
            f"{util:.2f} of {s[f'matmul_peak_{runs}'] / G:.0f} GFLOP/s"
            f" ({s[f'train_utilization_{runs}_cpu_time']:.2f} per CPU s)",
            ">= 0.5",
            _status(util, 0.5),
        ),
        (
            "pool scoring vs prototype's loop",
            f"{s['scoring_speedup']:.2f}x ({s['scoring_speedup_cpu_time']:.2f}x CPU time; top-k "
            f"{'same up to ties' if s['scoring_top_identical_up_to_ties'] else 'differs'})",
            ">= 3x",
            _status(s["scoring_speedup"], 3.0),
        ),
    ]
    rss = max(s["peak_rss_gib_ours"], s["peak_rss_gib_ours_fp32"])
    rows.append(
        (
            "peak memory of our runs",
            f"{rss:.2f} GiB (prototype {s['peak_rss_gib_prototype']:.2f})",
            "< 3 GiB",
            "met" if rss < 3 else "missed",
        )
    )
    return rows


def phase_rows(s: dict) -> list[tuple[str, ...]]:
    kinds = ("ours", "ours_fp32", "prototype")
    rows = [(phase, *(f"{s[f'phase_seconds_{k}'][phase]:.1f}" for k in kinds)) for phase in ("train", "query", "eval")]
    rows.append(("whole run", *(f"{s[f'run_seconds_{k}']:.1f}" for k in kinds)))
    rows.append(("final test F1", *(f"{s[f'final_test_f1_{k}']:.4f}" for k in kinds)))
    return rows


def print_report(f: dict, note: Optional[str] = None) -> None:
    s = f["summary"]
    print()
    print(
        f"hybridal benchmark ({f['mode']}), {f['device']} ({f['device_name']}), {f['torch_threads']} threads,"
        f" OMP_WAIT_POLICY={f['omp_wait_policy']}, bf16 native: {s['bf16_native']}, auto precision: "
        f"{s['auto_precision']},"
        f" load {f['load_start']} -> {f['load_end']}, {f['benchmark_seconds']:.0f} s"
    )
    if note:
        print(note)
    print(f"\n  whole run, seconds per phase   {'ours (defaults)':>16} {'ours (fp32)':>12} {'prototype':>10}")
    for name, *cells in phase_rows(s):
        print(f"  {name:<30} {cells[0]:>16} {cells[1]:>12} {cells[2]:>10}")
    print(f"\n  {'target':<38} {'measured':<58} {'goal':<22} status")
    for name, measured, goal, status in targets(s):
        print(f"  {name:<38} {measured:<58} {goal:<22} {status}")
