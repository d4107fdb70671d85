"""A real two-node Ray cluster on one machine, for tests (docs/design.md §10).

Two network namespaces are joined by a veth pair (10.231.0.1/24 <-> 10.231.0.2/24 by
default). ``ray start --head`` runs in the first, ``ray start --address=HEAD:PORT`` in the
second, each with its own ``--temp-dir`` and ``--num-cpus 1``, both with the same
``RAY_AUTH_MODE=token`` and a freshly generated ``RAY_AUTH_TOKEN``. Drivers run inside the
head's namespace (``ip netns exec NS python ...``) with the same token. Nothing listens
outside the two namespaces, so all Ray traffic stays on the veth pair or the namespaces'
own loopback.

Clean-up stops only what this module started: it terminates the processes that live in
its two namespaces (``ip netns pids NS``), then deletes the namespaces (which removes the
veth pair) and the private temp dirs. It deliberately does NOT run ``ray stop``: in Ray
2.60 ``ray stop`` kills every Ray process on the machine by process name, whatever its
namespace or temp dir, so it would also stop clusters that other tests or users run.

Each ``ray start`` is launched under a tiny "reaper" process (a Linux child subreaper), so
the daemonized Ray processes are reaped by it when they exit instead of lingering as
zombies under PID 1.

Requirements: Linux, root (CAP_NET_ADMIN + CAP_SYS_ADMIN) and ``ip`` from Debian's
``iproute2``. :func:`netns_unavailable_reason` says why a cluster cannot be built here;
tests skip with that reason.

Usage::

    with two_node_cluster() as cluster:
        proc = cluster.run_python("import ray; ray.init(); print(ray.nodes())")
        assert proc.returncode == 0, cluster.describe_failure(proc)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

HEAD_IP = "10.231.0.1"
WORKER_IP = "10.231.0.2"
PREFIX_LEN = 24
DEFAULT_PORT = 6379
# 75 MB is Ray's minimum; a little more keeps small tests away from spilling.
DEFAULT_OBJECT_STORE_BYTES = 128 * 1024 * 1024

# Environment variables that must not leak from the test process into the cluster.
_SCRUBBED_ENV = (
    "RAY_ADDRESS",
    "RAY_AUTH_TOKEN_PATH",
    "RAY_JOB_CONFIG_JSON_ENV_VAR",
    "RAY_RUNTIME_ENV_HOOK",
)

# Runs each `ray start` as a child subreaper: the daemons `ray start` leaves behind are
# re-parented to this process (not to PID 1), which reaps them when they exit.
_REAPER_SOURCE = textwrap.dedent(
    """
    import ctypes, os, signal, subprocess, sys, time
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("REAPER_WARNING=prctl failed", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    log_path, argv = sys.argv[1], sys.argv[2:]
    with open(log_path, "ab") as log:
        rc = subprocess.call(argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
    print(f"RAY_START_RC={rc}", flush=True)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            time.sleep(0.2)
    """
)


class NetnsUnavailable(RuntimeError):
    """Network namespaces (and so a two-node cluster) cannot be created here."""


class ClusterStartError(RuntimeError):
    """A node of the two-node cluster failed to start."""


def _ip_binary() -> str | None:
    found = shutil.which("ip")
    if found:
        return found
    for candidate in ("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _ray_binary() -> str:
    candidate = Path(sys.executable).with_name("ray")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ray")
    if not found:
        raise ClusterStartError("the `ray` CLI was not found next to the Python interpreter")
    return found


def _run(argv: Sequence[str], *, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv, proc.stdout, proc.stderr)
    return proc


def _unique_suffix() -> str:
    return f"{os.getpid() % 100000:05d}{secrets.token_hex(2)}"


def netns_unavailable_reason() -> str | None:
    """Why a two-node netns cluster cannot be built on this machine, or None if it can.

    Checks the platform, root, the ``ip`` binary, and finally creates and deletes a probe
    namespace with a veth pair (containers can deny either even to root).
    """
    if not sys.platform.startswith("linux"):
        return f"network namespaces need Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN/CAP_SYS_ADMIN); CI runs as root"
    ip = _ip_binary()
    if ip is None:
        return "`ip` is missing: install Debian's iproute2 (apt-get install -y iproute2)"
    suffix = _unique_suffix()
    ns, veth_a, veth_b = f"hyal-probe-{suffix}", f"hpa{suffix}", f"hpb{suffix}"
    try:
        proc = _run([ip, "netns", "add", ns], check=False)
        if proc.returncode != 0:
            return f"`ip netns add` failed here: {proc.stderr.strip() or proc.stdout.strip()}"
        proc = _run([ip, "link", "add", veth_a, "type", "veth", "peer", "name", veth_b], check=False)
        if proc.returncode != 0:
            return f"cannot create a veth pair here: {proc.stderr.strip() or proc.stdout.strip()}"
    finally:
        _run([ip, "link", "del", veth_a], check=False)
        _run([ip, "netns", "del", ns], check=False)
    return None


@dataclass
class _Node:
    name: str  # "head" | "worker"
    netns: str
    veth: str
    ip: str
    temp_dir: Path
    log_path: Path
    reaper: subprocess.Popen | None = None


@dataclass
class TwoNodeCluster:
    """Handle on a running two-node cluster; see :func:`two_node_cluster`."""

    head: _Node
    worker: _Node
    port: int
    token: str
    base_dir: Path
    base_env: dict = field(repr=False)
    ip: str = field(repr=False, default="ip")

    @property
    def address(self) -> str:
        """The GCS address drivers pass to ``ray.init(address=...)``."""
        return f"{self.head.ip}:{self.port}"

    @property
    def dashboard_url(self) -> str:
        """Jobs API / dashboard URL, valid inside the head's namespace (include_dashboard=True)."""
        return "http://127.0.0.1:8265"

    @property
    def head_ip(self) -> str:
        return self.head.ip

    @property
    def worker_ip(self) -> str:
        return self.worker.ip

    def driver_env(self, extra: Mapping[str, str] | None = None) -> dict:
        """Environment for a driver in the head's namespace.

        Carries the cluster's token and ``RAY_ADDRESS`` (so ``ray.init()`` and
        ``ray.init(address="auto")`` reach this cluster, never another Ray instance on the
        machine) and a private ``RAY_TMPDIR``.
        """
        env = dict(self.base_env)
        env["RAY_ADDRESS"] = self.address
        if extra:
            env.update(extra)
        return env

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
    ) -> subprocess.CompletedProcess:
        """Run ``argv`` inside the head's namespace as a driver; output is captured.

        Equivalent to ``ip netns exec HEAD_NS env RAY_AUTH_MODE=token RAY_AUTH_TOKEN=...
        RAY_ADDRESS=HEAD:PORT ... argv``. ``env`` adds to / overrides the driver env.
        """
        return subprocess.run(
            [self.ip, "netns", "exec", self.head.netns, *argv],
            env=self.driver_env(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def run_python(
        self,
        script: str | os.PathLike,
        args: Sequence[str] = (),
        **kwargs,
    ) -> subprocess.CompletedProcess:
        """Run a Python script (a path, or source text) as a driver in the head's namespace."""
        if isinstance(script, os.PathLike) or ("\n" not in script and Path(script).is_file()):
            path = Path(script)
        else:
            path = Path(tempfile.mkstemp(prefix="driver-", suffix=".py", dir=self.base_dir)[1])
            path.write_text(textwrap.dedent(str(script)))
        return self.run([sys.executable, str(path), *args], **kwargs)

    def logs_tail(self, lines: int = 40) -> str:
        """The tail of each node's `ray start` output and raylet log, for failure messages."""
        chunks = []
        for node in (self.head, self.worker):
            chunks.append(_tail(node.log_path, lines, f"{node.name} `ray start` output"))
            for log in sorted(node.temp_dir.glob("session_latest/logs/raylet.out"))[:1]:
                chunks.append(_tail(log, lines, f"{node.name} raylet.out"))
        return "\n".join(chunks)

    def describe_failure(self, proc: subprocess.CompletedProcess) -> str:
        return (
            f"driver exited {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}\n"
            f"--- stderr ---\n{proc.stderr[-4000:]}\n{self.logs_tail()}"
        )


def _tail(path: Path, lines: int, title: str) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"--- {title}: unreadable ({exc}) ---"
    return f"--- {title} ({path}) ---\n" + "\n".join(text)


def _cluster_env(token: str, base_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.update(
        {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": token,
            # conftest sets this to 0 to pin single-node tests to loopback; with 0 a
            # second `ray start --address` is refused, so the namespaced nodes need 1.
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1",
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_TMPDIR": str(base_dir),
            "PYTHONUNBUFFERED": "1",
            # A driver's import of this repo's packages works from any cwd.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    return env


def _start_node(cluster_ip: str, node: _Node, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> None:
    """Run `ray start ...` in the node's namespace under a reaper; wait for it to finish."""
    node.reaper = subprocess.Popen(
        [cluster_ip, "netns", "exec", node.netns, sys.executable, "-c", _REAPER_SOURCE, str(node.log_path), *argv],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    assert node.reaper.stdout is not None
    fd = node.reaper.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 4096)
            buffer += chunk.decode(errors="replace")
            for line in buffer.splitlines():
                if line.startswith("RAY_START_RC="):
                    rc = int(line.split("=", 1)[1])
                    if rc != 0:
                        raise ClusterStartError(
                            f"`ray start` on the {node.name} exited {rc}\n"
                            + _tail(node.log_path, 60, f"{node.name} `ray start` output")
                        )
                    return
            if not chunk and node.reaper.poll() is not None:
                raise ClusterStartError(
                    f"the {node.name}'s start helper died (rc={node.reaper.returncode}): {buffer}\n"
                    + _tail(node.log_path, 60, f"{node.name} `ray start` output")
                )
    raise ClusterStartError(
        f"`ray start` on the {node.name} did not finish within {timeout:.0f}s\n"
        + _tail(node.log_path, 60, f"{node.name} `ray start` output")
    )


def _netns_pids(ip: str, netns: str) -> set[int]:
    proc = _run([ip, "netns", "pids", netns], check=False)
    if proc.returncode != 0:
        return set()
    return {int(tok) for tok in proc.stdout.split() if tok.strip().isdigit()}


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _stop_namespace(ip: str, node: _Node, grace: float) -> set[int]:
    """Stop every process in the node's namespace (all of them started by us).

    Ray processes first (SIGTERM, then SIGKILL after ``grace``) so the reaper can reap
    them, then the reaper itself. Returns the pids still alive afterwards (normally none).
    """
    reaper_pid = node.reaper.pid if node.reaper is not None else None
    pids = _netns_pids(ip, node.netns) - {reaper_pid}
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        time.sleep(0.2)
        pids = _netns_pids(ip, node.netns) - {reaper_pid}
    if pids:
        _signal_all(pids, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while pids and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = _netns_pids(ip, node.netns) - {reaper_pid}
    if node.reaper is not None and node.reaper.poll() is None:
        # The reaper may be `ip netns exec` itself (exec'd python) or its child; both exit.
        node.reaper.terminate()
        try:
            node.reaper.wait(timeout=5)
        except subprocess.TimeoutExpired:
            node.reaper.kill()
            node.reaper.wait(timeout=5)
    if node.reaper is not None and node.reaper.stdout is not None:
        node.reaper.stdout.close()
    return _netns_pids(ip, node.netns)


@contextlib.contextmanager
def two_node_cluster(
    *,
    head_ip: str = HEAD_IP,
    worker_ip: str = WORKER_IP,
    port: int = DEFAULT_PORT,
    num_cpus: int = 1,
    object_store_bytes: int = DEFAULT_OBJECT_STORE_BYTES,
    start_timeout: float = 60.0,
    stop_grace: float = 8.0,
    keep_dir: bool = False,
    include_dashboard: bool = False,
    extra_start_args: Sequence[str] = (),
) -> Iterator[TwoNodeCluster]:
    """Start a head and a worker node in two fresh network namespaces; tear both down.

    Raises :class:`NetnsUnavailable` if the namespaces cannot be created (callers usually
    check :func:`netns_unavailable_reason` first and skip), :class:`ClusterStartError` if a
    node fails to start. The namespaces get unique names per call, so concurrent runs do
    not collide (the same 10.231.0.x addresses live in separate namespaces).

    ``include_dashboard=True`` starts the dashboard (on the head namespace's 127.0.0.1:8265,
    for ``ray job submit`` from a driver run with :meth:`TwoNodeCluster.run`); it needs
    ``ray[default]`` (aiohttp etc.), which the project's ``ray[tune]`` does not pull in, and
    is off by default to keep the cluster cheap.
    """
    ip = _ip_binary()
    if ip is None:
        raise NetnsUnavailable("`ip` is missing: install Debian's iproute2")
    suffix = _unique_suffix()
    base_dir = Path(tempfile.mkdtemp(prefix="hyal2n-"))  # short: Ray's socket paths are capped
    (base_dir / "ray").mkdir()  # RAY_TMPDIR=X expects X/ray to exist
    token = secrets.token_hex(32)
    env = _cluster_env(token, base_dir)
    head = _Node("head", f"hyal-{suffix}-head", f"hh{suffix}", head_ip, base_dir / "h", base_dir / "head-start.log")
    worker = _Node(
        "worker", f"hyal-{suffix}-wrk", f"hw{suffix}", worker_ip, base_dir / "w", base_dir / "worker-start.log"
    )
    created: list[str] = []
    cluster = TwoNodeCluster(head, worker, port, token, base_dir, env, ip)
    leftovers: dict[str, set[int]] = {}
    try:
        try:
            for node in (head, worker):
                _run([ip, "netns", "add", node.netns])
                created.append(node.netns)
            _run([ip, "link", "add", head.veth, "type", "veth", "peer", "name", worker.veth])
            for node in (head, worker):
                _run([ip, "link", "set", node.veth, "netns", node.netns])
                _run([ip, "-n", node.netns, "addr", "add", f"{node.ip}/{PREFIX_LEN}", "dev", node.veth])
                _run([ip, "-n", node.netns, "link", "set", node.veth, "up"])
                _run([ip, "-n", node.netns, "link", "set", "lo", "up"])
        except subprocess.CalledProcessError as exc:
            raise NetnsUnavailable(
                f"could not set up network namespaces: {' '.join(exc.cmd)}: {exc.stderr.strip()}"
            ) from exc

        ray = _ray_binary()
        common = [
            f"--num-cpus={num_cpus}",
            "--num-gpus=0",
            f"--object-store-memory={object_store_bytes}",
            "--disable-usage-stats",
            *extra_start_args,
        ]
        for node in (head, worker):
            node.temp_dir.mkdir()
        _start_node(
            ip,
            head,
            [
                ray,
                "start",
                "--head",
                f"--node-ip-address={head.ip}",
                f"--port={port}",
                f"--include-dashboard={'true' if include_dashboard else 'false'}",
                "--dashboard-host=127.0.0.1",
                f"--temp-dir={head.temp_dir}",
                *common,
            ],
            env,
            start_timeout,
        )
        _start_node(
            ip,
            worker,
            [
                ray,
                "start",
                f"--address={head.ip}:{port}",
                f"--node-ip-address={worker.ip}",
                f"--temp-dir={worker.temp_dir}",
                *common,
            ],
            env,
            start_timeout,
        )
        yield cluster
    finally:
        for node in (worker, head):
            if node.netns in created:
                leftovers[node.name] = _stop_namespace(ip, node, stop_grace)
        if head.veth:
            # Normally gone with its namespace; this only matters if setup failed midway.
            _run([ip, "link", "del", head.veth], check=False)
        for netns in created:
            _run([ip, "netns", "del", netns], check=False)
        if not keep_dir:
            shutil.rmtree(base_dir, ignore_errors=True)
        stuck = {name: pids for name, pids in leftovers.items() if pids}
        if stuck:
            raise RuntimeError(f"processes survived the two-node cluster's teardown: {stuck}")
