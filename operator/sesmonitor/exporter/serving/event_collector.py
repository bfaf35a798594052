"""The SES event families (spec.events), from the state's snapshot: a scrape never touches SQS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sesmonitor import metrics as m
from sesmonitor.exporter.model.state import ExporterState

BASE = (m.LABEL_MONITOR, m.LABEL_REGION)
SET = (*BASE, m.LABEL_CONFIGURATION_SET)


def _counter(name: str, help_: str, labels: tuple[str, ...], values: Mapping[Any, int],
             base: list[str]) -> CounterMetricFamily:  # fmt: skip
    family = CounterMetricFamily(name, help_, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric([*base, *key], float(value))
    return family


class EventsCollector(Collector):
    def __init__(self, state: ExporterState, monitor: str, region: str) -> None:
        self._state = state
        self._base = [monitor, region]

    def collect(self) -> Iterator[Metric]:
        events = self._state.view().events
        counts = events.counts
        base = self._base
        per_recipient = " (per recipient, each SES event once) since the exporter started."
        if counts is not None:
            yield from (
                _counter(m.EVENTS_SENDS_TOTAL, "SES Send events" + per_recipient, SET,
                         {(k,): v for k, v in counts.sends.items()}, base),
                _counter(m.EVENTS_DELIVERIES_TOTAL, "SES Delivery events" + per_recipient, SET,
                         {(k,): v for k, v in counts.deliveries.items()}, base),
                _counter(m.EVENTS_REJECTS_TOTAL, "SES Reject events" + per_recipient, SET,
                         {(k,): v for k, v in counts.rejects.items()}, base),
                _counter(m.EVENTS_BOUNCES_TOTAL, "SES Bounce events by bounceType and bounceSubType"
                         + per_recipient, (*SET, m.LABEL_BOUNCE_TYPE, m.LABEL_BOUNCE_SUB_TYPE),
                         counts.bounces, base),
                _counter(m.EVENTS_COMPLAINTS_TOTAL, "SES Complaint events by complaintFeedbackType"
                         + per_recipient, (*SET, m.LABEL_FEEDBACK_TYPE), counts.complaints, base),
                _counter(m.EVENTS_DELAYS_TOTAL, "SES DeliveryDelay events by delayType" + per_recipient,
                         (*SET, m.LABEL_DELAY_TYPE), counts.delays, base),
                _counter(m.EVENTS_BOUNCES_BY_DOMAIN_TOTAL, "Bounces by recipient domain: the top N domains"
                         f" of the last hour, the rest as {m.EVENTS_OTHER_DOMAIN}" + per_recipient,
                         (*BASE, m.LABEL_RECIPIENT_DOMAIN),
                         {(k,): v for k, v in counts.bounces_by_domain.items()}, base),
            )  # fmt: skip
        messages = counts.messages if counts is not None else {}
        yield _counter(
            m.EVENTS_MESSAGES_TOTAL,
            "SQS messages received, by outcome (malformed ones are left for the redrive policy).",
            (*BASE, m.LABEL_OUTCOME),
            {(o,): messages.get(o, 0) for o in m.EVENTS_MESSAGE_OUTCOMES},
            base,
        )
        service = counts.service_events if counts is not None else {}
        yield _counter(
            m.EVENTS_SERVICE_EVENTS_TOTAL,
            "SES EventBridge service events (a tenant's sending status, an advisor recommendation) by"
            " outcome: acted (a read came sooner), rate_limited, not_watched, malformed.",
            (*BASE, m.LABEL_KIND, m.LABEL_OUTCOME),
            {(k, o): service.get((k, o), 0) for k in m.SERVICE_EVENT_KINDS for o in m.SERVICE_EVENT_OUTCOMES},
            base,
        )
        restarts = CounterMetricFamily(
            m.EVENTS_LOOP_RESTARTS_TOTAL,
            "The SES event consumer's loops restarted after an unexpected exception (a bug: see the log).",
            labels=BASE,
        )
        restarts.add_metric(base, float(events.loop_restarts))
        yield restarts
        queue = GaugeMetricFamily(
            m.EVENTS_QUEUE_MESSAGES,
            "SQS ApproximateNumberOfMessages (visible: the backlog) and ...NotVisible (in_flight).",
            labels=(*BASE, m.LABEL_QUEUE_STATE),
        )
        for state, value in (("visible", events.queue_visible), ("in_flight", events.queue_in_flight)):
            if value is not None:
                queue.add_metric([*base, state], float(value))
        yield queue
        age = GaugeMetricFamily(
            m.EVENTS_OLDEST_RECEIVED_AGE_SECONDS,
            "Seconds from SentTimestamp of the oldest message in the newest non-empty receive to that"
            " receive; 0 after an empty receive.",
            labels=BASE,
        )
        if events.oldest_received_age is not None:
            age.add_metric(base, events.oldest_received_age)
        yield age
