"""The SesMonitor status: metav1.Condition-shaped conditions plus the rates the exporter last saw."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from sesmonitor.api.fields import Text
from sesmonitor.api.spec import PROTECTED_TENANTS_MAX

RATE: Final = Text(max_length=16)  # a percent as the exporter formats it, e.g. 14.32%
WORD: Final = Text(max_length=32)  # one of a few values, e.g. PROBATION or paused
SUMMARY: Final = Text(max_length=512)  # one line for a person
REASON_PATTERN: Final = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
CONDITION_TYPE_PATTERN: Final = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)

# Condition types, Ready summarising the others (kstatus reads Ready).
READY: Final = "Ready"
RECONCILED: Final = "Reconciled"
EXPORTER_READY: Final = "ExporterReady"
BOUNCE_RATE_HEALTHY: Final = "BounceRateHealthy"
COMPLAINT_RATE_HEALTHY: Final = "ComplaintRateHealthy"
ACCOUNT_HEALTHY: Final = "AccountHealthy"
# Only with spec.configurationSetCounts: whether each opted-in set's counts have data.
CONFIGURATION_SET_COUNTS: Final = "ConfigurationSetCounts"
# Only with spec.configurationSets: whether SES has every listed set (GetConfigurationSet).
CONFIGURATION_SETS_FOUND: Final = "ConfigurationSetsFound"
# Only with spec.events: whether the exporter receives SES events from the queue.
EVENTS_RECEIVED: Final = "EventsReceived"
# Only with spec.protection in DryRun or Enforce: which sets and tenants are paused (or would be) and why.
PROTECTION: Final = "Protection"
# kstatus's abnormal-true conditions, present only while the monitor does not work or rolls out (Flux
# reads them; Argo CD through deploy/gitops/argocd/health.lua): Reconciling while it will fix itself,
# Stalled when only a person can (sesmonitor.operator.status.kstatus).
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
CONDITION_TYPES: Final = (
    READY,
    RECONCILED,
    EXPORTER_READY,
    BOUNCE_RATE_HEALTHY,
    COMPLAINT_RATE_HEALTHY,
    ACCOUNT_HEALTHY,
    CONFIGURATION_SET_COUNTS,
    CONFIGURATION_SETS_FOUND,
    EVENTS_RECEIVED,
    PROTECTION,
    RECONCILING,
    STALLED,
)


class _Status(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class Condition(_Status):
    """One aspect of the monitor's state, in the shape of metav1.Condition."""

    type: str = Field(
        description="Condition type, e.g. Ready or BounceRateHealthy.",
        pattern=CONDITION_TYPE_PATTERN,
        max_length=316,
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(
        description="One CamelCase word saying why, e.g. AboveWarning.",
        pattern=REASON_PATTERN,
        min_length=1,
        max_length=1024,
    )
    message: str = Field(
        default="", description="What a person should know, with rate and threshold.", max_length=32768
    )
    last_transition_time: str = Field(
        alias="lastTransitionTime",
        description="When status last changed (not reason or message).",
        json_schema_extra={"format": "date-time"},
    )
    observed_generation: int | None = Field(
        default=None,
        alias="observedGeneration",
        description="The generation this condition was set for.",
        ge=0,
    )


class _ProtectedTarget(_Status):
    """What a configuration set's and a tenant's entries share: the exporter reports both alike."""

    state: str = WORD(
        "watching, paused (by sesmonitor), would_pause (DryRun), paused_elsewhere (not by sesmonitor),"
        " cooldown (after a resume or re-enable), unknown or missing (SES has no such set or tenant)."
    )
    paused_at: str | None = Field(default=None, alias="pausedAt", description="When sesmonitor paused it.")
    reason: str | None = Field(
        default=None, description="What paused it: the rate, or a tenant's reputation impact.", max_length=256
    )
    resumed_at: str | None = Field(
        default=None, alias="resumedAt", description="When it was last resumed (a tenant: re-enabled)."
    )
    cooldown_until: str | None = Field(
        default=None, alias="cooldownUntil", description="No new pause before this time."
    )
    last_error: str | None = Field(
        default=None, alias="lastError", description="The last failed protection call.", max_length=1024
    )
    resumed_by: str | None = Field(
        default=None,
        alias="resumedBy",
        description="Who last resumed it: sesmonitor (at a person's request) or outside sesmonitor (a"
        " re-enable it saw, by a person, a script or another monitor); both start the cooldown.",
        max_length=512,
    )
    also_protected_by: str | None = Field(
        default=None,
        alias="alsoProtectedBy",
        description="Other SesMonitors (<cluster id>/<namespace>/<name>) seen on its tags (their"
        " watcher tag or their record): more than one monitor protects it.",
        max_length=512,
    )
    next_attempt_at: str | None = Field(
        default=None,
        alias="nextAttemptAt",
        description="After a failed protection call, when the exporter tries again (it backs off).",
    )


class _SetKey(_Status):
    configuration_set: str = Field(
        alias="configurationSet", description="The configuration set.", max_length=64
    )


class _TenantKey(_Status):
    tenant: str = Field(description="The SES tenant.", max_length=64)


# The key is a base after the shared fields' so that it comes first (pydantic orders by reversed MRO).
class ProtectedSet(_ProtectedTarget, _SetKey):
    """One spec.protection set as the exporter last reported it."""

    resume_refused: str | None = Field(
        default=None,
        alias="resumeRefused",
        description="Why the exporter refused the newest resume request (e.g. the set is not paused by"
        " sesmonitor), until one is accepted or the set is paused or resumed again.",
        max_length=1024,
    )
    resume_dropped: str | None = Field(
        default=None,
        alias="resumeDropped",
        description="The last resume request the exporter dropped (neither acted on nor refused), and why.",
        max_length=1024,
    )
    resume_dropped_count: int | None = Field(
        default=None,
        alias="resumeDroppedCount",
        description="Resume requests dropped since the exporter started.",
        ge=0,
    )


class ProtectedTenant(_ProtectedTarget, _TenantKey):
    """One spec.protection tenant as the exporter last reported it (no resume: a person re-enables it)."""


class TenantCounts(_Status):
    """Watched tenants in each state."""

    paused_by_aws: int = Field(
        default=0, alias="pausedByAWS", description="AWS keeps them from sending.", ge=0
    )
    paused_by_customer: int = Field(
        default=0, alias="pausedByCustomer", description="Paused through the customer-managed status.", ge=0
    )
    at_risk: int = Field(
        default=0, alias="atRisk", description="Sending, with an open finding of HIGH impact.", ge=0
    )
    unknown: int = Field(default=0, description="Their reputation entity could not be read.", ge=0)
    reinstated: int = Field(default=0, description="Reinstated: sending despite open findings.", ge=0)
    enabled: int = Field(default=0, description="Sending, nothing open of HIGH impact.", ge=0)


class TenantsSummary(_Status):
    """spec.tenants as the exporter last read it: counts by state, the worst tenants by name."""

    selection: str = SUMMARY("all, prefix <p>, or <n> listed.")
    matching: int | None = Field(default=None, description="Tenants the selection matched.", ge=0)
    watched: int = Field(default=0, description="Tenants read (at most spec.tenants.limit).", ge=0)
    counts: TenantCounts = Field(default_factory=TenantCounts, description="Watched tenants in each state.")
    worst: list[str] = Field(
        default_factory=list,
        description=(
            "The tenants in the worst states, worst first, e.g. `acme: paused by AWS (bounce rate"
            " above the policy), impact HIGH`."
        ),
        max_length=10,
    )
    message: str | None = SUMMARY(
        "For a person: more tenants match than spec.tenants.limit, a listed name has no tenant, or the"
        " last read failed.",
        None,
    )


class FindingsSummary(_Status):
    """spec.findings as the exporter last read it: the open findings, the worst by resource."""

    open: int | None = Field(default=None, description="Open reputation findings.", ge=0)
    high: int = Field(default=0, description="Of them, HIGH impact.", ge=0)
    worst: list[str] = Field(
        default_factory=list,
        description="The worst open findings, e.g. `DKIM (HIGH) on identity example.com`.",
        max_length=10,
    )
    message: str | None = Field(
        default=None,
        description=(
            "For a person: VDM is not enabled, so findings cannot be read (and what enabling it costs),"
            " more are open than spec.findings.limit, or the last read failed."
        ),
        max_length=1024,
    )


class SesMonitorStatus(_Status):
    """Observed state, mirrored from the exporter's /status by the operator."""

    observed_generation: int | None = Field(
        default=None, alias="observedGeneration", description="The spec generation last reconciled.", ge=0
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description=(
            "Ready (reconciled and the exporter serves fresh data; not the account's health), Reconciled,"
            " ExporterReady, BounceRateHealthy, ComplaintRateHealthy, AccountHealthy, with"
            " configurationSetCounts ConfigurationSetCounts (False while an opted-in set's counts never had"
            " data), with configurationSets ConfigurationSetsFound (False naming a listed set SES does not"
            " have), with spec.events EventsReceived (whether SES events arrive, the last hour's bounces),"
            " with spec.protection Protection (which sets and tenants are paused and why); while"
            " reconciling fails, Reconciling (will retry) or Stalled (needs a person)."
        ),
        max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    bounce_rate: str | None = RATE("Newest reputation bounce rate, e.g. 14.32%.", None, alias="bounceRate")
    bounce_rate_window_average: str | None = RATE(
        "Mean bounce rate over spec.window, as the exporter saw it.", None, alias="bounceRateWindowAverage"
    )
    complaint_rate: str | None = RATE("Newest reputation complaint rate.", None, alias="complaintRate")
    complaint_rate_window_average: str | None = RATE(
        "Mean complaint rate over spec.window, as the exporter saw it.",
        None,
        alias="complaintRateWindowAverage",
    )
    enforcement_status: str | None = WORD(
        "SES account enforcement status: HEALTHY, PROBATION (under review) or SHUTDOWN (paused).",
        None,
        alias="enforcementStatus",
    )
    sending_enabled: bool | None = Field(
        default=None, alias="sendingEnabled", description="Whether SES lets the account send."
    )
    bounce_breakdown: str | None = SUMMARY(
        "With spec.events: the last hour's bounces by type, sub-type and recipient domain, e.g."
        " permanent 92% (NoEmail 80%), transient 8%; top domain example.com 41%.",
        None,
        alias="bounceBreakdown",
    )
    protection: list[ProtectedSet] = Field(
        default_factory=list,
        description="With spec.protection on: each protected configuration set's state.",
        max_length=20,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["configurationSet"],
        },
    )
    # Beside status.protection, not in it: that list is a map keyed on configurationSet (the key must be
    # present in every entry, and consumers index each entry by it), so a tenant gets a list of its own.
    protection_tenants: list[ProtectedTenant] = Field(
        default_factory=list,
        alias="protectionTenants",
        description="With spec.protection.tenants: each protected tenant's state, in a set's shape.",
        max_length=PROTECTED_TENANTS_MAX,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["tenant"]},
    )
    findings: FindingsSummary | None = Field(
        default=None, description="With spec.findings: the open reputation findings, the worst by resource."
    )
    tenants: TenantsSummary | None = Field(
        default=None, description="With spec.tenants: the watched tenants by state, the worst by name."
    )
