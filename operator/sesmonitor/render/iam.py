"""The exporter's IAM policy for one SesMonitor (`sesmonitor iam-policy`): reads always, spec.protection's
writes only when it is on, and those only on the protected sets' ARNs. docs/iam-policy.json is the read
part (a monitor without protection); docs/protection.md shows the rest."""

from __future__ import annotations

from typing import Any, Final

from sesmonitor.api import SesMonitor

READ_STATEMENTS: Final = (
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
        "Resource": "arn:aws:ses:*:*:configuration-set/*",
    },
)
# Pause/resume a set (PutConfigurationSetSendingOptions), record it in the set's tags and read them back.
# The account's ID comes from sts:GetCallerIdentity, which no policy can deny.
PROTECTION_ACTIONS: Final = (
    "ses:PutConfigurationSetSendingOptions",
    "ses:TagResource",
    "ses:ListTagsForResource",
)


def iam_policy(monitor: SesMonitor) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [dict(s) for s in READ_STATEMENTS]
    protection = monitor.spec.protection
    if protection.mode != "Off":
        resources = [
            f"arn:aws:ses:{monitor.spec.region}:*:configuration-set/{name}"
            for name in protection.configuration_sets
        ]
        # DryRun reads its own earlier record only and writes nothing.
        actions = ["ses:ListTagsForResource"] if protection.mode == "DryRun" else list(PROTECTION_ACTIONS)
        statements.append(
            {
                "Sid": "SesMonitorProtectConfigurationSets",
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
