"""When applying fails, the operator says so (a condition and an Event), retries with backoff, and
recovers by itself once the cause is gone. It never crashes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from operator_helpers import (
    CRD_FILE,
    OPERATOR_GROUPS,
    OPERATOR_USER,
    RBAC_KINDS,
    Identity,
    OperatorProcess,
    StandInExporters,
    children,
    condition,
    events_for,
    get_json,
    helm_template,
    sesmonitor,
)

from support.controlplane import Cluster, ControlPlane
from support.tools import crds_dir, tools_dir

pytest_plugins = ["fixtures_operator"]

TIMEOUT = 20


def wait_for_condition(
    cluster: Cluster, namespace: str, name: str, kind: str, *, status: str, reason: str
) -> dict[str, object]:
    found: dict[str, object] = {}

    def reached() -> bool:
        nonlocal found
        obj = get_json(cluster, "sesmonitor", name, "-n", namespace)
        cond = condition(obj, kind)
        found = obj or {}
        return cond.get("status") == status and cond.get("reason") == reason

    cluster.wait_for(reached, timeout=TIMEOUT, what=f"{kind}={status} ({reason}) on {namespace}/{name}")
    return found


def test_an_invalid_child_is_reported_and_retried_until_the_spec_is_fixed(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    # The schema lets any string map through as pod labels; the API server then refuses the Deployment.
    exporters.serve(namespace, "prod")
    bad = {"region": "eu-west-1", "exporter": {"podLabels": {"bad key!": "x"}}}
    control_plane.apply(sesmonitor("prod", namespace, bad))
    obj = wait_for_condition(
        control_plane, namespace, "prod", "Reconciled", status="False", reason="InvalidChild"
    )
    message = condition(obj, "Reconciled")["message"]  # type: ignore[arg-type]
    assert "Deployment sesmon-prod" in message
    assert "bad key!" in message
    assert condition(obj, "Ready")["status"] == "False"  # type: ignore[arg-type]
    assert obj["status"]["observedGeneration"] == 1  # type: ignore[index]
    assert condition(obj, "Stalled")["reason"] == "InvalidChild"  # type: ignore[arg-type]
    assert condition(obj, "Reconciling") == {}  # type: ignore[arg-type]  # retrying cannot fix the spec
    # The other children are in place all the same.
    assert sorted(children(control_plane, namespace, "prod")) == [
        "configmap", "prometheusrule", "service", "servicemonitor",
    ]  # fmt: skip

    def warned() -> bool:
        return any(
            e["reason"] == "ReconcileFailed" and e["type"] == "Warning" and "InvalidChild" in e["message"]
            for e in events_for(control_plane, namespace, "prod")
        )

    control_plane.wait_for(warned, timeout=10, what="a ReconcileFailed Event")
    # One Event for the failure, not one per retry.
    time.sleep(3)
    failures = [e for e in events_for(control_plane, namespace, "prod") if e["reason"] == "ReconcileFailed"]
    assert len(failures) == 1
    assert failures[0].get("count", 1) == 1

    control_plane.apply(sesmonitor("prod", namespace, {"region": "eu-west-1"}))
    obj = wait_for_condition(control_plane, namespace, "prod", "Reconciled", status="True", reason="Applied")
    assert obj["status"]["observedGeneration"] == 2  # type: ignore[index]
    assert len(children(control_plane, namespace, "prod")) == 5
    control_plane.wait_for(
        lambda: any(e["reason"] == "Reconciled" for e in events_for(control_plane, namespace, "prod")),
        timeout=10,
        what="a Reconciled Event",
    )
    assert running_operator.proc is not None
    assert running_operator.proc.poll() is None


@pytest.fixture
def bare_control_plane() -> Iterator[ControlPlane]:
    """A second API server without prometheus-operator's CRDs (and without garbage collection)."""
    cluster = ControlPlane(tools_dir() / "bin", start_controller_manager=False)
    try:
        yield cluster
    finally:
        cluster.stop()


def test_missing_prometheus_operator_crds_are_reported_and_waited_for(
    bare_control_plane: ControlPlane, exporters: StandInExporters, tmp_path: Path
) -> None:
    cluster = bare_control_plane
    cluster.apply_crds([CRD_FILE])
    cluster.kubectl("create", "namespace", "sesmonitor-system")
    cluster.apply([doc for doc in helm_template() if doc.get("kind") in RBAC_KINDS])
    identity = Identity(OPERATOR_USER, cluster.user_kubeconfig(OPERATOR_USER, OPERATOR_GROUPS), [])
    cluster.kubectl("create", "namespace", "mail")
    exporters.serve("mail", "prod")
    cluster.apply(sesmonitor("prod", "mail"))

    process = OperatorProcess(identity, exporters, tmp_path)
    process.start()
    try:
        obj = wait_for_condition(
            cluster, "mail", "prod", "Reconciled", status="False", reason="PrometheusOperatorMissing"
        )
        message = condition(obj, "Reconciled")["message"]  # type: ignore[arg-type]
        assert "ServiceMonitor and PrometheusRule" in message
        assert "install prometheus-operator" in message
        # The exporter is deployed meanwhile, and its rates are mirrored.
        core = cluster.kubectl_json(
            "get", "configmap,deployment,service", "-n", "mail", "-l", "sesmonitor.io/monitor=prod"
        )
        assert sorted(item["kind"] for item in core["items"]) == ["ConfigMap", "Deployment", "Service"]
        assert condition(obj, "BounceRateHealthy")["status"] == "True"  # type: ignore[arg-type]
        cluster.wait_for(
            lambda: any(e["reason"] == "ReconcileFailed" for e in events_for(cluster, "mail", "prod")),
            timeout=10,
            what="a ReconcileFailed Event",
        )

        # prometheus-operator arrives: the next retry completes the job.
        crds = crds_dir()
        cluster.apply_crds(
            [
                crds / "monitoring.coreos.com_servicemonitors.yaml",
                crds / "monitoring.coreos.com_prometheusrules.yaml",
            ]
        )
        obj = wait_for_condition(cluster, "mail", "prod", "Ready", status="True", reason="Monitoring")
        assert len(children(cluster, "mail", "prod")) == 5
        assert obj["status"]["observedGeneration"] == 1  # type: ignore[index]
        assert process.proc is not None
        assert process.proc.poll() is None
    finally:
        process.stop()
