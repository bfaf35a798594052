"""SESv2 tenant and reputation-entity answers as `model.tenants` shapes (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sesmonitor.exporter.model.tenants import StatusRecord, Tenant


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def policy_name(arn: Any) -> str | None:
    """`standard` of the policy ARN ...:ses:<region>:aws:reputation-policy/standard."""
    text = _text(arn)
    return text.rsplit("/", 1)[-1] if text else None


def status_record(doc: Any) -> StatusRecord | None:
    if not isinstance(doc, Mapping):
        return None
    return StatusRecord(_text(doc.get("Status")), _text(doc.get("Cause")))


def listed_tenant(doc: Mapping[str, Any]) -> Tenant | None:
    """A TenantInfo of ListTenants, or GetTenant's Tenant; None without a name."""
    name = _text(doc.get("TenantName"))
    if name is None:
        return None
    return Tenant(name, _text(doc.get("TenantArn")), _text(doc.get("SendingStatus")))


def with_entity(tenant: Tenant, entity: Mapping[str, Any]) -> Tenant:
    """The tenant with what its ReputationEntity says."""
    return Tenant(
        tenant.name,
        tenant.arn,
        tenant.sending_status,
        aggregate=_text(entity.get("SendingStatusAggregate")),
        aws=status_record(entity.get("AwsSesManagedStatus")),
        customer=status_record(entity.get("CustomerManagedStatus")),
        impact=_text(entity.get("ReputationImpact")),
        policy=policy_name(entity.get("ReputationManagementPolicy")),
    )


def tenant_arn_prefix(tenants: tuple[Tenant, ...], name_prefix: str | None) -> str | None:
    """ListReputationEntities' ENTITY_REFERENCE_PREFIX for these tenants, so the listing leaves out
    identities' and configuration sets' entities: the part of their ARNs up to `tenant/`, and the name
    prefix after it when every ARN is `...tenant/<name>/...`. None when their ARNs share no such part."""
    arns = [(t.arn or "", t.name) for t in tenants]
    heads = {arn.split("tenant/", 1)[0] + "tenant/" if "tenant/" in arn else None for arn, _ in arns}
    head = heads.pop() if len(heads) == 1 else None
    if head is None:
        return None
    if name_prefix and all(arn.startswith(f"{head}{name}/") for arn, name in arns):
        return head + name_prefix
    return head
