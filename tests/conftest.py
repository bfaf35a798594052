"""Shared test setup: ``tests/`` on sys.path (so tests ``import support...``), and the one real cluster.

``kube_cluster`` (session): a ``support.kube_cluster.NodeCluster``, a single-node cluster built here
(control plane, kube-scheduler, kubelet, containerd, runc, CNI bridge, kube-proxy, CoreDNS) in its own
network and mount namespace, started on first use and shared by every tier that needs pods (cluster,
e2e). Its workdir and logs stay under pytest's basetemp when a test failed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.kube_cluster import NodeCluster  # noqa: E402


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeCluster]:
    workdir = tmp_path_factory.mktemp("kube-cluster")
    cluster = NodeCluster(workdir, log=lambda m: print(f"[cluster] {m}", flush=True))
    print(f"\nreal cluster up: {cluster.step_seconds}")
    try:
        yield cluster
    finally:
        cluster.stop()
