"""SES tenants as the `tenants` room last read them, and each tenant's state (pure).

`tenants` writes a `TenantsReading` per read; `serving` turns it into series and /status. The state of a
tenant comes from its reputation entity alone (`tenant_state`): who keeps it from sending (AWS under its
reputation policy, or the customer through UpdateReputationEntityCustomerManagedStatus), else whether
an open finding of HIGH impact puts it at risk.
"""

from __future__ import annotations

from dataclasses import dataclass

from sesmonitor import contract, metrics

DISABLED = "DISABLED"
REINSTATED = "REINSTATED"
HIGH = "HIGH"
STATE_RANK = {state: rank for rank, state in enumerate(contract.TENANT_STATES)}  # 0 is the worst


@dataclass(frozen=True)
class StatusRecord:
    """A StatusRecord of a reputation entity: Status ENABLED | REINSTATED | DISABLED and its Cause."""

    status: str | None
    cause: str | None = None


@dataclass(frozen=True)
class Tenant:
    """One watched tenant. `aws`, `customer` and the aggregate are None until its entity was read."""

    name: str
    arn: str | None
    sending_status: str | None  # the tenant's own SendingStatus (ListTenants / GetTenant)
    aggregate: str | None = None  # the entity's SendingStatusAggregate
    aws: StatusRecord | None = None  # AwsSesManagedStatus
    customer: StatusRecord | None = None  # CustomerManagedStatus
    impact: str | None = None  # ReputationImpact
    policy: str | None = None  # the name at the end of ReputationManagementPolicy's ARN

    @property
    def paused_by(self) -> str | None:
        by_aws = self.aws is not None and self.aws.status == DISABLED
        by_customer = self.customer is not None and self.customer.status == DISABLED
        if by_aws and by_customer:
            return metrics.PAUSED_BY_BOTH
        if by_aws:
            return metrics.PAUSED_BY_AWS
        return metrics.PAUSED_BY_CUSTOMER if by_customer else None

    @property
    def cause(self) -> str | None:
        """Why it may not send: AWS's cause first (it decides whether the tenant may resume)."""
        for record in (self.aws, self.customer):
            if record is not None and record.status == DISABLED and record.cause:
                return record.cause
        return None

    @property
    def state(self) -> str:
        return tenant_state(self)


def tenant_state(tenant: Tenant) -> str:
    """One of contract.TENANT_STATES. A tenant AWS reports DISABLED but whose entity says nobody paused
    it counts as paused by AWS: the sending status is what keeps mail back."""
    paused_by = tenant.paused_by
    if paused_by in (metrics.PAUSED_BY_AWS, metrics.PAUSED_BY_BOTH):
        return "paused_by_aws"
    if paused_by == metrics.PAUSED_BY_CUSTOMER:
        return "paused_by_customer"
    if DISABLED in (tenant.aggregate, tenant.sending_status):
        return "paused_by_aws"
    if tenant.impact == HIGH:
        return "at_risk"
    if tenant.aggregate is None:
        return "unknown"
    if REINSTATED in (tenant.aggregate, tenant.sending_status):
        return "reinstated"
    return "enabled"


def worst(tenants: tuple[Tenant, ...], count: int = contract.WORST_TENANTS) -> list[Tenant]:
    """The `count` tenants in the worst states, worst first, then by name; enabled ones never."""
    troubled = [t for t in tenants if t.state != "enabled"]
    return sorted(troubled, key=lambda t: (STATE_RANK[t.state], t.name))[:count]


def counts(tenants: tuple[Tenant, ...]) -> dict[str, int]:
    found = dict.fromkeys(contract.TENANT_STATES, 0)
    for tenant in tenants:
        found[tenant.state] += 1
    return found


@dataclass(frozen=True)
class TenantsReading:
    """One read of spec.tenants' tenants."""

    tenants: tuple[Tenant, ...]  # the watched ones, by name
    matching: int  # what the selection matched; more than len(tenants) when over the limit
    missing: tuple[str, ...] = ()  # listed names AWS has no tenant for
    requests: int = 0  # SESv2 requests the read took


@dataclass(frozen=True)
class TenantsView:
    """The last good reading and how the reads go (None, 0: not read yet)."""

    reading: TenantsReading | None = None
    last_success: float | None = None
    last_attempt: float | None = None
    last_attempt_ok: bool = False
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_code: str | None = None
    early_reads: int = 0  # tenants read again between two reads, after a service event named them
    last_early_read: float | None = None


def selection_message(reading: TenantsReading, config: contract.TenantsConfig) -> str | None:
    """What a person should know about the selection, or None when every match is watched."""
    parts = []
    watched = len(reading.tenants)
    if reading.matching > watched:
        parts.append(
            f"{reading.matching} tenants match ({config.selection}), more than spec.tenants.limit"
            f" {config.limit}: watching the first {watched} by name, {reading.matching - watched} not watched"
        )
    missing = reading.missing
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        parts.append(f"no tenant named {shown} in this account and region")
    return "; ".join(parts) or None
