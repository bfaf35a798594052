"""Why an exporter cannot be reached, from its Deployment and pods as the API server has them. Pure.

Read only when the exporter's ``/status`` cannot be or its Deployment rolls out (`rollout_progress`,
from the Deployment the apply read): "connection refused" says nothing, while the pod says
"ImagePullBackOff: ... not found", "0/3 nodes are available: ..." or how the container last exited.
The reasons are the kubelet's and the scheduler's own words (one CamelCase word each), so they
match what ``kubectl describe pod`` shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sesmonitor.operator.shapes import PodProblem

# Container waiting reasons that will not go away by waiting a little longer.
WAITING_PROBLEMS: Final = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "PreStartHookError",
        "PostStartHookError",
    }
)
NO_EXPORTER_POD: Final = "NoExporterPod"
EXPORTER_STARTING: Final = "ExporterStarting"
POD_PENDING: Final = "PodPending"
POD_FAILED: Final = "PodFailed"


def _conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    items = (obj.get("status") or {}).get("conditions") or []
    return {str(c.get("type")): c for c in items if isinstance(c, Mapping)}


def _terminated(status: Mapping[str, Any]) -> str:
    """How a container last exited: reason, exit code and its termination message (the log tail)."""
    last = (status.get("lastState") or {}).get("terminated") or {}
    if not last:
        return ""
    text = f"; last exit: {last.get('reason') or 'Terminated'}, code {last.get('exitCode')}"
    message = str(last.get("message") or "").strip()
    return f"{text}: {message}" if message else text


def _container_problem(pod: str, statuses: Sequence[Mapping[str, Any]]) -> PodProblem | None:
    for status in statuses:
        waiting = (status.get("state") or {}).get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        if reason in WAITING_PROBLEMS:
            message = str(waiting.get("message") or "").strip()
            detail = f": {message}" if message else ""
            return PodProblem(
                reason,
                f"exporter pod {pod}: {reason}{detail}{_terminated(status)}",
                int(status.get("restartCount") or 0),
            )
    return None


def _newest(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    live.sort(key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp") or ""))
    return live[-1] if live else None


def diagnose(deployment: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]) -> PodProblem | None:
    """What the newest exporter pod (or, without one, the Deployment) says is wrong; None when it
    looks fine, so that the caller's own error ("connection refused") stands."""
    pod = _newest(pods)
    if pod is None:
        failure = _conditions(deployment or {}).get("ReplicaFailure")
        if failure is not None and failure.get("status") == "True":
            return PodProblem(
                NO_EXPORTER_POD, f"no exporter pod: {failure.get('message') or 'ReplicaFailure'}"
            )
        return PodProblem(NO_EXPORTER_POD, "no exporter pod exists yet")
    name = str((pod.get("metadata") or {}).get("name") or "?")
    status = pod.get("status") or {}
    containers = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    problem = _container_problem(name, containers)
    if problem is not None:
        return problem
    phase = status.get("phase")
    if phase == "Failed":
        reason = str(status.get("reason") or POD_FAILED)
        return PodProblem(reason, f"exporter pod {name} failed: {status.get('message') or reason}")
    scheduled = _conditions(pod).get("PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        reason = str(scheduled.get("reason") or POD_PENDING)
        return PodProblem(
            reason, f"exporter pod {name} is not scheduled: {scheduled.get('message') or reason}"
        )
    if phase == "Pending":
        return PodProblem(POD_PENDING, f"exporter pod {name} is pending")
    ready = _conditions(pod).get("Ready")
    if phase == "Running" and (ready is None or ready.get("status") != "True"):
        return PodProblem(EXPORTER_STARTING, f"exporter pod {name} is running but does not serve yet")
    return None


def rollout_progress(deployment: Mapping[str, Any] | None) -> str | None:
    """How far the exporter's Deployment is from rolled out (kstatus's reading of a Deployment), or
    None when it is: every replica updated and available and the newest generation observed."""
    if deployment is None:
        return None
    name = str((deployment.get("metadata") or {}).get("name") or "?")
    generation = (deployment.get("metadata") or {}).get("generation")
    status = deployment.get("status") or {}
    if generation is not None and status.get("observedGeneration") != generation:
        return f"Deployment {name}: generation {generation} is not observed yet"
    wanted = int((deployment.get("spec") or {}).get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    total = int(status.get("replicas") or 0)
    if updated < wanted:
        return f"Deployment {name}: {updated} of {wanted} exporter pods updated"
    if total > updated:
        return f"Deployment {name}: {total - updated} old exporter pods are terminating"
    if available < updated:
        return f"Deployment {name}: {available} of {updated} updated exporter pods available"
    return None
