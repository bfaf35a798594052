"""kstatus's Stalled and Reconciling as the operator decides them (`sesmonitor.operator.status.kstatus`):
Stalled for what only a person can fix, Reconciling for what is on its way, neither while the monitor
works and is rolled out. tests/unit/test_gitops_health.py runs the same states through kstatus itself
and Argo CD's interpreter."""

from __future__ import annotations

from typing import Any

import pytest

from sesmonitor.operator.pods import diagnose, rollout_progress
from sesmonitor.operator.shapes import Condition, ExporterReading, PodProblem, ReconcileOutcome
from sesmonitor.operator.status.kstatus import CRASH_LOOP_RESTARTS, Progress, progress

OK = ReconcileOutcome(True)
READY = Condition("Ready", "True", "Monitoring", "reconciled; ...")
SERVING = ExporterReading(url="http://s:9435/status")  # status is not read by the decision


def not_ready(reason: str, message: str = "ExporterReady: AWS said no") -> Condition:
    return Condition("Ready", "False", reason, message)


def test_a_failed_apply_decides_alone() -> None:
    denied = ReconcileOutcome(False, "PolicyDenied", "image x is not allowed")
    assert progress(denied) == Progress("Stalled", "PolicyDenied", "image x is not allowed")
    conflict = ReconcileOutcome(False, "Conflict", "modified", transient=True)
    assert progress(conflict, READY, SERVING) == Progress("Reconciling", "Conflict", "retrying: modified")


def test_a_working_rolled_out_monitor_has_neither() -> None:
    assert progress(OK, READY, SERVING) is None
    assert progress(OK) is None


@pytest.mark.parametrize(
    "reason", ["AWSAccessDenied", "AWSInvalidCredentials", "AWSCredentialsExpired", "AWSNoCredentials"]
)
def test_aws_refusing_the_identity_is_stalled_with_its_words(reason: str) -> None:
    ready = not_ready(reason, "ExporterReady: GetAccount: AccessDeniedException: User: x is not authorized")
    assert progress(OK, ready, SERVING) == Progress("Stalled", reason, ready.message)


@pytest.mark.parametrize(
    "reason",
    ["AWSThrottled", "AWSUnreachable", "AWSServerError", "AWSError", "NotReady", "Stale", "ExporterStarting",
     "PodPending", "Unschedulable", "NoExporterPod", "ExporterUnreachable", "MonitorMismatch"],
)  # fmt: skip
def test_what_fixes_itself_is_reconciling(reason: str) -> None:
    ready = not_ready(reason)
    assert progress(OK, ready, SERVING) == Progress("Reconciling", reason, ready.message)


def waiting_pod(reason: str, restarts: int = 0) -> dict[str, Any]:
    container = {
        "name": "exporter",
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": f"the kubelet's words on {reason}"}},
    }
    return {
        "metadata": {"name": "sesmon-prod-1"},
        "status": {"phase": "Pending", "containerStatuses": [container]},
    }


@pytest.mark.parametrize(
    "reason", ["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"]
)
def test_a_pod_that_cannot_start_its_container_is_stalled(reason: str) -> None:
    workload = diagnose(None, [waiting_pod(reason)])
    assert workload is not None
    reading = ExporterReading(error="connection refused", workload=workload)
    found = progress(OK, not_ready(reason), reading)
    assert found == Progress(
        "Stalled", reason, f"exporter pod sesmon-prod-1: {reason}: the kubelet's words on {reason}"
    )


def test_a_crash_loop_stalls_from_the_stated_restart_count() -> None:
    def decide(restarts: int) -> Progress | None:
        workload = diagnose(None, [waiting_pod("CrashLoopBackOff", restarts)])
        assert workload is not None
        assert workload.restarts == restarts
        return progress(
            OK, not_ready("CrashLoopBackOff"), ExporterReading(error="refused", workload=workload)
        )

    early = decide(CRASH_LOOP_RESTARTS - 1)
    assert early is not None
    assert early.type == "Reconciling"
    for restarts in (CRASH_LOOP_RESTARTS, CRASH_LOOP_RESTARTS + 7):
        stalled = decide(restarts)
        assert stalled is not None
        assert stalled.type == "Stalled"
        # The same words at every restart: a steady crash loop writes the status once.
        assert stalled.message.endswith(f"(restarted {CRASH_LOOP_RESTARTS} times or more: Stalled from 3)")
        assert stalled == decide(CRASH_LOOP_RESTARTS)


def test_a_rollout_is_reconciling_while_ready_and_stalled_when_its_new_pod_cannot_pull() -> None:
    rolling = ExporterReading(url="u", rollout="Deployment sesmon-prod: 0 of 1 exporter pods updated")
    assert progress(OK, READY, rolling) == Progress(
        "Reconciling",
        "RollingOut",
        "the exporter is rolling out: Deployment sesmon-prod: 0 of 1 exporter pods updated",
    )
    stuck = ExporterReading(
        url="u", rollout="x", workload=PodProblem("ImagePullBackOff", "exporter pod p: ...")
    )
    assert progress(OK, READY, stuck) == Progress("Stalled", "ImagePullBackOff", "exporter pod p: ...")


def deployment(generation: int = 2, observed: int | None = 2, **status: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, **status}
    if observed is not None:
        doc["observedGeneration"] = observed
    return {
        "metadata": {"name": "sesmon-prod", "generation": generation},
        "spec": {"replicas": 1},
        "status": doc,
    }


def test_rollout_progress_reads_a_deployment_as_kstatus_does() -> None:
    assert rollout_progress(None) is None
    assert rollout_progress(deployment()) is None
    assert (
        rollout_progress(deployment(observed=1)) == "Deployment sesmon-prod: generation 2 is not observed yet"
    )
    assert (
        rollout_progress(deployment(observed=None))
        == "Deployment sesmon-prod: generation 2 is not observed yet"
    )
    assert (
        rollout_progress(deployment(updatedReplicas=0))
        == "Deployment sesmon-prod: 0 of 1 exporter pods updated"
    )
    assert (
        rollout_progress(deployment(replicas=2))
        == "Deployment sesmon-prod: 1 old exporter pods are terminating"
    )
    assert rollout_progress(deployment(availableReplicas=0)) == (
        "Deployment sesmon-prod: 0 of 1 updated exporter pods available"
    )
