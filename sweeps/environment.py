"""What a sweep ran on, for sweep_summary.json: versions, the checkout's commit, the machine
and the resources the driver gave each trial. Imports no Ray (its version is read from its
package metadata), never fails: what cannot be found is None."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

import hybridal
from hybridal.loop.summary import package_versions
from hybridal.model.hardware import cpu_supports_bf16

PACKAGES = ("torch", "transformers", "ray", "datasets")


def describe_environment(
    resources: Optional[dict] = None,
    grid_args: Optional[Sequence[str]] = None,
    started: Optional[datetime.datetime] = None,
    ended: Optional[datetime.datetime] = None,
) -> dict:
    """The driver machine's software and hardware, the sweep's `resources` (as the driver
    decided them: cpus_per_trial, gpus_per_trial, max_concurrent, the Ray instance's CPUs and
    GPUs), its command line and its start and end times (UTC, ISO 8601)."""
    return {
        "python": platform.python_version(),
        "versions": {"hybridal": hybridal.__version__, **package_versions(PACKAGES)},
        "git_commit": git_commit(Path(hybridal.__file__).resolve().parents[1]),
        "platform": platform.platform(),
        "cpu": {"model": cpu_model_name(), "logical_cpus": os.cpu_count(), "native_bf16": cpu_supports_bf16()},
        "gpus": gpu_names(),
        "resources": dict(resources) if resources is not None else None,
        "command": list(sys.argv),
        "grid_args": list(grid_args) if grid_args is not None else None,  # what grid.main parsed
        "started_utc": _iso(started),
        "ended_utc": _iso(ended or datetime.datetime.now(datetime.timezone.utc)),
    }


def git_commit(root: Path) -> Optional[str]:
    """HEAD of the checkout at `root`; None where `root` is not one (e.g. an installed package,
    whose site-packages may sit inside some other repository) or git is missing."""
    if not (root / ".git").exists():  # a folder in a clone, a file in a worktree
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def cpu_model_name() -> Optional[str]:
    """The CPU's marketing name: /proc/cpuinfo's "model name" on Linux, else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def gpu_names() -> list[str]:
    """The driver machine's CUDA devices (trials on a cluster's other nodes may see others)."""
    try:
        if not torch.cuda.is_available():
            return []
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - a broken driver must not fail the sweep's last step
        return []


def _iso(moment: Optional[datetime.datetime]) -> Optional[str]:
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds") if moment is not None else None
