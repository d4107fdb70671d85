"""Seconds-fast run configs: tiny BERT on an AG News slice, and a CSV it learns only after a few rounds."""

from __future__ import annotations

from pathlib import Path


def tiny_config(save_dir, **overrides):
    """A seconds-fast run: random-init tiny BERT on a stratified slice of AG News."""
    from hybridal import ExperimentConfig

    values = dict(
        seed=3,
        experiment_name="tiny",
        save_dir=str(save_dir),
        data="agnews",
        max_train_size=400,
        max_test_size=120,
        val_size=60,
        model_name_or_path="tiny-bert",
        tokenizer_kwargs={"max_length": 32},
        total_rounds=3,
        initial_pool_size=24,
        acquisition_batch_size=12,
        epochs=1,
        batch_size=8,
        eval_batch_size=64,
        optimizer_kwargs={"lr": 1e-3},
        sampler_class="random",
        num_threads=1,
        tensorboard=False,
    )
    values.update(overrides)
    return ExperimentConfig(**values)


def finished_run(cfg):
    """`cfg`'s run, every round run (the ActiveLearning, for its records and state)."""
    from hybridal import ActiveLearning

    al = ActiveLearning(cfg)
    al.run_full_pipeline()
    return al


def write_plateau_csv(path: Path, rows: int = 600) -> Path:
    """A two-class CSV that tiny-bert learns only after a few rounds: the label is one keyword
    ("sunny"/"rainy", 10% flipped) among filler words. With `plateau_config`'s settings the
    first three rounds predict one class (F1 stuck at the majority predictor's, |ΔF1| = 0: the
    trivial plateau Jigsaw showed), round 3 learns the keyword, round 4 holds (checked)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    filler = "the a of and to in is it that was for on are with as his they be at one have this from".split()
    out = []
    for _ in range(rows):
        y = int(rng.integers(0, 2))
        words = list(rng.choice(filler, size=12))
        words[int(rng.integers(0, 12))] = ["sunny", "rainy"][y] if rng.random() < 0.9 else ["sunny", "rainy"][1 - y]
        out.append({"text": " ".join(words), "label": y})
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out).to_csv(path, index=False)
    return path


PLATEAU = dict(
    text_column="text",
    label_column="label",
    max_train_size=None,
    max_test_size=None,
    seed=5,
    total_rounds=6,
    initial_pool_size=16,
    acquisition_batch_size=16,
    epochs=3,
    optimizer_kwargs={"lr": 1e-3},
)


KEYWORDS = ("apple", "river", "stone", "cloud")  # one per label; "cloud" is the rare one


def write_multilabel_csv(path: Path, rows: int = 400, as_lists: bool = False) -> Path:
    """A four-label CSV tiny-bert can learn: label j is set when its keyword appears among filler words
    (each with probability 0.35, the last 0.06, so one label is rare). 0/1 columns `apple`..`cloud`, or
    (as_lists) one `tags` column holding the JSON list of the row's labels."""
    import json

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    filler = "the a of and to in is it that was for on are with as his they be at one have this from".split()
    out = []
    for _ in range(rows):
        present = rng.random(len(KEYWORDS)) < np.array([0.35, 0.35, 0.35, 0.06])
        words = list(rng.choice(filler, size=4))
        for j in np.flatnonzero(present):
            words.insert(int(rng.integers(0, len(words) + 1)), KEYWORDS[j])
        row = {"text": " ".join(words)}
        if as_lists:
            row["tags"] = json.dumps([k for k, p in zip(KEYWORDS, present) if p])
        else:
            row |= {k: int(p) for k, p in zip(KEYWORDS, present)}
        out.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out).to_csv(path, index=False)
    return path


MULTILABEL = dict(
    label_columns=list(KEYWORDS),
    max_train_size=None,
    max_test_size=None,
    val_size=60,
    test_subsample_size=50,
    seed=5,
    total_rounds=4,
    initial_pool_size=24,
    acquisition_batch_size=12,
    epochs=2,
    optimizer_kwargs={"lr": 1e-3},
)
