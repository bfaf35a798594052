"""/status `findings` (spec.findings) from the state's last reading. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from sesmonitor import contract
from sesmonitor.exporter.model.findings import Finding, FindingsView, worst

VDM_OFF = (
    "Virtual Deliverability Manager is not enabled in this account and region (GetAccount"
    " VdmAttributes.VdmEnabled is not ENABLED), and SES opens no reputation findings without it: none are"
    " read. Enabling it (aws sesv2 put-account-vdm-attributes --vdm-attributes VdmEnabled=ENABLED) is a"
    " paid SES feature, billed for the mail sent while it is on (docs/tenants.md#findings)."
)
VDM_UNKNOWN = "waiting for GetAccount to say whether Virtual Deliverability Manager is enabled"


def finding_status(finding: Finding) -> contract.FindingStatus:
    return contract.FindingStatus(
        type=finding.type,
        impact=finding.impact,
        resource_type=finding.resource_type,
        resource=finding.resource,
        resource_arn=finding.resource_arn,
        description=finding.description,
    )


def findings_status(view: FindingsView, config: contract.FindingsConfig) -> contract.FindingsStatus:
    reading = view.reading
    findings = reading.findings if reading else ()
    message: str | None = None
    if view.vdm_enabled is False:
        message = VDM_OFF
    elif view.vdm_enabled is None and reading is None:
        message = VDM_UNKNOWN
    elif reading is not None and reading.open_total > len(findings):
        message = (
            f"{reading.open_total} findings are open, more than spec.findings.limit {config.limit}:"
            f" {len(findings)} served"
        )
    last_read = (
        datetime.fromtimestamp(view.last_success, UTC).isoformat().replace("+00:00", "Z")
        if view.last_success is not None
        else None
    )
    return contract.FindingsStatus(
        vdm_enabled=view.vdm_enabled,
        open=reading.open_total if reading else None,
        high=sum(f.impact == "HIGH" for f in findings),
        worst=[finding_status(f) for f in worst(findings, contract.WORST_FINDINGS)],
        message=message,
        last_read_time=last_read,
        last_error=None if view.last_attempt_ok else view.last_error,
        last_error_code=None if view.last_attempt_ok else view.last_error_code,
    )
