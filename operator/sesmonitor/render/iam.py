"""The exporter's IAM policy for one SesMonitor (`sesmonitor iam-policy`): reads always, spec.protection's
writes only when it is on, and those only on the protected sets' ARNs; with spec.events, the SQS calls on
that one queue; with spec.tenants, the tenant reads its selection makes. docs/iam-policy.json is the read
part (a monitor without any of them), docs/protection.md, docs/iam-policy-events.json and docs/tenants.md
show the rest."""

from __future__ import annotations

import re
from typing import Any, Final

from sesmonitor.api import SesMonitor
from sesmonitor.api.spec import queue_region

# The ARN partition of a region, by its prefix (botocore's endpoints data): an account, its roles and
# its resources live in one partition, so the monitor's region says which (aws elsewhere). Not "arn:*":
# every segment a wildcard is effectively "*" (parliament says so), and a policy of one partition
# names nothing in another anyway.
PARTITIONS: Final = (
    ("cn-", "aws-cn"),  # China (Beijing, Ningxia)
    ("us-gov-", "aws-us-gov"),  # AWS GovCloud (US)
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
)


def partition(region: str) -> str:
    """``aws``, ``aws-cn``, ``aws-us-gov``, ... for a region such as ``cn-north-1``."""
    return next((name for prefix, name in PARTITIONS if region.startswith(prefix)), "aws")


def read_statements(region: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "SesMonitorReadSesMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricData"],
            "Resource": "*",
        },
        {"Sid": "SesMonitorReadSesAccount", "Effect": "Allow", "Action": ["ses:GetAccount"], "Resource": "*"},
        {
            "Sid": "SesMonitorReadConfigurationSets",
            "Effect": "Allow",
            "Action": ["ses:GetConfigurationSet"],
            "Resource": f"arn:{partition(region)}:ses:*:*:configuration-set/*",
        },
    ]


# Pause/resume a set (PutConfigurationSetSendingOptions), record it in the set's tags and read them back.
# The account's ID comes from sts:GetCallerIdentity, which no policy can deny.
PROTECTION_ACTIONS: Final = (
    "ses:PutConfigurationSetSendingOptions",
    "ses:TagResource",
    "ses:ListTagsForResource",
)
# The tag write is allowed for sesmonitor's own keys only (protector.TAG_*: "sesmonitor:state", ...), so
# the exporter's identity can neither overwrite a team's tags on the set nor add others (tags may drive
# cost allocation and tag-based access). ForAllValues alone also holds for a request without tag keys,
# hence the Null test: the request must carry keys, and every one must be ours. The exporter never
# removes a tag (no UntagResource).
TAG_KEY_PATTERN: Final = "sesmonitor:*"
TAG_CONDITION: Final = {
    "ForAllValues:StringLike": {"aws:TagKeys": [TAG_KEY_PATTERN]},
    "Null": {"aws:TagKeys": "false"},
}

# spec.protection's tenants (exporter.protection.tenant_target): each tenant's ARN (GetTenant), its
# reputation entity (GetReputationEntity, type RESOURCE, the tenant's ARN) and its record in its tags;
# Enforce pauses it (UpdateReputationEntityCustomerManagedStatus) and writes the record (TagResource,
# under TAG_CONDITION). Only on the listed tenants' ARNs: arn:...:tenant/<name>/<tenant id>.
PROTECT_TENANT_READS: Final = ("ses:GetTenant", "ses:GetReputationEntity", "ses:ListTagsForResource")
PROTECT_TENANT_WRITE: Final = "ses:UpdateReputationEntityCustomerManagedStatus"

# spec.tenants' reads (sesmonitor.exporter.tenants.reader): listed names by GetTenant, else ListTenants;
# the reputation entities through ListReputationEntities (many tenants) and GetReputationEntity.
TENANTS_LISTED_ACTIONS: Final = ("ses:GetTenant", "ses:GetReputationEntity")
TENANTS_ALL_ACTIONS: Final = ("ses:ListTenants", "ses:ListReputationEntities", "ses:GetReputationEntity")

FINDINGS_ACTIONS: Final = ("ses:ListRecommendations",)  # spec.findings (exporter.findings.reader)

# The consumer's calls; DeleteMessageBatch is authorized by sqs:DeleteMessage.
EVENTS_ACTIONS: Final = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def queue_arn(queue_url: str, region: str) -> str:
    """arn:<partition>:sqs:<region>:<account>:<name> of a queue URL (.../<account>/<name>, any host)."""
    match = re.match(r"^[a-z]+://[^/]+/([^/]+)/([^/?#]+)", queue_url)  # render does no I/O: no urllib
    account, name = match.groups() if match else ("*", "*")
    return f"arn:{partition(region)}:sqs:{region}:{account}:{name}"


def protect_tenant_statements(region: str, names: list[str], enforce: bool) -> list[dict[str, Any]]:
    """DryRun reads the tenants and their records; Enforce also pauses them and writes the records."""
    resources = [f"arn:{partition(region)}:ses:{region}:*:tenant/{name}/*" for name in names]
    actions = [*PROTECT_TENANT_READS, *((PROTECT_TENANT_WRITE,) if enforce else ())]
    out: list[dict[str, Any]] = [
        {"Sid": "SesMonitorProtectTenants", "Effect": "Allow", "Action": actions, "Resource": resources}
    ]
    if enforce:
        out.append(
            {
                "Sid": "SesMonitorTagTenants",
                "Effect": "Allow",
                "Action": ["ses:TagResource"],
                "Resource": resources,
                "Condition": TAG_CONDITION,
            }
        )
    return out


def iam_policy(monitor: SesMonitor) -> dict[str, Any]:
    region = monitor.spec.region
    statements = read_statements(region)
    protection = monitor.spec.protection
    if protection.mode != "Off" and protection.configuration_sets:
        resources = [
            f"arn:{partition(region)}:ses:{region}:*:configuration-set/{name}"
            for name in protection.configuration_sets
        ]
        # DryRun reads its own earlier record only and writes nothing.
        enforce = protection.mode != "DryRun"
        actions = [a for a in PROTECTION_ACTIONS if a != "ses:TagResource" and (enforce or "List" in a)]
        statements.append(
            {
                "Sid": "SesMonitorProtectConfigurationSets",
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            }
        )
        if enforce:
            statements.append(
                {
                    "Sid": "SesMonitorTagConfigurationSets",
                    "Effect": "Allow",
                    "Action": ["ses:TagResource"],
                    "Resource": resources,
                    "Condition": TAG_CONDITION,
                }
            )
    if protection.mode != "Off" and protection.tenants:
        statements.extend(protect_tenant_statements(region, protection.tenants, protection.mode == "Enforce"))
    tenants = monitor.spec.tenants
    if tenants is not None:
        statements.append(
            {
                "Sid": "SesMonitorReadTenants",
                "Effect": "Allow",
                "Action": list(TENANTS_LISTED_ACTIONS if tenants.names else TENANTS_ALL_ACTIONS),
                "Resource": "*",
            }
        )
    if monitor.spec.findings is not None:
        statements.append(
            {
                "Sid": "SesMonitorReadFindings",
                "Effect": "Allow",
                "Action": list(FINDINGS_ACTIONS),
                "Resource": "*",
            }
        )
    events = monitor.spec.events
    if events is not None:
        queue_at = events.region or queue_region(events.queue_url) or region
        statements.append(
            {
                "Sid": "SesMonitorConsumeSesEvents",
                "Effect": "Allow",
                "Action": list(EVENTS_ACTIONS),
                "Resource": queue_arn(events.queue_url, queue_at),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
