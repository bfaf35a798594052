"""The Protection condition, status.protection (sets) and status.protectionTenants, from the exporter's
/status. Pure.

The exporter decides and acts on spec.protection; this shows what it did. The resume annotation and
each set's and tenant's Events are in `sesmonitor.operator.protection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sesmonitor.api import SesMonitorSpec
from sesmonitor.api.status import PROTECTION
from sesmonitor.operator.shapes import Condition, ExporterReading

WATCHING: Final = "Watching"
PAUSED: Final = "Paused"
WOULD_PAUSE: Final = "WouldPause"
ACTION_FAILED: Final = "ActionFailed"
NO_DATA: Final = "NoData"
SET_KEY: Final = "configurationSet"  # status.protection's entries
TENANT_KEY: Final = "tenant"  # status.protectionTenants'
_FIELDS: Final = {
    "state": "state",
    "paused_at": "pausedAt",
    "reason": "reason",
    "resumed_at": "resumedAt",
    "cooldown_until": "cooldownUntil",
    "last_error": "lastError",
    "resumed_by": "resumedBy",
    "also_protected_by": "alsoProtectedBy",
    "next_attempt_at": "nextAttemptAt",
}
# A tenant takes no resume request, so its entries have none of these (api.status.ProtectedTenant).
_RESUME_FIELDS: Final = {
    "resume_refused": "resumeRefused",
    "resume_dropped": "resumeDropped",
    "resume_dropped_count": "resumeDroppedCount",
}
TENANT_REENABLE_HINT: Final = (
    "sesmonitor never resumes a tenant: re-enable it by hand (docs/protection.md#tenants)"
)


def _entries(
    targets: Mapping[str, Mapping[str, Any]], key: str, fields: Mapping[str, str]
) -> list[dict[str, Any]]:
    out = []
    for name, values in sorted(targets.items()):
        entry: dict[str, Any] = {key: name}
        entry.update({camel: values[k] for k, camel in fields.items() if values.get(k) is not None})
        out.append(entry)
    return out


def protection_status(reading: ExporterReading) -> list[dict[str, Any]]:
    """status.protection from the exporter's /status: stable values only, so a steady set writes nothing."""
    doc = reading.status
    if doc is None:
        return []
    return _entries(doc.protection or {}, SET_KEY, {**_FIELDS, **_RESUME_FIELDS})


def protection_tenants_status(reading: ExporterReading) -> list[dict[str, Any]]:
    """status.protectionTenants from the exporter's /status (`protection_tenants`; an older exporter has
    none): a set's fields under `tenant`, the resume ones left out."""
    doc = reading.status
    if doc is None:
        return []
    return _entries(doc.protection_tenants or {}, TENANT_KEY, _FIELDS)


def target_name(entry: Mapping[str, Any]) -> str:
    """How the condition names an entry: a set by its bare name (as it always has), a tenant as such."""
    if TENANT_KEY in entry:
        return f"tenant {entry[TENANT_KEY]}"
    return str(entry.get(SET_KEY))


def _resume_hint(namespace: str, name: str, configuration_set: str) -> str:
    return f"`sesmonitor resume -n {namespace} {name} {configuration_set}`"


def _paused_part(entry: Mapping[str, Any], mode: str, namespace: str, name: str) -> str:
    label = target_name(entry)
    tenant = TENANT_KEY in entry
    if entry["state"] != "paused":
        by = "by AWS or a person" if tenant else "outside sesmonitor"
        return f"{label} paused {by} (never resumed by sesmonitor)"
    paused = f"{label} paused by sesmonitor at {entry.get('pausedAt')} ({entry.get('reason')})"
    if tenant:  # in DryRun too: a real pause from Enforce, which switching back never undoes
        real = " while in Enforce: a real pause" if mode == "DryRun" else ""
        return f"{paused}{real}; {TENANT_REENABLE_HINT}"
    if mode == "DryRun":
        return (
            f"{paused} while in Enforce: a real pause; DryRun writes nothing to AWS, so switch back to"
            " Enforce to resume it, or re-enable sending by hand (the cooldown starts)"
        )
    return f"{paused}; resume with {_resume_hint(namespace, name, str(entry[SET_KEY]))}"


def protection_condition(
    spec: SesMonitorSpec,
    namespace: str,
    name: str,
    sets: Sequence[Mapping[str, Any]],
    unavailable: Condition | None,
    *,
    tenants: Sequence[Mapping[str, Any]] = (),
) -> Condition | None:
    """Protection, only with spec.protection on: False naming the paused (or would-be paused) sets and
    tenants and why."""
    mode = spec.protection.mode
    if mode == "Off":
        return None
    if unavailable is not None:
        return Condition(
            PROTECTION, "Unknown", unavailable.reason, f"protection unknown: {unavailable.message}"
        )
    targets = [*sets, *tenants]
    by_state: dict[str, list[Mapping[str, Any]]] = {}
    for one in targets:
        by_state.setdefault(str(one.get("state")), []).append(one)
    shared = "".join(
        f"; {target_name(s)} is also protected by {s['alsoProtectedBy']} (more than one monitor"
        " judges it: keep one)"
        for s in targets
        if s.get("alsoProtectedBy")
    )
    # A protected set or tenant SES does not have is named in every message (ConfigurationSetsFound is
    # a set's own condition); nothing protects it, and the others are judged as usual.
    gone = sorted(target_name(s) for s in by_state.get("missing", []))
    note = f"; not found in SES, so not protected: {', '.join(gone)}" if gone else ""
    failed = [s for s in targets if s.get("lastError")]
    if failed:
        listed = "; ".join(
            f"{target_name(s)}: {s['lastError']}"
            + (f" (next attempt at {s['nextAttemptAt']})" if s.get("nextAttemptAt") else "")
            for s in failed
        )
        return Condition(
            PROTECTION, "False", ACTION_FAILED,
            f"{mode}: a protection call failed ({listed}); `sesmonitor iam-policy` prints the policy"
            " it needs" + shared,
        )  # fmt: skip
    paused = by_state.get("paused", []) + by_state.get("paused_elsewhere", [])
    if paused:
        parts = [_paused_part(s, mode, namespace, name) for s in paused]
        return Condition(PROTECTION, "False", PAUSED, f"{mode}: " + "; ".join(parts) + shared + note)
    would = by_state.get("would_pause", [])
    if would:
        listed = "; ".join(f"{target_name(s)} at {s.get('pausedAt')} ({s.get('reason')})" for s in would)
        return Condition(
            PROTECTION, "False", WOULD_PAUSE,
            f"DryRun: would have paused {listed}; nothing was written to AWS (mode Enforce pauses)"
            + shared + note,
        )  # fmt: skip
    if len(by_state.get("unknown", [])) == len(targets):
        read = "the sets" if not tenants else "the tenants" if not sets else "the sets and tenants"
        return Condition(PROTECTION, "Unknown", NO_DATA, f"{mode}: the exporter has not read {read} yet")
    watched = ", ".join(
        [str(s[SET_KEY]) for s in sorted(sets, key=target_name) if s.get("state") != "missing"]
        + [target_name(s) for s in sorted(tenants, key=target_name) if s.get("state") != "missing"]
    )
    cooling = "; ".join(
        f"{target_name(s)} in cooldown until {s.get('cooldownUntil')}"
        + (f" (resumed by {s['resumedBy']})" if s.get("resumedBy") else "")
        for s in by_state.get("cooldown", [])
    )
    return Condition(
        PROTECTION,
        "True",
        WATCHING,
        f"{mode}: watching {watched or 'no set'}; nothing paused"
        + (f" ({cooling})" if cooling else "")
        + shared
        + note,
    )
