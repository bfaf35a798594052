"""sesmonitor's record of what it last did to a protected configuration set (the set's tags).

`protection.decide` judges with it, `protection.protector` writes and reads it back, `serving` shows who
paused a set and why.

The record names its owner, the monitor that wrote it: `<cluster id>/<namespace>/<name>` (the cluster
id is the kube-system namespace's UID the operator passes on), so same-named monitors in two clusters
(blue/green, a migration) never take each other's pauses for their own. A record an older sesmonitor
wrote names `<namespace>/<name>` alone: read as this cluster's ("legacy") when namespace and name match.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

from sesmonitor import metrics

PAUSING: Final = "pausing"  # the intent, written before the pause call: no pause stands without a record
PAUSED: Final = "paused"
RESUMED: Final = "resumed"  # by sesmonitor, at a person's request
REENABLED: Final = "reenabled"  # seen re-enabled outside sesmonitor (a person, a script, another monitor)
ABANDONED: Final = "abandoned"  # an intent whose pause call failed: claims nothing
STATES: Final = (PAUSING, PAUSED, RESUMED, REENABLED, ABANDONED)
CLAIMS_PAUSE: Final = (PAUSING, PAUSED)
STARTS_COOLDOWN: Final = (RESUMED, REENABLED)
RATES: Final = (metrics.BOUNCE_RATE.aws_name, metrics.COMPLAINT_RATE.aws_name)
# A protected tenant's signal: its reputation entity's ReputationImpact, 1.0 for HIGH and 0.0 for LOW at
# each read (SESv2 gives no per-tenant bounce or complaint rate; docs/protection.md#tenants).
IMPACT: Final = "ReputationImpact"
# SES tag values: at most 256 characters of Unicode letters, digits, white space and _ . : / = + - @.
MAX_TAG_VALUE: Final = 256
TAG_VALUE_FORBIDDEN: Final = re.compile(r"[^\w\s.:/=+\-@]")


@dataclass(frozen=True)
class Record:
    """What sesmonitor last did to a set: written as the set's tags (in memory only in DryRun)."""

    state: str  # one of STATES
    at: float  # epoch seconds
    monitor: str  # the owner: "<cluster id>/<namespace>/<name>" (legacy: "<namespace>/<name>")
    metric: str = ""  # the rate that paused it, e.g. Reputation.BounceRate
    rate: float | None = None  # its newest value then (a fraction)
    # The resume request (its sequence, from the control file) current when this record was written: a
    # request with another sequence came after it. "" when there was none.
    request: str = ""
    dry: bool = False  # DryRun's in-memory record: nothing of it is in AWS


def owner_id(cluster_id: str, monitor: str) -> str:
    """The owner a monitor writes into its records, as an SES tag value (bounded, allowed characters)."""
    full = TAG_VALUE_FORBIDDEN.sub("_", f"{cluster_id}/{monitor}" if cluster_id else monitor)
    if len(full) <= MAX_TAG_VALUE:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:16]  # still unique when a long name is cut
    return f"{full[: MAX_TAG_VALUE - len(digest) - 1]}+{digest}"


def owns(owner: str, record: Record | None, monitor: str) -> bool:
    """Whether `record` is the monitor's own: its owner exactly, or a legacy `<namespace>/<name>` one."""
    if record is None:
        return False
    return record.monitor == owner or (record.monitor.count("/") == 1 and record.monitor == monitor)


def describe_record(record: Record) -> str:
    if record.metric == IMPACT:
        return "reputation impact HIGH"
    noun = {RATES[0]: "bounce rate", RATES[1]: "complaint rate"}.get(record.metric, record.metric)
    rate = f" {record.rate * 100:.2f}%" if record.rate is not None else ""
    return f"{noun}{rate}".strip()
