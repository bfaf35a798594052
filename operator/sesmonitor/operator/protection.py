"""spec.protection on the Kubernetes side, pure: the Events of each set's and tenant's transitions, the
resume annotation and the ConfigMap key that carries it (the Protection condition, status.protection and
status.protectionTenants are in `sesmonitor.operator.status.protection`). The exporter decides and acts;
the operator shows what it did and passes a person's resume on (it never talks to AWS).

A tenant is never resumed (docs/protection.md#tenants): the annotation naming one, as `tenant:<name>`
(a configuration set's name cannot hold a ':') or by a protected tenant's bare name, is refused with an
Event that says how a person re-enables it.

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

from sesmonitor.api.spec import RESUME_ANNOTATION, Protection
from sesmonitor.contract import RESUME_FILE_NAME

logger = logging.getLogger(__name__)

RESUME_FIELD_MANAGER_SUFFIX: Final = "-resume"


@dataclass(frozen=True)
class SetEvent:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Target:
    """What kind of thing a status entry protects: its key in the entry, its name in a message, and the
    Event reasons of its transitions (the others, a failed call or a second monitor, are shared)."""

    key: str
    label: str
    paused: str
    would_pause: str
    paused_elsewhere: str
    paused_elsewhere_message: str
    resumed: str
    resumed_message: str  # {name} and {at}


SET: Final = Target(
    key="configurationSet",
    label="configuration set",
    paused="ConfigurationSetPaused",
    would_pause="WouldPauseConfigurationSet",
    paused_elsewhere="ConfigurationSetPausedElsewhere",
    paused_elsewhere_message="paused outside sesmonitor",
    resumed="ConfigurationSetResumed",
    resumed_message="configuration set {name} sends again (resumed at {at})",
)
TENANT: Final = Target(
    key="tenant",
    label="tenant",
    paused="TenantPaused",
    would_pause="WouldPauseTenant",
    paused_elsewhere="TenantPausedElsewhere",
    paused_elsewhere_message="paused outside sesmonitor (by AWS or a person; sesmonitor never re-enables it)",
    resumed="TenantReenabled",
    resumed_message="tenant {name} sends again (re-enabled at {at}; the cooldown holds)",
)


def protection_events(
    previous: Sequence[Mapping[str, Any]] | None,
    current: Sequence[Mapping[str, Any]],
    target: Target = SET,
) -> list[SetEvent]:
    """One Event per transition of a set (status.protection) or a tenant (status.protectionTenants, with
    `target=TENANT`): paused, would-pause, paused elsewhere, resumed or re-enabled, a failed call."""
    before = {str(s.get(target.key)): s for s in previous or []}
    events = []
    for one in current:
        name = str(one.get(target.key))
        label = f"{target.label} {name}"
        old = before.get(name, {})
        state, was = one.get("state"), old.get("state")
        messages = {
            "paused": (target.paused, f"paused at {one.get('pausedAt')}: {one.get('reason')}"),
            "would_pause": (target.would_pause, f"DryRun: would have paused it: {one.get('reason')}"),
            "paused_elsewhere": (target.paused_elsewhere, target.paused_elsewhere_message),
        }
        if state != was and state in messages:
            reason, message = messages[str(state)]
            events.append(SetEvent("Warning", reason, f"{label}: {message}"))
        elif state != was and was in messages and state in ("watching", "cooldown"):
            message = target.resumed_message.format(name=name, at=one.get("resumedAt"))
            events.append(SetEvent("Normal", target.resumed, message))
        error = one.get("lastError")
        if error and error != old.get("lastError"):
            events.append(SetEvent("Warning", "ProtectionFailed", f"{label}: {error}"))
        dropped = one.get("resumeDropped")
        if dropped and dropped != old.get("resumeDropped"):  # names the request's number: one per request
            events.append(SetEvent("Warning", "ResumeDropped", f"{label}: {dropped}"))
        other = one.get("alsoProtectedBy")
        if other and other != old.get("alsoProtectedBy"):
            message = f"{label} is also protected by {other}: more than one monitor judges it"
            events.append(SetEvent("Warning", "ProtectedByAnotherMonitor", message))
        refused = one.get("resumeRefused")
        if refused and refused != old.get("resumeRefused"):  # names the request's time: one per request
            events.append(SetEvent("Warning", "ResumeRefused", f"{label}: {refused}"))
    return events


def resume_requests(annotations: Mapping[str, str] | None) -> list[str]:
    """The sets named by sesmonitor.io/resume (comma-separated), in order, once each."""
    value = (annotations or {}).get(RESUME_ANNOTATION, "")
    return list(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))


TENANT_PREFIX: Final = "tenant:"
TENANT_REENABLE: Final = (
    "aws sesv2 update-reputation-entity-customer-managed-status --reputation-entity-type RESOURCE"
    " --reputation-entity-reference <the tenant's ARN> --sending-status ENABLED"
)


def resume_refusal(name: str, protection: Protection) -> str | None:
    """Why the annotation's `name` is not passed to the exporter; None for a protected set. A plain name
    is a set first (as it always was), a tenant only when no protected set has it."""
    sets = protection.configuration_sets if protection.mode != "Off" else []
    if name in sets:
        return None
    tenant = name.removeprefix(TENANT_PREFIX) if name.startswith(TENANT_PREFIX) else None
    if tenant is None and protection.mode != "Off" and name in protection.tenants:
        tenant = name
    if tenant is not None:
        listed = protection.mode != "Off" and tenant in protection.tenants
        note = "" if listed else " (nor is it a protected tenant)"
        return (
            f"tenant {tenant}: sesmonitor never resumes a tenant{note}; re-enable it by hand once what"
            f" drove its findings has stopped: `{TENANT_REENABLE}` (docs/protection.md#tenants)"
        )
    why = "spec.protection is Off" if protection.mode == "Off" else "not in spec.protection"
    return f"{name} is not a protected configuration set ({why})"


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
