"""spec.protection on the Kubernetes side, pure: the Events of each set's transitions, the resume
annotation and the ConfigMap key that carries it (the Protection condition and status.protection are in
`sesmonitor.operator.status.protection`). The exporter decides and acts; the operator shows what it did
and passes a person's resume on (it never talks to AWS).

A resume travels as data, never as a request to the exporter's port (which any pod may reach): the
operator writes {"requests": {"<set>": "<when it saw the annotation>"}} into the exporter's ConfigMap
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


def stored_requests(config_map: Mapping[str, Any] | None) -> dict[str, str]:
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
    return {str(k): v for k, v in requests.items() if isinstance(v, str)}


def resume_data(
    stored: Mapping[str, str], asked: Iterable[str], protected: Iterable[str], now: datetime.datetime
) -> str:
    """The resume key's new value: the sets asked now at `now`, each set's newest request only, and only
    sets spec.protection still names (so the key stays as small as the protected list)."""
    keep = set(protected)
    requests = {name: at for name, at in stored.items() if name in keep}
    requests.update({name: rfc3339(now) for name in asked})
    return json.dumps({"requests": dict(sorted(requests.items()))}, sort_keys=True)


def resume_config_map(namespace: str, name: str, data: str) -> dict[str, Any]:
    """What the resume field manager applies: the one key and nothing else (no labels, no owner)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {RESUME_FILE_NAME: data},
    }
