"""Fixtures for the operator's cluster tests (loaded with ``pytest_plugins = ["fixtures_operator"]``).

- ``sesmonitor_crd``: our CRD from ``crds/`` (generated from the model when the file is missing);
- ``operator_identity``: the Helm chart's ServiceAccount and RBAC, rendered by the built ``helm`` and
  applied by admin, plus a kubeconfig with a client certificate for that ServiceAccount's user name,
  so the operator runs with exactly what the chart grants;
- ``exporters``: a stand-in exporter, an HTTP server answering ``/<namespace>/<name>/status`` with
  whatever ExporterStatus a test sets;
- ``operator`` / ``running_operator``: ``sesmonitor-operator`` as a real subprocess under that
  identity, reconciling every ``INTERVAL`` seconds; tests may stop, kill and restart it;
- ``namespace``: a fresh namespace per test.

Helpers and constants are in `operator_helpers` (importable from test modules).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from operator_helpers import (
    CRD_FILE,
    OPERATOR_GROUPS,
    OPERATOR_USER,
    RBAC_KINDS,
    RELEASE_NAMESPACE,
    Identity,
    OperatorProcess,
    StandInExporters,
    helm_template,
)

from sesmonitor.api import custom_resource_definition
from support.controlplane import CAN_WATCH_MONITORS, Cluster


@pytest.fixture(scope="session")
def sesmonitor_crd(control_plane: Cluster) -> dict[str, Any]:
    if CRD_FILE.is_file():
        path = CRD_FILE
    else:  # the lead generates crds/ with `make crd`; until then, the same thing from the model
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"sesmonitor-crd-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump(custom_resource_definition(), sort_keys=False))
    control_plane.apply_crds([path])
    crd: dict[str, Any] = yaml.safe_load(path.read_text())
    return crd


@pytest.fixture(scope="session")
def operator_identity(control_plane: Cluster, sesmonitor_crd: dict[str, Any]) -> Identity:
    """The chart's ServiceAccount, ClusterRole and ClusterRoleBinding, applied by admin, and a
    client certificate for the ServiceAccount's user name and groups."""
    control_plane.kubectl("create", "namespace", RELEASE_NAMESPACE, check=False)
    rbac = [doc for doc in helm_template() if doc.get("kind") in RBAC_KINDS]
    assert {doc["kind"] for doc in rbac} == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding"}
    control_plane.apply(rbac)
    kubeconfig = control_plane.user_kubeconfig(OPERATOR_USER, OPERATOR_GROUPS)
    control_plane.wait_allowed(
        kubeconfig, *CAN_WATCH_MONITORS, timeout=20, what="the chart's ClusterRoleBinding to take effect"
    )
    return Identity(OPERATOR_USER, kubeconfig, rbac)


@pytest.fixture(scope="session")
def exporters() -> Iterator[StandInExporters]:
    stand_in = StandInExporters()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="session")
def operator(
    control_plane: Cluster,
    operator_identity: Identity,
    exporters: StandInExporters,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(operator_identity, exporters, tmp_path_factory.mktemp("operator"))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def running_operator(operator: OperatorProcess) -> OperatorProcess:
    """The session's operator, started again if an earlier test left it stopped."""
    if operator.proc is None or operator.proc.poll() is not None:
        operator.start()
    return operator


@pytest.fixture
def namespace(control_plane: Cluster) -> Iterator[str]:
    with control_plane.temporary_namespace(f"sesmon-{uuid.uuid4().hex[:8]}") as name:
        yield name
