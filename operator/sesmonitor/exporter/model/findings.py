"""SES reputation findings (VDM's advisor: ListRecommendations with status OPEN) as the `findings` room
last read them (pure). `serving` turns them into series and /status."""

from __future__ import annotations

from dataclasses import dataclass

RESOURCE_TYPES = ("identity", "configuration-set", "tenant")  # what an SES ARN's resource part names
ACCOUNT_RESOURCE = "account"
HIGH = "HIGH"


def resource_of(arn: str) -> tuple[str, str]:
    """(resource type, name) of a finding's ResourceArn: ("identity", "example.com") of
    ...:identity/example.com, ("tenant", "acme") of ...:tenant/acme/tn-1, ("account", <ARN>) otherwise."""
    tail = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    kind, _, name = tail.partition("/")
    if kind in RESOURCE_TYPES and name:
        return kind, name.split("/", 1)[0]
    return ACCOUNT_RESOURCE, arn


@dataclass(frozen=True)
class Finding:
    resource_arn: str
    type: str  # DKIM, DMARC, SPF, BIMI, COMPLAINT, BOUNCE, FEEDBACK_3P, IP_LISTING, ...
    impact: str | None  # LOW | HIGH
    description: str | None
    created: float | None

    @property
    def resource_type(self) -> str:
        return resource_of(self.resource_arn)[0]

    @property
    def resource(self) -> str:
        return resource_of(self.resource_arn)[1]


def worst(findings: tuple[Finding, ...], count: int) -> list[Finding]:
    """HIGH impact first, then the oldest, then by type and resource."""
    return sorted(
        findings,
        key=lambda f: (
            f.impact != HIGH,
            f.created if f.created is not None else float("inf"),
            f.type,
            f.resource,
        ),
    )[:count]


@dataclass(frozen=True)
class FindingsReading:
    findings: tuple[Finding, ...]  # the open ones, at most the limit
    open_total: int  # every open finding AWS listed; more than len(findings) over the limit
    requests: int = 0


@dataclass(frozen=True)
class FindingsView:
    """The last good reading and how the reads go. `vdm_enabled` False: not read, VDM is off."""

    reading: FindingsReading | None = None
    vdm_enabled: bool | None = None  # as GetAccount said at the last attempt; None: not known yet
    last_success: float | None = None
    last_attempt: float | None = None
    last_attempt_ok: bool = False
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_code: str | None = None
