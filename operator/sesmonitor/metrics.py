"""Every metric name and label the exporter writes and the alert rules read.

This module is the single contract between `sesmonitor.exporter` and `sesmonitor.render`: rename a
series here and both sides follow, so an alert can never select a series that no longer exists.
CloudWatch series follow prometheus cloudwatch_exporter's convention
(``aws_<namespace>_<metric>_<statistic>``) so dashboards built for it keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Statistic = Literal["Sum", "Average"]

# Labels on every series the exporter writes.
LABEL_MONITOR: Final = "sesmonitor"  # "<namespace>/<name>" of the SesMonitor: selects this monitor only
LABEL_REGION: Final = "region"
LABEL_CONFIGURATION_SET: Final = "configuration_set"  # absent (empty) for account-wide series
LABEL_METRIC: Final = "metric"  # the CloudWatch metric name on per-datapoint bookkeeping series
LABEL_REASON: Final = "reason"
LABEL_STATUS: Final = "status"
LABEL_API: Final = "api"
LABEL_OUTCOME: Final = "outcome"

CLOUDWATCH_NAMESPACE: Final = "AWS/SES"
CONFIGURATION_SET_DIMENSION: Final = "ses:configuration-set"


@dataclass(frozen=True)
class CloudWatchMetric:
    """One AWS/SES CloudWatch metric and the Prometheus series it becomes."""

    aws_name: str
    statistic: Statistic
    prometheus_name: str
    help: str
    is_rate: bool  # a fraction in [0, 1], published only while mail is being sent
    # A count's counter: the Sums of settled periods, accumulated (increase()/rate() give true counts).
    counter_name: str | None = None


SEND = CloudWatchMetric(
    "Send", "Sum", "aws_ses_send_sum", "Emails SES accepted for sending.", False, "aws_ses_send_total"
)
DELIVERY = CloudWatchMetric(
    "Delivery",
    "Sum",
    "aws_ses_delivery_sum",
    "Emails delivered to the recipient's mail server.",
    False,
    "aws_ses_delivery_total",
)
BOUNCE = CloudWatchMetric(
    "Bounce", "Sum", "aws_ses_bounce_sum", "Hard bounces.", False, "aws_ses_bounce_total"
)
COMPLAINT = CloudWatchMetric(
    "Complaint",
    "Sum",
    "aws_ses_complaint_sum",
    "Complaints (marked as spam).",
    False,
    "aws_ses_complaint_total",
)
REJECT = CloudWatchMetric(
    "Reject", "Sum", "aws_ses_reject_sum", "Emails SES rejected (virus).", False, "aws_ses_reject_total"
)
BOUNCE_RATE = CloudWatchMetric(
    "Reputation.BounceRate",
    "Average",
    "aws_ses_reputation_bounce_rate_average",
    "Reputation bounce rate as a fraction (0.05 = 5%), AWS's own figure.",
    True,
)
COMPLAINT_RATE = CloudWatchMetric(
    "Reputation.ComplaintRate",
    "Average",
    "aws_ses_reputation_complaint_rate_average",
    "Reputation complaint rate as a fraction (0.001 = 0.1%), AWS's own figure.",
    True,
)

CLOUDWATCH_METRICS: Final = (SEND, DELIVERY, BOUNCE, COMPLAINT, REJECT, BOUNCE_RATE, COMPLAINT_RATE)
# Read for the account and, with dimension ses:configuration-set, for each listed configuration set
# (reputation metrics per set need the set's ReputationMetricsEnabled option in SES).

# Freshness of the newest datapoint behind each CloudWatch series (labels: metric, configuration_set).
DATAPOINT_AGE_SECONDS: Final = "sesmonitor_datapoint_age_seconds"
DATAPOINT_TIMESTAMP_SECONDS: Final = "sesmonitor_datapoint_timestamp_seconds"
# 1 when a CloudWatch series has no datapoint within the lookback (labels: metric, configuration_set, reason).
# Written only for the series that are absent; a series with data has no `sesmonitor_no_data` sample.
NO_DATA: Final = "sesmonitor_no_data"
NO_DATA_NOT_REFRESHED: Final = "not_refreshed_yet"  # no GetMetricData call has succeeded since start
NO_DATA_NO_DATAPOINTS: Final = "no_datapoints_in_lookback"  # CloudWatch returned nothing in the lookback
NO_DATA_QUERY_ERROR: Final = "query_error"  # CloudWatch answered this query with an error status
# For a reputation rate, why it is absent when the exporter can tell (AWS publishes Reputation.BounceRate
# only once there were bounces, Reputation.ComplaintRate once there were complaints, and both only while
# mail is sent; per configuration set only with the set's ReputationMetricsEnabled):
NO_DATA_NO_SENDS: Final = "no_sends_in_lookback"  # CloudWatch counted no Send in the lookback
NO_DATA_NO_EVENTS: Final = "no_events_in_lookback"  # mail was sent, none bounced (complained)
NO_DATA_REPUTATION_DISABLED: Final = "reputation_metrics_disabled"  # the set's ReputationMetricsEnabled
# A configuration set's rate, and the set's counts are not read (not opted in), so whether mail went
# through it is unknown.
NO_DATA_COUNTS_NOT_READ: Final = "counts_not_read"
NO_DATA_REASONS: Final = (
    NO_DATA_NOT_REFRESHED,
    NO_DATA_NO_DATAPOINTS,
    NO_DATA_QUERY_ERROR,
    NO_DATA_NO_SENDS,
    NO_DATA_NO_EVENTS,
    NO_DATA_REPUTATION_DISABLED,
    NO_DATA_COUNTS_NOT_READ,
)
# The reasons SESMonitorNoReputationData fires on: mail was sent and the exporter cannot tell why the rate
# is absent, or AWS answered with an error (not_refreshed_yet is SESMonitorAWSReadErrors' to report).
NO_DATA_UNEXPLAINED_REASONS: Final = (NO_DATA_NO_DATAPOINTS, NO_DATA_QUERY_ERROR)
# Mean of the datapoints within the configured window, as the exporter saw them (reputation rates only).
WINDOW_AVERAGE_SUFFIX: Final = "_window_average"


def window_average_name(metric: CloudWatchMetric) -> str:
    """`aws_ses_reputation_bounce_rate_average_window_average` for BOUNCE_RATE, and so on."""
    return metric.prometheus_name + WINDOW_AVERAGE_SUFFIX


WINDOW_AVERAGE_METRICS: Final = tuple(m for m in CLOUDWATCH_METRICS if m.is_rate)
# The counts, each also served as a counter (`aws_ses_send_total`, ...): the gauge `aws_ses_send_sum`
# holds one period's Sum (the newest with mail), the counter adds every period once it has settled.
COUNT_METRICS: Final = tuple(m for m in CLOUDWATCH_METRICS if m.counter_name is not None)


def counter_name(metric: CloudWatchMetric) -> str:
    """`aws_ses_send_total` for SEND, and so on; only for COUNT_METRICS."""
    if metric.counter_name is None:
        raise ValueError(f"{metric.aws_name} is not a count")
    return metric.counter_name


# SESv2 GetAccount.
ENFORCEMENT_STATUS: Final = "aws_ses_account_enforcement_status"  # label status: 1 for the current one
ENFORCEMENT_STATUSES: Final = ("HEALTHY", "PROBATION", "SHUTDOWN")
SENDING_ENABLED: Final = "aws_ses_account_sending_enabled"
PRODUCTION_ACCESS_ENABLED: Final = "aws_ses_account_production_access_enabled"
QUOTA_MAX_24H_SEND: Final = "aws_ses_account_max_24_hour_send"
QUOTA_MAX_SEND_RATE: Final = "aws_ses_account_max_send_rate"
QUOTA_SENT_LAST_24H: Final = "aws_ses_account_sent_last_24_hours"
# 1 while the account-level suppression list adds addresses that bounce or complain (SuppressedReasons
# not empty), 0 while it is off: SES then keeps sending to them and the rates climb.
SUPPRESSION_LIST_ENABLED: Final = "aws_ses_account_suppression_list_enabled"
# 1 while GetAccount has Details.ReviewDetails: labels review_status (PENDING, FAILED, GRANTED, DENIED)
# and case_id (the appeal's support case).
REVIEW_INFO: Final = "aws_ses_account_review_info"
LABEL_REVIEW_STATUS: Final = "review_status"
LABEL_CASE_ID: Final = "case_id"
VDM_ENABLED: Final = "aws_ses_account_vdm_enabled"  # 1 with Virtual Deliverability Manager on

# SESv2 GetConfigurationSet SendingOptions.SendingEnabled of each listed configuration set (label
# configuration_set): 0 while the set is paused, by sesmonitor's spec.protection or by anyone else.
CONFIGURATION_SET_SENDING_ENABLED: Final = "aws_ses_configuration_set_sending_enabled"
# 1 for each listed set GetConfigurationSet answers NotFoundException for (deleted, or misspelled in
# spec.configurationSets), 0 for each set it found (label configuration_set); no sample for a set whose
# read failed otherwise. The other sets are read and protected all the same.
CONFIGURATION_SET_MISSING: Final = "sesmonitor_configuration_set_missing"
# spec.protection (docs/protection.md). 1 for each listed set whose sending is disabled, saying who
# paused it (sesmonitor | unknown), when (RFC 3339, "" when unknown) and why (the rate then, "" unknown).
CONFIGURATION_SET_PAUSED_INFO: Final = "sesmonitor_configuration_set_paused_info"
LABEL_PAUSED_BY: Final = "paused_by"
LABEL_PAUSED_AT: Final = "paused_at"
LABEL_ACTION: Final = "action"  # pause | would_pause | resume | tag | read_tags | read_entity (a tenant's)
LABEL_CODE: Final = "code"  # the AWS error code of a failed protection call
PAUSED_BY_SESMONITOR: Final = "sesmonitor"
PAUSED_BY_UNKNOWN: Final = "unknown"
# Protection's calls by target, action and outcome (OUTCOMES); would_pause writes nothing. A target is a
# configuration set (label configuration_set, tenant "") or a tenant (label tenant, configuration_set "");
# target_kind says which (TARGET_KINDS).
PROTECTION_ACTIONS_TOTAL: Final = "sesmonitor_protection_actions_total"
# 1 while the last protection call of a target failed (labels: target_kind, configuration_set | tenant,
# action, code).
PROTECTION_ACTION_FAILED: Final = "sesmonitor_protection_action_failed"
LABEL_TARGET_KIND: Final = "target_kind"
TARGET_CONFIGURATION_SET: Final = "configuration_set"
TARGET_TENANT: Final = "tenant"
TARGET_KINDS: Final = (TARGET_CONFIGURATION_SET, TARGET_TENANT)

# spec.tenants (docs/tenants.md): SESv2 ListTenants or GetTenant, and each tenant's reputation entity
# (ListReputationEntities, GetReputationEntity). One series per watched tenant: its state in the labels.
LABEL_TENANT: Final = "tenant"
LABEL_STATE: Final = "state"  # contract.TENANT_STATES
LABEL_CAUSE: Final = "cause"  # the pausing side's Cause, at most CAUSE_MAX_LENGTH characters, "" if none
LABEL_IMPACT: Final = "impact"  # ReputationImpact: LOW | HIGH, "" when AWS gives none
LABEL_POLICY: Final = "policy"  # none | standard | strict
CAUSE_MAX_LENGTH: Final = 120
PAUSED_BY_AWS: Final = "aws"
PAUSED_BY_CUSTOMER: Final = "customer"
PAUSED_BY_BOTH: Final = "aws_and_customer"
# 1 for each watched tenant; labels tenant, state, status (the aggregate sending status), paused_by ("" while
# it may send), cause, impact, policy.
TENANT_STATUS: Final = "aws_ses_tenant_status"
TENANTS: Final = "aws_ses_tenants"  # label state: the watched tenants in each state (every state written)
TENANTS_MATCHING: Final = "sesmonitor_tenants_matching"  # what spec.tenants' selection matched
TENANTS_UNWATCHED: Final = "sesmonitor_tenants_unwatched"  # matched beyond spec.tenants.limit, not read
TENANTS_LAST_SUCCESS: Final = "sesmonitor_tenants_last_successful_read_timestamp_seconds"
TENANTS_READ_FAILED: Final = "sesmonitor_tenants_read_failed"  # 1 while the last read of the tenants failed
API_LIST_TENANTS: Final = "ListTenants"
API_GET_TENANT: Final = "GetTenant"
API_LIST_REPUTATION_ENTITIES: Final = "ListReputationEntities"
API_GET_REPUTATION_ENTITY: Final = "GetReputationEntity"
TENANT_APIS: Final = (
    API_LIST_TENANTS,
    API_GET_TENANT,
    API_LIST_REPUTATION_ENTITIES,
    API_GET_REPUTATION_ENTITY,
)
TENANT_METRIC_NAMES: Final = (
    TENANT_STATUS,
    TENANTS,
    TENANTS_MATCHING,
    TENANTS_UNWATCHED,
    TENANTS_LAST_SUCCESS,
    TENANTS_READ_FAILED,
)

# spec.findings (docs/tenants.md#findings): SESv2 ListRecommendations with status OPEN, while VDM is on.
LABEL_TYPE: Final = "type"  # DKIM, DMARC, SPF, BIMI, COMPLAINT, BOUNCE, FEEDBACK_3P, IP_LISTING, ...
LABEL_RESOURCE_TYPE: Final = "resource_type"  # identity | configuration-set | tenant | account
LABEL_RESOURCE: Final = "resource"  # the resource's name (the ARN for the account)
FINDING_IMPACTS: Final = ("LOW", "HIGH")
# 1 per open finding (at most spec.findings.limit series); labels type, impact, resource_type, resource.
REPUTATION_FINDING_OPEN: Final = "aws_ses_reputation_finding_open"
REPUTATION_FINDINGS: Final = "aws_ses_reputation_findings_open"  # label impact: open findings served
FINDINGS_LAST_SUCCESS: Final = "sesmonitor_findings_last_successful_read_timestamp_seconds"
FINDINGS_READ_FAILED: Final = "sesmonitor_findings_read_failed"  # 1 while the last read failed
API_LIST_RECOMMENDATIONS: Final = "ListRecommendations"
FINDING_METRIC_NAMES: Final = (
    REPUTATION_FINDING_OPEN,
    REPUTATION_FINDINGS,
    FINDINGS_LAST_SUCCESS,
    FINDINGS_READ_FAILED,
)

# The exporter's own health.
# HTTP requests sent to AWS, botocore retries included (labels: api, outcome).
AWS_REQUESTS_TOTAL: Final = "sesmonitor_aws_requests_total"  # labels: api, outcome
CLOUDWATCH_METRICS_REQUESTED_TOTAL: Final = "sesmonitor_cloudwatch_metrics_requested_total"  # billed unit
REFRESH_DURATION_SECONDS: Final = "sesmonitor_refresh_duration_seconds"  # the last refresh pass
LAST_SUCCESS_TIMESTAMP_SECONDS: Final = "sesmonitor_last_successful_refresh_timestamp_seconds"  # label: api
CONSECUTIVE_FAILURES: Final = "sesmonitor_refresh_consecutive_failures"  # label: api
# label: api. 1 while the served values do not come from the latest refresh: its last attempt failed, or
# its last success is older than STALE_AFTER_INTERVALS refresh intervals (see sesmonitor.contract).
STALE: Final = "sesmonitor_stale"
UP: Final = "up"  # written by Prometheus, not the exporter

OUTCOMES: Final = ("success", "throttled", "denied", "server_error", "client_error", "timeout", "error")
APIS: Final = ("GetMetricData", "GetAccount")
# SESv2 GetConfigurationSet (each listed set's ReputationOptions), read only when sets are listed.
API_CONFIGURATION_SET: Final = "GetConfigurationSet"


def all_metric_names() -> tuple[str, ...]:
    """Every metric name the exporter writes (plus `up`, which Prometheus writes), for docs and tests."""
    names = [m.prometheus_name for m in CLOUDWATCH_METRICS]
    names += [window_average_name(m) for m in WINDOW_AVERAGE_METRICS]
    names += [counter_name(m) for m in COUNT_METRICS]
    names += [
        DATAPOINT_AGE_SECONDS,
        DATAPOINT_TIMESTAMP_SECONDS,
        NO_DATA,
        ENFORCEMENT_STATUS,
        SENDING_ENABLED,
        PRODUCTION_ACCESS_ENABLED,
        QUOTA_MAX_24H_SEND,
        QUOTA_MAX_SEND_RATE,
        QUOTA_SENT_LAST_24H,
        SUPPRESSION_LIST_ENABLED,
        REVIEW_INFO,
        VDM_ENABLED,
        CONFIGURATION_SET_SENDING_ENABLED,
        CONFIGURATION_SET_MISSING,
        CONFIGURATION_SET_PAUSED_INFO,
        PROTECTION_ACTIONS_TOTAL,
        PROTECTION_ACTION_FAILED,
        AWS_REQUESTS_TOTAL,
        CLOUDWATCH_METRICS_REQUESTED_TOTAL,
        REFRESH_DURATION_SECONDS,
        LAST_SUCCESS_TIMESTAMP_SECONDS,
        CONSECUTIVE_FAILURES,
        STALE,
        UP,
    ]
    return tuple(names)


# SES events (spec.events): counted from the SQS queue an SES event destination feeds; served only
# with events configured. Counts are per recipient, each event counted once (see docs/metrics.md).
LABEL_BOUNCE_TYPE: Final = "bounce_type"  # Permanent | Transient | Undetermined
LABEL_BOUNCE_SUB_TYPE: Final = "bounce_sub_type"  # NoEmail, General, MailboxFull, Suppressed, ...
LABEL_FEEDBACK_TYPE: Final = "complaint_feedback_type"  # abuse, fraud, not-spam, ...; "" when absent
LABEL_DELAY_TYPE: Final = "delay_type"  # MailboxFull, TransientCommunicationFailure, ...
LABEL_RECIPIENT_DOMAIN: Final = "recipient_domain"  # one of the top N, or EVENTS_OTHER_DOMAIN
LABEL_QUEUE_STATE: Final = "queue_state"  # visible | in_flight
EVENTS_OTHER_DOMAIN: Final = "other"
EVENTS_SENDS_TOTAL: Final = "sesmonitor_events_sends_total"  # label: configuration_set
EVENTS_DELIVERIES_TOTAL: Final = "sesmonitor_events_deliveries_total"  # label: configuration_set
EVENTS_REJECTS_TOTAL: Final = "sesmonitor_events_rejects_total"  # label: configuration_set
EVENTS_BOUNCES_TOTAL: Final = "sesmonitor_events_bounces_total"  # + bounce_type, bounce_sub_type
EVENTS_COMPLAINTS_TOTAL: Final = "sesmonitor_events_complaints_total"  # + complaint_feedback_type
EVENTS_DELAYS_TOTAL: Final = "sesmonitor_events_delivery_delays_total"  # + delay_type
EVENTS_BOUNCES_BY_DOMAIN_TOTAL: Final = "sesmonitor_events_bounces_by_domain_total"  # + recipient_domain
# SQS messages received, by outcome: counted, duplicate, malformed (left for the redrive policy), ignored.
EVENTS_MESSAGES_TOTAL: Final = "sesmonitor_events_messages_total"
EVENTS_MESSAGE_OUTCOMES: Final = ("counted", "duplicate", "malformed", "ignored")
EVENTS_QUEUE_MESSAGES: Final = "sesmonitor_events_queue_messages"  # GetQueueAttributes; label queue_state
# now - SentTimestamp of the oldest message in the newest non-empty receive (the queue's head as the
# consumer sees it; ApproximateAgeOfOldestMessage is a CloudWatch metric, not a queue attribute).
EVENTS_OLDEST_RECEIVED_AGE_SECONDS: Final = "sesmonitor_events_oldest_received_message_age_seconds"
# The consumer's loops (receive, queue attributes) restarted after an exception they did not foresee.
EVENTS_LOOP_RESTARTS_TOTAL: Final = "sesmonitor_events_consumer_restarts_total"
# SES's EventBridge service events on the queue (docs/tenants.md#service-events), by kind and outcome:
# acted (a read made sooner), rate_limited (one was made lately: polling covers it), not_watched (no
# watched tenant, or spec.tenants / spec.findings / VDM off: nothing to read), malformed (once per message).
EVENTS_SERVICE_EVENTS_TOTAL: Final = "sesmonitor_events_service_events_total"  # labels: kind, outcome
LABEL_KIND: Final = "kind"
SERVICE_EVENT_TENANT_SENDING_STATUS: Final = "tenant_sending_status"
SERVICE_EVENT_RECOMMENDATION: Final = "recommendation"
SERVICE_EVENT_KINDS: Final = (SERVICE_EVENT_TENANT_SENDING_STATUS, SERVICE_EVENT_RECOMMENDATION)
SERVICE_EVENT_OUTCOMES: Final = ("acted", "rate_limited", "not_watched", "malformed")
API_RECEIVE_MESSAGE: Final = "ReceiveMessage"  # its health covers DeleteMessageBatch too
API_QUEUE_ATTRIBUTES: Final = "GetQueueAttributes"
EVENTS_APIS: Final = (API_RECEIVE_MESSAGE, API_QUEUE_ATTRIBUTES)
EVENT_METRIC_NAMES: Final = (
    EVENTS_SENDS_TOTAL,
    EVENTS_DELIVERIES_TOTAL,
    EVENTS_REJECTS_TOTAL,
    EVENTS_BOUNCES_TOTAL,
    EVENTS_COMPLAINTS_TOTAL,
    EVENTS_DELAYS_TOTAL,
    EVENTS_BOUNCES_BY_DOMAIN_TOTAL,
    EVENTS_MESSAGES_TOTAL,
    EVENTS_QUEUE_MESSAGES,
    EVENTS_OLDEST_RECEIVED_AGE_SECONDS,
    EVENTS_LOOP_RESTARTS_TOTAL,
    EVENTS_SERVICE_EVENTS_TOTAL,
)
