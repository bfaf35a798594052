"""The real node itself: Ready, pods get addresses and cluster DNS, no egress, and a second cluster
beside the first comes up in its own slot and leaves nothing behind when it stops."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

from support.kube_cluster import NodeCluster
from support.node import NODE_NAME, NodeNetwork, _cgroup_controllers


def test_node_is_ready_with_the_pinned_versions(kube_cluster: NodeCluster) -> None:
    node = kube_cluster.kubectl_json("get", "node", NODE_NAME)
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.36.3"
    assert info["containerRuntimeVersion"] == "containerd://2.4.2"
    internal = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
    assert internal == [kube_cluster.net.node_ip, kube_cluster.net.node_ip6]  # dual-stack, IPv4 first


def test_pods_resolve_cluster_names_and_reach_the_apiserver_but_nothing_outside(
    kube_cluster: NodeCluster,
) -> None:
    script = "\n".join(
        [
            "import socket, ssl, urllib.request",
            "print('dns', socket.gethostbyname('kubernetes.default.svc.cluster.local'))",
            "ctx = ssl._create_unverified_context()",
            "url = 'https://kubernetes.default.svc/healthz'",
            "print('apiserver', urllib.request.urlopen(url, context=ctx, timeout=5).status)",
            # A documentation address (RFC 5737): no route to it from the node, so connect fails at
            # once inside the node's namespace (ENETUNREACH), and no packet reaches the host.
            "s = socket.socket(); s.settimeout(3)",
            "try:",
            "    s.connect(('203.0.113.1', 443)); print('egress open')",
            "except OSError as e:",
            "    print('egress', e.errno)",
        ]
    )
    code, log = kube_cluster.run_python_pod("probe-network", script)
    assert code == 0, log
    assert f"dns {kube_cluster.kubernetes_service_ip}" in log
    assert "apiserver 200" in log, log
    assert f"egress {errno.ENETUNREACH}" in log, log


def _leftovers(slot_cgroup: str, veth: str) -> list[str]:
    found = [str(c / slot_cgroup) for c in _cgroup_controllers() if (c / slot_cgroup).exists()]
    if Path(f"/sys/class/net/{veth}").exists():
        found.append(f"veth {veth}")
    return found


def test_a_second_cluster_takes_its_own_slot_and_leaves_nothing(
    kube_cluster: NodeCluster, tmp_path: Path
) -> None:
    own_pids = set(os.listdir("/proc"))
    second = NodeCluster(tmp_path / "second")
    try:
        assert second.net.slot != kube_cluster.net.slot
        assert second.net.pod_cidr != kube_cluster.net.pod_cidr
        assert second.kubectl_json("get", "node", NODE_NAME)["metadata"]["name"] == NODE_NAME
        # The first one still works while the second runs.
        assert kube_cluster.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
        slot_cgroup, veth = second.net.cgroup_root, second.net.host_veth
        assert _leftovers(slot_cgroup, veth)  # it exists while running
    finally:
        second.stop()
    assert _leftovers(slot_cgroup, veth) == []
    # No process the second cluster started outlives it: the cgroups above held the node's (shims and
    # containers too); the control plane's name the workdir on their command lines.
    workdir = str(tmp_path / "second")
    survivors = []
    for pid in set(os.listdir("/proc")) - own_pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if workdir in cmdline:
            survivors.append(cmdline.replace("\0", " "))
    assert survivors == []
    # The host's routes are as they were: only the first cluster's veth has a route.
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True, check=True).stdout
    assert veth not in routes


CRASHING_RUN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from support.kube_cluster import NodeCluster
cluster = NodeCluster(__import__("pathlib").Path(sys.argv[2]))
print(cluster.net.slot, cluster.net.cgroup_root, cluster.net.host_veth, flush=True)
time.sleep(600)
"""


def test_what_a_crashed_run_left_is_removed_by_the_next_claim(
    kube_cluster: NodeCluster, tmp_path: Path
) -> None:
    """A test run killed with SIGKILL leaves containers and their shims running in its cgroups (they
    do not die with the test process); the next run's claim removes them, the cgroups and the veth."""
    tests_dir = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, tests_dir, str(tmp_path / "crashed")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        slot, cgroup_root, veth = proc.stdout.readline().split()
    finally:
        proc.kill()
        proc.wait(timeout=30)
    shims_left = [
        pid
        for pid in _cgroup_pids_of(cgroup_root)
        if Path(f"/proc/{pid}/comm").exists() and "containerd-shim" in Path(f"/proc/{pid}/comm").read_text()
    ]
    assert shims_left, "expected the crashed node's container shims to outlive it"
    claimed = NodeNetwork.claim()
    try:
        assert _leftovers(cgroup_root, veth) == []
        assert _cgroup_pids_of(cgroup_root) == set()
    finally:
        claimed.release()
    assert int(slot) != kube_cluster.net.slot


def _cgroup_pids_of(cgroup_root: str) -> set[int]:
    pids: set[int] = set()
    for controller in _cgroup_controllers():
        top = controller / cgroup_root
        if top.is_dir():
            for procs in top.rglob("cgroup.procs"):
                pids.update(int(p) for p in procs.read_text().split())
    return pids
