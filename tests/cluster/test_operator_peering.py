"""High availability through kopf peering: two replicas, one active, the other taking over."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

from operator_helpers import (
    CHILD_KINDS,
    RBAC_KINDS,
    ROOT,
    Identity,
    OperatorProcess,
    StandInExporters,
    children,
    get_json,
    helm_template,
    monitor_ready,
    sesmonitor,
)
from prometheus_client.parser import text_string_to_metric_families

from sesmonitor.operator.telemetry import ACTIVE
from support.controlplane import Cluster, free_port

pytest_plugins = ["fixtures_operator"]

PEERING_CRDS = ROOT / "crds" / "kopf-peering.yaml"
RELEASE = "sesmonitor-operator-ha"  # contains the chart name: the full name is the release name


def metrics_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/metrics"


def active_gauge(port: int) -> float | None:
    """sesmonitor_operator_active as the replica on ``port`` serves it; None while it does not answer."""
    try:
        with urllib.request.urlopen(metrics_url(port), timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    for family in text_string_to_metric_families(text):
        if family.name == ACTIVE:
            return float(family.samples[0].value)
    return None


def test_two_replicas_one_active_and_failover(
    control_plane: Cluster,
    operator: OperatorProcess,
    exporters: StandInExporters,
    namespace: str,
    tmp_path: Path,
) -> None:
    release_namespace = f"sesmon-ha-{uuid.uuid4().hex[:6]}"
    control_plane.kubectl("create", "namespace", release_namespace)
    control_plane.apply_crds([PEERING_CRDS])
    rendered = helm_template("--set", "peering.enabled=true", release=RELEASE, namespace=release_namespace)
    docs = [doc for doc in rendered if doc["kind"] in RBAC_KINDS | {"ClusterKopfPeering"}]
    assert sorted(doc["kind"] for doc in docs) == [
        "ClusterKopfPeering", "ClusterRole", "ClusterRoleBinding", "ServiceAccount",
    ]  # fmt: skip
    peering_rules = [
        r
        for doc in docs
        if doc["kind"] == "ClusterRole"
        for r in doc["rules"]
        if "kopf.dev" in r["apiGroups"]
    ]
    assert peering_rules == [
        {
            "apiGroups": ["kopf.dev"],
            "resources": ["clusterkopfpeerings"],
            "verbs": ["get", "list", "watch", "patch"],
        }
    ]
    control_plane.apply(docs)
    account = next(doc["metadata"]["name"] for doc in docs if doc["kind"] == "ServiceAccount")
    user = f"system:serviceaccount:{release_namespace}:{account}"
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{release_namespace}", "system:authenticated")
    identity = Identity(user, control_plane.user_kubeconfig(user, groups), docs)
    control_plane.wait_allowed(
        identity.kubeconfig,
        "auth",
        "can-i",
        "patch",
        "clusterkopfpeerings.kopf.dev",
        timeout=20,
        what="the peering RBAC to take effect",
    )

    operator.stop()  # the session's standalone operator steps aside
    active = OperatorProcess(identity, exporters, tmp_path / "active")
    standby = OperatorProcess(identity, exporters, tmp_path / "standby")
    (tmp_path / "active").mkdir()
    (tmp_path / "standby").mkdir()
    try:
        # Each replica's own /metrics: sesmonitor_operator_active says which one works. Both have the
        # chart's one priority, as every replica of a Deployment does: kopf alone would pause both; the
        # replica that started first works (peering.replica_priority).
        ports = {"active": free_port(), "standby": free_port()}
        active.start("--peering", "sesmonitor", f"--metrics={metrics_url(ports['active'])}")
        standby.start(
            "--peering", "sesmonitor", "--log-format", "json", f"--metrics={metrics_url(ports['standby'])}",
        )  # fmt: skip

        def both_registered() -> bool:
            peering = get_json(control_plane, "clusterkopfpeering", "sesmonitor") or {}
            return len(peering.get("status") or {}) == 2

        control_plane.wait_for(both_registered, timeout=20, what="both replicas in the ClusterKopfPeering")
        control_plane.wait_for(
            lambda: "Pausing" in standby.log_text(), timeout=20, what="the standby to pause"
        )
        # The peering state as kopf decides it, read from the same object (every 10 s).
        control_plane.wait_for(
            lambda: (active_gauge(ports["active"]), active_gauge(ports["standby"])) == (1.0, 0.0),
            timeout=30,
            what="sesmonitor_operator_active 1 on the active replica, 0 on the standby",
        )

        exporters.serve(namespace, "prod")
        control_plane.apply(sesmonitor("prod", namespace))
        control_plane.wait_for(
            lambda: monitor_ready(control_plane, namespace, "prod"), timeout=15, what="Ready"
        )
        assert "created ConfigMap" in active.log_text()
        assert "created ConfigMap" not in standby.log_text()
        # --log-format json: one JSON object per line.
        lines = [line for line in standby.log_text().splitlines() if line.strip()]
        assert lines
        assert all(isinstance(json.loads(line), dict) for line in lines)

        # The active replica goes away; the standby resumes and repairs drift.
        active.stop()
        control_plane.wait_for(
            lambda: "Resuming" in standby.log_text(), timeout=30, what="the standby to resume"
        )
        control_plane.wait_for(
            lambda: active_gauge(ports["standby"]) == 1.0,
            timeout=30,
            what="the standby to report itself active",
        )
        before = children(control_plane, namespace, "prod")["configmap"]["metadata"]["uid"]
        control_plane.kubectl("delete", "-n", namespace, "configmap/sesmon-prod")

        def restored() -> bool:
            found = children(control_plane, namespace, "prod")
            return len(found) == len(CHILD_KINDS) and found["configmap"]["metadata"]["uid"] != before

        control_plane.wait_for(restored, timeout=20, what="the standby to restore the ConfigMap")
        assert "created ConfigMap" in standby.log_text()
    finally:
        active.stop()
        standby.stop()
        control_plane.kubectl("delete", "namespace", release_namespace, "--wait=false", "--ignore-not-found")
