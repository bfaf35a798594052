"""The SES event alerts (spec.events) under promtool: the early warning before the reputation alert,
the surge, abuse, a stalled consumer, a queue backing up, and nothing at all without spec.events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rules.test_promtool import (
    ACCOUNT,
    BOUNCE,
    RUNBOOK,
    check,
    constant,
    expected,
    healthy_exporter,
    monitor,
    rules_for,
    run_promtool,
    scenario,
    series,
)
from sesmonitor import metrics
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL
from sesmonitor.render.event_rules import (
    ABUSE_COMPLAINTS,
    EVENT_ALERTS,
    EVENT_CONSUMER_STALLED,
    EVENT_QUEUE_BACKING_UP,
    PERMANENT_BOUNCES_RISING,
    TRANSIENT_BOUNCE_SURGE,
)
from sesmonitor.render.rules import BOUNCE_RATE_HIGH

EVENTS = {"events": {"queueURL": "https://sqs.us-east-1.amazonaws.com/111122223333/ses-events"}}
SET = {**ACCOUNT, "configuration_set": "marketing"}


def counter(per_minute: list[float]) -> list[float | None]:
    total, out = 0.0, []
    for step in per_minute:
        total += step
        out.append(total)
    return out  # type: ignore[return-value]


def bounces(kind: str, sub: str, per_minute: list[float]) -> dict[str, str]:
    return series(
        metrics.EVENTS_BOUNCES_TOTAL, counter(per_minute), **SET, bounce_type=kind, bounce_sub_type=sub
    )


def sends(per_minute: float, minutes: int) -> dict[str, str]:
    return series(metrics.EVENTS_SENDS_TOTAL, counter([per_minute] * (minutes + 1)), **SET)


def consumer_ok(minutes: int) -> list[dict[str, str]]:
    return [
        series(metrics.EVENTS_QUEUE_MESSAGES, constant(3, minutes), **ACCOUNT, queue_state="visible"),
        series(metrics.EVENTS_MESSAGES_TOTAL, counter([40] * (minutes + 1)), **ACCOUNT, outcome="counted"),
        series(metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS, constant(4, minutes), **ACCOUNT),
    ]


def test_a_bad_list_fires_the_early_warning_long_before_the_reputation_alert(
    promtool: str, tmp_path: Path
) -> None:
    """100 sends a minute; from minute 30 a bad list: 8 permanent NoEmail bounces a minute (8%). The 15m
    ratio (increase() extrapolates) passes 5% at about minute 39, the alert fires `for` (5m) later;
    CloudWatch's reputation rate, AWS's long-running figure, is still at 1%: SESBounceRateHigh is silent."""
    rules = rules_for(monitor(EVENTS), annotations=False)
    minutes = 90
    bad = [0.0] * 30 + [8.0] * (minutes - 29)
    input_series = [
        sends(100, minutes),
        bounces("Permanent", "NoEmail", bad),
        bounces("Transient", "MailboxFull", [1.0] * (minutes + 1)),
        series(BOUNCE, constant(0.01, minutes), **ACCOUNT),
        *consumer_ok(minutes),
        *healthy_exporter(minutes),
    ]
    firing = [expected(rules, PERMANENT_BOUNCES_RISING, ACCOUNT)]
    checks = [check(t, PERMANENT_BOUNCES_RISING, []) for t in (10, 30, 38)]
    checks += [check(t, PERMANENT_BOUNCES_RISING, firing) for t in (46, 60, 90)]
    checks += [check(t, alert, []) for t in (46, 90) for alert in (BOUNCE_RATE_HIGH, TRANSIENT_BOUNCE_SURGE)]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])


def test_surges_abuse_and_the_send_floor(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor(EVENTS), annotations=False)
    minutes = 40
    surge = scenario(
        [sends(100, minutes), bounces("Transient", "MailboxFull", [0.0] * 10 + [15.0] * (minutes - 9)),
         *consumer_ok(minutes)],
        [check(5, TRANSIENT_BOUNCE_SURGE, []),
         check(30, TRANSIENT_BOUNCE_SURGE, [expected(rules, TRANSIENT_BOUNCE_SURGE, ACCOUNT)]),
         check(30, PERMANENT_BOUNCES_RISING, [])],
    )  # fmt: skip
    abuse_every = [1.0 if i % 2 == 0 and i >= 10 else 0.0 for i in range(minutes + 1)]  # 0.5% of sends
    abuse = scenario(
        [sends(100, minutes), series(metrics.EVENTS_COMPLAINTS_TOTAL, counter(abuse_every), **SET,
                                     complaint_feedback_type="abuse"), *consumer_ok(minutes)],
        [check(5, ABUSE_COMPLAINTS, []),
         check(35, ABUSE_COMPLAINTS, [expected(rules, ABUSE_COMPLAINTS, ACCOUNT)])],
    )  # fmt: skip
    rare = [1.0 if i == 20 else 0.0 for i in range(minutes + 1)]  # one in 1500 sends: 0.07%
    not_spam = [5.0] * (minutes + 1)
    quiet = scenario(
        [sends(100, minutes),
         series(metrics.EVENTS_COMPLAINTS_TOTAL, counter(rare), **SET, complaint_feedback_type="abuse"),
         series(metrics.EVENTS_COMPLAINTS_TOTAL, counter(not_spam), **SET,
                complaint_feedback_type="not-spam"),
         *consumer_ok(minutes)],
        [check(t, ABUSE_COMPLAINTS, []) for t in range(0, minutes + 1, 5)],
    )  # fmt: skip
    # 1 send a minute, every one a hard bounce: under 20 sends in 15 minutes is no basis for a ratio.
    floor = scenario(
        [sends(1, minutes), bounces("Permanent", "General", [1.0] * (minutes + 1)), *consumer_ok(minutes)],
        [check(t, PERMANENT_BOUNCES_RISING, []) for t in range(0, minutes + 1, 5)],
    )
    run_promtool(promtool, tmp_path, rules, [surge, abuse, quiet, floor])


def test_a_stalled_consumer_and_a_queue_backing_up(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor(EVENTS), annotations=False)
    minutes = 40
    stalled = scenario(
        [series(metrics.EVENTS_QUEUE_MESSAGES, constant(50, minutes), **ACCOUNT, queue_state="visible"),
         series(metrics.EVENTS_MESSAGES_TOTAL, counter([10.0] * 5 + [0.0] * (minutes - 4)), **ACCOUNT,
                outcome="counted"),
         series(metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS, constant(4, minutes), **ACCOUNT)],
        [check(12, EVENT_CONSUMER_STALLED, []),
         check(25, EVENT_CONSUMER_STALLED, [expected(rules, EVENT_CONSUMER_STALLED, ACCOUNT)])],
    )  # fmt: skip
    behind = [4.0] * 10 + [60.0 * i for i in range(1, minutes - 8)]  # waits a minute longer each minute
    backing_up = scenario(
        [*consumer_ok(minutes)[:2], series(metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS, behind, **ACCOUNT)],
        [check(20, EVENT_QUEUE_BACKING_UP, []),
         check(35, EVENT_QUEUE_BACKING_UP, [expected(rules, EVENT_QUEUE_BACKING_UP, ACCOUNT)]),
         check(35, EVENT_CONSUMER_STALLED, [])],
    )  # fmt: skip
    healthy = scenario(consumer_ok(minutes), [check(t, a, []) for t in (10, 40) for a in EVENT_ALERTS])
    run_promtool(promtool, tmp_path, rules, [stalled, backing_up, healthy])


def test_the_stalled_consumers_notification_a_static_summary_the_backlog_and_its_runbook(
    promtool: str, tmp_path: Path
) -> None:
    """With annotations where `$value` is known (the backlog, a constant 50): the summary reads the same
    every time, the description carries the value, runbook_url links the alert's section of docs/alerts.md
    (no runbook_url of the user's here: the default)."""
    rules = rules_for(monitor({**EVENTS, "alerting": {"labels": {"team": "mail"}}}))
    minutes = 30
    stalled = expected(rules, EVENT_CONSUMER_STALLED, ACCOUNT, value=50)
    annotations = stalled["exp_annotations"]
    assert annotations["summary"] == "sesmonitor receives no SES events although the queue holds some"
    assert "holds 50 messages" in annotations["description"]
    assert annotations["runbook_url"] == f"{DEFAULT_RUNBOOK_BASE_URL}#sesmonitoreventconsumerstalled"
    assert RUNBOOK not in annotations.values()
    input_series = [
        series(metrics.EVENTS_QUEUE_MESSAGES, constant(50, minutes), **ACCOUNT, queue_state="visible"),
        series(metrics.EVENTS_MESSAGES_TOTAL, counter([10.0] * 5 + [0.0] * (minutes - 4)), **ACCOUNT,
               outcome="counted"),
        series(metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS, constant(4, minutes), **ACCOUNT),
    ]  # fmt: skip
    checks = [check(12, EVENT_CONSUMER_STALLED, []), check(25, EVENT_CONSUMER_STALLED, [stalled])]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])


def test_no_event_alert_without_spec_events(promtool: str, tmp_path: Path) -> None:
    """The same bad list and a stalled queue, on a monitor without spec.events: not one event alert."""
    rules = rules_for(monitor(), annotations=False)
    assert not {r["alert"] for r in rules} & set(EVENT_ALERTS)
    minutes = 60
    input_series: list[dict[str, Any]] = [
        sends(100, minutes),
        bounces("Permanent", "NoEmail", [20.0] * (minutes + 1)),
        series(metrics.EVENTS_QUEUE_MESSAGES, constant(50, minutes), **ACCOUNT, queue_state="visible"),
        series(metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS, constant(3600, minutes), **ACCOUNT),
        *healthy_exporter(minutes),
    ]
    checks = [check(t, alert, []) for t in (20, 60) for alert in EVENT_ALERTS]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])
