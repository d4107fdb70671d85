"""Named arms in grid files (`arms:`, sweeps/arms.py, sweeps/grid_expansion.py): named sets of
ExperimentConfig overrides run per dataset × seed beside the axes. Nothing here starts Ray or
reads data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from hybridal.errors import ConfigError
from sweeps import grid
from sweeps.grid_expansion import expand_grid
from sweeps.grid_file import parse_grid
from sweeps.sharing import SharePlan
from sweeps.trials import Trial, grid_key
from tests.support.sweep_hooks import one_line_error

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "model_name_or_path": "tiny-bert",
    "tokenizer_kwargs": {"max_length": 64, "padding": "longest"},
    "total_rounds": 3,
    "epochs": 2,
}
AXES = {"datasets": ["agnews", "imdb"], "seeds": [1, 2]}
ARMS = {
    "retrain1ep": {"strategy_class": "retrain", "epochs": 1},
    "tight": {"strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.005, "k": 3}},
}


def spec_of(arms, axes=None, base=None, **sections):
    return parse_grid({"base": base or BASE, "grid": axes or AXES, "arms": arms, **sections}, "grid.yaml")


def by_name(trials) -> dict[str, Trial]:
    return {t.name: t for t in trials}


def test_arms_run_per_dataset_and_seed_with_readable_names_and_their_overrides():
    trials = expand_grid(spec_of(ARMS))
    assert [t.name for t in trials] == [
        f"{d}-arm-{arm}-s{s}" for arm in ARMS for d in ("agnews", "imdb") for s in (1, 2)
    ], "a grid with arms and no grid.strategies runs its arms only"
    for t in trials:
        assert t.config.experiment_name == t.name and t.columns["arm"] == t.arm
        assert t.config.tokenizer_kwargs == BASE["tokenizer_kwargs"], "the base under every arm"
        if t.arm == "retrain1ep":
            assert (t.config.strategy_class, t.config.strategy_kwargs, t.config.epochs) == ("retrain", {}, 1)
            assert t.columns["epochs"] == 1
        else:
            # deltaf1's knobs the arm leaves out are filled in from the rule's defaults, as the axes do.
            assert t.config.strategy_kwargs == {"epsilon": 0.005, "k": 3, "after": "finetune", "guard": True}
            assert (t.columns["strategy"], t.columns["epsilon"], t.columns["k"], t.config.epochs) == (
                "deltaf1",
                0.005,
                3,
                2,
            )
    as_list = [{"name": name, **entry} for name, entry in ARMS.items()]
    assert [t.to_json() for t in expand_grid(spec_of(as_list))] == [t.to_json() for t in trials], (
        "a list of arms with name: is the same as a mapping"
    )


def test_arms_and_axes_run_as_a_union_and_identical_configurations_run_once():
    axes = {**AXES, "strategies": ["retrain", "deltaf1"], "epsilons": [0.01], "ks": [2]}
    arms = {
        "plain": {"strategy_class": "retrain"},  # the axes' retrain trial
        "hybrid": {"strategy_class": "DeltaF1Strategy", "strategy_kwargs": {"epsilon": 0.01, "k": 2}},  # the axes'
        "ft": {"strategy_class": "finetune", "finetune_epochs": 1},
        "ft-again": {"strategy_class": "finetune", "finetune_epochs": 1},  # the same as arm ft
    }
    spec = spec_of(arms, axes)
    trials = expand_grid(spec)
    assert len(trials) == 2 * 2 * 3
    assert [t.name for t in trials if t.config.data == "agnews" and t.config.seed == 1] == [
        "agnews-retrain-s1",
        "agnews-deltaf1-e0.01-k2-s1",
        "agnews-arm-ft-s1",
    ]
    assert {t.arm for t in trials} == {None, "ft"}
    assert all(("arm" in t.columns) == (t.arm is not None) for t in trials), "the axes' columns are unchanged"
    notes = " ".join(spec.notes)
    assert "arms.plain: 4 of its trials are configurations already in the grid (agnews-retrain-s1" in notes
    assert "arms.hybrid: 4 of its trials" in notes and "arms.ft-again: 4 of its trials" in notes
    without = expand_grid(spec_of({"ft": arms["ft"]}, axes))
    assert [t.to_json() for t in without] == [t.to_json() for t in trials]


def test_an_arm_without_its_own_sampler_is_crossed_with_the_samplers_axis():
    arms = {"mine": {"strategy_class": "retrain", "epochs": 1}, "margin": {"sampler_class": "margin"}}
    trials = expand_grid(spec_of(arms, {"datasets": ["agnews"], "seeds": [7], "samplers": ["entropy", "random"]}))
    assert [(t.name, t.config.sampler_class) for t in trials] == [
        ("agnews-arm-mine-entropy-s7", "entropy"),
        ("agnews-arm-mine-random-s7", "random"),
        ("agnews-arm-margin-s7", "margin"),
    ]


def test_arms_apply_over_per_dataset_and_set_wins_over_both():
    arms = {"long": {"epochs": 5, "tokenizer_kwargs": {"padding": "max_length"}}, "plain": None}
    per_dataset = {"imdb": {"epochs": 1, "tokenizer_kwargs": {"max_length": 128}}}
    spec = spec_of(arms, {"datasets": ["agnews", "imdb"]}, per_dataset=per_dataset)
    got = {t.name: (t.config.epochs, t.config.tokenizer_kwargs) for t in expand_grid(spec)}
    assert got == {
        "agnews-arm-long-s42": (5, {"max_length": 64, "padding": "max_length"}),
        "imdb-arm-long-s42": (5, {"max_length": 128, "padding": "max_length"}),  # nested keys merge one level
        "agnews-arm-plain-s42": (2, {"max_length": 64, "padding": "longest"}),
        "imdb-arm-plain-s42": (1, {"max_length": 128, "padding": "longest"}),
    }
    overridden = expand_grid(spec.with_overrides(["epochs=7", "tokenizer_kwargs.max_length=96"]))
    assert {(t.config.epochs, t.config.tokenizer_kwargs["max_length"]) for t in overridden} == {(7, 96)}


def test_an_arm_brings_its_strategy_whole_and_a_baseline_arm_reads_no_monitor():
    base = {**BASE, "strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.02, "k": 1}, "monitor": "acquired"}
    arms = {
        "inherit": {"finetune_epochs": 1},
        "k3": {"strategy_kwargs": {"k": 3}},
        "retrain": {"strategy_class": "retrain"},
        "retrain-acq": {"strategy_class": "retrain", "monitor": "acquired"},
    }
    got = by_name(expand_grid(spec_of(arms, {"datasets": ["agnews"]}, base)))
    cfg = {arm: got[f"agnews-arm-{arm}-s42"].config for arm in arms}
    assert (cfg["inherit"].strategy_kwargs["epsilon"], cfg["inherit"].strategy_kwargs["k"]) == (0.02, 1)
    assert (cfg["k3"].strategy_kwargs["epsilon"], cfg["k3"].strategy_kwargs["k"]) == (0.01, 3), "not the base's ε"
    assert (cfg["retrain"].strategy_kwargs, cfg["retrain"].monitor) == ({}, "validation")
    assert cfg["retrain-acq"].monitor == "acquired", "an arm's own monitor is kept"
    assert cfg["inherit"].monitor == cfg["k3"].monitor == "acquired"


def test_arms_that_differ_only_after_the_switch_share_one_trunk():
    arms = {
        "retrain": {"strategy_class": "retrain"},
        "loose": {"strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.05, "k": 1}},
        "tight": {"strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.005, "k": 2}, "finetune_epochs": 1},
        "retrain1ep": {"strategy_class": "retrain", "epochs": 1},
        "loose1ep": {"strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.05, "k": 1}, "epochs": 1},
    }
    plan = SharePlan(expand_grid(spec_of(arms, {"datasets": ["agnews"], "seeds": [42]})), share=True)
    groups = {trunk: set(group.members) for trunk, group in plan.groups.items()}
    assert groups == {
        "agnews-arm-retrain-s42": {"agnews-arm-loose-s42", "agnews-arm-tight-s42"},
        "agnews-arm-retrain1ep-s42": {"agnews-arm-loose1ep-s42"},
    }


def test_dry_run_and_arms_flag_select_arms_by_name(tmp_path, capsys):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({"base": BASE, "grid": {"datasets": ["agnews"], "seeds": [1]}, "arms": ARMS}))
    rc = grid.main(["--config", str(path), "--dry-run", "--no-estimate", "--arms", "tight"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "agnews-arm-tight-s1" in out and "retrain1ep" not in out and '"arm": "tight"' in out
    rc = grid.main(["--config", str(path), "--dry-run", "--no-estimate", "--arms", "tigth"])
    one_line_error(rc, capsys.readouterr()[1], "--arms 'tigth' is not an arm of", 'did you mean "tight"')
    rc = grid.main(["--preset", "smoke", "--dry-run", "--no-estimate", "--arms", "tight"])
    one_line_error(rc, capsys.readouterr()[1], "--arms needs a grid with an arms: section; preset smoke has none")


def test_the_sweep_file_stores_the_arm_and_a_file_from_before_arms_still_loads():
    trials = expand_grid(spec_of(ARMS, {"datasets": ["agnews"]}))
    stored = [t.to_json() for t in trials]
    assert {s["arm"] for s in stored} == set(ARMS)
    again = [Trial.from_json(s) for s in stored]
    assert [(t.name, t.arm, t.columns) for t in again] == [(t.name, t.arm, t.columns) for t in trials]
    old = Trial.from_json({k: v for k, v in stored[0].items() if k != "arm"})
    assert old.arm is None and "arm" not in old.columns and grid_key([old]) == grid_key(trials[:1])


def test_two_trials_that_would_share_a_name_fail_before_anything_runs(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    files = [tmp_path / "a" / "x.csv", tmp_path / "b" / "x.csv"]
    for f in files:
        f.write_text("text,label\nhello,0\n")
    spec = parse_grid({"base": BASE, "grid": {"datasets": [str(f) for f in files]}}, "grid.yaml")
    with pytest.raises(ConfigError, match="two different trials would both be named 'x-retrain-s42'"):
        expand_grid(spec)


@pytest.mark.parametrize(
    "arms, needles",
    [
        ({"retrain1ep": {"epochs": -1}}, ("arms.retrain1ep: epochs=-1 is invalid; allowed: an integer >= 1.",)),
        ({"a": {"epoch": 1}}, ("arms.a: 'epoch' is not a known config key", 'did you mean "epochs"')),
        ({"a": {"seed": 3}}, ("arms.a: seed is set per trial by grid.seeds",)),
        ({"a": {"data": "imdb"}}, ("arms.a: data is set per trial by grid.datasets",)),
        ({"a b": {}}, ("arm name 'a b' is invalid; allowed: letters, digits",)),
        ([{"name": "a"}, {"name": "a"}], ("arms names 'a' twice",)),
        ([{"strategy_class": "retrain"}], ("arms[0] must be a mapping with name:",)),
        ("retrain", ("arms must be a mapping of arm names", "not a str")),
        ({}, ("arms is empty",)),
        ({"a": 3}, ("arms.a must be a mapping of ExperimentConfig keys, not a int",)),
        ({"a": {"strategy_class": "retrian"}}, ("arms.a: ", "retrian")),
        (
            {"hy": {"strategy_class": "deltaf1", "strategy_kwargs": {"k": 0}}},
            ("arms.hy: strategy_kwargs.k=0 is invalid",),
        ),
    ],
)
def test_a_bad_arm_fails_in_one_sentence_naming_the_file_and_the_arm(tmp_path, capsys, arms, needles):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({"base": BASE, "grid": AXES, "arms": arms}))
    rc = grid.main(["--config", str(path), "--storage-path", str(tmp_path / "res")])
    _, err = capsys.readouterr()
    one_line_error(rc, err, f"{path}: ", *needles)
    assert not (tmp_path / "res").exists()


def test_an_arm_error_that_comes_from_per_dataset_names_it():
    spec = spec_of({"a": {"finetune_epochs": 1}}, per_dataset={"imdb": {"epochs": 0}})
    with pytest.raises(ConfigError, match=r"^grid.yaml: arms\.a \(with per_dataset\.imdb\): epochs=0 is invalid"):
        expand_grid(spec)


def test_the_docs_example_expands_as_docs_sweeps_md_says():
    text = (REPO_ROOT / "docs" / "sweeps.md").read_text()
    example = re.search(r"## Named arms\n.*?```yaml\n(.*?)```", text, re.S)
    assert example, "docs/sweeps.md has a Named arms section with a YAML example"
    trials = expand_grid(parse_grid(yaml.safe_load(example.group(1)), "docs example"))
    assert len(trials) == 20 and {"agnews-arm-retrain1ep-s42", "imdb-arm-tight-ft1-s43"} <= {t.name for t in trials}
    plan = SharePlan(trials, share=True)
    trunk = plan.groups["agnews-retrain-s42"]
    assert set(trunk.members) == {"agnews-deltaf1-e0.01-k2-s42", "agnews-arm-tight-ft1-s42"}
    assert "agnews-arm-retrain1ep-s42" not in plan.groups and "agnews-arm-margin-s42" not in plan.groups


def test_shrink_perturb_runs_from_the_axes_and_from_an_arm_with_its_own_lambda_and_sigma():
    axes = {
        "datasets": ["agnews"],
        "seeds": [1],
        "strategies": ["shrink_perturb", "deltaf1"],
        "afters": ["shrink_perturb"],
    }
    arms = {"sp-half": {"strategy_class": "deltaf1", "strategy_kwargs": {"after": "shrink_perturb"}, "shrink": 0.5}}
    trials = by_name(expand_grid(spec_of(arms, axes=axes)))
    alone = next(t for t in trials.values() if t.config.strategy_class == "shrink_perturb")
    assert (alone.config.shrink, alone.config.perturb) == (0.3, 1e-4), "the defaults"
    from_axes = [t for t in trials.values() if t.config.strategy_class == "deltaf1" and t.arm is None]
    assert from_axes and all(t.config.strategy_kwargs["after"] == "shrink_perturb" for t in from_axes)
    arm = trials["agnews-arm-sp-half-s1"]
    assert (arm.config.strategy_kwargs["after"], arm.config.shrink) == ("shrink_perturb", 0.5)
    with pytest.raises(ConfigError, match="shrink"):
        expand_grid(spec_of({"bad": {"strategy_class": "shrink_perturb", "shrink": 1.5}}, axes={"seeds": [1]}))


def test_a_baseline_keeps_its_monitor_when_halt_on_reads_it():
    """halt_on: early_stopping reads the monitor's F1, so a baseline reads a monitor too: it keeps the
    base's acquired monitor instead of being moved to validation (and charged its labels)."""
    base = {**BASE, "monitor": "acquired", "stopping": ["early_stopping"], "halt_on": "early_stopping"}
    arms = {"retrain": {"strategy_class": "retrain"}}
    axes = {"datasets": ["agnews"], "strategies": ["finetune"]}
    got = by_name(expand_grid(spec_of(arms, axes, base)))
    assert got["agnews-arm-retrain-s42"].config.monitor == "acquired"
    assert got["agnews-finetune-s42"].config.monitor == "acquired"
    plain = by_name(expand_grid(spec_of(arms, axes, {**BASE, "monitor": "acquired"})))
    assert plain["agnews-arm-retrain-s42"].config.monitor == "validation"
