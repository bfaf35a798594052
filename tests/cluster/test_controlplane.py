"""The test control plane is a real Kubernetes: version, RBAC, garbage collection, CRDs, audit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.controlplane import (
    AuditUnavailableError,
    Cluster,
    ControlPlane,
    ControlPlaneError,
    ExistingCluster,
)
from support.tools import bin_dir


@pytest.fixture
def namespace(control_plane: Cluster) -> Iterator[str]:
    with control_plane.temporary_namespace(f"cp-test-{uuid.uuid4().hex[:8]}") as name:
        yield name


def test_kubectl_version_reaches_the_apiserver(control_plane: Cluster) -> None:
    version = json.loads(control_plane.kubectl("version", "-o", "json").stdout)
    server = version["serverVersion"]
    assert server["major"] == "1"
    assert server["gitVersion"].startswith("v1.")
    assert version["clientVersion"]["gitVersion"].startswith("v1.")


def test_rbac_is_enforced(control_plane: Cluster, namespace: str) -> None:
    user = f"rbac-user-{uuid.uuid4().hex[:6]}"
    kubeconfig = control_plane.user_kubeconfig(user, ["sesmonitor-test-group"])

    denied = control_plane.kubectl("get", "pods", "-n", namespace, kubeconfig=kubeconfig, check=False)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr
    assert f'User "{user}" cannot list resource "pods"' in denied.stderr

    control_plane.kubectl(
        "create", "role", "pod-reader", "-n", namespace, "--verb=get,list,watch", "--resource=pods"
    )
    control_plane.kubectl(
        "create", "rolebinding", "pod-reader", "-n", namespace, "--role=pod-reader", f"--user={user}"
    )
    control_plane.wait_allowed(
        kubeconfig, "get", "pods", "-n", namespace, what="the RoleBinding to take effect"
    )
    # The binding is namespaced: other namespaces stay forbidden.
    other = control_plane.kubectl("get", "pods", "-n", "default", kubeconfig=kubeconfig, check=False)
    assert other.returncode != 0
    assert "Forbidden" in other.stderr


def test_group_bindings_apply_to_client_certificate_groups(control_plane: Cluster, namespace: str) -> None:
    group = f"group-{uuid.uuid4().hex[:6]}"
    kubeconfig = control_plane.user_kubeconfig("someone", [group])
    control_plane.kubectl(
        "create", "rolebinding", "view", "-n", namespace, "--clusterrole=view", f"--group={group}"
    )
    control_plane.wait_allowed(kubeconfig, "get", "configmaps", "-n", namespace, what="group binding")


def test_garbage_collection_deletes_dependents(control_plane: Cluster, namespace: str) -> None:
    control_plane.kubectl("create", "configmap", "owner", "-n", namespace, "--from-literal=a=1")
    owner = control_plane.kubectl_json("get", "configmap", "owner", "-n", namespace)
    control_plane.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "dependent",
                "namespace": namespace,
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "owner",
                        "uid": owner["metadata"]["uid"],
                    }
                ],
            },
            "data": {"b": "2"},
        }
    )
    control_plane.kubectl("get", "configmap", "dependent", "-n", namespace)
    control_plane.kubectl("delete", "configmap", "owner", "-n", namespace)

    def dependent_gone() -> bool:
        proc = control_plane.kubectl("get", "configmap", "dependent", "-n", namespace, check=False)
        return proc.returncode != 0 and "NotFound" in proc.stderr

    control_plane.wait_for(dependent_gone, timeout=30, interval=0.5, what="GC of the dependent ConfigMap")


def test_namespace_deletion_completes(control_plane: Cluster) -> None:
    name = f"cp-del-{uuid.uuid4().hex[:8]}"
    control_plane.kubectl("create", "namespace", name)
    control_plane.kubectl("create", "configmap", "x", "-n", name)
    control_plane.kubectl("delete", "namespace", name, "--timeout=60s")
    proc = control_plane.kubectl("get", "namespace", name, check=False)
    assert "NotFound" in proc.stderr


def test_prometheus_operator_crds_are_established(control_plane: Cluster, namespace: str) -> None:
    for crd in ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"):
        obj = control_plane.kubectl_json("get", "crd", crd)
        conditions = {c["type"]: c["status"] for c in obj["status"]["conditions"]}
        assert conditions["Established"] == "True"
    control_plane.apply(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": "sm", "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "endpoints": [{"port": "metrics"}]},
        }
    )
    got = control_plane.kubectl_json("get", "servicemonitor", "sm", "-n", namespace)
    assert got["spec"]["endpoints"] == [{"port": "metrics"}]
    # Schema validation is real: a wrong type is refused.
    with pytest.raises(ControlPlaneError, match=r"expected list|Invalid value|must be of type"):
        control_plane.apply(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "ServiceMonitor",
                "metadata": {"name": "bad", "namespace": namespace},
                "spec": {"selector": {}, "endpoints": "not-a-list"},
            }
        )


def test_audit_log_counts_writes_by_user(control_plane: Cluster, namespace: str) -> None:
    try:
        mark = control_plane.audit_offset()
    except AuditUnavailableError:
        pytest.skip("existing cluster: no audit log")
    user = f"writer-{uuid.uuid4().hex[:6]}"
    kubeconfig = control_plane.user_kubeconfig(user)
    control_plane.kubectl(
        "create", "rolebinding", "edit", "-n", namespace, "--clusterrole=edit", f"--user={user}"
    )
    control_plane.wait_allowed(kubeconfig, "get", "configmaps", "-n", namespace, what="edit binding")
    assert control_plane.write_events(since=mark, user=user) == []

    control_plane.kubectl("create", "configmap", "c1", "-n", namespace, kubeconfig=kubeconfig)
    control_plane.kubectl("label", "configmap", "c1", "-n", namespace, "x=y", kubeconfig=kubeconfig)
    control_plane.kubectl("get", "configmap", "c1", "-n", namespace, kubeconfig=kubeconfig)

    writes = control_plane.write_events(since=mark, user=user)
    assert [(e["verb"], e["objectRef"]["resource"], e["objectRef"]["name"]) for e in writes] == [
        ("create", "configmaps", "c1"),
        ("patch", "configmaps", "c1"),
    ]
    reads = control_plane.audit_events(since=mark, user=user, verbs=["get"])
    assert any(e["objectRef"].get("name") == "c1" for e in reads)
    # Nothing new happened: zero writes after a fresh mark.
    mark2 = control_plane.audit_offset()
    control_plane.kubectl("get", "configmap", "c1", "-n", namespace, kubeconfig=kubeconfig)
    assert control_plane.write_events(since=mark2, user=user) == []


def test_csr_issued_user_kubeconfig(control_plane: Cluster) -> None:
    """The path an existing cluster takes: a client certificate through the CSR API."""
    if not isinstance(control_plane, ControlPlane):
        pytest.skip("only checked against the control plane started here")
    via_csr = ExistingCluster(control_plane.kubeconfig_path, control_plane.kubectl_bin)
    try:
        kubeconfig = via_csr.user_kubeconfig("csr-user", ["csr-group"])
        who = json.loads(control_plane.kubectl("auth", "whoami", "-o", "json", kubeconfig=kubeconfig).stdout)
        info = who["status"]["userInfo"]
        assert info["username"] == "csr-user"
        assert "csr-group" in info["groups"]
    finally:
        via_csr.stop()


def test_user_kubeconfig_identity(control_plane: Cluster) -> None:
    kubeconfig = control_plane.user_kubeconfig("alice", ["team-a", "team-b"])
    who = json.loads(control_plane.kubectl("auth", "whoami", "-o", "json", kubeconfig=kubeconfig).stdout)
    info = who["status"]["userInfo"]
    assert info["username"] == "alice"
    assert {"team-a", "team-b", "system:authenticated"} <= set(info["groups"])


def test_startup_failure_reports_the_log_tail(tmp_path: Path) -> None:
    with pytest.raises(
        ControlPlaneError, match=r"kube-apiserver exited with \d+ before it was ready(.|\n)*no-such"
    ):
        ControlPlane(
            bin_dir(),
            extra_apiserver_args=["--no-such-flag=1"],
            start_controller_manager=False,
            workdir=tmp_path / "cp",
        )
