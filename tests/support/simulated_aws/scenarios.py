"""The simulated account's stories: what each scenario sends, bounces and complains, minute by minute.

`SCENARIOS` by name ("seed", "healthy", "clean", "complaint-spike", "protect", "under-review",
"bad-list", "tenants"); `simulated_aws.cloudwatch.seed_scenario` turns one into CloudWatch datapoints, and
`SimulatedSes` seeds a scenario's tenants and findings into the SESv2 stand-ins (`simulated_aws.tenants`,
`simulated_aws.recommendations`: moto 5.2.5 has none of those calls). Pure data: no AWS call here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

MINUTE = 60


@dataclass(frozen=True)
class TenantSeed:
    """A tenant the account has from the start, and what AWS decided for it under its policy."""

    name: str
    aws_status: str = "ENABLED"  # AwsSesManagedStatus: DISABLED is a pause by AWS
    aws_cause: str | None = None
    impact: str = "LOW"  # ReputationImpact: the highest open finding's
    policy: str = "standard"


@dataclass(frozen=True)
class FindingSeed:
    """An open reputation finding (VDM's advisor) on one of the scenario's tenants."""

    tenant: str  # the finding's ResourceArn is this tenant's ARN
    type: str
    impact: str
    description: str


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    enforcement_status: str
    sending_enabled: bool
    # minute start (epoch) -> emails sent in that minute; 0 = no mail, so no reputation datapoint
    sends: Callable[[float], int]
    # (minute start, seeding "now", seeding start) -> fraction
    bounce_rate: Callable[[float, float, float], float]
    complaint_rate: Callable[[float, float, float], float]
    _: KW_ONLY  # what only some scenarios have is named where they set it
    # minute start -> the SES events (event-publishing records) of that minute, for spec.events; the
    # live account (support.live_ses) publishes them through SNS to an SQS queue. None: no events.
    events: Callable[[float], list[dict[str, Any]]] | None = None
    # configuration set -> its own (bounce, complaint) rates, instead of the scaled account rates
    set_rates: dict[str, tuple[float, float]] = field(default_factory=dict)
    # SES tenants (multi-tenant management) and open findings; findings need VDM on (GetAccount's
    # VdmAttributes.VdmEnabled), which `vdm_enabled` turns on.
    tenants: tuple[TenantSeed, ...] = ()
    findings: tuple[FindingSeed, ...] = ()
    vdm_enabled: bool = False


def _bursts(every_minutes: int, for_minutes: int, per_minute: int) -> Callable[[float], int]:
    def sends(t: float) -> int:
        return per_minute if (int(t // MINUTE) % every_minutes) < for_minutes else 0

    return sends


def _steady(per_minute: int) -> Callable[[float], int]:
    return lambda _t: per_minute


def _seed_bounce(t: float, _now: float, start: float) -> float:
    # 14.32% when the story starts, about 4 percentage points more per day.
    return 0.1432 + 0.04 * (t - start) / 86400


def _spike(t: float, now: float, _start: float) -> float:
    ramp_start = now - 45 * MINUTE
    if t < ramp_start:
        return 0.0003
    return 0.0003 + (0.006 - 0.0003) * min(1.0, (t - ramp_start) / (45 * MINUTE))


BAD_LIST_DOMAIN = "list.example"


def _bad_list_bounce(t: float, now: float, _start: float) -> float:
    # AWS's reputation rate lags: 1% until 3 minutes after seeding, then a point more every minute.
    return min(0.15, 0.01 + max(0.0, t - (now + 3 * MINUTE)) / MINUTE * 0.01)


def _bad_list_events(t: float) -> list[dict[str, Any]]:
    """Each minute 40 sends, 12 of them to a bad list at one domain: permanent NoEmail bounces; one
    transient bounce elsewhere; the rest delivered."""
    from support.ses_notifications import event  # the fixtures' shapes, kept out of moto's import path

    out = []
    for i in range(40):
        recipient = f"user{i}@{BAD_LIST_DOMAIN}" if i < 12 else f"user{i}@example.{'org' if i % 2 else 'com'}"
        mid = f"0100-{int(t)}-{i:02d}-000000"
        out.append(event("Send", [recipient], mid=mid))
        if i < 12:
            out.append(
                event("Bounce", [recipient], mid=mid, bounce_type="Permanent", bounce_sub_type="NoEmail")
            )
        elif i == 12:
            out.append(
                event("Bounce", [recipient], mid=mid, bounce_type="Transient", bounce_sub_type="MailboxFull")
            )
        else:
            out.append(event("Delivery", [recipient], mid=mid))
    return out


# The `tenants` story: a SaaS sending for three customers through SES tenants. AWS paused one of them
# under its standard reputation policy after a bad list; the advisor has a BOUNCE finding open on it.
# (AWS documents no wording for a status's Cause: this one is made up, shaped like the finding.)
TENANT_PREFIX = "cust-"  # what the demo's and the e2e tier's spec.tenants select
PAUSED_TENANT = f"{TENANT_PREFIX}acme"
SENDING_TENANTS = (f"{TENANT_PREFIX}globex", f"{TENANT_PREFIX}initech")
PAUSE_CAUSE = "Bounce rate 11.2% over the standard reputation policy's limit"
FINDING = FindingSeed(
    PAUSED_TENANT,
    "BOUNCE",
    "HIGH",
    f"Tenant {PAUSED_TENANT}'s bounce rate is 11.2%: remove the addresses that bounce before you resume.",
)
TENANTS = (
    TenantSeed(PAUSED_TENANT, aws_status="DISABLED", aws_cause=PAUSE_CAUSE, impact="HIGH"),
    *(TenantSeed(name) for name in SENDING_TENANTS),
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "seed",
            "The seed story: bounce rate 14.32% rising ~4%/day; mail (and so reputation datapoints) "
            "only in 5-minute bursts every 20 minutes; account under review (PROBATION).",
            "PROBATION",
            True,
            _bursts(20, 5, 40),
            _seed_bounce,
            lambda *_: 0.0004,
        ),
        Scenario(
            "healthy",
            "Steady sending, bounce 0.8%, complaints 0.02%, account HEALTHY.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.008,
            lambda *_: 0.0002,
        ),
        Scenario(
            "clean",
            "Steady sending, bounce 0.8%, never a complaint, account HEALTHY: like AWS, the simulation "
            "publishes no Reputation.ComplaintRate for an account that never had a complaint.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.008,
            lambda *_: 0.0,
        ),
        Scenario(
            "complaint-spike",
            "Steady sending, bounce 1.1%; complaints 0.03% then rising to 0.6% over the last 45 minutes.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.011,
            _spike,
        ),
        Scenario(
            "protect",
            "Steady sending; configuration set marketing at 12% bounces (over AWS's 10% pause level),"
            " transactional at 0.5%; account bounce 4.5%, HEALTHY: spec.protection pauses marketing alone.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.045,
            lambda *_: 0.0003,
            set_rates={"marketing": (0.12, 0.0004), "transactional": (0.005, 0.0001)},
        ),
        Scenario(
            "under-review",
            "Bounce 6.2% (over AWS's 5% review line), complaints 0.09%, mail in 3-minute bursts every "
            "10 minutes; account under review (PROBATION).",
            "PROBATION",
            True,
            _bursts(10, 3, 25),
            lambda *_: 0.062,
            lambda *_: 0.0009,
        ),
        Scenario(
            "bad-list",
            f"A bad list (spec.events): 30% of the mail goes to {BAD_LIST_DOMAIN} and bounces permanently"
            " (NoEmail) from the start, while CloudWatch's reputation rate, AWS's lagging figure, stays at 1%"
            " for 3 minutes and then rises a point a minute; account HEALTHY.",
            "HEALTHY",
            True,
            _steady(40),
            _bad_list_bounce,
            lambda *_: 0.0002,
            events=_bad_list_events,
        ),
        Scenario(
            "tenants",
            f"Three SES tenants; AWS paused {PAUSED_TENANT} under its standard reputation policy and VDM's"
            f" advisor has a BOUNCE finding of HIGH impact open on it; {' and '.join(SENDING_TENANTS)} send."
            " The account itself: steady sending, bounce 1.1%, complaints 0.02%, HEALTHY.",
            "HEALTHY",
            True,
            _steady(30),
            lambda *_: 0.011,
            lambda *_: 0.0002,
            tenants=TENANTS,
            findings=(FINDING,),
            vdm_enabled=True,
        ),
    )
}
