"""status.tenants (spec.tenants) and status.findings (spec.findings), from the exporter's /status. Pure.

Tenants: counts by state and the worst by name; findings: how many are open, the worst by resource.
Causes are cut short: `kubectl describe` shows each tenant and finding on one line."""

from __future__ import annotations

from typing import Any, Final

from sesmonitor.contract import FindingsStatus, FindingStatus, TenantsStatus, TenantStatus

CAUSE_SHOWN: Final = 80
COUNT_KEYS: Final = {
    "paused_by_aws": "pausedByAWS",
    "paused_by_customer": "pausedByCustomer",
    "at_risk": "atRisk",
    "unknown": "unknown",
    "reinstated": "reinstated",
    "enabled": "enabled",
}
PAUSED_BY_WORDS: Final = {
    "aws": "AWS",
    "customer": "the customer",
    "aws_and_customer": "AWS and the customer",
}


def tenant_line(tenant: TenantStatus) -> str:
    """`acme: paused by AWS (bounce rate above the policy), impact HIGH`."""
    if tenant["paused_by"]:
        what = f"paused by {PAUSED_BY_WORDS.get(tenant['paused_by'], tenant['paused_by'])}"
    elif tenant["state"] == "paused_by_aws":
        what = "sending disabled"
    else:
        what = tenant["state"].replace("_", " ")
    cause = tenant["cause"]
    if cause:
        cause = " ".join(cause.split())
        what += f" ({cause[:CAUSE_SHOWN]}{'…' if len(cause) > CAUSE_SHOWN else ''})"
    if tenant["impact"]:
        what += f", impact {tenant['impact']}"
    return f"{tenant['name']}: {what}"


def tenants_summary(doc: TenantsStatus) -> dict[str, Any]:
    """The status.tenants object (CRD field names) of the exporter's `tenants` document."""
    message = doc["message"]
    if doc["last_error"]:
        failed = f"the last read failed ({doc['last_error_code'] or 'error'}): {doc['last_error']}"
        message = f"{message}; {failed}" if message else failed
    summary: dict[str, Any] = {
        "selection": doc["selection"],
        "watched": doc["watched"],
        "counts": {COUNT_KEYS[state]: count for state, count in doc["counts"].items() if state in COUNT_KEYS},
        "worst": [tenant_line(t) for t in doc["worst"]],
    }
    if doc["matching"] is not None:
        summary["matching"] = doc["matching"]
    if message:
        summary["message"] = message[:512]
    return summary


def finding_line(finding: FindingStatus) -> str:
    """`DKIM (HIGH) on identity example.com`."""
    impact = f" ({finding['impact']})" if finding["impact"] else ""
    return f"{finding['type']}{impact} on {finding['resource_type']} {finding['resource']}"[:200]


def findings_summary(doc: FindingsStatus) -> dict[str, Any]:
    """The status.findings object (CRD field names) of the exporter's `findings` document."""
    message = doc["message"]
    if doc["last_error"]:
        failed = f"the last read failed ({doc['last_error_code'] or 'error'}): {doc['last_error']}"
        message = f"{message}; {failed}" if message else failed
    summary: dict[str, Any] = {"high": doc["high"], "worst": [finding_line(f) for f in doc["worst"]]}
    if doc["open"] is not None:
        summary["open"] = doc["open"]
    if message:
        summary["message"] = message[:1024]
    return summary
