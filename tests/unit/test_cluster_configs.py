"""Offline checks of the cluster configs under cluster/ (no cloud call, no network).

Launcher YAMLs (every cluster/*.yaml except kuberay.yaml) go through what `ray up` does
before it first talks to a cloud: Ray's own ``prepare_config`` (defaults merged from the
installed Ray's provider defaults.yaml, docker checks, per-type worker limits) and
``validate_config`` (the installed Ray's ``ray/autoscaler/ray-schema.json`` plus its
semantic checks). Then security properties: dashboard bound to 127.0.0.1, token auth on and
never disabled, no world-open port but SSH, no credentials in the files. The KubeRay
manifest must be a pinned-image RayJob that runs ``sweeps/grid.py``.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ray = pytest.importorskip("ray")
jsonschema = pytest.importorskip("jsonschema")

from ray.autoscaler._private.docker import docker_start_cmds  # noqa: E402
from ray.autoscaler._private.util import prepare_config, validate_config  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "cluster"
KUBERAY = CLUSTER / "kuberay.yaml"
LAUNCHER_CONFIGS = sorted(p for p in CLUSTER.glob("*.y*ml") if p.name != KUBERAY.name)
ALL_CLUSTER_FILES = sorted(p for p in CLUSTER.rglob("*") if p.is_file())

RAY_VERSION = ray.__version__
# rayproject/ray:{version}-py{XY}-{gpu|cuXYZ}: Ray's tag scheme for its CUDA images.
PINNED_GPU_IMAGE = re.compile(rf"^rayproject/ray:{re.escape(RAY_VERSION)}-py3\d+-(gpu|cu\d+)$")

CREDENTIAL_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),
    "AWS secret key setting": re.compile(r"aws_secret_access_key|aws_session_token|AWS_SECRET_ACCESS_KEY", re.I),
    "AWS access key setting": re.compile(r"aws_access_key_id", re.I),
    "private key block": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GCP service-account key": re.compile(r'"private_key(_id)?"\s*:|"type"\s*:\s*"service_account"'),
    "GCP API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "GCP OAuth token": re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    "GCP credentials in provider": re.compile(r"^\s*gcp_credentials\s*:", re.M),
    "GOOGLE_APPLICATION_CREDENTIALS": re.compile(r"GOOGLE_APPLICATION_CREDENTIALS"),
    # A literal Ray token (RAY_AUTH_TOKEN=... or value: ...) instead of a file/secret ref.
    "literal Ray auth token": re.compile(r"RAY_AUTH_TOKEN\s*[=:]\s*['\"]?[0-9A-Za-z_\-]{16,}"),
}


def _load(path: Path) -> dict:
    with path.open() as f:
        return yaml.safe_load(f)


def _prepared(path: Path) -> dict:
    """What `ray up` has after its offline steps: prepare_config, then validate_config."""
    config = prepare_config(copy.deepcopy(_load(path)))
    validate_config(config)
    return config


def _commands(config: dict, key: str) -> list[str]:
    return [str(cmd) for cmd in config.get(key) or []]


def _ray_start_commands(config: dict, key: str) -> list[str]:
    return [c for c in _commands(config, key) if re.search(r"\bray start\b", c)]


def _start_flags(command: str) -> list[str]:
    """The tokens of the `ray start` invocation within a (possibly compound) command."""
    tail = command[command.index("ray start") :]
    tail = re.split(r"[;&|]", tail, maxsplit=1)[0]
    return shlex.split(tail)


def _all_text(config: dict) -> str:
    return json.dumps(config, sort_keys=True)


# --------------------------------------------------------------------------------------
# Launcher configs
# --------------------------------------------------------------------------------------


def test_there_are_launcher_configs_for_aws_and_gcp():
    names = {p.name for p in LAUNCHER_CONFIGS}
    assert {"aws.yaml", "gcp.yaml"} <= names, names


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_validates_against_installed_ray_schema_and_prepares(path):
    raw = _load(path)
    # The raw file alone against the shipped JSON schema (catches typos in key names:
    # the schema forbids unknown top-level and docker keys).
    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    jsonschema.validate(raw, schema)
    # And what `ray up` builds from it before any cloud call.
    config = _prepared(path)
    assert config["provider"]["type"] in {"aws", "gcp"}
    head = config["head_node_type"]
    workers = [t for t in config["available_node_types"] if t != head]
    assert workers, "no worker node type"
    for name in workers:
        node_type = config["available_node_types"][name]
        assert node_type.get("min_workers", 0) == 0, f"{name}: min_workers must be 0"
        assert node_type.get("max_workers", 0) >= 1, f"{name}: cannot scale up"
        assert node_type.get("resources", {}).get("GPU", 0) >= 1, f"{name}: not a GPU type"
    assert config["available_node_types"][head].get("resources", {}).get("GPU", 0) == 0


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_docker_image_is_pinned_to_installed_ray(path):
    docker = _prepared(path)["docker"]
    images = [docker[k] for k in ("image", "head_image", "worker_image") if docker.get(k)]
    assert images, "no docker image"
    for image in images:
        assert PINNED_GPU_IMAGE.match(image), f"{image!r} is not rayproject/ray:{RAY_VERSION}-pyXY-gpu (or -cuXYZ)"
    assert docker.get("container_name")


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_workers_are_spot_or_preemptible(path):
    config = _prepared(path)
    head = config["head_node_type"]
    for name, node_type in config["available_node_types"].items():
        if name == head:
            continue
        node_config = node_type["node_config"]
        if config["provider"]["type"] == "aws":
            assert node_config["InstanceMarketOptions"]["MarketType"] == "spot", name
            assert node_config["InstanceType"].startswith("g5."), name
        else:
            scheduling = node_config["scheduling"]
            assert scheduling.get("preemptible") is True or scheduling.get("provisioningModel") == "SPOT"
            assert scheduling.get("onHostMaintenance") == "TERMINATE"  # required with GPUs
            assert node_config["machineType"].startswith("g2-"), name


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_head_dashboard_is_bound_to_loopback(path):
    config = _prepared(path)
    starts = _ray_start_commands(config, "head_start_ray_commands")
    assert starts, "no `ray start` in head_start_ray_commands"
    for command in starts:
        flags = _start_flags(command)
        assert "--head" in flags
        assert "--dashboard-host=127.0.0.1" in flags, command
    text = _all_text(config)
    assert "--dashboard-host=0.0.0.0" not in text
    assert not re.search(r"--dashboard-host[= ]+(?!127\.0\.0\.1)", text)


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_token_authentication_is_on_for_every_node(path):
    config = _prepared(path)
    text = _all_text(config)
    assert not re.search(r"RAY_AUTH_MODE\s*[=:]\s*['\"]?disabled", text, re.I)
    # Ray 2.60's `ray start` only enables token auth when RAY_AUTH_MODE=token is set (or a
    # token file happens to exist on the head), so every start command sets it.
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        for command in _ray_start_commands(config, key):
            before_start = command[: command.index("ray start")]
            assert re.search(r"\bRAY_AUTH_MODE=token\b", before_start), (key, command)
    # ... and so does the container environment (CLI calls, drivers, `ray job submit`).
    run_options = " ".join(config["docker"].get("run_options", []))
    assert "RAY_AUTH_MODE=token" in run_options


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_auth_token_file_reaches_every_container(path):
    """The token comes from a file_mount (never the YAML) at the path Ray is told to read."""
    config = _prepared(path)
    docker = config["docker"]
    run_options = docker.get("run_options", [])
    token_path = None
    for option in run_options:
        m = re.search(r"RAY_AUTH_TOKEN_PATH=(\S+)", option)
        if m:
            token_path = m.group(1)
    assert token_path, "docker run_options set no RAY_AUTH_TOKEN_PATH"
    # The exact `docker run` the launcher issues on each node (offline helper of Ray's).
    home = "/home/ray"
    run = docker_start_cmds(
        "ubuntu",
        docker["image"],
        config["file_mounts"],
        docker["container_name"],
        run_options,
        config["cluster_name"],
        home,
        "docker",
    )
    mounted = re.findall(r"-v \S+:(\S+)", run)
    assert any(token_path.startswith(dest.rstrip("/") + "/") for dest in mounted), (token_path, run)
    assert "--env RAY_AUTH_MODE=token" in run
    # The mounted token directory comes from the user's machine, not from the repo.
    sources = [local for remote, local in config["file_mounts"].items() if "auth" in remote]
    assert sources and all(src.startswith("~/") for src in sources), config["file_mounts"]


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_no_port_but_ssh_is_open_to_the_world(path):
    config = _prepared(path)
    provider = config["provider"]
    rules = list(provider.get("security_group", {}).get("IpPermissions", []) or [])
    for rule in rules:
        world = any(r.get("CidrIp") == "0.0.0.0/0" for r in rule.get("IpRanges", [])) or any(
            r.get("CidrIpv6") == "::/0" for r in rule.get("Ipv6Ranges", [])
        )
        if world:
            assert rule.get("IpProtocol") == "tcp" and rule.get("FromPort") == 22 == rule.get("ToPort"), rule
    text = _all_text(config)
    for port in ("8265", "10001", "6006"):
        assert not re.search(rf'"(FromPort|ToPort)":\s*{port}\b', text), f"port {port} opened"


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_storage_access_comes_from_roles_not_keys(path):
    config = _prepared(path)
    for name, node_type in config["available_node_types"].items():
        node_config = node_type["node_config"]
        if config["provider"]["type"] == "aws":
            assert "IamInstanceProfile" in node_config, f"{name}: no instance profile for S3"
        else:
            assert node_config.get("serviceAccounts"), f"{name}: no service account for GCS"


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_setup_installs_the_project_without_replacing_ray_or_torch(path):
    config = _prepared(path)
    setup = " ".join(_commands(config, "setup_commands"))
    assert "~/hybridal" in setup and "pip install" in setup
    assert "-c ~/hybridal-constraints.txt" in setup  # ray / torch pinned by constraints
    assert "ray==" in setup and "torch==" in setup
    assert "~/hybridal" in config["file_mounts"]
    assert ".gitignore" in (config.get("rsync_filter") or [])  # keeps .venv etc. off the nodes


# --------------------------------------------------------------------------------------
# Every file under cluster/
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_CLUSTER_FILES, ids=lambda p: str(p.relative_to(CLUSTER)))
def test_no_credentials_in_cluster_files(path):
    text = path.read_text(errors="replace")
    found = [name for name, pattern in CREDENTIAL_PATTERNS.items() if pattern.search(text)]
    assert not found, f"{path.name}: {found}"
    assert not re.search(r"RAY_AUTH_MODE\s*[=:]\s*['\"]?disabled", text, re.I), path.name


# --------------------------------------------------------------------------------------
# KubeRay
# --------------------------------------------------------------------------------------


def _kuberay_docs() -> list[dict]:
    with KUBERAY.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def _walk(node, key=None):
    """Every (key, scalar value) pair in a parsed YAML document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)
    else:
        yield key, node


def _rayjob() -> dict:
    jobs = [d for d in _kuberay_docs() if d.get("kind") == "RayJob"]
    assert len(jobs) == 1, [d.get("kind") for d in _kuberay_docs()]
    return jobs[0]


def _containers(job: dict) -> list[dict]:
    spec = job["spec"]["rayClusterSpec"]
    groups = [spec["headGroupSpec"], *spec.get("workerGroupSpecs", [])]
    return [c for g in groups for c in g["template"]["spec"]["containers"]]


def test_kuberay_manifest_is_a_rayjob_pinned_to_installed_ray():
    job = _rayjob()
    assert job["apiVersion"] == "ray.io/v1"
    spec = job["spec"]
    assert spec["rayClusterSpec"]["rayVersion"] == RAY_VERSION
    images = [c["image"] for c in _containers(job)]
    assert images and all(PINNED_GPU_IMAGE.match(i) for i in images), images


def test_kuberay_entrypoint_runs_the_paper_sweep():
    entrypoint = " ".join(_rayjob()["spec"]["entrypoint"].split())
    assert re.search(r"\bpython sweeps/grid\.py\b", entrypoint), entrypoint
    assert "--address auto" in entrypoint
    assert "--preset paper" in entrypoint
    assert re.search(r"--storage-path (s3|gs)://\S+", entrypoint), entrypoint


def test_kuberay_entrypoint_script_is_in_the_repo():
    assert "sweeps/grid.py" in _rayjob()["spec"]["entrypoint"]
    assert (REPO / "sweeps" / "grid.py").is_file(), "sweeps/grid.py is missing from the repo"


def test_kuberay_has_gpu_workers_that_scale_from_zero():
    spec = _rayjob()["spec"]["rayClusterSpec"]
    assert spec.get("enableInTreeAutoscaling") is True
    groups = spec["workerGroupSpecs"]
    assert groups
    for group in groups:
        assert group.get("minReplicas", 0) == 0
        assert group["maxReplicas"] >= 1
        limits = group["template"]["spec"]["containers"][0]["resources"]["limits"]
        assert int(limits["nvidia.com/gpu"]) >= 1


def test_kuberay_dashboard_is_cluster_internal_and_auth_is_on():
    docs = _kuberay_docs()
    job = _rayjob()
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]
    assert head.get("serviceType", "ClusterIP") == "ClusterIP"
    for doc in docs:
        if doc.get("kind") == "Service":
            assert doc["spec"].get("type", "ClusterIP") == "ClusterIP", doc["metadata"]
        assert doc.get("kind") not in {"Ingress", "Route", "Gateway"}, doc.get("kind")
    exposed = [
        (key, value)
        for doc in docs
        for key, value in _walk(doc)
        if key in {"serviceType", "type"} and value in {"LoadBalancer", "NodePort"}
    ]
    assert not exposed, exposed
    text = KUBERAY.read_text()
    # Token auth: the operator's authOptions, or RAY_AUTH_MODE=token in every container.
    auth = job["spec"]["rayClusterSpec"].get("authOptions", {})
    if auth.get("mode") != "token":
        for container in _containers(job):
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            assert env.get("RAY_AUTH_MODE") == "token", container["name"]
    assert not re.search(r"RAY_AUTH_MODE[\s\S]{0,40}disabled", text)
