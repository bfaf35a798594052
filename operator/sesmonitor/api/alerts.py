"""The names of the alerts a SesMonitor renders, here so the spec can name them (spec.alerting.disabled).

The rules (sesmonitor.render.rules, .event_rules) build each alert under one of these names; docs/alerts.md
has a section per name, whose anchor (`runbook_anchor`) every alert's default runbook_url points at.
"""

from __future__ import annotations

from typing import Final

# The CloudWatch reputation and account alerts.
BOUNCE_RATE_HIGH: Final = "SESBounceRateHigh"
COMPLAINT_RATE_HIGH: Final = "SESComplaintRateHigh"
CONFIGURATION_SET_BOUNCE_RATE_HIGH: Final = "SESConfigurationSetBounceRateHigh"
CONFIGURATION_SET_COMPLAINT_RATE_HIGH: Final = "SESConfigurationSetComplaintRateHigh"
BOUNCE_RATE_RISING: Final = "SESBounceRateRising"
ACCOUNT_UNDER_REVIEW: Final = "SESAccountUnderReview"
SENDING_PAUSED: Final = "SESSendingPaused"
SEND_QUOTA_NEARLY_USED: Final = "SESSendQuotaNearlyUsed"
# The monitor's own health: its alerts cannot fire, or judge old values.
NO_REPUTATION_DATA: Final = "SESMonitorNoReputationData"
EXPORTER_DOWN: Final = "SESMonitorExporterDown"
AWS_READ_ERRORS: Final = "SESMonitorAWSReadErrors"
# Protection (with configuration sets listed; the second with spec.protection on).
CONFIGURATION_SET_PAUSED: Final = "SESConfigurationSetPaused"
PROTECTION_FAILED: Final = "SESMonitorProtectionFailed"
# The account's suppression list (GetAccount, always); tenants (with spec.tenants); findings (spec.findings).
SUPPRESSION_LIST_OFF: Final = "SESAccountSuppressionListOff"
TENANT_PAUSED: Final = "SESTenantPaused"
TENANT_REPUTATION_IMPACT_HIGH: Final = "SESTenantReputationImpactHigh"
REPUTATION_FINDING_OPEN: Final = "SESReputationFindingOpen"
# A listed configuration set SES does not have (deleted, or misspelled in spec.configurationSets).
CONFIGURATION_SET_MISSING: Final = "SESConfigurationSetMissing"
# The SES event alerts (with spec.events).
PERMANENT_BOUNCES_RISING: Final = "SESPermanentBouncesRising"
TRANSIENT_BOUNCE_SURGE: Final = "SESTransientBounceSurge"
ABUSE_COMPLAINTS: Final = "SESAbuseComplaints"
EVENT_CONSUMER_STALLED: Final = "SESMonitorEventConsumerStalled"
EVENT_QUEUE_BACKING_UP: Final = "SESMonitorEventQueueBackingUp"

ALERT_NAMES: Final = (
    BOUNCE_RATE_HIGH,
    COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_BOUNCE_RATE_HIGH,
    CONFIGURATION_SET_COMPLAINT_RATE_HIGH,
    BOUNCE_RATE_RISING,
    ACCOUNT_UNDER_REVIEW,
    SENDING_PAUSED,
    SEND_QUOTA_NEARLY_USED,
    NO_REPUTATION_DATA,
    EXPORTER_DOWN,
    AWS_READ_ERRORS,
    CONFIGURATION_SET_PAUSED,
    PROTECTION_FAILED,
    SUPPRESSION_LIST_OFF,
    TENANT_PAUSED,
    TENANT_REPUTATION_IMPACT_HIGH,
    REPUTATION_FINDING_OPEN,
    CONFIGURATION_SET_MISSING,
    PERMANENT_BOUNCES_RISING,
    TRANSIENT_BOUNCE_SURGE,
    ABUSE_COMPLAINTS,
    EVENT_CONSUMER_STALLED,
    EVENT_QUEUE_BACKING_UP,
)


def runbook_anchor(alert: str) -> str:
    """The anchor of an alert's section in docs/alerts.md: GitHub's for a heading `### <alert>`."""
    return alert.lower()
