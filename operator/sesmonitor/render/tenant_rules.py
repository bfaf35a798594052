"""The alerts on what AWS decided for the account's settings and its tenants, each from the exporter's
GetAccount and tenant reads (no CloudWatch involved):

- SESAccountSuppressionListOff: the account-level suppression list is off, so SES keeps sending to
  addresses that bounced or complained (always rendered: GetAccount is always read);
- SESTenantPaused: a watched tenant may not send, naming who paused it (AWS under its reputation
  policy, or the customer-managed status) and the cause (with spec.tenants);
- SESTenantReputationImpactHigh: a tenant still sends with an open finding of HIGH impact, the step
  before AWS pauses it under a standard or strict policy (with spec.tenants);
- SESReputationFindingOpen: an open reputation finding (VDM's advisor) on an identity, a configuration
  set, a tenant or the account, its type and impact (with spec.findings).
"""

from __future__ import annotations

from typing import Any, Final

from sesmonitor import metrics
from sesmonitor.api.alerts import (
    REPUTATION_FINDING_OPEN,
    SUPPRESSION_LIST_OFF,
    TENANT_PAUSED,
    TENANT_REPUTATION_IMPACT_HIGH,
)
from sesmonitor.render.alerting import AlertBuilder
from sesmonitor.render.promql import eq, regex, selector

ACCOUNT: Final = (metrics.LABEL_MONITOR, metrics.LABEL_REGION)
TENANT: Final = (*ACCOUNT, metrics.LABEL_TENANT)
PAUSED_STATES: Final = ("paused_by_aws", "paused_by_customer")


def ref(label: str) -> str:
    return f"{{{{ $labels.{label} }}}}"


def by(labels: tuple[str, ...], expr: str) -> str:
    """max: during a rollout two exporter pods serve the same series."""
    return f"max by ({', '.join(labels)}) ({expr})"


def suppression_alert(b: AlertBuilder) -> dict[str, Any]:
    enabled = by(
        ACCOUNT,
        selector(
            metrics.SUPPRESSION_LIST_ENABLED,
            eq(metrics.LABEL_MONITOR, b.key),
            eq(metrics.LABEL_CONFIGURATION_SET, ""),  # an account-wide series, as every GetAccount one
        ),
    )
    return b.alert(
        SUPPRESSION_LIST_OFF,
        f"{enabled} == 0",
        severity=b.severities()["warning"],
        summary="SES account-level suppression list is off",
        description=(
            f"The SES account of {ref(metrics.LABEL_MONITOR)} in {b.spec.region} has its account-level"
            " suppression list off (GetAccount SuppressionAttributes.SuppressedReasons is empty): SES keeps"
            " sending to addresses that hard-bounced or complained, which drives the bounce and complaint"
            " rates AWS judges. Turn it on: aws sesv2 put-account-suppression-attributes"
            " --suppressed-reasons BOUNCE COMPLAINT"
        ),
    )


def tenant_rules(b: AlertBuilder) -> list[dict[str, Any]]:
    if b.spec.tenants is None:
        return []
    mine = eq(metrics.LABEL_MONITOR, b.key)
    status = metrics.TENANT_STATUS
    why = (metrics.LABEL_STATE, metrics.LABEL_PAUSED_BY, metrics.LABEL_CAUSE, metrics.LABEL_POLICY)
    paused = by((*TENANT, *why), selector(status, mine, regex(metrics.LABEL_STATE, "|".join(PAUSED_STATES))))
    at_risk = by(
        (*TENANT, metrics.LABEL_IMPACT, metrics.LABEL_POLICY),
        selector(
            status, mine, eq(metrics.LABEL_IMPACT, "HIGH"), regex(metrics.LABEL_STATE, "at_risk|reinstated")
        ),
    )
    tenant, cause, policy = ref(metrics.LABEL_TENANT), ref(metrics.LABEL_CAUSE), ref(metrics.LABEL_POLICY)
    where = f"({ref(metrics.LABEL_MONITOR)}, {b.spec.region})"
    return [
        b.alert(
            TENANT_PAUSED,
            f"{paused} == 1",
            severity=b.severities()["critical"],
            summary="An SES tenant is paused: its mail is not sent",
            description=(
                f"SES tenant {tenant} {where} may not send:"
                f' {{{{ if eq $labels.{metrics.LABEL_PAUSED_BY} "{metrics.PAUSED_BY_CUSTOMER}" }}}}'
                " its customer-managed status is DISABLED (someone paused it through"
                " UpdateReputationEntityCustomerManagedStatus)"
                "{{ else }}"
                f" AWS paused it under its {policy} reputation policy"
                "{{ end }}"
                f"{{{{ if $labels.{metrics.LABEL_CAUSE} }}}} (cause: {cause}){{{{ end }}}}."
                " Its open findings say what to fix (aws sesv2 list-recommendations --filter"
                " RESOURCE_ARN=<tenant ARN>)."
            ),
        ),
        b.alert(
            TENANT_REPUTATION_IMPACT_HIGH,
            f"{at_risk} == 1",
            severity=b.severities()["warning"],
            summary="An SES tenant has an open reputation finding of high impact",
            description=(
                f"SES tenant {tenant} {where} still sends, but the highest open reputation finding against"
                f" it is of HIGH impact: under its {policy} reputation policy AWS may pause it. Fix what the"
                " finding names (aws sesv2 list-recommendations --filter RESOURCE_ARN=<tenant ARN>)."
            ),
        ),
    ]


def finding_rules(b: AlertBuilder) -> list[dict[str, Any]]:
    if b.spec.findings is None:
        return []
    labels = (
        *ACCOUNT,
        metrics.LABEL_TYPE,
        metrics.LABEL_IMPACT,
        metrics.LABEL_RESOURCE_TYPE,
        metrics.LABEL_RESOURCE,
    )
    open_ = by(labels, selector(metrics.REPUTATION_FINDING_OPEN, eq(metrics.LABEL_MONITOR, b.key)))
    kind, impact = ref(metrics.LABEL_TYPE), ref(metrics.LABEL_IMPACT)
    resource_type, resource = ref(metrics.LABEL_RESOURCE_TYPE), ref(metrics.LABEL_RESOURCE)
    return [
        b.alert(
            REPUTATION_FINDING_OPEN,
            f"{open_} == 1",
            severity=b.severities()["warning"],
            summary="An SES reputation finding is open",
            description=(
                f"SES opened a {kind} reputation finding of {impact} impact on {resource_type} {resource}"
                f" ({ref(metrics.LABEL_MONITOR)}, {b.spec.region}): AWS warns of it before it acts on the"
                " resource. Its description says what to fix (aws sesv2 list-recommendations --filter"
                f" STATUS=OPEN, or the SES console's Virtual Deliverability Manager advisor)."
            ),
        )
    ]
