"""The Protection condition and status.protection, from the exporter's /status. Pure.

The exporter decides and acts on spec.protection; this shows what it did. The resume annotation and
each set's Events are in `sesmonitor.operator.protection`.
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
_FIELDS: Final = {
    "state": "state",
    "paused_at": "pausedAt",
    "reason": "reason",
    "resumed_at": "resumedAt",
    "cooldown_until": "cooldownUntil",
    "last_error": "lastError",
    "resume_refused": "resumeRefused",
    "resumed_by": "resumedBy",
    "also_protected_by": "alsoProtectedBy",
    "resume_dropped": "resumeDropped",
    "resume_dropped_count": "resumeDroppedCount",
    "next_attempt_at": "nextAttemptAt",
}


def protection_status(reading: ExporterReading) -> list[dict[str, Any]]:
    """status.protection from the exporter's /status: stable values only, so a steady set writes nothing."""
    doc = reading.status
    if doc is None:
        return []
    out = []
    for name, one in sorted((doc.protection or {}).items()):
        entry: dict[str, Any] = {"configurationSet": name}
        values: Mapping[str, Any] = one
        entry.update({camel: values[key] for key, camel in _FIELDS.items() if values.get(key) is not None})
        out.append(entry)
    return out


def _resume_hint(namespace: str, name: str, configuration_set: str) -> str:
    return f"`sesmonitor resume -n {namespace} {name} {configuration_set}`"


def protection_condition(
    spec: SesMonitorSpec,
    namespace: str,
    name: str,
    sets: Sequence[Mapping[str, Any]],
    unavailable: Condition | None,
) -> Condition | None:
    """Protection, only with spec.protection on: False naming the paused (or would-be paused) sets and why."""
    mode = spec.protection.mode
    if mode == "Off":
        return None
    if unavailable is not None:
        return Condition(
            PROTECTION, "Unknown", unavailable.reason, f"protection unknown: {unavailable.message}"
        )
    by_state: dict[str, list[Mapping[str, Any]]] = {}
    for one in sets:
        by_state.setdefault(str(one.get("state")), []).append(one)
    shared = "".join(
        f"; {s['configurationSet']} is also protected by {s['alsoProtectedBy']} (more than one monitor"
        " judges it: keep one)"
        for s in sets
        if s.get("alsoProtectedBy")
    )
    # A protected set SES does not have is named in every message (ConfigurationSetsFound is its own
    # condition); nothing protects it, and the others are judged as usual.
    gone = sorted(str(s["configurationSet"]) for s in by_state.get("missing", []))
    note = f"; not found in SES, so not protected: {', '.join(gone)}" if gone else ""
    failed = [s for s in sets if s.get("lastError")]
    if failed:
        listed = "; ".join(
            f"{s['configurationSet']}: {s['lastError']}"
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
        parts = []
        for s in paused:
            set_name = s["configurationSet"]
            if s["state"] == "paused" and mode == "DryRun":
                parts.append(
                    f"{set_name} paused by sesmonitor at {s.get('pausedAt')} ({s.get('reason')}) while in"
                    " Enforce: a real pause; DryRun writes nothing to AWS, so switch back to Enforce to"
                    " resume it, or re-enable sending by hand (the cooldown starts)"
                )
            elif s["state"] == "paused":
                parts.append(
                    f"{set_name} paused by sesmonitor at {s.get('pausedAt')} ({s.get('reason')}); resume with"
                    f" {_resume_hint(namespace, name, set_name)}"
                )
            else:
                parts.append(f"{set_name} paused outside sesmonitor (never resumed by it)")
        return Condition(PROTECTION, "False", PAUSED, f"{mode}: " + "; ".join(parts) + shared + note)
    would = by_state.get("would_pause", [])
    if would:
        listed = "; ".join(
            f"{s['configurationSet']} at {s.get('pausedAt')} ({s.get('reason')})" for s in would
        )
        return Condition(
            PROTECTION, "False", WOULD_PAUSE,
            f"DryRun: would have paused {listed}; nothing was written to AWS (mode Enforce pauses)"
            + shared + note,
        )  # fmt: skip
    if len(by_state.get("unknown", [])) == len(sets):
        return Condition(PROTECTION, "Unknown", NO_DATA, f"{mode}: the exporter has not read the sets yet")
    watched = ", ".join(sorted(str(s["configurationSet"]) for s in sets if s.get("state") != "missing"))
    cooling = "; ".join(
        f"{s['configurationSet']} in cooldown until {s.get('cooldownUntil')}"
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
