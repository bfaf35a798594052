"""spec.events end to end in the pure layers: config, rules, and the status a person reads."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from sesmonitor.api import parse_spec
from sesmonitor.contract import (
    ApiHealth,
    EventsStatus,
    ExporterConfig,
    ExporterStatus,
    empty_account,
    empty_rate,
)
from sesmonitor.exporter.aws.clients import make_clients
from sesmonitor.exporter.model.events import empty_breakdown
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import compute_status
from sesmonitor.operator.status.events_received import breakdown_text, share
from sesmonitor.render.event_rules import EVENT_ALERTS
from sesmonitor.render.iam import iam_policy, queue_arn
from sesmonitor.render.rules import rule_groups
from sesmonitor.render.workload import exporter_config
from support.monitors import load_monitor

QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/ses-events"
T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def monitor(events: dict[str, Any] | None) -> Any:
    return load_monitor({} if events is None else {"events": events})


def test_exporter_config_carries_the_queue_and_its_region_from_the_url() -> None:
    config = exporter_config(monitor({"queueURL": QUEUE, "topDomains": 5}))
    assert (config.events_queue_url, config.events_region, config.events_top_domains) == (
        QUEUE,
        "eu-west-1",
        5,
    )
    assert ExporterConfig.from_json(config.to_json()) == config
    local = exporter_config(monitor({"queueURL": "http://127.0.0.1:4566/123456789012/q"}))
    assert local.events_region is None  # the monitor's region
    assert exporter_config(monitor(None)).events_queue_url is None


def test_event_alerts_only_with_events() -> None:
    def alerts(events: dict[str, Any] | None) -> set[str]:
        return {rule["alert"] for rule in rule_groups(monitor(events))[0]["rules"]}

    assert not alerts(None) & set(EVENT_ALERTS)
    assert set(EVENT_ALERTS) <= alerts({"queueURL": QUEUE})


def breakdown(**fields: Any) -> Any:
    return {**empty_breakdown(), **fields}


def test_breakdown_text_as_the_issue_writes_it() -> None:
    hour = breakdown(
        sends=1000, bounces=100,
        bounce_types={"Permanent": 92, "Transient": 8},
        bounce_sub_types={"Permanent": {"NoEmail": 80, "General": 12}, "Transient": {"MailboxFull": 8}},
        top_domains=[{"domain": "example.com", "count": 41}, {"domain": "example.org", "count": 3}],
        complaints={"abuse": 2, "": 1},
    )  # fmt: skip
    assert breakdown_text(hour) == (
        "permanent 92% (NoEmail 80%), transient 8% (MailboxFull 8%); top domain example.com 41%;"
        " complaints: abuse 2, unspecified 1"
    )
    assert breakdown_text(breakdown()) == "no bounces in the last hour"
    assert (share(1, 1000), share(0, 0), share(5, 10)) == ("<1%", "0%", "50%")


def doc(apis: dict[str, ApiHealth], events: EventsStatus | None) -> ExporterStatus:
    return ExporterStatus(
        monitor="mail/prod", region="us-east-1", ready=True, stale=False, bounce_rate=empty_rate(),
        complaint_rate=empty_rate(), account=empty_account(), last_refresh_time=None, last_error=None,
        apis=apis, events=events,
    )  # fmt: skip


def health(ok: bool, code: str | None = None) -> ApiHealth:
    return ApiHealth(
        last_success_time="2026-12-01T11:59:00Z" if ok else None,
        consecutive_failures=0 if ok else 3,
        stale=not ok,
        last_error=None if ok else f"{code}: the queue says no",
        last_error_time="2026-12-01T12:00:00Z",
        last_error_code=code,
        last_error_kind=None if ok else "client_error",
    )


def events_status(**fields: Any) -> EventsStatus:
    base = EventsStatus(queue_url=QUEUE, messages={"counted": 3}, queue_visible=7, queue_in_flight=0,
                        oldest_received_age_seconds=2.0, last_hour=breakdown(), loop_restarts=0,
                        redrive_policy_read=False, dead_letter_queue=None,
                        max_receive_count=None)  # fmt: skip
    return EventsStatus(**{**base, **fields})  # type: ignore[typeddict-item]


def status_of(exporter: ExporterStatus) -> dict[str, Any]:
    return compute_status(
        monitor_key="mail/prod", spec=parse_spec({"region": "us-east-1", "events": {"queueURL": QUEUE}}),
        generation=1, outcome=ReconcileOutcome(True), reading=ExporterReading(status=exporter),
        previous=None, now=T0,
    )  # fmt: skip


def condition(status: dict[str, Any]) -> dict[str, Any]:
    (found,) = [c for c in status["conditions"] if c["type"] == "EventsReceived"]
    return found


def test_status_shows_the_last_hours_breakdown() -> None:
    hour = breakdown(
        bounces=10,
        bounce_types={"Permanent": 10},
        bounce_sub_types={"Permanent": {"NoEmail": 10}},
        top_domains=[{"domain": "bad.example", "count": 9}],
    )
    ok = {"ReceiveMessage": health(True), "GetQueueAttributes": health(True)}
    status = status_of(doc(ok, events_status(last_hour=hour)))
    assert status["bounceBreakdown"] == "permanent 100% (NoEmail 100%); top domain bad.example 90%"
    found = condition(status)
    assert (found["status"], found["reason"]) == ("True", "Receiving")
    assert "permanent 100% (NoEmail 100%); top domain bad.example 90%" in found["message"]
    # The backlog changes every minute; the status does not carry it, so a steady monitor writes nothing.
    assert "7" not in found["message"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [("QueueDoesNotExist", "AWSQueueNotFound"), ("AccessDenied", "AWSError")],
)
def test_a_missing_queue_is_a_clear_error(code: str, reason: str) -> None:
    apis = {"GetMetricData": health(True), "ReceiveMessage": health(False, code)}
    if code == "AccessDenied":
        apis["ReceiveMessage"]["last_error_kind"] = "denied"
        reason = "AWSAccessDenied"
    status = status_of(doc(apis, events_status()))
    found = condition(status)
    assert (found["status"], found["reason"]) == ("False", reason)
    assert QUEUE in found["message"]
    assert f"ReceiveMessage: {code}" in found["message"]


def test_no_condition_without_events_and_unknown_before_the_first_receive() -> None:
    plain = compute_status(
        monitor_key="mail/prod", spec=parse_spec({"region": "us-east-1"}), generation=1,
        outcome=ReconcileOutcome(True), reading=ExporterReading(status=doc({}, None)), previous=None, now=T0,
    )  # fmt: skip
    assert "EventsReceived" not in {c["type"] for c in plain["conditions"]}
    assert "bounceBreakdown" not in plain
    never = ApiHealth(**{**health(True), "last_success_time": None})  # type: ignore[typeddict-item]
    waiting = condition(status_of(doc({"ReceiveMessage": never}, events_status())))
    assert (waiting["status"], waiting["reason"]) == ("Unknown", "NotReceivedYet")


def test_the_sqs_client_uses_the_queues_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    config = exporter_config(monitor({"queueURL": QUEUE}))
    clients = make_clients(config)
    assert clients.sqs.meta.region_name == "eu-west-1"
    assert clients.cloudwatch.meta.region_name == "us-east-1"
    assert make_clients(exporter_config(monitor(None))).sqs is None


def test_iam_policy_gains_the_documented_sqs_statement_only_with_events() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert iam_policy(monitor(None)) == json.loads((docs / "iam-policy.json").read_text())
    url = "https://sqs.us-east-1.amazonaws.com/111122223333/ses-events"
    (documented,) = json.loads((docs / "iam-policy-events.json").read_text())["Statement"]
    assert iam_policy(monitor({"queueURL": url}))["Statement"][-1] == documented
    # A VPC endpoint's URL names no region: the events region, else the monitor's.
    vpce = "https://vpce-0abc.sqs.eu-west-1.vpce.amazonaws.com/111122223333/q"
    assert queue_arn(vpce, "eu-west-1") == "arn:aws:sqs:eu-west-1:111122223333:q"
