"""Shared test set-up: offline hub flags, the shared data folder, private temp dirs."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.tiny_runs import MULTILABEL, PLATEAU, tiny_config, write_multilabel_csv, write_plateau_csv

# Tests never reach a hub: a hub name would otherwise hang ~23 s before failing.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads that spin while idle starve each other when tests share 2 busy cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Keep Ray on loopback (see docs/design.md §10).
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


@pytest.fixture
def plateau_config(tmp_path, data_dir):
    """tiny_config on the plateau CSV (see write_plateau_csv)."""
    csv = write_plateau_csv(tmp_path / "plateau" / "train.csv")

    def factory(**overrides):
        return tiny_config(overrides.pop("save_dir", tmp_path / "runs"), **{**PLATEAU, "data": str(csv), **overrides})

    return factory


@pytest.fixture
def multilabel_config(tmp_path, data_dir):
    """tiny_config on the four-label keyword CSV (see write_multilabel_csv)."""
    csv = write_multilabel_csv(tmp_path / "multilabel" / "train.csv")

    def factory(**overrides):
        values = {**MULTILABEL, "data": str(csv), **overrides}
        return tiny_config(values.pop("save_dir", tmp_path / "runs"), **values)

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
