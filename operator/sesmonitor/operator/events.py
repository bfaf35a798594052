"""Kubernetes Events on the SesMonitor: when a rate or account condition changes, and when applying
the children fails or recovers. Only transitions raise Events, so a steady state writes none.

Posted synchronously from the reconcile, before the status that records the transition is written: an
Event is then posted at least once. kopf's own ``kopf.event`` only queues it for a background task that
kopf cancels when the operator stops, so a replica stopped (a rollout, a scale-down) between writing a
status and posting its Event lost the Event for good: the next replica read the transition as already
recorded. Posting never fails the reconcile: a refused Event is logged and counted
(``sesmonitor_operator_kubernetes_api_errors_total{operation="create_event"}``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sesmonitor.api.status import RECONCILED
from sesmonitor.operator.kube import KubeError
from sesmonitor.operator.shapes import ConditionChange

log = logging.getLogger(__name__)

# (object, type, reason, message): the API server in the operator, a list's append in tests.
Poster = Callable[[Mapping[str, Any], str, str, str], None]

COMPONENT = "sesmonitor-operator"  # `kubectl describe`'s "From" column
MAX_MESSAGE_LENGTH = 1024  # the API server refuses longer Event messages
CUT = "..."


class EventsApi(Protocol):
    def create_event(self, namespace: str, event: Mapping[str, Any]) -> dict[str, Any]: ...


def shorten(message: str) -> str:
    """At most MAX_MESSAGE_LENGTH characters: the start and the end kept, the middle cut."""
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    keep = MAX_MESSAGE_LENGTH - len(CUT)
    return message[: keep - keep // 2] + CUT + message[len(message) - keep // 2 :]


def event_body(
    obj: Mapping[str, Any], type_: str, reason: str, message: str, now: datetime.datetime
) -> dict[str, Any]:
    """A core/v1 Event about ``obj`` (the fields `kubectl describe` and `kubectl get events` show)."""
    meta = obj.get("metadata") or {}
    stamp = now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    micro = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"namespace": meta.get("namespace"), "generateName": f"{meta.get('name')}."},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "namespace": meta.get("namespace"),
            "name": meta.get("name"),
            "uid": meta.get("uid"),
        },
        "type": type_,
        "reason": reason,
        "message": shorten(message),
        "action": reason,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": micro,
        "count": 1,
    }


def api_poster(
    api: EventsApi, clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
) -> Poster:
    """A Poster that creates each Event through the API server before it returns."""

    def post(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        body = event_body(obj, type_, reason, message, clock())
        try:
            api.create_event(str(body["metadata"]["namespace"]), body)
        except KubeError as exc:  # Events help, they never fail a reconcile
            log.warning("posting the Event %s on %s failed: %s", reason, body["involvedObject"]["name"], exc)

    return post


def announce(obj: Mapping[str, Any], changes: Iterable[ConditionChange], post: Poster) -> int:
    """One Event per changed condition: Warning when it is no longer True, Normal when it recovered."""
    count = 0
    for change in changes:
        current = change.current
        if change.type == RECONCILED:
            if current.status == "True":
                post(obj, "Normal", "Reconciled", current.message)
            else:
                post(obj, "Warning", "ReconcileFailed", f"{current.reason}: {current.message}")
        else:
            before = change.previous.get("reason") if change.previous else None
            prefix = f"{change.type} {before} -> {current.reason}: " if before else f"{change.type}: "
            post(obj, "Warning" if change.warning else "Normal", current.reason, prefix + current.message)
        count += 1
    return count
