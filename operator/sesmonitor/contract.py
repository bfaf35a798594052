"""The exporter's configuration file and its ``/status`` document.

Both sides of each contract live here because the layers forbid the exporter from importing the API
model and the operator from importing the exporter: `render` writes the configuration the exporter
reads, and the operator reads the ``/status`` the exporter serves.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final, NotRequired, TypedDict

EXPORTER_PORT: Final = 9435
CONFIG_FILE_NAME: Final = "config.json"
CONFIG_MOUNT_PATH: Final = "/etc/sesmonitor"
METRICS_PATH: Final = "/metrics"
HEALTHZ_PATH: Final = "/healthz"
READYZ_PATH: Final = "/readyz"
STATUS_PATH: Final = "/status"
# An API's values are stale once its last attempt failed or its last success is older than this many
# refresh intervals; /status `ready` needs every API to have succeeded within that many intervals.
STALE_AFTER_INTERVALS: Final = 3
RETRY_MODES: Final = ("standard", "adaptive")
# botocore service name -> the ExporterConfig field with its own endpoint.
ENDPOINT_FIELDS: Final = {
    "cloudwatch": "cloudwatch_endpoint_url",
    "sesv2": "sesv2_endpoint_url",
    "sts": "sts_endpoint_url",
    "sqs": "sqs_endpoint_url",
}
EVENTS_TOP_DOMAINS_DEFAULT: Final = 20
# What changes slowly is read less often than every refresh (exporter.model.cadence). The counts: the
# counters add a minute only once it settled, and one GetMetricData brings every minute since the last
# read, while CloudWatch bills each metric requested; so every 5 minutes (the rates: every refresh).
COUNTS_READ_SECONDS_DEFAULT: Final = 300
# A configuration set's settings (GetConfigurationSet) change by a person's hand: every 10 minutes takes
# the benchmark's account from 240 to about 130 requests an hour. A protected set: every refresh.
SETTINGS_READ_SECONDS_DEFAULT: Final = 600


class ConfigError(ValueError):
    """The configuration file is missing a field or holds a wrong value; the message names it."""


PROTECTION_MODES: Final = ("DryRun", "Enforce")  # spec.protection.mode Off renders no protection
# A person's resume reaches the exporter as a file, never over HTTP: the operator writes the key
# RESUME_FILE_NAME into the exporter's ConfigMap, {"requests": {"<set>": "<RFC 3339>"}}, and the pod
# mounts that key alone, read-only, at CONTROL_MOUNT_PATH (docs/protection.md). So only who may write the
# SesMonitor or that ConfigMap can resume; the exporter's port (reachable by any pod) serves GET only.
RESUME_FILE_NAME: Final = "resume.json"
CONTROL_MOUNT_PATH: Final = "/etc/sesmonitor-control"  # beside CONFIG_MOUNT_PATH: never nested in it


@dataclass(frozen=True)
class ProtectionConfig:
    """spec.protection as the exporter needs it: levels as fractions (0.1 = 10%), durations in seconds."""

    mode: str  # DryRun | Enforce
    configuration_sets: tuple[str, ...]
    bounce_rate: float
    complaint_rate: float
    hold_seconds: int = 600
    cooldown_seconds: int = 3600
    # The cluster's identity (the kube-system namespace's UID, from the operator) in the owner written
    # into each set's record: same-named monitors of two clusters never take each other's pauses.
    cluster_id: str = ""
    # SES tenants that may be paused (UpdateReputationEntityCustomerManagedStatus), by name; no other.
    tenants: tuple[str, ...] = ()

    @classmethod
    def from_doc(cls, doc: Any) -> ProtectionConfig:
        if not isinstance(doc, dict):
            raise ConfigError("protection: must be an object or null")
        try:
            config = cls(
                **dict(
                    doc,
                    configuration_sets=tuple(doc.get("configuration_sets", ())),
                    tenants=tuple(doc.get("tenants", ())),
                )
            )
        except TypeError as exc:
            raise ConfigError(f"protection: {exc}") from None
        if config.mode not in PROTECTION_MODES:
            raise ConfigError(f"protection.mode: must be one of {', '.join(PROTECTION_MODES)}")
        for name in ("configuration_sets", "tenants"):
            if not all(isinstance(s, str) and s for s in getattr(config, name)):
                raise ConfigError(f"protection.{name}: must be a list of non-empty names")
        if not config.configuration_sets and not config.tenants:
            raise ConfigError("protection: configuration_sets or tenants must name at least one")
        for name in ("bounce_rate", "complaint_rate"):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise ConfigError(f"protection.{name}: must be a fraction in (0, 1]")
        if not isinstance(config.cluster_id, str):
            raise ConfigError("protection.cluster_id: must be a string")
        for name in ("hold_seconds", "cooldown_seconds"):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"protection.{name}: must be a non-negative integer")
        return config


# spec.tenants (docs/tenants.md): each watched tenant is in one of these states, worst first.
TENANT_STATES: Final = ("paused_by_aws", "paused_by_customer", "at_risk", "unknown", "reinstated", "enabled")
TENANTS_LIMIT_DEFAULT: Final = 1000
TENANTS_LIMIT_MAX: Final = 10_000
TENANT_NAMES_MAX: Final = 100
# One read of a tenant is at most 2 SESv2 requests (GetTenant and GetReputationEntity, or its share of
# the list pages), so 20 minutes keeps the cost at 1 request per tenant per 10 minutes or less.
TENANTS_READ_INTERVAL_DEFAULT: Final = 1200
TENANTS_READ_INTERVAL_MIN: Final = 1200
WORST_TENANTS: Final = 10  # the tenants /status and the SesMonitor status name, worst first


@dataclass(frozen=True)
class TenantsConfig:
    """spec.tenants: which tenants to watch (`names`, else those whose name starts with `prefix`, else
    all), at most `limit` of them, each read every `read_interval_seconds`."""

    names: tuple[str, ...] = ()
    prefix: str | None = None
    limit: int = TENANTS_LIMIT_DEFAULT
    read_interval_seconds: int = TENANTS_READ_INTERVAL_DEFAULT

    @property
    def selection(self) -> str:
        """How a person reads the selection: "all", "prefix acme-", "3 listed"."""
        if self.names:
            return f"{len(self.names)} listed"
        return f"prefix {self.prefix}" if self.prefix else "all"

    @classmethod
    def from_doc(cls, doc: Any) -> TenantsConfig:
        if not isinstance(doc, dict):
            raise ConfigError("tenants: must be an object or null")
        try:
            config = cls(**dict(doc, names=tuple(doc.get("names", ()))))
        except TypeError as exc:
            raise ConfigError(f"tenants: {exc}") from None
        if not all(isinstance(n, str) and n for n in config.names) or len(config.names) > TENANT_NAMES_MAX:
            raise ConfigError(f"tenants.names: must be at most {TENANT_NAMES_MAX} non-empty names")
        if config.prefix is not None and (not isinstance(config.prefix, str) or not config.prefix):
            raise ConfigError("tenants.prefix: must be a non-empty string or null")
        if config.names and config.prefix:
            raise ConfigError("tenants: names and prefix exclude each other")
        for name, low, high in (
            ("limit", 1, TENANTS_LIMIT_MAX),
            ("read_interval_seconds", TENANTS_READ_INTERVAL_MIN, 86_400),
        ):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"tenants.{name}: must be an integer from {low} to {high}")
        return config


# spec.findings (docs/tenants.md#findings): VDM's open findings, read slowly (they change in hours).
FINDINGS_READ_INTERVAL_DEFAULT: Final = 1800
FINDINGS_READ_INTERVAL_MIN: Final = 900
FINDINGS_LIMIT_DEFAULT: Final = 200
FINDINGS_LIMIT_MAX: Final = 1000
WORST_FINDINGS: Final = 10


@dataclass(frozen=True)
class FindingsConfig:
    """spec.findings: ListRecommendations (STATUS OPEN) every `read_interval_seconds`, at most `limit`
    findings served."""

    read_interval_seconds: int = FINDINGS_READ_INTERVAL_DEFAULT
    limit: int = FINDINGS_LIMIT_DEFAULT

    @classmethod
    def from_doc(cls, doc: Any) -> FindingsConfig:
        if not isinstance(doc, dict):
            raise ConfigError("findings: must be an object or null")
        try:
            config = cls(**doc)
        except TypeError as exc:
            raise ConfigError(f"findings: {exc}") from None
        for name, low, high in (
            ("read_interval_seconds", FINDINGS_READ_INTERVAL_MIN, 86_400),
            ("limit", 1, FINDINGS_LIMIT_MAX),
        ):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"findings.{name}: must be an integer from {low} to {high}")
        return config


@dataclass(frozen=True)
class ExporterConfig:
    """What one exporter process reads from AWS and how. Holds no credentials by design."""

    monitor: str  # "<namespace>/<name>", written as the `sesmonitor` label on every series
    region: str
    configuration_sets: tuple[str, ...] = ()
    # The sets (among configuration_sets) whose counts (Send, Delivery, ...) are read as well as their
    # reputation rates: counts per set exist only with a CloudWatch event destination for the set.
    count_configuration_sets: tuple[str, ...] = ()
    refresh_interval_seconds: int = 60
    lookback_seconds: int = 7200
    window_seconds: int = 3600
    endpoint_url: str | None = None  # every service (an emulator); the per-service ones override it
    cloudwatch_endpoint_url: str | None = None
    sesv2_endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = "sesmonitor-exporter"
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 20.0
    max_attempts: int = 3
    retry_mode: str = "standard"  # botocore retry mode: standard | adaptive
    period_seconds: int = 60  # CloudWatch period of each datapoint; SES metrics are 1-minute resolution
    # The count counters (aws_ses_send_total, ...) add a period once its end is this old: CloudWatch's
    # newest minutes are often still partial.
    count_settle_seconds: int = 300
    # How often the counts, and the unprotected sets' settings, are read (see the defaults' comments);
    # settable for the benchmark's fast cycles, not from the SesMonitor spec.
    counts_read_interval_seconds: int = COUNTS_READ_SECONDS_DEFAULT
    settings_read_interval_seconds: int = SETTINGS_READ_SECONDS_DEFAULT
    # SES events (spec.events): the SQS queue an event destination feeds, read in the background.
    sqs_endpoint_url: str | None = None
    events_queue_url: str | None = None
    events_region: str | None = None  # the queue's region when it differs from `region`
    events_top_domains: int = EVENTS_TOP_DOMAINS_DEFAULT  # recipient domains with a label of their own
    events_wait_seconds: int = 20  # SQS long polling (the most SQS allows)
    events_dedupe_entries: int = 100_000  # (message id, recipient, ...) keys remembered: bounded memory
    protection: ProtectionConfig | None = None  # spec.protection in DryRun or Enforce
    tenants: TenantsConfig | None = None  # spec.tenants
    findings: FindingsConfig | None = None  # spec.findings

    def endpoint(self, service: str) -> str | None:
        """The endpoint of a botocore service ("cloudwatch", "sesv2", "sts"): its own, else the shared one."""
        own: str | None = getattr(self, ENDPOINT_FIELDS[service])
        return own or self.endpoint_url

    def to_json(self) -> str:
        doc = asdict(self)
        doc["configuration_sets"] = list(self.configuration_sets)
        doc["count_configuration_sets"] = list(self.count_configuration_sets)
        if self.protection is None:
            del doc["protection"]  # the file (and its hash) of a monitor without protection is unchanged
        else:
            doc["protection"]["configuration_sets"] = list(self.protection.configuration_sets)
            doc["protection"]["tenants"] = list(self.protection.tenants)
            if not self.protection.tenants:
                del doc["protection"]["tenants"]  # unchanged for a monitor protecting sets only
        if self.tenants is None:
            del doc["tenants"]  # likewise for a monitor without spec.tenants
        else:
            doc["tenants"]["names"] = list(self.tenants.names)
        if self.findings is None:
            del doc["findings"]
        for name, default in READ_INTERVAL_DEFAULTS.items():
            if doc[name] == default:
                del doc[name]  # the rendered file (and its hash) stays as before these settings
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ExporterConfig:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise ConfigError("top level must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ConfigError(f"unknown field(s): {', '.join(unknown)}")
        for required in ("monitor", "region"):
            if not isinstance(doc.get(required), str) or not doc[required]:
                raise ConfigError(f"{required}: required, a non-empty string")
        sets = doc.get("configuration_sets", [])
        if not isinstance(sets, list) or not all(isinstance(s, str) and s for s in sets):
            raise ConfigError("configuration_sets: must be a list of non-empty strings")
        doc["configuration_sets"] = tuple(sets)
        counted = doc.get("count_configuration_sets", [])
        if not isinstance(counted, list) or not all(isinstance(s, str) and s for s in counted):
            raise ConfigError("count_configuration_sets: must be a list of non-empty strings")
        unlisted = [s for s in counted if s not in sets]
        if unlisted:
            raise ConfigError(f"count_configuration_sets: not in configuration_sets: {', '.join(unlisted)}")
        doc["count_configuration_sets"] = tuple(counted)
        for name in (
            "refresh_interval_seconds",
            "lookback_seconds",
            "window_seconds",
            "max_attempts",
            "period_seconds",
            *READ_INTERVAL_DEFAULTS,
        ):
            if name in doc and (
                not isinstance(doc[name], int) or isinstance(doc[name], bool) or doc[name] < 1
            ):
                raise ConfigError(f"{name}: must be a positive integer")
        settle = doc.get("count_settle_seconds", 0)
        if not isinstance(settle, int) or isinstance(settle, bool) or settle < 0:
            raise ConfigError("count_settle_seconds: must be a non-negative integer")
        for name in ("connect_timeout_seconds", "read_timeout_seconds"):
            if name in doc and (not isinstance(doc[name], int | float) or doc[name] <= 0):
                raise ConfigError(f"{name}: must be a positive number")
        for name in (*ENDPOINT_FIELDS.values(), "endpoint_url", "role_arn", "external_id"):
            if doc.get(name) is not None and not isinstance(doc[name], str):
                raise ConfigError(f"{name}: must be a string or null")
        _check_events(doc)
        if "role_session_name" in doc and (
            not isinstance(doc["role_session_name"], str) or not doc["role_session_name"]
        ):
            raise ConfigError("role_session_name: must be a non-empty string")
        if "retry_mode" in doc and doc["retry_mode"] not in RETRY_MODES:
            raise ConfigError(f"retry_mode: must be one of {', '.join(RETRY_MODES)}")
        if doc.get("period_seconds", 60) % 60:
            raise ConfigError(
                "period_seconds: must be a multiple of 60 (SES metrics are 1-minute resolution)"
            )
        if doc.get("protection") is not None:
            doc["protection"] = ProtectionConfig.from_doc(doc["protection"])
            unlisted = [s for s in doc["protection"].configuration_sets if s not in sets]
            if unlisted:
                raise ConfigError(
                    f"protection.configuration_sets: not in configuration_sets: {', '.join(unlisted)}"
                )
        _parse_sections(doc)
        config = cls(**doc)
        if config.lookback_seconds < config.period_seconds:
            raise ConfigError("lookback_seconds: must be at least period_seconds")
        return config


READ_INTERVAL_DEFAULTS: Final = {
    "counts_read_interval_seconds": COUNTS_READ_SECONDS_DEFAULT,
    "settings_read_interval_seconds": SETTINGS_READ_SECONDS_DEFAULT,
}


def _parse_sections(doc: dict[str, Any]) -> None:
    """spec.tenants' and spec.findings' parts of the file, each checked by its own class."""
    if doc.get("tenants") is not None:
        doc["tenants"] = TenantsConfig.from_doc(doc["tenants"])
    if doc.get("findings") is not None:
        doc["findings"] = FindingsConfig.from_doc(doc["findings"])


def _check_events(doc: dict[str, Any]) -> None:
    for name in ("events_queue_url", "events_region"):
        if doc.get(name) is not None and not (isinstance(doc[name], str) and doc[name]):
            raise ConfigError(f"{name}: must be a non-empty string or null")
    for name, low, high in (
        ("events_top_domains", 0, 1000),
        ("events_wait_seconds", 0, 20),
        ("events_dedupe_entries", 1, 10_000_000),
    ):
        value = doc.get(name, low)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(f"{name}: must be an integer from {low} to {high}")


class DomainCount(TypedDict):
    domain: str
    count: int


class EventsBreakdown(TypedDict):
    """Per-recipient SES event counts over the last hour (bounces by type and sub-type, the domains
    with most bounces, complaints by feedback type)."""

    window_seconds: int
    sends: int
    deliveries: int
    bounces: int
    bounce_types: dict[str, int]  # Permanent | Transient | Undetermined -> count
    bounce_sub_types: dict[str, dict[str, int]]  # bounce type -> sub-type -> count
    top_domains: list[DomainCount]  # the most bounced recipient domains, most first (a few)
    complaints: dict[str, int]  # feedback type ("" when the report had none) -> count
    delays: int


class ServiceEventStatus(TypedDict):
    """The last SES EventBridge service event of a kind (metrics.SERVICE_EVENT_KINDS) on the queue."""

    detail_type: str  # Sending Status Disabled, Advisor Recommendation Status Open, ...
    resource: str | None  # resources[0]: the tenant's ARN (a finding's resource)
    tenant: str | None  # the tenant's name in that ARN, when it has one
    status: str  # the new status: ENABLED | DISABLED | REINSTATED, or OPEN | RESOLVED
    origin: str | None  # AWS_MANAGED | CUSTOMER_MANAGED (who changed a sending status)
    cause: str | None  # the status record's cause, or the finding's description
    type: str | None  # a finding's type (BOUNCE, COMPLAINT, ...)
    impact: str | None  # a finding's impact (LOW | HIGH)
    time: str | None  # RFC 3339: the event's own time
    received: str  # RFC 3339: when the exporter received it
    outcome: str  # metrics.SERVICE_EVENT_OUTCOMES: acted (a read came sooner), rate_limited, ...


class EventsStatus(TypedDict):
    """The SES event consumer (spec.events); the ReceiveMessage and GetQueueAttributes health is in
    ExporterStatus.apis."""

    queue_url: str
    messages: dict[str, int]  # outcome (counted, duplicate, malformed, ignored) -> since start
    queue_visible: int | None  # ApproximateNumberOfMessages, None until read
    queue_in_flight: int | None  # ApproximateNumberOfMessagesNotVisible
    oldest_received_age_seconds: float | None
    last_hour: EventsBreakdown
    loop_restarts: int  # the consumer's loops restarted after an unexpected exception, since start
    # The queue's RedrivePolicy (GetQueueAttributes). redrive_policy_read False until it was read (older
    # exporters leave all three out). dead_letter_queue: the dead-letter queue's ARN, None when the queue
    # has none: then a malformed message is counted once and deleted instead of left for the redrive.
    redrive_policy_read: bool
    dead_letter_queue: str | None
    max_receive_count: int | None
    # kind -> the last service event of that kind (only kinds seen since start). Older exporters leave it out.
    service_events: NotRequired[dict[str, ServiceEventStatus]]


class RateStatus(TypedDict):
    """One reputation rate as a fraction (0.05 = 5%); None when no datapoint is within the lookback."""

    current: float | None
    window_average: float | None
    timestamp: str | None  # RFC 3339 time of the newest datapoint
    age_seconds: float | None
    # Without a datapoint, why (sesmonitor.metrics.NO_DATA_REASONS): e.g. no_events_in_lookback for a
    # clean account, which AWS publishes no rate for. Older exporters leave it out.
    no_data_reason: str | None


class AccountStatus(TypedDict):
    enforcement_status: str | None  # HEALTHY | PROBATION | SHUTDOWN, None until GetAccount succeeded
    sending_enabled: bool | None
    production_access_enabled: bool | None
    max_24_hour_send: float | None
    sent_last_24_hours: float | None
    max_send_rate: float | None
    # SuppressionAttributes.SuppressedReasons ([] : the account-level suppression list is off); the
    # review's Details.ReviewDetails; VDM. Older exporters leave them out.
    suppressed_reasons: NotRequired[list[str] | None]
    review_status: NotRequired[str | None]
    review_case_id: NotRequired[str | None]
    vdm_enabled: NotRequired[bool | None]


class ApiHealth(TypedDict):
    """One AWS API as the exporter sees it (keys of ExporterStatus.apis: GetMetricData, GetAccount, and
    GetConfigurationSet with configuration sets listed)."""

    last_success_time: str | None  # RFC 3339
    consecutive_failures: int
    stale: bool
    last_error: str | None  # of the last failed attempt; kept after a recovery, see last_error_time
    last_error_time: str | None
    # The AWS error code (AccessDeniedException, ExpiredToken, ...) or, without an answer from AWS, the
    # botocore exception's name (EndpointConnectionError, NoCredentialsError, ReadTimeoutError).
    last_error_code: str | None
    # How that error counts in sesmonitor_aws_requests_total: denied, throttled, timeout, server_error,
    # client_error or error (sesmonitor.metrics.OUTCOMES).
    last_error_kind: str | None


class ProtectedSetStatus(TypedDict):
    """One spec.protection set as the exporter sees it (ExporterStatus.protection)."""

    mode: str  # DryRun | Enforce
    # watching | paused (by this monitor) | would_pause (DryRun) | paused_elsewhere | cooldown | unknown |
    # missing (GetConfigurationSet: NotFoundException; nothing judged or written)
    state: str
    sending_enabled: bool | None  # SESv2 GetConfigurationSet SendingOptions.SendingEnabled
    paused_at: str | None  # RFC 3339, of sesmonitor's (would-be) pause
    reason: (
        str | None
    )  # why sesmonitor paused it, e.g. "bounce rate 12.00% at or above 10.00% for 10m or more"
    resumed_at: str | None
    cooldown_until: str | None
    last_error: str | None  # the last write (pause, resume, tags) that failed, until one succeeds
    last_error_code: str | None  # AccessDeniedException, ...
    resume_refused: str | None  # why the newest resume request was refused, until one is accepted
    # Who resumed it last: "sesmonitor (<owner>)" at a person's request, or "outside sesmonitor" for a
    # re-enable it saw (a person, a script, another monitor): both start the cooldown.
    resumed_by: str | None
    owner: str  # this monitor's owner id in the set's record: <cluster id>/<namespace>/<name>
    also_protected_by: str | None  # another monitor (owner id) seen in the set's record: two protect it
    resume_dropped: str | None  # the last resume request dropped (neither acted on nor refused), and why
    resume_dropped_count: int  # resume requests dropped since the exporter started
    next_attempt_at: str | None  # after a failed call, when the next one may be made (the backoff)


class TenantStatus(TypedDict):
    """One watched tenant (spec.tenants) as GetTenant / ListTenants and its reputation entity say."""

    name: str
    state: str  # TENANT_STATES
    sending_status: str | None  # the aggregate: ENABLED | REINSTATED | DISABLED
    paused_by: str | None  # aws | customer | aws_and_customer, while the tenant may not send
    cause: str | None  # the pausing side's Cause (AWS's first)
    impact: str | None  # ReputationImpact: LOW | HIGH, the highest open finding's
    policy: str | None  # the reputation policy's name: none | standard | strict


class TenantsStatus(TypedDict):
    """spec.tenants as the exporter last read it (ExporterStatus.tenants)."""

    selection: str  # all | prefix <p> | <n> listed
    matching: int | None  # tenants the selection matched; None until a read succeeded
    watched: int  # at most `limit`
    limit: int
    counts: dict[str, int]  # TENANT_STATES -> tenants in it
    worst: list[TenantStatus]  # at most WORST_TENANTS, worst state first, then by name
    missing: list[str]  # listed names AWS has no tenant for
    message: str | None  # for a person: over the limit, names missing
    last_read_time: str | None  # RFC 3339, of the last read that succeeded
    last_error: str | None  # of the last read, when it failed
    last_error_code: str | None
    requests_last_read: int  # SESv2 requests the last successful read took


class FindingStatus(TypedDict):
    """One open reputation finding (spec.findings)."""

    type: str  # DKIM, DMARC, SPF, BIMI, COMPLAINT, BOUNCE, FEEDBACK_3P, IP_LISTING, ...
    impact: str | None  # LOW | HIGH
    resource_type: str  # identity | configuration-set | tenant | account
    resource: str  # its name (the ARN for the account)
    resource_arn: str
    description: str | None


class FindingsStatus(TypedDict):
    """spec.findings as the exporter last read it (ExporterStatus.findings)."""

    vdm_enabled: bool | None  # GetAccount's VdmAttributes; False: findings cannot be read, none are
    open: int | None  # open findings AWS listed; None until read
    high: int  # of those served, HIGH impact
    worst: list[FindingStatus]  # at most WORST_FINDINGS: HIGH first, then the oldest
    message: str | None  # for a person: VDM off (and what enabling it costs), over the limit
    last_read_time: str | None
    last_error: str | None
    last_error_code: str | None


@dataclass
class ExporterStatus:
    """The JSON document served at ``/status``: what the operator mirrors into the SesMonitor status."""

    monitor: str
    region: str
    ready: bool
    stale: bool
    bounce_rate: RateStatus
    complaint_rate: RateStatus
    account: AccountStatus
    last_refresh_time: str | None  # RFC 3339 time of the last refresh in which every API succeeded
    last_error: str | None
    configuration_sets: dict[str, dict[str, RateStatus]] = field(default_factory=dict)
    apis: dict[str, ApiHealth] = field(default_factory=dict)
    # Each configuration set whose counts are read (count_configuration_sets) -> the count metrics
    # (CloudWatch names: Send, Delivery, ...) that have had no datapoint since the exporter started, the
    # first read's lookback included; sets whose counts all had data are left out. Empty until
    # GetMetricData first succeeds. Older exporters leave it out.
    counts_without_data: dict[str, list[str]] = field(default_factory=dict)
    events: EventsStatus | None = None  # only with spec.events; older exporters leave it out
    # spec.protection's sets (DryRun or Enforce); empty without protection. Older exporters leave it out.
    protection: dict[str, ProtectedSetStatus] = field(default_factory=dict)
    # spec.protection's tenants, by tenant name, in the same shape (sending_enabled: the tenant's
    # reputation entity lets it send). Empty without protected tenants. Older exporters leave it out.
    protection_tenants: dict[str, ProtectedSetStatus] = field(default_factory=dict)
    tenants: TenantsStatus | None = None  # only with spec.tenants; older exporters leave it out
    findings: FindingsStatus | None = None  # only with spec.findings; older exporters leave it out
    # The listed configuration sets GetConfigurationSet last answered NotFoundException for (deleted, or
    # misspelled in the spec), sorted; the other sets are read and protected all the same. Older
    # exporters leave it out.
    configuration_sets_missing: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExporterStatus:
        """Unknown keys are ignored, so an older reader accepts a newer exporter's document."""
        doc: dict[str, Any] = json.loads(text)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in known})


def empty_rate() -> RateStatus:
    return RateStatus(
        current=None, window_average=None, timestamp=None, age_seconds=None, no_data_reason=None
    )


def empty_account() -> AccountStatus:
    return AccountStatus(
        enforcement_status=None,
        sending_enabled=None,
        production_access_enabled=None,
        max_24_hour_send=None,
        sent_last_24_hours=None,
        max_send_rate=None,
    )
