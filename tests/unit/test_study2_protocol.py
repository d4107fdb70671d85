"""The study's second edition is pre-registered (docs/results/study2/notes.md): its pilot ran on seeds the
study never reports, its committed tables regenerate, and the learning rates and κ thresholds in
sweeps/presets/study2.yaml are exactly what the pilot's rules (written in study2_pilot.yaml before it ran)
give on the pilot's committed records."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from analysis.report import main
from sweeps.grid_expansion import expand_grid
from sweeps.grid_file import load_grid_file

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "docs" / "results" / "study2_pilot"
PRESETS = REPO / "sweeps" / "presets"


def pilot_rules() -> dict[str, tuple[float, float]]:
    """Dataset -> (learning rate, κ threshold) by study2_pilot.yaml's rules."""
    rounds = pd.read_csv(PILOT / "rounds.csv")
    runs = pd.read_csv(PILOT / "runs.csv")
    lr_of = {t: json.loads(s)["optimizer_kwargs.lr"] for t, s in zip(runs["trial"], runs["settings"])}
    rounds["lr"] = rounds["trial"].map(lr_of)
    out = {}
    for dataset, g in rounds.groupby("dataset"):
        mean = g[g["round"] == 3].groupby("lr")["val_f1"].mean()
        lr = min(rate for rate, f1 in mean.items() if f1 >= mean.max() - 0.005)  # a tie goes to the smaller rate
        kappas = g[(g["lr"] == lr) & g["round"].isin([2, 3])]["stop_kappa"]
        assert len(kappas) == 4, dataset  # both seeds, rounds 2 and 3
        out[str(dataset).removesuffix(" (multi-label)")] = (
            lr,
            round(math.floor(kappas.median() / 0.05 + 1e-9) * 0.05, 2),
        )
    return out


def test_the_pilot_ran_on_seeds_the_study_never_reports_and_regenerates(tmp_path):
    runs = pd.read_csv(PILOT / "runs.csv")
    reported = set(load_grid_file(PRESETS / "study2.yaml").seeds)
    assert set(runs["seed"]) == {90, 91} and not reported & {90, 91} and (runs["status"] == "finished").all()
    assert main([str(PILOT), "--out", str(tmp_path)]) == 0
    for name in ("runs.csv", "rounds.csv", "trials.csv", "summary.csv"):
        assert (tmp_path / name).read_bytes() == (PILOT / name).read_bytes(), name


def test_the_study2_preset_holds_what_the_pilots_rules_give():
    chosen = pilot_rules()
    assert chosen == {"agnews": (1e-4, 0.85), "imdb": (2e-4, 0.65), "jigsaw": (2e-4, 0.60)}  # notes.md quotes these
    spec = load_grid_file(PRESETS / "study2.yaml")
    trials = expand_grid(spec)
    for t in trials:
        dataset = t.columns["dataset"]
        assert t.config.optimizer_kwargs["lr"] == chosen[dataset][0], t.name
    for dataset, (_, threshold) in chosen.items():
        arm = spec.arms[f"hybrid-kappa{threshold:.2f}"]
        assert arm["strategy_kwargs"] == {"trigger": "kappa", "threshold": threshold, "k": 2, "after": "finetune"}
    # every arm runs on every reported seed (5 pairs per comparison)
    assert set(spec.seeds) == {42, 43, 44, 45, 46}


def test_the_committed_study2_pieces_regenerate_and_are_the_presets_trials(tmp_path):
    """docs/results/study2 holds the pieces run so far (notes.md lists them): its tables regenerate from its
    records, and every run is a trial of study2.yaml with exactly the settings the preset gives it."""
    from analysis.reading.configuration import engine_settings

    folder = REPO / "docs" / "results" / "study2"
    # no flags: the folder's protocol.json gives the comparisons and the tolerance (its margin), notes.md the notes
    assert main([str(folder), "--out", str(tmp_path)]) == 0
    tables = ("runs.csv", "rounds.csv", "trials.csv", "summary.csv", "headline.csv", "stopping.csv")
    for name in (*tables, "findings.csv", "arms.csv", "targets.csv", "stopping_paired.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    body = lambda p: p.read_text().split("\n", 3)[3]  # noqa: E731 - all but the title and generation line
    assert body(tmp_path / "report.md") == body(folder / "report.md")
    runs = pd.read_csv(folder / "runs.csv")
    expected = {
        t.name: engine_settings(t.config.to_dict()) for t in expand_grid(load_grid_file(PRESETS / "study2.yaml"))
    }
    assert len(runs) and (runs["status"] == "finished").all()
    for trial, settings in zip(runs["trial"], runs["settings"]):
        assert json.loads(settings) == expected[trial.rsplit("/", 1)[-1]], trial
