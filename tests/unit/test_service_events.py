"""Issue 21 item 4, the pure parts: SES's EventBridge service events parsed into `ServiceEvent`s (each
kind, an unknown detail-type, a malformed detail), the rate-limited early reads, which watched tenant an
event names, what the tenants loop reads for a burst, and what the counts, /metrics and /status say."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from sesmonitor import metrics
from sesmonitor.exporter.events.event_counts import EventCounts
from sesmonitor.exporter.events.ses_events import MalformedMessage, parse
from sesmonitor.exporter.findings.loop import EARLY_GAP_SECONDS, FindingsLoop
from sesmonitor.exporter.model.account import AccountSnapshot
from sesmonitor.exporter.model.early_reads import EarlyReads
from sesmonitor.exporter.model.service_events import (
    ACTED,
    NOT_WATCHED,
    RATE_LIMITED,
    RECOMMENDATION,
    TENANT_SENDING_STATUS,
    MalformedServiceEvent,
    ServiceEvent,
    best_outcome,
    parse_service_event,
)
from sesmonitor.exporter.model.state import ExporterState
from sesmonitor.exporter.model.tenants import StatusRecord, Tenant, TenantsReading
from sesmonitor.exporter.serving.event_collector import EventsCollector
from sesmonitor.exporter.serving.status import events_status
from sesmonitor.exporter.tenants.loop import TenantsLoop, named_tenant
from support.ses_notifications import (
    ACCOUNT,
    TENANT_ARN,
    advisor_recommendation,
    event,
    eventbridge_envelope,
    ses_service_event,
    sns_envelope,
    tenant_sending_status,
)

T0 = 1_796_126_400.0  # 2026-12-01T12:00:00Z, the fixtures' STAMP


def envelope(body: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(body)
    return doc


def test_a_tenant_paused_by_aws() -> None:
    got = parse_service_event(envelope(tenant_sending_status()))
    assert got == ServiceEvent(
        TENANT_SENDING_STATUS,
        "Sending Status Disabled",
        TENANT_ARN,
        "DISABLED",
        origin="AWS_MANAGED",
        cause="Bounce rate above the standard policy",
        time=T0,
        event_id=got.event_id if got else "",
    )
    assert got is not None
    assert got.event_id
    assert got.tenant_name == "acme"


def test_a_tenant_reinstated_says_so_in_its_record_not_its_detail_type() -> None:
    got = parse_service_event(envelope(tenant_sending_status(status="REINSTATED", origin="CUSTOMER_MANAGED")))
    assert got is not None
    assert (got.detail_type, got.status, got.origin) == (
        "Sending Status Enabled",
        "REINSTATED",
        "CUSTOMER_MANAGED",
    )


@pytest.mark.parametrize(
    ("status", "want"), [("Open", "OPEN"), ("Resolved", "RESOLVED"), ("Closed", "RESOLVED")]
)
def test_advisor_recommendations_by_either_name_aws_gives_them(status: str, want: str) -> None:
    got = parse_service_event(envelope(advisor_recommendation(status=status, finding_type="COMPLAINT")))
    assert got is not None
    assert (got.kind, got.status, got.finding_type, got.impact) == (RECOMMENDATION, want, "COMPLAINT", "HIGH")
    assert got.resource_arn == TENANT_ARN
    assert (got.cause or "").startswith("The bounce rate exceeded 15.0%")


def test_the_closest_shape_is_read_tolerantly() -> None:
    """Unknown fields are ignored; a detail without data says its status through its detail-type; an
    identity's finding has no tenant; the tenant/<id> form of the ARN has no name in it."""
    bare = parse_service_event(
        envelope(ses_service_event("Sending Status Enabled", {"schema": 2, "extra": [1]}, [TENANT_ARN]))
    )
    assert bare is not None
    assert (bare.status, bare.origin, bare.cause) == ("ENABLED", None, None)
    identity = parse_service_event(
        envelope(advisor_recommendation(f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"))
    )
    assert identity is not None
    assert identity.tenant_name is None
    no_resources = parse_service_event(envelope(ses_service_event("Advisor Recommendation Status Open", {})))
    assert no_resources is not None
    assert (no_resources.resource_arn, no_resources.finding_type, no_resources.impact) == (None, None, None)
    by_id = ServiceEvent(
        TENANT_SENDING_STATUS, "x", f"arn:aws:ses:us-east-1:{ACCOUNT}:tenant/tn-1", "DISABLED"
    )
    assert by_id.tenant_name is None
    long_cause = tenant_sending_status(cause="x" * 5000)
    assert len(parse_service_event(envelope(long_cause)).cause or "") == 512  # type: ignore[union-attr]


def test_an_unknown_aws_ses_detail_type_stays_ignored() -> None:
    cloudtrail = ses_service_event("AWS API Call via CloudTrail", {"eventSource": "ses.amazonaws.com"})
    assert parse_service_event(envelope(cloudtrail)) is None
    parsed = parse(cloudtrail)
    assert (parsed.event, parsed.service, parsed.ignored) == (
        None,
        None,
        "EventBridge AWS API Call via CloudTrail",
    )
    # an email's EventBridge event is still an email event
    email = parse(eventbridge_envelope(event("Bounce", ["a@example.com"])))
    assert email.event is not None
    assert email.service is None


@pytest.mark.parametrize(
    "wrap", [lambda body: body, lambda body: sns_envelope(json.loads(body))], ids=["queue", "sns"]
)
def test_the_consumer_gets_the_service_event_beside_ignored(wrap: Any) -> None:
    parsed = parse(wrap(tenant_sending_status()))
    assert parsed.event is None
    assert parsed.ignored == "EventBridge Sending Status Disabled"  # deleted as before, not dead-lettered
    assert parsed.service is not None
    assert parsed.service.tenant_name == "acme"


@pytest.mark.parametrize(
    ("body", "says", "kind"),
    [
        (ses_service_event("Sending Status Disabled", {"version": "1.0.0"}),
         "resources[0] (the tenant's ARN) is missing", TENANT_SENDING_STATUS),
        (json.dumps({"source": "aws.ses", "detail-type": "Sending Status Enabled", "detail": [],
                     "resources": []}),
         "detail is not an object", TENANT_SENDING_STATUS),
        (json.dumps({"source": "aws.ses", "detail-type": "Advisor Recommendation Status Open", "detail": {},
                     "resources": "arn:aws:ses:us-east-1:1:tenant/a/b"}),
         "resources is not a list", RECOMMENDATION),
    ],
)  # fmt: skip
def test_a_malformed_detail_names_the_field(body: str, says: str, kind: str) -> None:
    with pytest.raises(MalformedServiceEvent, match=None) as direct:
        parse_service_event(envelope(body))
    assert says in str(direct.value)
    with pytest.raises(MalformedMessage, match=None) as through:
        parse(body)
    assert says in str(through.value)
    assert through.value.service_kind == kind


def test_best_outcome() -> None:
    assert best_outcome([NOT_WATCHED, ACTED]) == ACTED
    assert best_outcome([RATE_LIMITED, NOT_WATCHED]) == RATE_LIMITED
    assert best_outcome([]) == NOT_WATCHED


def test_early_reads_once_per_key_per_gap() -> None:
    early = EarlyReads(600)
    assert early.request("a", 0)
    assert early.wake.is_set()
    assert not early.request("a", 599)  # rate-limited
    assert early.request("b", 10)
    assert early.take() == ("a", "b")
    assert not early.wake.is_set()
    assert early.take() == ()
    assert not early.request("a", 100)  # taken, still within the gap
    assert early.request("a", 600)
    assert early.take() == ("a",)


WATCHED = (
    Tenant("acme", TENANT_ARN, "ENABLED", aggregate="ENABLED"),
    Tenant(
        "globex", f"arn:aws:ses:us-east-1:{ACCOUNT}:tenant/globex/tn-0000beef", "ENABLED", aggregate="ENABLED"
    ),
)


def test_the_named_tenant_by_arn_id_or_name() -> None:
    def named(arn: str | None) -> str | None:
        found = named_tenant(ServiceEvent(TENANT_SENDING_STATUS, "x", arn, "DISABLED"), WATCHED)
        return found.name if found else None

    assert named(TENANT_ARN) == "acme"
    assert named(f"arn:aws:ses:us-east-1:{ACCOUNT}:tenant/tn-0000beef") == "globex"  # the id alone
    assert named(f"arn:aws:ses:us-east-1:{ACCOUNT}:tenant/acme/tn-other") == "acme"  # its name
    assert named(f"arn:aws:ses:us-east-1:{ACCOUNT}:tenant/initech/tn-1") is None  # not watched
    assert named(f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com") is None
    assert named(None) is None


class FakeReader:
    """TenantsReader's two calls: the whole read (its cost in requests) and a read of some tenants."""

    def __init__(self, tenants: tuple[Tenant, ...], requests: int) -> None:
        self.tenants, self.cost = tenants, requests
        self.reads = 0
        self.again: list[tuple[str, ...]] = []

    def read(self) -> TenantsReading:
        self.reads += 1
        return TenantsReading(self.tenants, len(self.tenants), requests=self.cost)

    def read_again(self, tenants: tuple[Tenant, ...]) -> tuple[Tenant, ...]:
        self.again.append(tuple(t.name for t in tenants))
        return tuple(
            Tenant(t.name, t.arn, "DISABLED", aggregate="DISABLED", aws=StatusRecord("DISABLED", "bounces"))
            for t in tenants
        )


def sending(arn: str | None) -> ServiceEvent:
    return ServiceEvent(TENANT_SENDING_STATUS, "Sending Status Disabled", arn, "DISABLED")


def test_the_tenants_loop_reads_the_named_tenant_again_once_per_interval() -> None:
    state = ExporterState(60)
    reader = FakeReader(WATCHED, requests=4)
    loop = TenantsLoop(reader, state, 1200, clock=lambda: T0)  # type: ignore[arg-type]
    assert loop.request_early(sending(TENANT_ARN), T0) == NOT_WATCHED  # no reading yet
    assert loop.read_once(T0)
    assert loop.request_early(sending(TENANT_ARN), T0) == ACTED
    for _ in range(50):  # a burst of the same event
        assert loop.request_early(sending(TENANT_ARN), T0 + 1) == RATE_LIMITED
    assert loop.request_early(sending("arn:aws:ses:us-east-1:1:tenant/initech/tn-9"), T0) == NOT_WATCHED
    assert not loop.read_early(T0 + 3)
    assert reader.again == [("acme",)]  # one tenant, once, whatever the burst
    view = state.view().tenants
    assert view.reading is not None
    assert {t.name: t.state for t in view.reading.tenants} == {"acme": "paused_by_aws", "globex": "enabled"}
    assert (view.early_reads, view.last_early_read, view.last_success) == (1, T0 + 3, T0)
    assert view.reading.requests == 4  # the whole read's cost, kept
    assert loop.request_early(sending(TENANT_ARN), T0 + 1199) == RATE_LIMITED
    assert loop.request_early(sending(TENANT_ARN), T0 + 1200) == ACTED


def test_a_burst_that_costs_a_whole_read_is_one_whole_read() -> None:
    state = ExporterState(60)
    reader = FakeReader(WATCHED, requests=2)  # a listing: 2 requests for every tenant
    loop = TenantsLoop(reader, state, 1200, clock=lambda: T0)  # type: ignore[arg-type]
    assert loop.read_once(T0)
    assert loop.request_early(sending(TENANT_ARN), T0) == ACTED
    assert loop.request_early(sending(WATCHED[1].arn), T0) == ACTED
    assert loop.read_early(T0 + 3)  # 2 tenants due >= 2 requests of the whole read: the whole read
    assert (reader.reads, reader.again) == (2, [])


def test_the_findings_loop_reads_early_only_with_vdm_and_once_per_gap() -> None:
    state = ExporterState(60)
    loop = FindingsLoop(None, state, 1800, clock=lambda: T0)  # type: ignore[arg-type]
    assert loop.request_early(T0) == NOT_WATCHED  # GetAccount not read yet
    account = AccountSnapshot(
        enforcement_status="HEALTHY", sending_enabled=True, production_access_enabled=True,
        max_24_hour_send=None, sent_last_24_hours=None, max_send_rate=None, vdm_enabled=False,
    )  # fmt: skip
    state.record_account(T0, account)
    assert loop.request_early(T0) == NOT_WATCHED  # VDM off: nothing could be read
    state.record_account(T0, dataclasses.replace(account, vdm_enabled=True))
    assert loop.request_early(T0) == ACTED
    assert loop.request_early(T0 + EARLY_GAP_SECONDS - 1) == RATE_LIMITED
    assert loop.request_early(T0 + EARLY_GAP_SECONDS) == ACTED


def test_counts_metrics_and_status_say_the_last_event_of_each_kind() -> None:
    counts = EventCounts(top_domains=5, dedupe_entries=100)
    first = parse_service_event(envelope(tenant_sending_status()))
    second = parse_service_event(envelope(tenant_sending_status(status="ENABLED", cause=None)))
    finding = parse_service_event(envelope(advisor_recommendation()))
    assert first is not None
    assert second is not None
    assert finding is not None
    counts.add_service_event(first, ACTED, T0)
    counts.add_service_event(second, RATE_LIMITED, T0 + 5)
    counts.add_service_event(finding, NOT_WATCHED, T0 + 6)
    state = ExporterState(60, (*metrics.APIS, *metrics.EVENTS_APIS))
    state.record_events(T0 + 6, counts.snapshot(T0 + 6), 0.0)
    families = {f.name: f for f in EventsCollector(state, "mail/prod", "us-east-1").collect()}
    family = families[metrics.EVENTS_SERVICE_EVENTS_TOTAL.removesuffix("_total")]
    got = {
        (s.labels["kind"], s.labels["outcome"]): s.value for s in family.samples if s.name.endswith("_total")
    }
    assert len(got) == len(metrics.SERVICE_EVENT_KINDS) * len(metrics.SERVICE_EVENT_OUTCOMES)  # bounded
    assert got[(TENANT_SENDING_STATUS, ACTED)] == 1.0
    assert got[(TENANT_SENDING_STATUS, RATE_LIMITED)] == 1.0
    assert got[(RECOMMENDATION, NOT_WATCHED)] == 1.0
    assert got[(RECOMMENDATION, ACTED)] == 0.0
    last = events_status(state.view(), "https://queue")["service_events"]
    assert last[TENANT_SENDING_STATUS] == {
        "detail_type": "Sending Status Enabled", "resource": TENANT_ARN, "tenant": "acme",
        "status": "ENABLED", "origin": "AWS_MANAGED", "cause": None, "type": None, "impact": None,
        "time": "2026-12-01T12:00:00Z",
        "received": "2026-12-01T12:00:05Z", "outcome": RATE_LIMITED,
    }  # fmt: skip
    assert last[RECOMMENDATION]["type"] == "BOUNCE"
    assert last[RECOMMENDATION]["outcome"] == NOT_WATCHED


def test_early_reads_forget_keys_older_than_the_gap_and_keep_limiting_the_rest() -> None:
    early = EarlyReads(600)
    for i in range(3000):
        assert early.request(f"old-{i}", 0)
    for i in range(3000):
        assert early.request(f"new-{i}", 700)  # the old ones are past their gap: forgotten when pruned
    assert early.remembered <= 2 * 3000  # the keys within a gap (3000), and at most as many again
    assert not early.request("new-5", 701)  # still rate-limited
    assert early.request("old-5", 701)
