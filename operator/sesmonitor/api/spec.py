"""The SesMonitor custom resource as frozen pydantic models: the single source of the CRD schema.

Field descriptions become `kubectl explain` text; constraints become OpenAPI bounds and patterns; the
cross-field rules are written twice on purpose, once as CEL for the API server (``x-kubernetes-validations``)
and once as Python validators for `sesmonitor validate` and `render`. Tests prove both reject the same specs.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sesmonitor.api.alerts import ALERT_NAMES
from sesmonitor.api.fields import (
    ConfigurationSetName,
    DurationRange,
    OneOf,
    Text,
    cel_rule,
    cel_rules,
    choice_set,
    configuration_set_list,
    percent,
    percent_cel,
    section,
    string_map,
)
from sesmonitor.api.quantities import parse_duration, parse_percent

GROUP: Final = "sesmonitor.io"
VERSION: Final = "v1alpha1"
KIND: Final = "SesMonitor"
PLURAL: Final = "sesmonitors"
SINGULAR: Final = "sesmonitor"
SHORT_NAMES: Final = ("sesmon",)
API_VERSION: Final = f"{GROUP}/{VERSION}"
# `sesmonitor.io/resume: marketing[,other]` on a SesMonitor: a person's resume of sets spec.protection
# paused; the operator passes it on to the exporter and removes it.
RESUME_ANNOTATION: Final = f"{GROUP}/resume"

REGION_PATTERN: Final = (
    r"^[a-z]{2}(-gov|-iso[a-z]?)?"
    r"-(central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9]$"
)
ROLE_ARN_PATTERN: Final = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
LABEL_VALUE_PATTERN: Final = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
URL_PATTERN: Final = r"^https?://[^\s]+$"
# https://sqs.<region>.amazonaws.com/<account>/<name>, a VPC endpoint's or an emulator's host likewise.
SQS_QUEUE_URL_PATTERN: Final = r"^https?://[^\s/]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$"
SQS_REGIONAL_HOST: Final = r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
MAX_TOP_DOMAINS: Final = 100
# spec.tenants' bounds; the exporter's config file checks the same (contract.TENANTS_*: a test holds
# them equal)
TENANT_NAMES_MAX: Final = 100
TENANTS_LIMIT_DEFAULT: Final = 1000
TENANTS_LIMIT_MAX: Final = 10_000

# The spec's scalar kinds (sesmonitor.api.fields), each field below names one.
REGION: Final = Text(REGION_PATTERN, max_length=32)
NAME: Final = Text(DNS_LABEL_PATTERN, max_length=253)  # a Secret's or ServiceAccount's
SECRET_KEY: Final = Text(max_length=253)
LABEL_VALUE: Final = Text(LABEL_VALUE_PATTERN, max_length=63)
URL: Final = Text(URL_PATTERN, max_length=2048)
QUEUE_URL: Final = Text(SQS_QUEUE_URL_PATTERN, max_length=2048)
ROLE_ARN: Final = Text(ROLE_ARN_PATTERN, max_length=600)
EXTERNAL_ID: Final = Text(min_length=2, max_length=1224)
WINDOW: Final = DurationRange("5m", "24h")
REFRESH: Final = DurationRange("60s", "1h")
LOOKBACK: Final = DurationRange("60s", "24h")
ALERT_DURATION: Final = DurationRange("0s", "24h", min_length=None)
SCRAPE_INTERVAL: Final = DurationRange("5s", "1h")
HOLD_FOR: Final = DurationRange("1m", "6h")
COOLDOWN: Final = DurationRange("0s", "24h")
TENANTS_READ_INTERVAL: Final = DurationRange("20m", "24h")
FINDINGS_READ_INTERVAL: Final = DurationRange("15m", "24h")
FINDINGS_LIMIT_DEFAULT: Final = 200  # contract.FINDINGS_LIMIT_*, held equal by a test
FINDINGS_LIMIT_MAX: Final = 1000
TENANT_NAME_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"  # SES: up to 64 letters, digits, - and _
TENANT_PREFIX: Final = Text(r"^[A-Za-z0-9_-]{1,64}$", max_length=64)
StringMap = dict[str, str]
AlertName = Annotated[str, OneOf(ALERT_NAMES, "an alert sesmonitor renders")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class ThresholdPair(_Model):
    """Two levels for one rate; `warning` must be lower than `critical`."""

    model_config = cel_rules(
        cel_rule(
            f"{percent_cel('self.warning')} < {percent_cel('self.critical')}",
            "warning must be lower than critical",
        ),
    )

    warning: str
    critical: str

    @model_validator(mode="after")
    def _warning_below_critical(self) -> ThresholdPair:
        if parse_percent(self.warning) >= parse_percent(self.critical):
            raise ValueError(f"warning ({self.warning}) must be lower than critical ({self.critical})")
        return self


class BounceRateThresholds(ThresholdPair):
    """Bounce rate levels. AWS reviews an account at 5% and may pause its sending at 10%."""

    warning: str = percent("Alert as a warning at this average bounce rate.", "5%")
    critical: str = percent("Alert as critical at this average bounce rate.", "10%")


class ComplaintRateThresholds(ThresholdPair):
    """Complaint rate levels. AWS reviews an account at 0.1% and may pause its sending at 0.5%."""

    warning: str = percent("Alert as a warning at this average complaint rate.", "0.1%")
    critical: str = percent("Alert as critical at this average complaint rate.", "0.5%")


class Thresholds(_Model):
    """Alert levels, as percent strings such as "5%" or "0.1%"."""

    bounce_rate: BounceRateThresholds = section(
        BounceRateThresholds,
        "Bounce rate levels (defaults: 5% warning, 10% critical, AWS's review and pause levels).",
        alias="bounceRate",
    )
    complaint_rate: ComplaintRateThresholds = section(
        ComplaintRateThresholds,
        "Complaint rate levels (defaults: 0.1% warning, 0.5% critical, AWS's levels).",
        alias="complaintRate",
    )
    send_quota: str = percent(
        "Warn when this share of the 24-hour sending quota (Max24HourSend) is used.", "80%", alias="sendQuota"
    )


class Severities(_Model):
    """`severity` label values for the two alert levels."""

    warning: str = LABEL_VALUE("Severity label of warning alerts.", "warning")
    critical: str = LABEL_VALUE("Severity label of critical alerts.", "critical")


class Alerting(_Model):
    """How the rendered alerts behave and are routed."""

    for_: str = ALERT_DURATION(
        "How long a condition must hold before its alert fires (Prometheus `for`).", "5m", alias="for"
    )
    keep_firing_for: str = ALERT_DURATION(
        "How long an alert keeps firing after its condition clears (Prometheus `keep_firing_for`),"
        " so a rate hovering at the threshold does not page twice.",
        "15m",
        alias="keepFiringFor",
    )
    labels: StringMap = string_map("Labels added to every alert, for Alertmanager routing (e.g. team: mail).")
    annotations: StringMap = string_map(
        "Annotations added to every alert; a runbook_url here wins over the one each alert links by"
        " default (its section in docs/alerts.md)."
    )
    runbook_base_url: str | None = URL(
        "Where each alert's runbook_url points: this URL + '#' + the alert's name in lower case, e.g."
        " your copy of docs/alerts.md. Default: the operator's (chart value alerting.runbookBaseURL),"
        " else docs/alerts.md at this release's tag.",
        None,
        alias="runbookBaseURL",
    )
    disabled: list[AlertName] = choice_set(
        "Alerts not to render, by name (e.g. SESSendQuotaNearlyUsed); docs/alerts.md lists them.", ALERT_NAMES
    )
    severities: Severities = section(
        Severities, "The value of the `severity` label for each alert level, to match your routing tree."
    )


class SecretRef(_Model):
    """Static AWS keys in a Secret of the SesMonitor's namespace (prefer IRSA or Pod Identity)."""

    name: str = NAME("Name of the Secret.")
    access_key_id_key: str = SECRET_KEY(
        "Key in the Secret that holds the access key ID.", "AWS_ACCESS_KEY_ID", alias="accessKeyIDKey"
    )
    secret_access_key_key: str = SECRET_KEY(
        "Key in the Secret that holds the secret access key.",
        "AWS_SECRET_ACCESS_KEY",
        alias="secretAccessKeyKey",
    )


class Endpoints(_Model):
    """One endpoint per AWS service, as VPC interface endpoints are (each overrides `endpointURL`)."""

    cloudwatch: str | None = URL(
        "CloudWatch (monitoring) endpoint, e.g. a VPC endpoint's https://vpce-....monitoring....",
        None,
        alias="cloudWatch",
    )
    sesv2: str | None = URL("SESv2 (email) endpoint, e.g. a VPC endpoint's https://vpce-....email....", None)
    sts: str | None = URL(
        "STS endpoint, used to assume roleArn, e.g. a VPC endpoint's https://vpce-....sts....", None
    )
    sqs: str | None = URL("SQS endpoint (spec.events), e.g. a VPC endpoint's https://vpce-....sqs....", None)


class Aws(_Model):
    """How the exporter reaches AWS. Never holds key material: only references to it."""

    model_config = cel_rules(
        cel_rule("!has(self.externalId) || has(self.roleArn)", "externalId needs roleArn"),
        cel_rule(
            "!(has(self.serviceAccountName) && has(self.credentialsSecretRef))",
            "use either serviceAccountName (IRSA, Pod Identity) or credentialsSecretRef",
        ),
    )

    role_arn: str | None = ROLE_ARN(
        "IAM role to assume; credentials are refreshed before they expire.", None, alias="roleArn"
    )
    external_id: str | None = EXTERNAL_ID(
        "External ID the role's trust policy requires.", None, alias="externalId"
    )
    service_account_name: str | None = NAME(
        "ServiceAccount the exporter runs as, annotated for IRSA or bound by EKS Pod Identity.",
        None,
        alias="serviceAccountName",
    )
    credentials_secret_ref: SecretRef | None = Field(
        default=None,
        alias="credentialsSecretRef",
        description="A Secret in this namespace with static keys, for clusters outside AWS.",
    )
    endpoint_url: str | None = URL(
        "One URL for every AWS service the exporter calls (a local emulator); for VPC endpoints,"
        " which are per service, use `endpoints`.",
        None,
        alias="endpointURL",
    )
    endpoints: Endpoints = Field(
        default_factory=Endpoints,
        description="Per-service endpoints (VPC interface endpoints); each overrides endpointURL.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Aws:
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("externalId needs roleArn")
        if self.service_account_name is not None and self.credentials_secret_ref is not None:
            raise ValueError("use either serviceAccountName (IRSA, Pod Identity) or credentialsSecretRef")
        return self


def queue_region(queue_url: str) -> str | None:
    """`eu-west-1` of https://sqs.eu-west-1.amazonaws.com/...; None for other hosts."""
    match = re.match(SQS_REGIONAL_HOST, queue_url)
    return match.group(1) if match else None


class Events(_Model):
    """SES events (Bounce, Complaint, Delivery, DeliveryDelay, Send, Reject) read from an SQS queue:
    why mail bounces, beyond CloudWatch's rates. deploy/aws/ses-events.yaml creates the queue."""

    model_config = cel_rules(
        cel_rule(
            "!has(self.region) || !self.queueURL.matches('^https://sqs\\\\.')"
            " || self.queueURL.startsWith('https://sqs.' + self.region + '.')",
            "region must be the region in queueURL (https://sqs.<region>.amazonaws.com/...)",
            field_path=".region",
        ),
    )

    queue_url: str = QUEUE_URL(
        "URL of the SQS queue SES events reach (through an SNS subscription, wrapped or with raw"
        " message delivery, an EventBridge rule, or identity feedback notifications), e.g."
        " https://sqs.us-east-1.amazonaws.com/111122223333/ses-events.",
        alias="queueURL",
    )
    region: str | None = REGION(
        "The queue's region when it is not spec.region (read from queueURL when it says).", None
    )
    top_domains: int = Field(
        default=20,
        alias="topDomains",
        description=(
            "Recipient domains with a label of their own on the bounces-by-domain counter (the most"
            " bounced in the last hour); the rest count as `other`, so it has at most this many + 1 series."
        ),
        ge=0,
        le=MAX_TOP_DOMAINS,
    )

    @model_validator(mode="after")
    def _region_of_the_url(self) -> Events:
        url, region = self.queue_url, self.region
        if (
            region is not None
            and url.startswith("https://sqs.")
            and not url.startswith(f"https://sqs.{region}.")
        ):
            raise ValueError("region must be the region in queueURL (https://sqs.<region>.amazonaws.com/...)")
        return self


class Toleration(_Model):
    """A Kubernetes toleration for the exporter pod."""

    key: str | None = Field(default=None, description="Taint key to tolerate.", max_length=317)
    operator: Literal["Exists", "Equal"] | None = Field(default=None, description="Exists or Equal.")
    value: str | None = Field(default=None, description="Taint value for Equal.", max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect to tolerate; empty means all."
    )
    toleration_seconds: int | None = Field(
        default=None, alias="tolerationSeconds", description="How long a NoExecute taint is tolerated.", ge=0
    )


Quantity = Annotated[str | int, Field(description="A Kubernetes quantity such as 100m or 64Mi.")]


class Resources(_Model):
    """Compute resources of the exporter container."""

    requests: dict[str, Quantity] = Field(
        default_factory=lambda: dict[str, str | int]({"cpu": "10m", "memory": "64Mi"}),
        description="Minimum resources the scheduler reserves.",
        max_length=8,
    )
    limits: dict[str, Quantity] = Field(
        default_factory=lambda: dict[str, str | int]({"memory": "128Mi"}),
        description="Resources the container may not exceed.",
        max_length=8,
    )


class Exporter(_Model):
    """The exporter Deployment that reads AWS and serves /metrics."""

    model_config = cel_rules(
        cel_rule(
            "duration(self.lookback) >= duration(self.refreshInterval)",
            "lookback must be at least refreshInterval",
        ),
    )

    image: str | None = Field(
        default=None,
        description="Exporter image; defaults to the operator's configured exporter image.",
        max_length=512,
    )
    resources: Resources | None = Field(
        default=None, description="Resources; defaults to the operator's configured exporter resources."
    )
    refresh_interval: str = REFRESH(
        "How often AWS is read (60s at least: CloudWatch's SES metrics have one-minute resolution).",
        "60s",
        alias="refreshInterval",
    )
    lookback: str = LOOKBACK(
        "How old a datapoint may be and still be served; reputation metrics are published only while"
        " mail is sent, so this bridges quiet periods.",
        "2h",
    )
    pod_labels: StringMap = string_map("Extra labels on the exporter pod.", alias="podLabels")
    pod_annotations: StringMap = string_map("Extra annotations on the exporter pod.", alias="podAnnotations")
    node_selector: StringMap = string_map("Node selector for the exporter pod.", alias="nodeSelector")
    tolerations: list[Toleration] = Field(
        default_factory=list, description="Tolerations for the exporter pod.", max_length=32
    )

    @model_validator(mode="after")
    def _lookback_covers_refresh(self) -> Exporter:
        if parse_duration(self.lookback) < parse_duration(self.refresh_interval):
            raise ValueError(
                f"lookback ({self.lookback}) must be at least refreshInterval ({self.refresh_interval})"
            )
        return self


class Prometheus(_Model):
    """How Prometheus (through prometheus-operator) finds the exporter and the rules."""

    scrape_interval: str = SCRAPE_INTERVAL(
        "How often Prometheus scrapes the exporter; scrapes read a cache and never call AWS.",
        "60s",
        alias="scrapeInterval",
    )
    service_monitor_labels: StringMap = string_map(
        "Extra ServiceMonitor labels, to match Prometheus's serviceMonitorSelector (e.g. release).",
        alias="serviceMonitorLabels",
    )
    rule_labels: StringMap = string_map(
        "Extra PrometheusRule labels, to match Prometheus's ruleSelector (e.g. release).", alias="ruleLabels"
    )


PROTECTION_MODES: Final = ("Off", "DryRun", "Enforce")
TenantName = Annotated[str, Field(pattern=TENANT_NAME_PATTERN, max_length=64)]
PROTECTED_TENANTS_MAX: Final = 20  # each is one GetReputationEntity per refresh


class Protection(_Model):
    """Opt-in: pause a configuration set whose own rate reaches a level, or a tenant whose reputation
    impact stays HIGH, before AWS pauses the account.

    The exporter decides at each refresh from the CloudWatch datapoints and the tenants' reputation
    entities it reads; a paused set stays paused until a person resumes it (annotation
    sesmonitor.io/resume=<set>, or `sesmonitor resume`), a paused tenant until a person re-enables it.
    """

    model_config = cel_rules(
        cel_rule(
            "self.mode == 'Off' || (has(self.configurationSets) && size(self.configurationSets) > 0)"
            " || (has(self.tenants) && size(self.tenants) > 0)",
            "DryRun and Enforce need configurationSets or tenants",
            field_path=".configurationSets",
        ),
    )

    mode: Literal["Off", "DryRun", "Enforce"] = Field(
        default="Off",
        description=(
            "Off (default): never act. DryRun: report what would be paused (condition, Event, metric)"
            " without any write to AWS. Enforce: pause the set (SESv2 PutConfigurationSetSendingOptions)."
        ),
    )
    configuration_sets: list[ConfigurationSetName] = configuration_set_list(
        "The configuration sets (each also in configurationSets) that may be paused; no other."
    )
    tenants: list[TenantName] = Field(
        default_factory=list,
        max_length=PROTECTED_TENANTS_MAX,
        json_schema_extra={"x-kubernetes-list-type": "set"},
        description=(
            "SES tenants, by name, that may be paused (SESv2 UpdateReputationEntityCustomerManagedStatus"
            " DISABLED) when their reputation entity's ReputationImpact is HIGH on every read for holdFor;"
            " no other. SESv2 gives no per-tenant bounce or complaint rate (docs/protection.md#tenants)."
        ),
    )
    bounce_rate: str | None = percent(
        "Pause a set whose own bounce rate reaches this level (default: thresholds.bounceRate.critical).",
        None,
        alias="bounceRate",
    )
    complaint_rate: str | None = percent(
        "Pause a set whose own complaint rate reaches this level"
        " (default: thresholds.complaintRate.critical).",
        None,
        alias="complaintRate",
    )
    hold_for: str = HOLD_FOR(
        "How long every datapoint of a set's rate must stay at or above its level before the set is paused.",
        "10m",
        alias="holdFor",
    )
    cooldown: str = COOLDOWN(
        "After a resume, how long no new pause of that set happens (the rate needs time to come down).", "1h"
    )

    @model_validator(mode="after")
    def _sets_when_active(self) -> Protection:
        if self.mode != "Off" and not self.configuration_sets and not self.tenants:
            raise ValueError("DryRun and Enforce need configurationSets or tenants")
        return self


class Tenants(_Model):
    """SES tenants (multi-tenant management) to watch: AWS pauses a tenant on its own under the tenant's
    reputation policy. All tenants of the account by default, or those listed, or those whose name starts
    with a prefix (docs/tenants.md)."""

    model_config = cel_rules(
        cel_rule(
            "!(has(self.names) && size(self.names) > 0 && has(self.prefix))",
            "use either names or prefix",
            field_path=".prefix",
        ),
    )

    names: list[TenantName] = Field(
        default_factory=list,
        description="Watch these tenants only (at most 100), each read with GetTenant.",
        max_length=TENANT_NAMES_MAX,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    prefix: str | None = TENANT_PREFIX(
        "Watch the tenants whose name starts with this prefix (from ListTenants).", None
    )
    limit: int = Field(
        default=TENANTS_LIMIT_DEFAULT,
        description=(
            "Watch at most this many tenants (the first by name): one series each. The status says so"
            " when more match."
        ),
        ge=1,
        le=TENANTS_LIMIT_MAX,
    )
    read_interval: str = TENANTS_READ_INTERVAL(
        "How often each tenant is read (20m at least: at most 1 SESv2 request per tenant per 10 minutes).",
        "20m",
        alias="readInterval",
    )

    @model_validator(mode="after")
    def _names_or_prefix(self) -> Tenants:
        if self.names and self.prefix:
            raise ValueError("use either names or prefix")
        return self


class Findings(_Model):
    """The account's open reputation findings (Virtual Deliverability Manager's advisor, SESv2
    ListRecommendations): what AWS warns of before it acts on an identity, a configuration set, a tenant
    or the account. They need VDM enabled (a paid SES feature); the status says when it is not."""

    read_interval: str = FINDINGS_READ_INTERVAL(
        "How often the open findings are read (they change in hours; 15m at least).",
        "30m",
        alias="readInterval",
    )
    limit: int = Field(
        default=FINDINGS_LIMIT_DEFAULT,
        description=(
            "Serve at most this many open findings (one series each); the status says when more are open."
        ),
        ge=1,
        le=FINDINGS_LIMIT_MAX,
    )


class SesMonitorSpec(_Model):
    """Desired state: which SES account to watch, and when to alert."""

    model_config = cel_rules(
        cel_rule(
            "duration(self.window).getSeconds() >= 2 * duration(self.exporter.refreshInterval).getSeconds()",
            "window must be at least twice exporter.refreshInterval",
            field_path=".window",
        ),
        cel_rule(
            "!has(self.configurationSetCounts) || self.configurationSetCounts.all(s,"
            " has(self.configurationSets) && s in self.configurationSets)",
            "every configurationSetCounts entry must be listed in configurationSets",
            field_path=".configurationSetCounts",
        ),
        cel_rule(
            "!has(self.protection) || !has(self.protection.configurationSets) ||"
            " self.protection.configurationSets.all(s,"
            " has(self.configurationSets) && s in self.configurationSets)",
            "every protection.configurationSets entry must be listed in configurationSets",
            field_path=".protection.configurationSets",
        ),
    )

    region: str = REGION("AWS region of the SES account, e.g. us-east-1.")
    window: str = WINDOW(
        "Range of avg_over_time() in the alerts: long enough to bridge the gaps between sending bursts.", "1h"
    )
    thresholds: Thresholds = section(
        Thresholds, "Alert levels for the bounce and complaint rates and the send quota."
    )
    alerting: Alerting = section(Alerting, "Alert timing, routing labels and annotations.")
    configuration_sets: list[ConfigurationSetName] = configuration_set_list(
        "SES configuration sets to watch beside the whole account."
    )
    configuration_set_counts: list[ConfigurationSetName] = configuration_set_list(
        "Configuration sets (each also in configurationSets) whose Send, Delivery, Bounce, Complaint"
        " and Reject counts are read. CloudWatch has them only when the set has a CloudWatch event"
        " destination with exactly the ses:configuration-set dimension; otherwise they are 5 empty"
        " metrics billed per set per minute, so they are opt-in. The status says when a listed"
        " set's counts never have data.",
        alias="configurationSetCounts",
    )
    aws: Aws = section(Aws, "Identity and endpoint used to read CloudWatch and SES.")
    exporter: Exporter = section(Exporter, "The exporter that reads AWS.")
    prometheus: Prometheus = section(Prometheus, "Scraping and rule discovery settings.")
    events: Events | None = Field(
        default=None,
        description="Optional: an SQS queue of SES events, for bounce and complaint types and domains.",
    )
    protection: Protection = section(
        Protection,
        "Opt-in: pause an offending configuration set or tenant before AWS pauses the account"
        " (docs/protection.md).",
    )
    findings: Findings | None = Field(
        default=None,
        description=(
            "Optional: read the account's open reputation findings (VDM's advisor) and alert on them"
            " (docs/tenants.md#findings)."
        ),
    )
    tenants: Tenants | None = Field(
        default=None,
        description=(
            "Optional: watch the account's SES tenants (all, listed, or by prefix): which AWS or a customer"
            " paused, and why, and which an open finding puts at risk (docs/tenants.md)."
        ),
    )

    @model_validator(mode="after")
    def _protected_sets_listed(self) -> SesMonitorSpec:
        unlisted = [s for s in self.protection.configuration_sets if s not in self.configuration_sets]
        if unlisted:
            raise ValueError(f"protection.configurationSets: {', '.join(unlisted)} not in configurationSets")
        return self

    def protection_levels(self) -> tuple[str, str]:
        """The (bounce, complaint) pause levels: protection's own, else the critical thresholds."""
        p = self.protection
        return (
            p.bounce_rate or self.thresholds.bounce_rate.critical,
            p.complaint_rate or self.thresholds.complaint_rate.critical,
        )

    @model_validator(mode="after")
    def _counts_of_listed_sets(self) -> SesMonitorSpec:
        unlisted = [s for s in self.configuration_set_counts if s not in self.configuration_sets]
        if unlisted:
            raise ValueError(f"configurationSetCounts: {', '.join(unlisted)} not in configurationSets")
        return self

    @model_validator(mode="after")
    def _window_covers_two_refreshes(self) -> SesMonitorSpec:
        if parse_duration(self.window) < 2 * parse_duration(self.exporter.refresh_interval):
            raise ValueError(
                f"window ({self.window}) must be at least twice exporter.refreshInterval"
                f" ({self.exporter.refresh_interval})"
            )
        return self
