"""The Ray connection: a private local instance or a running cluster, what each trial may ask
of it, and the environment its workers get from the driver."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Iterator, Optional

import ray

from sweeps.errors import SweepError, first_line

# Environment variables a trial needs from the driver (a cluster's workers do not inherit it).
PASSTHROUGH_PREFIXES = ("HYBRIDAL_",)
PASSTHROUGH_NAMES = (
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HOME",
    "HF_DATASETS_CACHE",
    "TOKENIZERS_PARALLELISM",
)
# Library progress bars and advisories belong in a worker's log, not in the sweep's output.
QUIET_ENV = {
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
PATH_VARS = ("HYBRIDAL_DATA_DIR", "HYBRIDAL_CACHE_DIR", "HF_HOME", "HF_DATASETS_CACHE")


def passthrough_env(environ: Optional[dict] = None) -> dict:
    """The driver's hybridal/HF variables, relative paths made absolute, for runtime_env."""
    environ = dict(os.environ if environ is None else environ)
    out = {}
    for key, value in environ.items():
        if key.startswith(PASSTHROUGH_PREFIXES) or key in PASSTHROUGH_NAMES:
            if key in PATH_VARS and value and "://" not in value:
                value = str(Path(value).expanduser().resolve())
            out[key] = value
    return out


def runtime_env(env_vars: dict) -> dict:
    """env_vars for every trial, minus keys a submitted job already sets (Ray refuses conflicts)."""
    job = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    if job:
        try:
            taken = (json.loads(job).get("runtime_env") or {}).get("env_vars") or {}
            env_vars = {k: v for k, v in env_vars.items() if k not in taken}
        except (ValueError, AttributeError):
            pass
    return {"env_vars": env_vars} if env_vars else {}


def check_reachable(address: str) -> None:
    """A HOST:PORT that refuses connections fails in one sentence, not after Ray's long retries."""
    if address.startswith(("ray://", "http://", "https://")) or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except (OSError, ValueError) as exc:
        raise SweepError(
            f"cannot reach a Ray cluster at {address} ({type(exc).__name__}: {first_line(exc)}); "
            "start one with `ray start --head` or leave out --address to run Ray locally."
        ) from None


@contextlib.contextmanager
def connected(args) -> Iterator[None]:
    """Ray, started or joined for the block (see `connect`), shut down after it."""
    connect(args)
    try:
        yield
    finally:
        ray.shutdown()


def connect(args) -> None:
    """Start a private local Ray (no --address) or join the cluster at --address."""
    if os.environ.get("RAY_TMPDIR"):
        (Path(os.environ["RAY_TMPDIR"]) / "ray").mkdir(parents=True, exist_ok=True)
    env = runtime_env({**QUIET_ENV, **passthrough_env()}) or None
    if args.address is None:
        ray.init(
            num_cpus=args.num_cpus,
            num_gpus=args.num_gpus,
            runtime_env=env,
            log_to_driver=True,
            configure_logging=True,
            logging_level="WARNING",
        )
        return
    if args.num_cpus is not None or args.num_gpus is not None:
        raise SweepError(
            "--num-cpus/--num-gpus size a local Ray instance and cannot be used with --address; "
            "the cluster's nodes declare their own resources."
        )
    target = os.environ.get("RAY_ADDRESS") if args.address == "auto" else args.address
    if target:
        check_reachable(target)
    try:
        ray.init(address=args.address, runtime_env=env, log_to_driver=True, logging_level="WARNING")
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        raise SweepError(
            f"cannot connect to a Ray cluster at --address {args.address} ({first_line(exc)}); "
            "start one with `ray start --head` or leave out --address to run Ray locally."
        ) from None


def node_maxima() -> tuple[float, float]:
    """The most CPUs and GPUs one node has or (with an autoscaler) can have."""
    cpu = gpu = 0.0
    for node in ray.nodes():
        if node.get("Alive"):
            cpu = max(cpu, node["Resources"].get("CPU", 0.0))
            gpu = max(gpu, node["Resources"].get("GPU", 0.0))
    try:  # autoscaling clusters start without their GPU workers: ask the autoscaler's config
        from ray._private.state import state

        config = state.get_cluster_config()
        for group in getattr(config, "node_group_configs", None) or ():
            if group.max_count != 0:
                cpu = max(cpu, float(group.resources.get("CPU", 0)))
                gpu = max(gpu, float(group.resources.get("GPU", 0)))
    except Exception:  # noqa: BLE001 - private API: without it, only live nodes count
        pass
    return cpu, gpu


def totals() -> dict:
    """The CPUs and GPUs of the Ray instance (this machine's) or cluster, as Ray counts them now."""
    resources = ray.cluster_resources()
    return {"ray_num_cpus": resources.get("CPU", 0.0), "ray_num_gpus": resources.get("GPU", 0.0)}


def plan_resources(args) -> tuple[float, float]:
    """(CPUs, GPUs) per trial: the flags, checked against the largest node."""
    node_cpu, node_gpu = node_maxima()
    gpus = args.gpus_per_trial if args.gpus_per_trial is not None else (1.0 if node_gpu > 0 else 0.0)
    if gpus > 0 and node_gpu <= 0:
        raise SweepError(
            f"--gpus-per-trial {gpus:g} asks for GPUs but the cluster has none; "
            "pass --gpus-per-trial 0 to run trials on CPUs."
        )
    if gpus > 1 and not float(gpus).is_integer():
        raise SweepError(f"--gpus-per-trial {gpus:g} is invalid; allowed: a fraction up to 1 or a whole number.")
    if gpus > node_gpu:
        raise SweepError(
            f"--gpus-per-trial {gpus:g} is more than any node has ({node_gpu:g} GPUs), so no trial could start; "
            f"allowed: at most {node_gpu:g}."
        )
    cpus = args.cpus_per_trial
    if cpus <= 0:
        raise SweepError("--cpus-per-trial 0 is invalid; allowed: a number > 0.")
    if cpus > node_cpu:
        raise SweepError(
            f"--cpus-per-trial {cpus:g} is more than any node has ({node_cpu:g} CPUs), so no trial could start; "
            f"allowed: at most {node_cpu:g}."
        )
    return cpus, gpus
