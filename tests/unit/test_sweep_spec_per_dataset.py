"""`per_dataset:` in grid files (sweeps/grid_file.py): base keys that differ by dataset. Nothing here
starts Ray or reads data."""

from __future__ import annotations

import pytest
import yaml

from hybridal.errors import ConfigError
from sweeps import grid
from sweeps.grid_expansion import expand_grid
from sweeps.grid_file import parse_grid
from sweeps.sharing import SharePlan
from tests.support.sweep_hooks import one_line_error

BASE = {
    "model_name_or_path": "tiny-bert",
    "tokenizer_kwargs": {"max_length": 64, "padding": "longest"},
    "total_rounds": 3,
    "epochs": 2,
}
GRID = {
    "datasets": ["agnews", "imdb", "jigsaw"],
    "seeds": [1, 2],
    "strategies": ["retrain", "deltaf1"],
    "epsilons": [0.01],
    "ks": [1, 2],
}


def spec_of(per_dataset, grid_axes=None, base=None):
    return parse_grid({"base": base or BASE, "grid": grid_axes or GRID, "per_dataset": per_dataset}, "test grid")


def by_dataset(trials) -> dict[str, list]:
    out: dict[str, list] = {}
    for t in trials:
        out.setdefault(t.config.data, []).append(t.config)
    return out


def test_per_dataset_values_reach_only_that_datasets_trials_and_nested_keys_merge():
    trials = expand_grid(spec_of({"imdb": {"tokenizer_kwargs": {"max_length": 128}, "epochs": 1}}))
    configs = by_dataset(trials)
    assert {d: len(c) for d, c in configs.items()} == {"agnews": 6, "imdb": 6, "jigsaw": 6}
    for cfg in configs["imdb"]:
        assert cfg.tokenizer_kwargs == {"max_length": 128, "padding": "longest"}, "merged one level deep with the base"
        assert cfg.epochs == 1
    for cfg in configs["agnews"] + configs["jigsaw"]:
        assert cfg.tokenizer_kwargs == BASE["tokenizer_kwargs"] and cfg.epochs == 2
    # Without the entry, imdb's trials are the base's, byte for byte apart from the entry's keys.
    plain = by_dataset(expand_grid(spec_of(None)))
    for cfg, ref in zip(configs["imdb"], plain["imdb"]):
        assert cfg.replace(tokenizer_kwargs=ref.tokenizer_kwargs, epochs=ref.epochs) == ref
    assert [c.to_dict() for c in configs["agnews"]] == [c.to_dict() for c in plain["agnews"]]


def test_an_alias_names_the_same_dataset_and_a_scalar_replaces_a_mapping():
    trials = expand_grid(spec_of({"ag_news": {"tokenizer_kwargs": {"max_length": 32}}}))
    assert {c.tokenizer_kwargs["max_length"] for c in by_dataset(trials)["agnews"]} == {32}
    with pytest.raises(ConfigError, match="per_dataset names dataset 'agnews' twice"):
        spec_of({"ag_news": {"epochs": 1}, "agnews": {"epochs": 2}})


def test_per_dataset_strategy_kwargs_and_monitor_shape_that_datasets_deltaf1_trials():
    base = {**BASE, "strategy_class": "deltaf1", "strategy_kwargs": {"epsilon": 0.02, "k": 2}}
    spec = spec_of(
        {"imdb": {"strategy_kwargs": {"k": 3}, "monitor": "acquired"}}, {"datasets": ["agnews", "imdb"]}, base
    )
    configs = by_dataset(expand_grid(spec))
    assert [(c.strategy_kwargs["k"], c.monitor) for c in configs["agnews"]] == [(2, "validation")]
    assert [(c.strategy_kwargs["epsilon"], c.strategy_kwargs["k"], c.monitor) for c in configs["imdb"]] == [
        (0.02, 3, "acquired")
    ]


def test_set_applies_to_the_base_and_wins_over_per_dataset():
    spec = spec_of({"imdb": {"tokenizer_kwargs": {"max_length": 128}, "epochs": 1}})
    configs = by_dataset(expand_grid(spec.with_overrides(["tokenizer_kwargs.max_length=96", "total_rounds=2"])))
    for cfg in (c for cs in configs.values() for c in cs):
        assert cfg.tokenizer_kwargs == {"max_length": 96, "padding": "longest"} and cfg.total_rounds == 2
    assert {c.epochs for c in configs["imdb"]} == {1}, "a key --set did not touch keeps its per_dataset value"
    configs = by_dataset(expand_grid(spec.with_overrides(["epochs=3"])))
    assert {c.epochs for cs in configs.values() for c in cs} == {3}
    assert {c.tokenizer_kwargs["max_length"] for c in configs["imdb"]} == {128}


def test_set_wins_over_per_dataset_from_the_command_line(capsys, tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "base": BASE,
                "grid": {"datasets": ["agnews", "imdb"]},
                "per_dataset": {"imdb": {"tokenizer_kwargs": {"max_length": 128}}},
            }
        )
    )
    rc = grid.main(["--config", str(path), "--dry-run", "--no-estimate"])
    out = capsys.readouterr().out
    assert rc == 0
    assert 'agnews: {"tokenizer_kwargs": {"max_length": 64, "padding": "longest"}}' in out, (
        "the dry run shows per-dataset values"
    )
    assert 'imdb: {"tokenizer_kwargs": {"max_length": 128, "padding": "longest"}}' in out
    rc = grid.main(["--config", str(path), "--dry-run", "--no-estimate", "--set", "tokenizer_kwargs.max_length=80"])
    out = capsys.readouterr().out
    assert rc == 0 and "differ by dataset" not in out
    assert '\n  tokenizer_kwargs: {"max_length": 80, "padding": "longest"}\n' in out


def test_an_entry_for_a_dataset_not_in_the_sweep_is_unused():
    spec = spec_of({"imdb": {"epochs": 1}, "jigsaw": {"epochs": 1}}).with_axes(datasets=["agnews"])
    trials = expand_grid(spec)
    assert {t.config.data for t in trials} == {"agnews"} and {t.config.epochs for t in trials} == {2}
    assert not spec.notes, "a known dataset that this sweep does not run needs no note"
    typo = spec_of({"imbd": {"epochs": 1}})
    expand_grid(typo)
    assert typo.notes == [
        'per_dataset.imbd names none of this sweep\'s datasets (agnews, imdb, jigsaw) (did you mean "imdb"?): unused.'
    ]


def test_trials_of_different_datasets_never_share_a_trunk():
    trials = expand_grid(
        spec_of(
            {"imdb": {"tokenizer_kwargs": {"max_length": 128}}},
            {**GRID, "strategies": ["retrain", "finetune", "deltaf1"]},
        )
    )
    plan = SharePlan(trials, share=True)
    assert len(plan.groups) == 3 * 2  # one trunk per dataset and seed
    for trunk, group in plan.groups.items():
        configs = [plan.jobs[name].config for name in (trunk, *group.members)]
        assert len(configs) == 4  # retrain (the trunk), finetune, two deltaf1
        assert len({(c.data, c.seed, c.tokenizer_kwargs["max_length"]) for c in configs}) == 1
        assert configs[0].tokenizer_kwargs["max_length"] == (128 if configs[0].data == "imdb" else 64)


@pytest.mark.parametrize(
    "per_dataset, needles",
    [
        ([1, 2], ("per_dataset must be a mapping of dataset names", "not a list")),
        ({"imdb": 128}, ("per_dataset.imdb must be a mapping of ExperimentConfig keys", "not a int")),
        ({"imdb": {"max_lenght": 128}}, ("per_dataset.imdb.max_lenght is not a known config key",)),
        (
            {"imdb": {"tokenizer_kwarg": {"max_length": 128}}},
            ("per_dataset.imdb.tokenizer_kwarg", 'did you mean "tokenizer_kwargs"'),
        ),
        (
            {"imdb": {"seed": 3}},
            ("per_dataset.imdb.seed is set by the grid's axes", "allowed: other ExperimentConfig keys"),
        ),
        ({"jigsaw": {"strategy_class": "finetune"}}, ("per_dataset.jigsaw.strategy_class is set by the grid's axes",)),
        ({"imdb": {"data": "x.csv"}}, ("per_dataset.imdb.data is set by the grid's axes",)),
        ({"imdb": {"sampler_class": "random"}}, ("per_dataset.imdb.sampler_class is set by the grid's axes",)),
    ],
)
def test_bad_per_dataset_fails_with_one_sentence_before_anything_runs(tmp_path, capsys, per_dataset, needles):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({"base": BASE, "grid": GRID, "per_dataset": per_dataset}))
    rc = grid.main(["--config", str(path), "--storage-path", str(tmp_path / "res")])
    _, err = capsys.readouterr()
    one_line_error(rc, err, *needles)
    assert not (tmp_path / "res").exists()
