"""spec.protection on the Kubernetes side, pure: the Events of each set's transitions, the resume
annotation and the ConfigMap key that carries it (the Protection condition and status.protection are in
`sesmonitor.operator.status.protection`). The exporter decides and acts; the operator shows what it did
and passes a person's resume on (it never talks to AWS).

A resume travels as data, never as a request to the exporter's port (which any pod may reach): the
operator writes {"sequence": N, "requests": {"<set>": {"sequence": N, "at": "<when>"}}} (N numbers the
requests) into the exporter's ConfigMap
under a field manager of its own, and kubelet brings it into the pod's mounted file. So resuming takes
what Kubernetes RBAC grants: patching the SesMonitor (the annotation) or that ConfigMap."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sesmonitor.api.spec import RESUME_ANNOTATION
from sesmonitor.contract import RESUME_FILE_NAME

logger = logging.getLogger(__name__)

RESUME_FIELD_MANAGER_SUFFIX: Final = "-resume"


@dataclass(frozen=True)
class SetEvent:
    type: str  # Normal | Warning
    reason: str
    message: str


def protection_events(
    previous: Sequence[Mapping[str, Any]] | None, current: Sequence[Mapping[str, Any]]
) -> list[SetEvent]:
    """One Event per set transition: paused, would-pause, paused elsewhere, resumed, a failed call."""
    before = {str(s.get("configurationSet")): s for s in previous or []}
    events = []
    for one in current:
        name = str(one.get("configurationSet"))
        old = before.get(name, {})
        state, was = one.get("state"), old.get("state")
        messages = {
            "paused": ("ConfigurationSetPaused", f"paused at {one.get('pausedAt')}: {one.get('reason')}"),
            "would_pause": (
                "WouldPauseConfigurationSet",
                f"DryRun: would have paused it: {one.get('reason')}",
            ),
            "paused_elsewhere": ("ConfigurationSetPausedElsewhere", "paused outside sesmonitor"),
        }
        if state != was and state in messages:
            reason, message = messages[str(state)]
            events.append(SetEvent("Warning", reason, f"configuration set {name}: {message}"))
        elif state != was and was in messages and state in ("watching", "cooldown"):
            message = f"configuration set {name} sends again (resumed at {one.get('resumedAt')})"
            events.append(SetEvent("Normal", "ConfigurationSetResumed", message))
        error = one.get("lastError")
        if error and error != old.get("lastError"):
            events.append(SetEvent("Warning", "ProtectionFailed", f"configuration set {name}: {error}"))
        dropped = one.get("resumeDropped")
        if dropped and dropped != old.get("resumeDropped"):  # names the request's number: one per request
            events.append(SetEvent("Warning", "ResumeDropped", f"configuration set {name}: {dropped}"))
        other = one.get("alsoProtectedBy")
        if other and other != old.get("alsoProtectedBy"):
            message = (
                f"configuration set {name} is also protected by {other}: more than one monitor judges it"
            )
            events.append(SetEvent("Warning", "ProtectedByAnotherMonitor", message))
        refused = one.get("resumeRefused")
        if refused and refused != old.get("resumeRefused"):  # names the request's time: one per request
            events.append(SetEvent("Warning", "ResumeRefused", f"configuration set {name}: {refused}"))
    return events


def resume_requests(annotations: Mapping[str, str] | None) -> list[str]:
    """The sets named by sesmonitor.io/resume (comma-separated), in order, once each."""
    value = (annotations or {}).get(RESUME_ANNOTATION, "")
    return list(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))


def resume_field_manager(field_manager: str) -> str:
    """The field manager that owns the ConfigMap's resume key: not the children's, so their apply (which
    never renders the key) neither removes it nor sees it as drift."""
    return field_manager + RESUME_FIELD_MANAGER_SUFFIX


def rfc3339(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stored_requests(config_map: Mapping[str, Any] | None) -> dict[str, Any]:
    """The requests in the ConfigMap's resume key; none when it is missing or not ours to read."""
    text = ((config_map or {}).get("data") or {}).get(RESUME_FILE_NAME)
    if not text:
        return {}
    try:
        requests = json.loads(text).get("requests")
    except (ValueError, AttributeError):
        logger.warning("the ConfigMap's %s is not valid JSON: rewritten", RESUME_FILE_NAME)
        return {}
    if not isinstance(requests, dict):
        return {}
    return {str(k): v for k, v in requests.items() if isinstance(v, str | dict)}


def stored_sequence(config_map: Mapping[str, Any] | None) -> int:
    """The last request number the resume key holds (0 without one): the next request gets a higher."""
    text = ((config_map or {}).get("data") or {}).get(RESUME_FILE_NAME)
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        return 0
    numbers = [doc.get("sequence") if isinstance(doc, dict) else None]
    numbers += [e.get("sequence") for e in stored_requests(config_map).values() if isinstance(e, dict)]
    return max([n for n in numbers if isinstance(n, int) and not isinstance(n, bool)] + [0])


def resume_data(
    stored: Mapping[str, Any],
    asked: Iterable[str],
    protected: Iterable[str],
    now: datetime.datetime,
    sequence: int = 0,
) -> str:
    """The resume key's new value: the sets asked now under request number `sequence` + 1, each set's
    newest request only, and only sets spec.protection still names (so the key stays as small as the
    protected list). The exporter orders a request by its number, never by `at` (this operator's clock,
    shown for people): no comparison of two clocks decides a resume."""
    keep = set(protected)
    number = sequence + 1
    requests = {name: entry for name, entry in stored.items() if name in keep}
    requests.update({name: {"at": rfc3339(now), "sequence": number} for name in asked})
    return json.dumps({"requests": dict(sorted(requests.items())), "sequence": number}, sort_keys=True)


def resume_config_map(namespace: str, name: str, data: str) -> dict[str, Any]:
    """What the resume field manager applies: the one key and nothing else (no labels, no owner)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {RESUME_FILE_NAME: data},
    }
