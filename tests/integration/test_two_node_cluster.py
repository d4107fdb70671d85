"""A real two-node Ray cluster (two network namespaces + a veth pair), docs/design.md §10.

The driver runs inside the head's namespace with the cluster's token and schedules tasks
that must land on both nodes. Skipped, with the reason, where namespaces cannot be created
(not root, no `ip` from iproute2, or a sandbox that forbids netns/veth).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ray_netns import netns_unavailable_reason, two_node_cluster

REPO = Path(__file__).resolve().parents[2]
_REASON = netns_unavailable_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=str(_REASON))

DRIVER = """
import json, os, sys, time

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

ray.init(address=sys.argv[1], log_to_driver=False)
deadline = time.monotonic() + 45
while True:
    alive = [n for n in ray.nodes() if n["Alive"]]
    if len(alive) >= 2 or time.monotonic() > deadline:
        break
    time.sleep(0.25)

@ray.remote(num_cpus=1)
def where(i):
    time.sleep(0.3)  # keep each CPU busy long enough that SPREAD must use both nodes
    return {"ip": ray.util.get_node_ip_address(),
            "node_id": ray.get_runtime_context().get_node_id(), "i": i}

spread = ray.get([where.options(scheduling_strategy="SPREAD").remote(i) for i in range(4)])
pinned = ray.get([
    where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(k)
    for k, n in enumerate(alive)
])
print("RESULT=" + json.dumps({
    "nodes": sorted(n["NodeManagerAddress"] for n in alive),
    "spread_ips": [r["ip"] for r in spread],
    "pinned": [(r["ip"], r["node_id"]) for r in pinned],
    "node_ids": {n["NodeID"]: n["NodeManagerAddress"] for n in alive},
    "auth_mode": os.environ.get("RAY_AUTH_MODE"),
}))
ray.shutdown()
"""


def _result(proc: subprocess.CompletedProcess) -> dict:
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT="):
            return json.loads(line[len("RESULT=") :])
    raise AssertionError("driver printed no RESULT line")


def test_tasks_run_on_both_nodes_of_a_token_authenticated_cluster():
    with two_node_cluster() as cluster:
        proc = cluster.run_python(DRIVER, [cluster.address], timeout=90)
        assert proc.returncode == 0, cluster.describe_failure(proc)
        result = _result(proc)

        expected = sorted([cluster.head_ip, cluster.worker_ip])
        assert result["nodes"] == expected, cluster.describe_failure(proc)
        assert result["auth_mode"] == "token"
        # SPREAD puts the concurrent 1-CPU tasks on both nodes.
        assert sorted(set(result["spread_ips"])) == expected, result
        # Node affinity: each task ran on the node it was pinned to, whose IP it reports.
        for ip, node_id in result["pinned"]:
            assert result["node_ids"][node_id] == ip, result
        assert sorted(ip for ip, _ in result["pinned"]) == expected, result

        # Token auth is really on: the same driver with another token is refused.
        # (RAY_gcs_server_port_wait_time_s=1: one connection attempt instead of ~20.)
        refused = cluster.run_python(
            DRIVER,
            [cluster.address],
            env={"RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_gcs_server_port_wait_time_s": "1"},
            timeout=60,
        )
        assert refused.returncode != 0, refused.stdout[-2000:]
        assert "RESULT=" not in refused.stdout
        assert "InvalidAuthToken" in refused.stderr or "AuthenticationError" in refused.stderr, refused.stderr[-3000:]


def test_smoke_sweep_through_address_auto_runs_trials_on_both_nodes(tmp_path, data_dir):
    """`sweeps/grid.py --address auto` from the head's namespace: trials on both nodes, results in storage."""
    storage = tmp_path / "res"
    with two_node_cluster() as cluster:
        proc = cluster.run(
            [
                sys.executable,
                "sweeps/grid.py",
                "--preset",
                "smoke",
                "--address",
                "auto",
                "--storage-path",
                str(storage),
                "--name",
                "smoke2n",
                "--cpus-per-trial",
                "1",
                "--no-share",
            ],  # 5 independent trials to spread
            cwd=REPO,
            timeout=420,
            env={"HYBRIDAL_DATA_DIR": str(data_dir), "HYBRIDAL_CACHE_DIR": os.environ["HYBRIDAL_CACHE_DIR"]},
        )
        assert proc.returncode == 0, cluster.describe_failure(proc)
    assert "5 configurations: 5 finished" in proc.stdout, proc.stdout[-3000:]
    assert "1 CPU + 0 GPU per trial" in proc.stdout  # a cluster without GPUs runs CPU trials
    root = storage / "smoke2n"
    folders = [d for d in root.iterdir() if (d / "params.json").is_file()]
    assert len(folders) == 5
    node_ips = set()
    for folder in folders:
        rows = [json.loads(line) for line in (folder / "result.json").read_text().splitlines()]
        assert [r["round"] for r in rows] == [0, 1, 2], folder.name
        node_ips.update(r["node_ip"] for r in rows)
        # The engine's own files were written on whichever node ran the trial and synced here.
        assert (folder / "summary.json").is_file() and (folder / "rounds.jsonl").is_file(), folder.name
        assert list((folder / "tensorboard").glob("events.out.tfevents.*")), folder.name
    assert node_ips == {cluster.head_ip, cluster.worker_ip}, node_ips
