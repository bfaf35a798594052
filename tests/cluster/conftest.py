"""Fixtures for tests against a real Kubernetes API.

``control_plane`` (session): a ``support.controlplane.Cluster``. If ``SESMONITOR_TEST_KUBECONFIG``
names a kubeconfig, that existing cluster is used (``ExistingCluster``: no audit log, user
certificates via CSRs); otherwise (always in CI) a ``ControlPlane`` is started from the binaries that
``tests/controlplane/build.sh`` builds. The prometheus-operator ServiceMonitor and PrometheusRule CRDs
are installed either way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.controlplane import Cluster, ControlPlane, ExistingCluster
from support.tools import crds_dir, tools_dir

PROMETHEUS_OPERATOR_CRDS = (
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[Cluster]:
    tools = tools_dir()
    existing = os.environ.get("SESMONITOR_TEST_KUBECONFIG")
    cluster: Cluster
    if existing:
        cluster = ExistingCluster(Path(existing), tools / "bin" / "kubectl")
    else:
        started = time.monotonic()
        cluster = ControlPlane(tools / "bin")
        print(f"\ncontrol plane up in {time.monotonic() - started:.1f}s at {cluster.server_url}")
    try:
        cluster.apply_crds([crds_dir() / name for name in PROMETHEUS_OPERATOR_CRDS])
        yield cluster
    finally:
        cluster.stop()
