"""Why an exporter cannot be reached, read from its pods and Deployment (`sesmonitor.operator.pods`)."""

from __future__ import annotations

from typing import Any

import pytest

from sesmonitor.operator.pods import diagnose
from sesmonitor.operator.shapes import PodProblem


def pod(
    name: str = "sesmon-prod-abc",
    *,
    phase: str = "Pending",
    created: str = "2026-01-01T00:00:00Z",
    containers: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    deleting: bool = False,
    **status: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:05:00Z"
    return {
        "metadata": meta,
        "status": {
            "phase": phase,
            "containerStatuses": containers or [],
            "conditions": conditions or [],
            **status,
        },
    }


def condition(type_: str, status: str, reason: str, message: str) -> dict[str, str]:
    """A pod or Deployment status condition."""
    return {"type": type_, "status": status, "reason": reason, "message": message}


def waiting(reason: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "name": "exporter",
        "ready": False,
        "state": {"waiting": {"reason": reason, "message": message}},
        **extra,
    }


PULL_MESSAGE = 'Back-off pulling image "example.invalid/sesmonitor:test": not found'


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull", "InvalidImageName"])
def test_an_image_that_cannot_be_pulled(reason: str) -> None:
    problem = diagnose(None, [pod(containers=[waiting(reason, PULL_MESSAGE)])])
    assert problem == PodProblem(reason, f"exporter pod sesmon-prod-abc: {reason}: {PULL_MESSAGE}")


def test_a_crash_loop_says_how_the_container_last_exited() -> None:
    terminated = {"reason": "Error", "exitCode": 2, "message": "sesmonitor-exporter: bad configuration: x\n"}
    container = waiting(
        "CrashLoopBackOff", "back-off 40s restarting failed container", lastState={"terminated": terminated}
    )
    problem = diagnose(None, [pod(phase="Running", containers=[container])])
    assert problem is not None
    assert problem.reason == "CrashLoopBackOff"
    assert problem.message == (
        "exporter pod sesmon-prod-abc: CrashLoopBackOff: back-off 40s restarting failed container;"
        " last exit: Error, code 2: sesmonitor-exporter: bad configuration: x"
    )


def test_a_pod_the_scheduler_cannot_place_says_why() -> None:
    unschedulable = condition(
        "PodScheduled", "False", "Unschedulable", "0/3 nodes are available: 3 Insufficient memory."
    )
    problem = diagnose(None, [pod(conditions=[unschedulable])])
    assert problem == PodProblem(
        "Unschedulable",
        "exporter pod sesmon-prod-abc is not scheduled: 0/3 nodes are available: 3 Insufficient memory.",
    )


def test_pending_running_and_failed_pods() -> None:
    assert diagnose(None, [pod()]) == PodProblem("PodPending", "exporter pod sesmon-prod-abc is pending")
    starting = pod(phase="Running", conditions=[{"type": "Ready", "status": "False"}])
    assert diagnose(None, [starting]) == PodProblem(
        "ExporterStarting", "exporter pod sesmon-prod-abc is running but does not serve yet"
    )
    evicted = pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    assert diagnose(None, [evicted]) == PodProblem(
        "Evicted", "exporter pod sesmon-prod-abc failed: The node was low on resource: memory."
    )
    # A ready pod explains nothing: the caller's own error (network policy, DNS) stands.
    serving = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    assert diagnose(None, [serving]) is None


def test_the_newest_live_pod_speaks_not_one_being_replaced() -> None:
    old = pod("old", phase="Running", created="2026-01-01T00:00:00Z", deleting=True)
    new = pod("new", created="2026-01-01T00:04:00Z", containers=[waiting("ErrImagePull", "denied")])
    older = pod("older", phase="Running", created="2025-12-31T00:00:00Z", conditions=[])
    problem = diagnose(None, [old, new, older])
    assert problem is not None
    assert (problem.reason, problem.message) == ("ErrImagePull", "exporter pod new: ErrImagePull: denied")


def test_without_pods_the_deployment_says_why() -> None:
    failure = condition(
        "ReplicaFailure", "True", "FailedCreate", 'pods "sesmon-prod-x" is forbidden: exceeded quota: pods'
    )
    deployment = {"status": {"conditions": [failure]}}
    assert diagnose(deployment, []) == PodProblem(
        "NoExporterPod", 'no exporter pod: pods "sesmon-prod-x" is forbidden: exceeded quota: pods'
    )
    assert diagnose(None, []) == PodProblem("NoExporterPod", "no exporter pod exists yet")
