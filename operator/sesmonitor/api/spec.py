"""The SesMonitor custom resource as frozen pydantic models: the single source of the CRD schema.

Field descriptions become `kubectl explain` text; constraints become OpenAPI bounds and patterns; the
cross-field rules are written twice on purpose, once as CEL for the API server (``x-kubernetes-validations``)
and once as Python validators for `sesmonitor validate` and `render`. Tests prove both reject the same specs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sesmonitor.api.quantities import DURATION_PATTERN, PERCENT_PATTERN, parse_duration, parse_percent

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
CONFIGURATION_SET_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
LABEL_VALUE_PATTERN: Final = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
URL_PATTERN: Final = r"^https?://[^\s]+$"
# https://sqs.<region>.amazonaws.com/<account>/<name>, a VPC endpoint's or an emulator's host likewise.
SQS_QUEUE_URL_PATTERN: Final = r"^https?://[^\s/]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$"
SQS_REGIONAL_HOST: Final = r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
MAX_TOP_DOMAINS: Final = 100

MIN_WINDOW_SECONDS: Final = 5 * 60
MAX_WINDOW_SECONDS: Final = 24 * 3600
MIN_REFRESH_SECONDS: Final = 60
MAX_LOOKBACK_SECONDS: Final = 24 * 3600


def _percent_cel(self_expr: str) -> str:
    return f"double({self_expr}.replace('%', ''))"


def _checked_percent(value: str) -> str:
    parse_percent(value)
    return value


def _bounded_duration(low: int, high: int) -> AfterValidator:
    def check(value: str) -> str:
        seconds = parse_duration(value)
        if not low <= seconds <= high:
            raise ValueError(f"{value!r} must be between {low}s and {high}s")
        return value

    return AfterValidator(check)


def _cel_duration_bounds(low: str, high: str) -> dict[str, Any]:
    return {
        "rule": f"duration(self) >= duration('{low}') && duration(self) <= duration('{high}')",
        "message": f"must be between {low} and {high}",
    }


def _duration(
    description: str,
    default: str,
    low_text: str,
    high_text: str,
    alias: str | None = None,
) -> Any:
    return Field(
        default=default,
        alias=alias,
        description=description,
        pattern=DURATION_PATTERN,
        min_length=2,
        max_length=16,
        json_schema_extra={"x-kubernetes-validations": [_cel_duration_bounds(low_text, high_text)]},
    )


Percent = Annotated[str, AfterValidator(_checked_percent)]
Duration5mTo24h = Annotated[str, _bounded_duration(MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS)]
Refresh = Annotated[str, _bounded_duration(MIN_REFRESH_SECONDS, 3600)]
Lookback = Annotated[str, _bounded_duration(MIN_REFRESH_SECONDS, MAX_LOOKBACK_SECONDS)]
AlertDuration = Annotated[str, _bounded_duration(0, MAX_WINDOW_SECONDS)]
ScrapeInterval = Annotated[str, _bounded_duration(5, 3600)]
StringMap = dict[str, str]


def _percent_field(description: str, default: str) -> Any:
    return Field(
        default=default,
        description=description,
        pattern=PERCENT_PATTERN,
        max_length=10,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": f"{_percent_cel('self')} > 0.0 && {_percent_cel('self')} <= 100.0",
                    "message": "must be greater than 0% and at most 100%",
                }
            ]
        },
    )


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        items = {key: _compact(item) for key, item in value.items() if item is not None}
        return {key: item for key, item in items.items() if item not in ({}, [])}
    return value


def _object_default(model: type[BaseModel]) -> dict[str, Any]:
    """An object field's default with its nested defaults filled in.

    The API server checks a default against the object's CEL rules as written, without first applying
    the defaults of the fields inside it, so `{}` would fail rules such as warning < critical.
    """
    return {"default": _compact(model().model_dump(by_alias=True))}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)


class ThresholdPair(_Model):
    """Two levels for one rate; `warning` must be lower than `critical`."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": f"{_percent_cel('self.warning')} < {_percent_cel('self.critical')}",
                    "message": "warning must be lower than critical",
                }
            ]
        }
    )

    warning: Percent
    critical: Percent

    @model_validator(mode="after")
    def _warning_below_critical(self) -> ThresholdPair:
        if parse_percent(self.warning) >= parse_percent(self.critical):
            raise ValueError(f"warning ({self.warning}) must be lower than critical ({self.critical})")
        return self


class BounceRateThresholds(ThresholdPair):
    """Bounce rate levels. AWS reviews an account at 5% and may pause its sending at 10%."""

    warning: Percent = _percent_field("Alert as a warning at this average bounce rate.", "5%")
    critical: Percent = _percent_field("Alert as critical at this average bounce rate.", "10%")


class ComplaintRateThresholds(ThresholdPair):
    """Complaint rate levels. AWS reviews an account at 0.1% and may pause its sending at 0.5%."""

    warning: Percent = _percent_field("Alert as a warning at this average complaint rate.", "0.1%")
    critical: Percent = _percent_field("Alert as critical at this average complaint rate.", "0.5%")


class Thresholds(_Model):
    """Alert levels, as percent strings such as "5%" or "0.1%"."""

    bounce_rate: BounceRateThresholds = Field(
        default_factory=BounceRateThresholds,
        alias="bounceRate",
        description="Bounce rate levels (defaults: 5% warning, 10% critical, AWS's review and pause levels).",
        json_schema_extra=_object_default(BounceRateThresholds),
    )
    complaint_rate: ComplaintRateThresholds = Field(
        default_factory=ComplaintRateThresholds,
        alias="complaintRate",
        description="Complaint rate levels (defaults: 0.1% warning, 0.5% critical, AWS's levels).",
        json_schema_extra=_object_default(ComplaintRateThresholds),
    )
    send_quota: Percent = Field(
        default="80%",
        alias="sendQuota",
        description="Warn when this share of the 24-hour sending quota (Max24HourSend) is used.",
        pattern=PERCENT_PATTERN,
        max_length=10,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": f"{_percent_cel('self')} > 0.0 && {_percent_cel('self')} <= 100.0",
                    "message": "must be greater than 0% and at most 100%",
                }
            ]
        },
    )


class Severities(_Model):
    """`severity` label values for the two alert levels."""

    warning: str = Field(
        default="warning",
        description="Severity label of warning alerts.",
        pattern=LABEL_VALUE_PATTERN,
        max_length=63,
    )
    critical: str = Field(
        default="critical",
        description="Severity label of critical alerts.",
        pattern=LABEL_VALUE_PATTERN,
        max_length=63,
    )


class Alerting(_Model):
    """How the rendered alerts behave and are routed."""

    for_: AlertDuration = Field(
        default="5m",
        alias="for",
        description="How long a condition must hold before its alert fires (Prometheus `for`).",
        pattern=DURATION_PATTERN,
        max_length=16,
        json_schema_extra={"x-kubernetes-validations": [_cel_duration_bounds("0s", "24h")]},
    )
    keep_firing_for: AlertDuration = Field(
        default="15m",
        alias="keepFiringFor",
        description=(
            "How long an alert keeps firing after its condition clears (Prometheus `keep_firing_for`),"
            " so a rate hovering at the threshold does not page twice."
        ),
        pattern=DURATION_PATTERN,
        max_length=16,
        json_schema_extra={"x-kubernetes-validations": [_cel_duration_bounds("0s", "24h")]},
    )
    labels: StringMap = Field(
        default_factory=dict,
        description="Labels added to every alert, for Alertmanager routing (e.g. team: mail).",
        max_length=32,
    )
    annotations: StringMap = Field(
        default_factory=dict,
        description="Annotations added to every alert (e.g. runbook_url).",
        max_length=32,
    )
    severities: Severities = Field(
        default_factory=Severities,
        description="The value of the `severity` label for each alert level, to match your routing tree.",
        json_schema_extra=_object_default(Severities),
    )


class SecretRef(_Model):
    """Static AWS keys in a Secret of the SesMonitor's namespace (prefer IRSA or Pod Identity)."""

    name: str = Field(description="Name of the Secret.", pattern=DNS_LABEL_PATTERN, max_length=253)
    access_key_id_key: str = Field(
        default="AWS_ACCESS_KEY_ID",
        alias="accessKeyIDKey",
        description="Key in the Secret that holds the access key ID.",
        max_length=253,
    )
    secret_access_key_key: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        alias="secretAccessKeyKey",
        description="Key in the Secret that holds the secret access key.",
        max_length=253,
    )


class Endpoints(_Model):
    """One endpoint per AWS service, as VPC interface endpoints are (each overrides `endpointURL`)."""

    cloudwatch: str | None = Field(
        default=None,
        alias="cloudWatch",
        description="CloudWatch (monitoring) endpoint, e.g. a VPC endpoint's https://vpce-....monitoring....",
        pattern=URL_PATTERN,
        max_length=2048,
    )
    sesv2: str | None = Field(
        default=None,
        description="SESv2 (email) endpoint, e.g. a VPC endpoint's https://vpce-....email....",
        pattern=URL_PATTERN,
        max_length=2048,
    )
    sts: str | None = Field(
        default=None,
        description="STS endpoint, used to assume roleArn, e.g. a VPC endpoint's https://vpce-....sts....",
        pattern=URL_PATTERN,
        max_length=2048,
    )
    sqs: str | None = Field(
        default=None,
        description="SQS endpoint (spec.events), e.g. a VPC endpoint's https://vpce-....sqs....",
        pattern=URL_PATTERN,
        max_length=2048,
    )


class Aws(_Model):
    """How the exporter reaches AWS. Never holds key material: only references to it."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.externalId) || has(self.roleArn)",
                    "message": "externalId needs roleArn",
                },
                {
                    "rule": "!(has(self.serviceAccountName) && has(self.credentialsSecretRef))",
                    "message": "use either serviceAccountName (IRSA, Pod Identity) or credentialsSecretRef",
                },
            ]
        }
    )

    role_arn: str | None = Field(
        default=None,
        alias="roleArn",
        description="IAM role to assume; credentials are refreshed before they expire.",
        pattern=ROLE_ARN_PATTERN,
        max_length=600,
    )
    external_id: str | None = Field(
        default=None,
        alias="externalId",
        description="External ID the role's trust policy requires.",
        min_length=2,
        max_length=1224,
    )
    service_account_name: str | None = Field(
        default=None,
        alias="serviceAccountName",
        description="ServiceAccount the exporter runs as, annotated for IRSA or bound by EKS Pod Identity.",
        pattern=DNS_LABEL_PATTERN,
        max_length=253,
    )
    credentials_secret_ref: SecretRef | None = Field(
        default=None,
        alias="credentialsSecretRef",
        description="A Secret in this namespace with static keys, for clusters outside AWS.",
    )
    endpoint_url: str | None = Field(
        default=None,
        alias="endpointURL",
        description=(
            "One URL for every AWS service the exporter calls (a local emulator); for VPC endpoints,"
            " which are per service, use `endpoints`."
        ),
        pattern=URL_PATTERN,
        max_length=2048,
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

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "!has(self.region) || !self.queueURL.matches('^https://sqs\\\\.')"
                        " || self.queueURL.startsWith('https://sqs.' + self.region + '.')"
                    ),
                    "message": "region must be the region in queueURL (https://sqs.<region>.amazonaws.com/...)",
                    "fieldPath": ".region",
                }
            ]
        }
    )

    queue_url: str = Field(
        alias="queueURL",
        description=(
            "URL of the SQS queue SES events reach (through an SNS subscription, wrapped or with raw"
            " message delivery, an EventBridge rule, or identity feedback notifications), e.g."
            " https://sqs.us-east-1.amazonaws.com/111122223333/ses-events."
        ),
        pattern=SQS_QUEUE_URL_PATTERN,
        max_length=2048,
    )
    region: str | None = Field(
        default=None,
        description="The queue's region when it is not spec.region (read from queueURL when it says).",
        pattern=REGION_PATTERN,
        max_length=32,
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

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "duration(self.lookback) >= duration(self.refreshInterval)",
                    "message": "lookback must be at least refreshInterval",
                }
            ]
        }
    )

    image: str | None = Field(
        default=None,
        description="Exporter image; defaults to the operator's configured exporter image.",
        max_length=512,
    )
    resources: Resources | None = Field(
        default=None, description="Resources; defaults to the operator's configured exporter resources."
    )
    refresh_interval: Refresh = _duration(
        "How often AWS is read (60s at least: CloudWatch's SES metrics have one-minute resolution).",
        "60s",
        "60s",
        "1h",
        alias="refreshInterval",
    )
    lookback: Lookback = _duration(
        "How old a datapoint may be and still be served; reputation metrics are published only while"
        " mail is sent, so this bridges quiet periods.",
        "2h",
        "60s",
        "24h",
    )
    pod_labels: StringMap = Field(
        default_factory=dict,
        alias="podLabels",
        description="Extra labels on the exporter pod.",
        max_length=32,
    )
    pod_annotations: StringMap = Field(
        default_factory=dict,
        alias="podAnnotations",
        description="Extra annotations on the exporter pod.",
        max_length=32,
    )
    node_selector: StringMap = Field(
        default_factory=dict,
        alias="nodeSelector",
        description="Node selector for the exporter pod.",
        max_length=32,
    )
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

    scrape_interval: ScrapeInterval = _duration(
        "How often Prometheus scrapes the exporter; scrapes read a cache and never call AWS.",
        "60s",
        "5s",
        "1h",
        alias="scrapeInterval",
    )
    service_monitor_labels: StringMap = Field(
        default_factory=dict,
        alias="serviceMonitorLabels",
        description=(
            "Extra ServiceMonitor labels, to match Prometheus's serviceMonitorSelector (e.g. release)."
        ),
        max_length=32,
    )
    rule_labels: StringMap = Field(
        default_factory=dict,
        alias="ruleLabels",
        description="Extra PrometheusRule labels, to match Prometheus's ruleSelector (e.g. release).",
        max_length=32,
    )


PROTECTION_MODES: Final = ("Off", "DryRun", "Enforce")


def _optional_percent_field(description: str, alias: str) -> Any:
    return Field(
        default=None,
        alias=alias,
        description=description,
        max_length=10,
        json_schema_extra={
            "pattern": PERCENT_PATTERN,  # pydantic leaves a pattern of an optional field out of the schema
            "x-kubernetes-validations": [
                {
                    "rule": f"{_percent_cel('self')} > 0.0 && {_percent_cel('self')} <= 100.0",
                    "message": "must be greater than 0% and at most 100%",
                }
            ],
        },
    )


class Protection(_Model):
    """Opt-in: pause a configuration set whose own rate reaches a level, before AWS pauses the account.

    The exporter decides at each refresh from the CloudWatch datapoints it reads; a paused set stays
    paused until a person resumes it (annotation sesmonitor.io/resume=<set>, or `sesmonitor resume`).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "self.mode == 'Off' ||"
                        " (has(self.configurationSets) && size(self.configurationSets) > 0)"
                    ),
                    "message": "DryRun and Enforce need configurationSets",
                    "fieldPath": ".configurationSets",
                }
            ]
        }
    )

    mode: Literal["Off", "DryRun", "Enforce"] = Field(
        default="Off",
        description=(
            "Off (default): never act. DryRun: report what would be paused (condition, Event, metric)"
            " without any write to AWS. Enforce: pause the set (SESv2 PutConfigurationSetSendingOptions)."
        ),
    )
    configuration_sets: list[Annotated[str, Field(pattern=CONFIGURATION_SET_PATTERN, max_length=64)]] = Field(
        default_factory=list,
        alias="configurationSets",
        description="The configuration sets (each also in configurationSets) that may be paused; no other.",
        max_length=20,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    bounce_rate: Percent | None = _optional_percent_field(
        "Pause a set whose own bounce rate reaches this level (default: thresholds.bounceRate.critical).",
        "bounceRate",
    )
    complaint_rate: Percent | None = _optional_percent_field(
        "Pause a set whose own complaint rate reaches this level"
        " (default: thresholds.complaintRate.critical).",
        "complaintRate",
    )
    hold_for: Annotated[str, _bounded_duration(60, 6 * 3600)] = _duration(
        "How long every datapoint of a set's rate must stay at or above its level before the set is paused.",
        "10m",
        "1m",
        "6h",
        alias="holdFor",
    )
    cooldown: Annotated[str, _bounded_duration(0, MAX_WINDOW_SECONDS)] = _duration(
        "After a resume, how long no new pause of that set happens (the rate needs time to come down).",
        "1h",
        "0s",
        "24h",
    )

    @model_validator(mode="after")
    def _sets_when_active(self) -> Protection:
        if self.mode != "Off" and not self.configuration_sets:
            raise ValueError("DryRun and Enforce need configurationSets")
        return self


class SesMonitorSpec(_Model):
    """Desired state: which SES account to watch, and when to alert."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "duration(self.window).getSeconds()"
                        " >= 2 * duration(self.exporter.refreshInterval).getSeconds()"
                    ),
                    "message": "window must be at least twice exporter.refreshInterval",
                    "fieldPath": ".window",
                },
                {
                    "rule": (
                        "!has(self.configurationSetCounts) || self.configurationSetCounts.all(s,"
                        " has(self.configurationSets) && s in self.configurationSets)"
                    ),
                    "message": "every configurationSetCounts entry must be listed in configurationSets",
                    "fieldPath": ".configurationSetCounts",
                },
                {
                    "rule": (
                        "!has(self.protection) || !has(self.protection.configurationSets) ||"
                        " self.protection.configurationSets.all(s,"
                        " has(self.configurationSets) && s in self.configurationSets)"
                    ),
                    "message": "every protection.configurationSets entry must be listed in configurationSets",
                    "fieldPath": ".protection.configurationSets",
                },
            ]
        }
    )

    region: str = Field(
        description="AWS region of the SES account, e.g. us-east-1.", pattern=REGION_PATTERN, max_length=32
    )
    window: Duration5mTo24h = _duration(
        "Range of avg_over_time() in the alerts: long enough to bridge the gaps between sending bursts.",
        "1h",
        "5m",
        "24h",
    )
    thresholds: Thresholds = Field(
        default_factory=Thresholds,
        description="Alert levels for the bounce and complaint rates and the send quota.",
        json_schema_extra=_object_default(Thresholds),
    )
    alerting: Alerting = Field(
        default_factory=Alerting,
        description="Alert timing, routing labels and annotations.",
        json_schema_extra=_object_default(Alerting),
    )
    configuration_sets: list[Annotated[str, Field(pattern=CONFIGURATION_SET_PATTERN, max_length=64)]] = Field(
        default_factory=list,
        alias="configurationSets",
        description="SES configuration sets to watch beside the whole account.",
        max_length=20,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    configuration_set_counts: list[
        Annotated[str, Field(pattern=CONFIGURATION_SET_PATTERN, max_length=64)]
    ] = Field(
        default_factory=list,
        alias="configurationSetCounts",
        description=(
            "Configuration sets (each also in configurationSets) whose Send, Delivery, Bounce, Complaint"
            " and Reject counts are read. CloudWatch has them only when the set has a CloudWatch event"
            " destination with exactly the ses:configuration-set dimension; otherwise they are 5 empty"
            " metrics billed per set per minute, so they are opt-in. The status says when a listed"
            " set's counts never have data."
        ),
        max_length=20,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    aws: Aws = Field(
        default_factory=Aws,
        description="Identity and endpoint used to read CloudWatch and SES.",
        json_schema_extra=_object_default(Aws),
    )
    exporter: Exporter = Field(
        default_factory=Exporter,
        description="The exporter that reads AWS.",
        json_schema_extra=_object_default(Exporter),
    )
    prometheus: Prometheus = Field(
        default_factory=Prometheus,
        description="Scraping and rule discovery settings.",
        json_schema_extra=_object_default(Prometheus),
    )
    events: Events | None = Field(
        default=None,
        description="Optional: an SQS queue of SES events, for bounce and complaint types and domains.",
    )
    protection: Protection = Field(
        default_factory=Protection,
        description=(
            "Opt-in: pause an offending configuration set before AWS pauses the account (docs/protection.md)."
        ),
        json_schema_extra=_object_default(Protection),
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
