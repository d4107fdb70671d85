"""The package's metadata: one version, and the license the metadata names is in the repository."""

from __future__ import annotations

import importlib.metadata as md
import re
from pathlib import Path

import hybridal

REPO = Path(__file__).resolve().parents[2]


def test_the_version_is_written_once_and_the_installed_metadata_reads_it():
    text = (REPO / "pyproject.toml").read_text()
    assert not re.search(r"^version\s*=\s*\"", text, re.M), "pyproject.toml must not write the version itself"
    assert 'dynamic = ["version"]' in text and 'version = { attr = "hybridal.__version__" }' in text
    assert md.version("hybridal") == hybridal.__version__


def test_the_license_file_is_the_mit_license_the_metadata_names():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
