"""The committed study (docs/results/study): it regenerates from its own records, and its runs
are what the committed preset says."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.reading.configuration import engine_settings
from analysis.report import main
from sweeps.grid_expansion import expand_grid
from sweeps.grid_file import load_grid_file

REPO = Path(__file__).resolve().parents[2]
STUDY = REPO / "docs" / "results" / "study"
TABLES = (
    "runs.csv",
    "trials.csv",
    "summary.csv",
    "headline.csv",
    "paired.csv",
    "switches.csv",
    "samplers.csv",
    "frontier_rounds.csv",
    "hypervolume.csv",
    "rounds.csv",
    "noise.csv",
)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    if not (STUDY / "runs.csv").is_file():
        pytest.fail(f"{STUDY} holds no runs.csv: the committed study results are missing.")
    out = tmp_path_factory.mktemp("study")
    assert main([str(STUDY), "--out", str(out)]) == 0
    return out


def test_the_committed_study_regenerates_byte_for_byte(regenerated):
    for name in TABLES:
        assert (regenerated / name).read_bytes() == (STUDY / name).read_bytes(), name
    committed = sorted(p.name for p in (STUDY / "plots").glob("*.png"))
    assert committed and committed == sorted(p.name for p in (regenerated / "plots").glob("*.png"))
    body = lambda p: p.read_text().split("\n", 3)[3]  # noqa: E731 - all but the title and generation line
    assert body(regenerated / "report.md") == body(STUDY / "report.md")


def test_the_committed_preset_is_the_study_preset():
    assert (STUDY / "study.yaml").read_text() == (REPO / "sweeps" / "presets" / "study.yaml").read_text()


def test_every_committed_run_has_the_settings_the_preset_gives_it():
    runs = pd.read_csv(STUDY / "runs.csv")
    assert len(runs) and (runs["status"] == "finished").all()
    spec = load_grid_file(STUDY / "study.yaml")
    for (dataset, sampler), group in runs.groupby(["dataset", "sampler"]):
        expected = {
            t.name: engine_settings(t.config.to_dict())
            for t in expand_grid(spec.with_axes(datasets=[dataset], samplers=[sampler]))
        }
        for _, run in group.iterrows():
            name = run["trial"].rsplit("/", 1)[-1]  # the sweep's folder name in front when there are several
            assert name in expected, run["trial"]
            assert json.loads(run["settings"]) == expected[name], run["trial"]


def test_every_seed_group_is_complete():
    """Each dataset x sampler x seed holds all 15 configurations: no half-finished group is reported."""
    runs = pd.read_csv(STUDY / "runs.csv")
    sizes = runs.groupby(["dataset", "sampler", "seed"]).size()
    assert (sizes == 3 + 4 * 3).all(), sizes[sizes != 15]


def test_the_readme_findings_table_is_the_committed_headline():
    from analysis.presentation.readme_findings import findings_markdown

    table = findings_markdown(pd.read_csv(STUDY / "headline.csv"))
    assert table in (REPO / "README.md").read_text(), (
        "README's Findings table differs from docs/results/study: "
        "paste the output of `python -m analysis.presentation.readme_findings docs/results/study`"
    )


def test_the_committed_demo_report_regenerates_byte_for_byte(tmp_path):
    """docs/results/demo backs the demo example in docs/analysis.md: its tables and figures are
    what its committed records give."""
    demo = REPO / "docs" / "results" / "demo"
    assert main([str(demo), "--out", str(tmp_path)]) == 0
    for name in TABLES:
        assert (tmp_path / name).read_bytes() == (demo / name).read_bytes(), name
    for png in sorted((demo / "plots").glob("*.png")):
        assert (tmp_path / "plots" / png.name).read_bytes() == png.read_bytes(), png.name


def test_the_committed_label_free_demo_regenerates_and_says_what_the_issue_asks(tmp_path):
    """docs/results/demo_label_free (sweeps/presets/demo_label_free.yaml) backs docs/stopping.md: its
    tables regenerate from its records, its label-free arms used only the labels they bought, and
    every run recorded its switch and each criterion's stop round."""
    folder = REPO / "docs" / "results" / "demo_label_free"
    assert main([str(folder), "--out", str(tmp_path)]) == 0
    for name in (*TABLES, "stopping.csv", "stopping_seeds.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    runs = pd.read_csv(folder / "runs.csv")
    rounds = pd.read_csv(folder / "rounds.csv")
    label_free = runs[runs["strategy"] == "deltaf1"]
    assert len(label_free) == 2 and "summary_stopping" in runs
    last = rounds.sort_values("round").groupby("trial").tail(1).set_index("trial")
    for trial in label_free["trial"]:
        assert last.loc[trial, "labels_used"] == last.loc[trial, "labels_acquired"], trial


def test_the_committed_multi_label_demo_regenerates_and_shows_each_rounds_multi_label_metrics(tmp_path):
    """docs/results/demo_multilabel (sweeps/presets/demo_multilabel.yaml) backs docs/multilabel.md: its tables
    regenerate from its records, its runs are the preset's, the dataset is reported apart from binary Jigsaw,
    and every round of every configuration has test micro-F1, macro-F1 and mean ROC AUC."""
    folder = REPO / "docs" / "results" / "demo_multilabel"
    assert main([str(folder), "--out", str(tmp_path)]) == 0
    for name in (*TABLES, "stopping.csv", "multilabel_rounds.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    runs = pd.read_csv(folder / "runs.csv")
    assert set(runs["dataset"]) == {"jigsaw (multi-label)"} and (runs["status"] == "finished").all()
    expected = {t.name: engine_settings(t.config.to_dict()) for t in expand_grid(load_grid_file(
        REPO / "sweeps" / "presets" / "demo_multilabel.yaml"))}  # fmt: skip
    assert {t.rsplit("/", 1)[-1]: json.loads(s) for t, s in zip(runs["trial"], runs["settings"])} == expected
    table = pd.read_csv(folder / "multilabel_rounds.csv")
    assert len(table) == 3 * 5 and table[["test_micro_f1", "test_macro_f1", "test_mean_auc"]].notna().all().all()
    rounds = pd.read_csv(folder / "rounds.csv")
    assert rounds["test_per_label_f1"].map(lambda s: len(json.loads(s))).eq(6).all()
    assert "## Multi-label metrics per round" in (folder / "report.md").read_text()


def test_the_committed_hybridal_run_is_the_multi_label_example_and_records_every_label():
    """docs/results/jigsaw_multilabel_run is `hybridal run examples/jigsaw_multilabel.yaml` (docs/multilabel.md)."""
    import yaml

    folder = REPO / "docs" / "results" / "jigsaw_multilabel_run"
    example = yaml.safe_load((REPO / "examples" / "jigsaw_multilabel.yaml").read_text())
    ran = yaml.safe_load((folder / "config.yaml").read_text())
    assert {k: ran[k] for k in example if k != "strategy_kwargs"} == {
        k: v for k, v in example.items() if k != "strategy_kwargs"
    }
    assert ran["strategy_kwargs"].items() >= example["strategy_kwargs"].items()  # the guard written out
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["trial"]["sampler"] == "cvirs"
    assert (
        summary["data"]["task"]["type"] == "multi_label"
        and len(summary["final_test"]["multilabel"]["per_label_auc"]) == 6
    )
    records = [json.loads(line) for line in (folder / "rounds.jsonl").read_text().splitlines()]
    assert len(records) == 5 and all(len(r["test_per_label_f1"]) == len(r["labels_per_class"]) == 6 for r in records)
    assert all(r["test_f1"] == r["test_micro_f1"] and r["test_mean_auc"] is not None for r in records)
