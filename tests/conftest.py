"""Shared test set-up: offline hub flags, the shared data folder, private temp dirs."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests never reach a hub: a hub name would otherwise hang ~23 s before failing.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads that spin while idle starve each other when tests share 2 busy cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Keep Ray on loopback (see DESIGN.md section 10).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

REPO_ROOT = Path(__file__).resolve().parents[1]

# CI passes a relative HYBRIDAL_DATA_DIR (../shared/data); tests start subprocesses and Ray
# workers in other directories, so pin it to an absolute path once, here.
if os.environ.get("HYBRIDAL_DATA_DIR"):
    os.environ["HYBRIDAL_DATA_DIR"] = str(Path(os.environ["HYBRIDAL_DATA_DIR"]).expanduser().resolve())


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline dataset copies, from $HYBRIDAL_DATA_DIR (CI points it at ../shared/data)."""
    value = os.environ.get("HYBRIDAL_DATA_DIR")
    if not value:
        pytest.fail(
            "HYBRIDAL_DATA_DIR is not set: point it at the shared offline datasets "
            "(e.g. export HYBRIDAL_DATA_DIR=../shared/data)."
        )
    path = Path(value).resolve()
    if not (path / "agnews" / "train.csv").is_file():
        pytest.fail(f"HYBRIDAL_DATA_DIR={value} has no agnews/train.csv: point it at ../shared/data.")
    return path


@pytest.fixture(autouse=True)
def _private_token_cache(tmp_path_factory, monkeypatch):
    """One tokenization cache per test session, never the user's ~/.cache."""
    cache = tmp_path_factory.getbasetemp() / "hybridal-cache"
    cache.mkdir(exist_ok=True)
    monkeypatch.setenv("HYBRIDAL_CACHE_DIR", str(cache))


def tiny_config(save_dir, **overrides):
    """A seconds-fast run: random-init tiny BERT on a stratified slice of AG News."""
    from hybridal import ExperimentConfig

    values = dict(
        seed=3, experiment_name="tiny", save_dir=str(save_dir), data="agnews",
        max_train_size=400, max_test_size=120, val_size=60,
        model_name_or_path="tiny-bert", tokenizer_kwargs={"max_length": 32},
        total_rounds=3, initial_pool_size=24, acquisition_batch_size=12,
        epochs=1, batch_size=8, eval_batch_size=64, optimizer_kwargs={"lr": 1e-3},
        sampler_class="random", num_threads=1, tensorboard=False,
    )
    values.update(overrides)
    return ExperimentConfig(**values)


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


PLATEAU = dict(text_column="text", label_column="label", max_train_size=None, max_test_size=None, seed=5,
               total_rounds=6, initial_pool_size=16, acquisition_batch_size=16, epochs=3, optimizer_kwargs={"lr": 1e-3})


@pytest.fixture
def plateau_config(tmp_path, data_dir):
    """tiny_config on the plateau CSV (see write_plateau_csv)."""
    csv = write_plateau_csv(tmp_path / "plateau" / "train.csv")

    def factory(**overrides):
        return tiny_config(overrides.pop("save_dir", tmp_path / "runs"), **{**PLATEAU, "data": str(csv), **overrides})

    return factory


@pytest.fixture
def make_config(tmp_path, data_dir):
    def factory(**overrides):
        return tiny_config(overrides.pop("save_dir", tmp_path / "runs"), **overrides)

    return factory


@pytest.fixture
def ray_env(monkeypatch, data_dir):
    """A private Ray temp dir (short: socket paths are capped) and the offline data; Ray shut down after."""
    tmp = tempfile.mkdtemp(prefix="hyst", dir="/tmp")
    (Path(tmp) / "ray").mkdir()
    monkeypatch.setenv("RAY_TMPDIR", tmp)
    monkeypatch.setenv("HYBRIDAL_DATA_DIR", str(data_dir))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield Path(tmp)
    import ray

    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
