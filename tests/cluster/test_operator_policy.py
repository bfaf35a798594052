"""The operator's exporter policy on the real control plane (issue 11, item 3): a SesMonitor asking
for an image the operator does not allow gets Stalled=True / PolicyDenied, a Warning Event and no
child at all; once it asks for the operator's own image, it is reconciled as any other."""

from __future__ import annotations

import time

from operator_helpers import (
    TEST_EXPORTER_IMAGE,
    OperatorProcess,
    StandInExporters,
    children,
    condition,
    events_for,
    get_json,
    sesmonitor,
)

from support.controlplane import Cluster

pytest_plugins = ["fixtures_operator"]

TIMEOUT = 30.0
FOREIGN_IMAGE = "evil.example/cryptominer:latest"


def test_a_foreign_image_gets_a_stalled_condition_an_event_and_no_deployment(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod")
    control_plane.apply(
        sesmonitor("prod", namespace, {"region": "eu-west-1", "exporter": {"image": FOREIGN_IMAGE}})
    )

    def stalled() -> bool:
        obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace)
        return condition(obj, "Stalled").get("status") == "True"

    control_plane.wait_for(stalled, timeout=TIMEOUT, what="Stalled=True on the foreign-image monitor")
    obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace)
    reconciled = condition(obj, "Reconciled")
    assert (reconciled["status"], reconciled["reason"]) == ("False", "PolicyDenied")
    assert FOREIGN_IMAGE in reconciled["message"]
    assert "spec.exporter.image" in reconciled["message"]
    assert condition(obj, "Ready")["reason"] == "PolicyDenied"

    def warned() -> bool:
        return any(
            e["type"] == "Warning" and "PolicyDenied" in e["message"]
            for e in events_for(control_plane, namespace, "prod")
        )

    control_plane.wait_for(warned, timeout=TIMEOUT, what="a Warning Event naming PolicyDenied")
    # Two more reconcile intervals: still nothing created.
    time.sleep(5)
    assert children(control_plane, namespace, "prod") == {}
    deployments = control_plane.kubectl_json("get", "deployments", "-n", namespace)["items"]
    assert deployments == []

    # Back to the operator's own image: reconciled and created like any other monitor.
    control_plane.apply(sesmonitor("prod", namespace, {"region": "eu-west-1"}))

    def created() -> bool:
        return "deployment" in children(control_plane, namespace, "prod")

    control_plane.wait_for(created, timeout=TIMEOUT, what="the exporter once the image is allowed")
    (deployment,) = control_plane.kubectl_json("get", "deployments", "-n", namespace)["items"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == TEST_EXPORTER_IMAGE
    assert pod["automountServiceAccountToken"] is False

    def unstalled() -> bool:
        obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace)
        return condition(obj, "Reconciled").get("status") == "True"

    control_plane.wait_for(unstalled, timeout=TIMEOUT, what="Reconciled=True after the fix")
