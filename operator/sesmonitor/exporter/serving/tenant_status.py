"""/status `tenants` (spec.tenants) from the state's last reading. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from sesmonitor import contract
from sesmonitor.exporter.model.tenants import Tenant, TenantsView, counts, selection_message, worst


def tenant_status(tenant: Tenant) -> contract.TenantStatus:
    return contract.TenantStatus(
        name=tenant.name,
        state=tenant.state,
        sending_status=tenant.aggregate or tenant.sending_status,
        paused_by=tenant.paused_by,
        cause=tenant.cause,
        impact=tenant.impact,
        policy=tenant.policy,
    )


def tenants_status(view: TenantsView, config: contract.TenantsConfig) -> contract.TenantsStatus:
    reading = view.reading
    tenants = reading.tenants if reading else ()
    last_read = (
        datetime.fromtimestamp(view.last_success, UTC).isoformat().replace("+00:00", "Z")
        if view.last_success is not None
        else None
    )
    return contract.TenantsStatus(
        selection=config.selection,
        matching=reading.matching if reading else None,
        watched=len(tenants),
        limit=config.limit,
        counts=counts(tenants),
        worst=[tenant_status(t) for t in worst(tenants)],
        missing=list(reading.missing) if reading else [],
        message=selection_message(reading, config) if reading else None,
        last_read_time=last_read,
        last_error=None if view.last_attempt_ok else view.last_error,
        last_error_code=None if view.last_attempt_ok else view.last_error_code,
        requests_last_read=reading.requests if reading else 0,
    )
