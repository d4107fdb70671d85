"""A study's analysis: several sweeps as one, the report's tables read back, the paired headline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report import main
from analysis.statistics.headline import ROLES
from tests.support.analysis_experiments import make_experiment

TABLES = (
    "summary.csv",
    "trials.csv",
    "runs.csv",
    "rounds.csv",
    "headline.csv",
    "paired.csv",
    "switches.csv",
    "samplers.csv",
    "frontier_rounds.csv",
    "hypervolume.csv",
    "noise.csv",
)


def _sweep_summary(exp: Path, spent: float, attributed: float, wall: float) -> None:
    (exp / "sweep_summary.json").write_text(
        json.dumps(
            {
                "configurations": 21,
                "trials": 21,
                "runs": {"trunk": 3, "fork": 6, "copy": 12},
                "spent_train_flops": spent,
                "attributed_train_flops": attributed,
                "saved_fraction": 1 - spent / attributed,
                "wall_seconds": wall,
                "environment": {
                    "versions": {"torch": "2.13.0+cpu"},
                    "cpu": {"model": "Test CPU", "logical_cpus": 2},
                    "resources": {"cpus_per_trial": 1.0, "max_concurrent": 2},
                },
            }
        )
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two sweeps of one dataset (entropy, random), each with its sweep_summary.json, reported as one,
    and that report's folder reported again."""
    root = tmp_path_factory.mktemp("study")
    kw = dict(datasets=("agnews",), seeds=(1, 2, 3, 4), epsilons=(0.005, 0.01, 0.02), ks=(1, 2))
    entropy = make_experiment(root / "study-entropy", "ray", total_rounds=8, **kw)
    rand = make_experiment(root / "study-random", "ray", total_rounds=8, sampler="random", **kw)
    _sweep_summary(entropy, 4e14, 1e15, 3600.0)
    _sweep_summary(rand, 5e14, 1e15, 1800.0)
    notes = root / "limits.md"
    notes.write_text("Limits of this study.\n\n- MiniLM, not DistilBERT;\n- a CPU.\n")
    first, again = root / "first", root / "again"
    assert main([str(entropy), str(rand), "--out", str(first), "--notes", str(notes)]) == 0
    (first / "notes.md").write_text(notes.read_text())
    assert main([str(first), "--out", str(again)]) == 0
    return root, first, again


def test_a_report_folder_regenerates_every_table_byte_for_byte(study):
    _, first, again = study
    for name in TABLES:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    for kind in ("learning_curves", "f1_vs_al_flops", "final_f1_vs_al_flops", "switch_rounds"):
        assert (again / "plots" / f"agnews_{kind}.png").stat().st_size > 10_000
    body = lambda p: p.read_text().split("\n", 3)[3]  # noqa: E731 - all but the title and generation line
    assert body(first / "report.md") == body(again / "report.md")


def test_several_sweeps_are_one_analysis_with_their_costs_summed(study):
    _, first, _ = study
    runs = pd.read_csv(first / "runs.csv")
    assert len(runs) == 2 * 4 * (3 + 6)
    assert runs["trial"].str.startswith(("study-entropy/", "study-random/")).all()
    summary = pd.read_csv(first / "summary.csv")
    assert sorted(summary["sampler"].unique()) == ["entropy", "random"]
    assert (summary["n_seeds"] == 4).all() and len(summary) == 2 * 9
    sweep = json.loads((first / "sweep_summary.json").read_text())
    assert sweep["spent_train_flops"] == 9e14 and sweep["attributed_train_flops"] == 2e15
    assert sweep["wall_seconds"] == 5400.0 and sweep["runs"] == {"trunk": 6, "fork": 12, "copy": 24}
    assert [s["name"] for s in sweep["sweeps"]] == ["study-entropy", "study-random"]
    report = (first / "report.md").read_text()
    assert "## Compute and environment" in report and "55%" in report
    assert (
        "| `study-random` | 21 | 30.0 min | 10.0 min | 5.00e14 | 1.00e15 | 50% | Test CPU | 2 | 1 | 2 | 2.13.0+cpu |"
        in report
    )


def test_notes_become_the_scope_section(study):
    _, first, again = study
    for out in (first, again):
        report = (out / "report.md").read_text()
        assert "## Scope, limits and notes" in report
        assert "Limits of this study." in report and "- MiniLM, not DistilBERT;" in report


def _by_seed(trials: pd.DataFrame, sampler: str, config: dict) -> pd.DataFrame:
    t = trials[trials["sampler"] == sampler]
    for key, value in config.items():
        t = (
            t[t[key].isna()]
            if value is None
            else t[np.isclose(t[key], value)]
            if isinstance(value, float)
            else t[t[key] == value]
        )
    return t.set_index("seed").sort_index()


def test_headline_chooses_on_validation_and_pairs_by_seed(study):
    _, first, _ = study
    head = pd.read_csv(first / "headline.csv")
    summary = pd.read_csv(first / "summary.csv")
    trials = pd.read_csv(first / "trials.csv")
    for sampler in ("entropy", "random"):
        h = head[head["sampler"] == sampler].set_index("role")
        assert list(h.index) == list(ROLES)
        s = summary[summary["sampler"] == sampler]
        hyb = s[s["strategy"] == "deltaf1"]
        best = hyb.sort_values(["final_val_f1_mean", "total_flops_mean"], ascending=[False, True]).iloc[0]
        assert h.loc["HybridAL best (val)", "config"] == best["config"]
        assert (
            h.loc["best (val)", "config"]
            == s.sort_values(["final_val_f1_mean", "total_flops_mean"], ascending=[False, True]).iloc[0]["config"]
        )
        # every seed is shared with retrain here, so the paired means are plain means over the seeds
        retrain_val = s.loc[s["strategy"] == "retrain", "final_val_f1_mean"].iloc[0]
        matched = s[s["final_val_f1_mean"] >= retrain_val - 0.005]
        r = _by_seed(trials, sampler, {"strategy": "retrain"})
        saving = {
            c: (100 * (1 - _by_seed(trials, sampler, _knobs(row))["total_flops"] / r["total_flops"])).mean()
            for c, row in matched.set_index("config").iterrows()
        }
        assert h.loc["cheapest within tolerance (val)", "config"] == max(saving, key=saving.get)
        # the paired figures, recomputed from the per-trial table: savings on the AL cost
        b = _by_seed(trials, sampler, {"strategy": "deltaf1", "epsilon": float(best["epsilon"]), "k": int(best["k"])})
        f = _by_seed(trials, sampler, {"strategy": "finetune"})
        saved = 100 * (1 - b["total_flops"] / r["total_flops"])
        gap = 100 * (b["final_test_f1"] - r["final_test_f1"])
        vs_ft = 100 * (b["final_test_f1"] - f["final_test_f1"])
        row = h.loc["HybridAL best (val)"]
        assert row["n_paired"] == 4
        assert row["flops_saved_pct_mean"] == pytest.approx(saved.mean())
        assert row["test_gap_points_mean"] == pytest.approx(gap.mean())
        assert row["test_gap_points_ci95"] == pytest.approx(3.182446 * gap.std(ddof=1) / 2, rel=1e-4)
        assert row["vs_finetune_test_gap_points_mean"] == pytest.approx(vs_ft.mean())
        assert row["train_flops_saved_pct_mean"] == pytest.approx(
            (100 * (1 - b["total_train_flops"] / r["total_train_flops"])).mean()
        )
        assert row["labels_used_mean"] == b["labels_used"].mean() == r["labels_used"].mean() + 500
        assert row["switched"] == b["switch_round"].notna().sum()
        ft = h.loc["finetune"]
        assert ft["config"] == "finetune sampler=random" if sampler == "random" else True
        assert ft["flops_saved_pct_mean"] == pytest.approx((100 * (1 - f["total_flops"] / r["total_flops"])).mean())
        assert math.isnan(h.loc["retrain", "flops_saved_pct_mean"])
        finding = next(
            line
            for line in (first / "report.md").read_text().splitlines()
            if line.startswith(f"- **agnews** ({sampler};")
        )
        said = (
            "never switched"
            if row["switched"] == 0
            else f"(switched in {int(row['switched'])} of 4 seeds), saves {row['flops_saved_pct_mean']:.0f}% ±"
        )
        assert said in finding and f"`{best['config']}`" in finding


def _knobs(row: pd.Series) -> dict:
    return {"strategy": row["strategy"]} | (
        {"epsilon": float(row["epsilon"]), "k": int(row["k"])} if row["strategy"] == "deltaf1" else {}
    )


def test_every_configuration_is_paired_with_its_retrain_and_drawn(study):
    _, first, _ = study
    paired = pd.read_csv(first / "paired.csv")
    trials = pd.read_csv(first / "trials.csv")
    assert len(paired) == 2 * 8 and not (paired["strategy"] == "retrain").any()
    for _, row in paired.iterrows():
        knobs = {"strategy": row["strategy"]} | (
            {"epsilon": float(row["epsilon"]), "k": int(row["k"])} if row["strategy"] == "deltaf1" else {}
        )
        c = _by_seed(trials, row["sampler"], knobs)
        r = _by_seed(trials, row["sampler"], {"strategy": "retrain"})
        assert row["flops_saved_pct_mean"] == pytest.approx((100 * (1 - c["total_flops"] / r["total_flops"])).mean())
        assert row["train_flops_saved_pct_mean"] == pytest.approx(
            (100 * (1 - c["total_train_flops"] / r["total_train_flops"])).mean()
        )
        assert row["test_gap_points_mean"] == pytest.approx((100 * (c["final_test_f1"] - r["final_test_f1"])).mean())
    from tests.support.images import assert_png_readable

    assert_png_readable(first / "plots" / "savings_vs_retrain.png")
    assert "![AL FLOPs saved vs test-F1 difference" in (first / "report.md").read_text()


def test_switch_table_lists_each_seeds_switch_round(study):
    _, first, _ = study
    sw = pd.read_csv(first / "switches.csv")
    trials = pd.read_csv(first / "trials.csv")
    assert len(sw) == 2 * 6
    for _, row in sw.iterrows():
        t = _by_seed(
            trials, row["sampler"], {"strategy": "deltaf1", "epsilon": float(row["epsilon"]), "k": int(row["k"])}
        )
        expected = " ".join("never" if pd.isna(v) else str(int(v)) for v in t["switch_round"])
        assert row["switch_rounds"] == expected and row["seeds"] == "1 2 3 4"
        assert row["switched"] == t["switch_round"].notna().sum()


def test_samplers_are_compared_paired_by_seed(study):
    _, first, _ = study
    st = pd.read_csv(first / "samplers.csv")
    trials = pd.read_csv(first / "trials.csv")
    assert list(st["strategy"]) == ["retrain", "finetune", "new_only"]
    assert set(st["sampler"]) == {"random"} and set(st["reference"]) == {"entropy"}
    for _, row in st.iterrows():
        rnd = _by_seed(trials, "random", {"strategy": row["strategy"]})
        ent = _by_seed(trials, "entropy", {"strategy": row["strategy"]})
        assert row["test_gap_points_mean"] == pytest.approx(
            (100 * (rnd["final_test_f1"] - ent["final_test_f1"])).mean()
        )
        assert row["reference_test_f1"] == pytest.approx(ent["final_test_f1"].mean())


def test_samplers_are_compared_over_the_seeds_both_ran(study, tmp_path):
    root, _, _ = study
    few = tmp_path / "study-random"  # the random sampler on seeds 1 and 2 only
    make_experiment(
        few,
        "ray",
        total_rounds=8,
        sampler="random",
        datasets=("agnews",),
        seeds=(1, 2),
        epsilons=(0.005, 0.01, 0.02),
        ks=(1, 2),
    )
    out = tmp_path / "out"
    assert main([str(root / "study-entropy"), str(few), "--out", str(out)]) == 0
    st = pd.read_csv(out / "samplers.csv").set_index("strategy")
    trials = pd.read_csv(out / "trials.csv")
    ent = _by_seed(trials, "entropy", {"strategy": "retrain"})
    assert len(ent) == 4 and st.loc["retrain", "n_paired"] == 2
    assert st.loc["retrain", "reference_test_f1"] == pytest.approx(ent.loc[[1, 2], "final_test_f1"].mean())
    assert st.loc["retrain", "reference_test_f1"] != pytest.approx(ent["final_test_f1"].mean())
    assert "### Samplers compared" in (out / "report.md").read_text()


def test_several_folders_need_out_and_distinct_names(tmp_path, capsys):
    a = make_experiment(tmp_path / "x" / "exp", datasets=("agnews",), seeds=(1,), epsilons=(0.01,), ks=(1,))
    b = make_experiment(tmp_path / "y" / "exp", datasets=("agnews",), seeds=(2,), epsilons=(0.01,), ks=(1,))
    assert main([str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out is required" in err
    assert main([str(a), str(b), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "both named 'exp'" in err
    assert not (tmp_path / "out").exists()


def test_unreadable_notes_file_is_one_line(tmp_path, capsys):
    a = make_experiment(tmp_path / "exp", datasets=("agnews",), seeds=(1,), epsilons=(0.01,), ks=(1,))
    assert main([str(a), "--out", str(tmp_path / "out"), "--notes", str(tmp_path / "missing.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.md" in err and not (tmp_path / "out").exists()


def test_report_tables_missing_a_column_fail_in_one_sentence(study, tmp_path, capsys):
    _, first, _ = study
    folder = tmp_path / "damaged"
    folder.mkdir()
    runs = pd.read_csv(first / "runs.csv").drop(columns=["settings"])
    runs.to_csv(folder / "runs.csv", index=False)
    (folder / "rounds.parquet").write_bytes((first / "rounds.parquet").read_bytes())
    assert main([str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "runs.csv lacks column(s) settings" in err


def test_a_report_folder_extended_by_a_new_sweep_keeps_its_names_and_sweeps(study, tmp_path):
    root, first, _ = study
    extra = make_experiment(
        tmp_path / "study-imdb", "ray", total_rounds=8, datasets=("imdb",), seeds=(1, 2), epsilons=(0.01,), ks=(1,)
    )
    _sweep_summary(extra, 1e14, 2e14, 600.0)
    out = tmp_path / "out"
    assert main([str(first), str(extra), "--out", str(out)]) == 0
    runs = pd.read_csv(out / "runs.csv")
    before = pd.read_csv(first / "runs.csv")
    assert list(runs["trial"][: len(before)]) == list(before["trial"])  # no second prefix
    assert runs["trial"][len(before) :].str.startswith("study-imdb/").all() and len(runs) == len(before) + 2 * 4
    sweep = json.loads((out / "sweep_summary.json").read_text())
    assert [s["name"] for s in sweep["sweeps"]] == ["study-entropy", "study-random", "study-imdb"]
    assert sweep["spent_train_flops"] == 1e15 and sweep["wall_seconds"] == 6000.0
    # the same sweep twice (already in the tables and given again) is refused
    again = tmp_path / "again"
    assert main([str(first), str(root / "study-entropy"), "--out", str(again)]) == 2
    assert not again.exists()
