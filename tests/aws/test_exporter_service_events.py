"""Issue 21 item 4 over HTTP: SES's EventBridge service events on the SQS queue (moto) make the exporter's
own threads read a tenant, or the findings, sooner than their schedule, rate-limited; the stand-in
(support.simulated_aws.tenants, recommendations) answers the SESv2 reads moto lacks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sesmonitor import contract, metrics
from support.exporter_checks import get, sample, scrape_metrics
from support.ses_notifications import advisor_recommendation, tenant_sending_status
from support.simulated_aws.sqs_sns import event_pipeline

TENANT_CALLS = ("ListTenants", "GetTenant", "ListReputationEntities", "GetReputationEntity")


def until(what: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds}s: {what}")


def tenant_state(exporter: Any, name: str) -> str | None:
    view = exporter.state.view().tenants
    found = [t.state for t in (view.reading.tenants if view.reading else ()) if t.name == name]
    return found[0] if found else None


def test_a_tenant_paused_by_aws_shows_within_seconds_not_at_the_next_read(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    tenants = ses.proxy.tenants
    for name in ("acme", "globex", "initech"):
        tenants.add_tenant(name)
    pipe = event_pipeline(ses)
    exporter = make_exporter(
        ses,
        refresh_loop=True,  # the exporter's own threads: refresh, tenants, events
        tenants=contract.TenantsConfig(),  # the next scheduled read: 20 minutes after the first
        events_queue_url=pipe.queue_url,
        events_wait_seconds=1,
    )
    until(lambda: tenant_state(exporter, "globex") == "enabled")
    first_read = {op: ses.proxy.count(op) for op in TENANT_CALLS}
    # AWS pauses globex and says so on the default bus; a rule puts the event on the queue.
    tenants.set_aws_status("globex", "DISABLED", "Bounce rate above the standard policy", "HIGH")
    arn = tenants.tenant("globex").arn
    assert tenant_state(exporter, "globex") == "enabled"  # the last read's, until someone reads again
    sent = time.monotonic()
    for _ in range(20):  # a burst: EventBridge may repeat, and the consumer receives 10 at a time
        pipe.send_body(tenant_sending_status(arn, "DISABLED", "AWS_MANAGED"))
    until(lambda: tenant_state(exporter, "globex") == "paused_by_aws")
    took = time.monotonic() - sent
    assert took < 15, f"{took:.1f}s"  # the next scheduled read is 20 minutes away
    status = get(exporter, "/status").json()
    assert status["tenants"]["counts"]["paused_by_aws"] == 1
    assert status["tenants"]["worst"][0] == {
        "name": "globex", "state": "paused_by_aws", "sending_status": "DISABLED", "paused_by": "aws",
        "cause": "Bounce rate above the standard policy", "impact": "HIGH", "policy": "standard",
    }  # fmt: skip
    until(lambda: (get(exporter, "/status").json()["events"]["messages"]["ignored"] or 0) >= 20)
    time.sleep(3)  # what a second early read would have needed: the coalescing moment, and its request
    # One GetReputationEntity for the whole burst: nothing listed again, no GetTenant.
    after = {op: ses.proxy.count(op) - first_read[op] for op in TENANT_CALLS}
    assert after == {"ListTenants": 0, "GetTenant": 0, "ListReputationEntities": 0, "GetReputationEntity": 1}
    samples = scrape_metrics(exporter)
    kind = metrics.SERVICE_EVENT_TENANT_SENDING_STATUS
    total = metrics.EVENTS_SERVICE_EVENTS_TOTAL
    assert sample(samples, total, kind=kind, outcome="acted") == 1.0
    assert sample(samples, total, kind=kind, outcome="rate_limited") == 19.0
    assert sample(samples, metrics.TENANT_STATUS, tenant="globex", state="paused_by_aws") == 1.0
    last = get(exporter, "/status").json()["events"]["service_events"][kind]
    assert (last["tenant"], last["status"], last["origin"], last["outcome"]) == (
        "globex",
        "DISABLED",
        "AWS_MANAGED",
        "rate_limited",
    )
    # Every event was deleted (ignored as email events), none left for the dead-letter queue.
    left = pipe.attributes()
    assert left["ApproximateNumberOfMessages"] + left["ApproximateNumberOfMessagesNotVisible"] == 0


def test_an_unwatched_tenant_or_a_malformed_event_reads_nothing(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    ses.proxy.tenants.add_tenant("acme")
    pipe = event_pipeline(ses, visibility_timeout=1)
    exporter = make_exporter(
        ses, tenants=contract.TenantsConfig(names=("acme",)), events_queue_url=pipe.queue_url,
        events_wait_seconds=1,
    )  # fmt: skip
    assert exporter.tenants is not None
    assert exporter.events is not None
    assert exporter.tenants.read_once()
    pipe.send_body(tenant_sending_status("arn:aws:ses:us-east-1:123456789012:tenant/other/tn-9"))
    pipe.send_body('{"source": "aws.ses", "detail-type": "Sending Status Disabled", "detail": {}}')
    ses.proxy.reset()
    for _ in range(3):
        assert exporter.events.poll_once()
    exporter.tenants.read_early()
    assert sum(ses.proxy.count(op) for op in TENANT_CALLS) == 0
    samples = scrape_metrics(exporter)
    kind = metrics.SERVICE_EVENT_TENANT_SENDING_STATUS
    total = metrics.EVENTS_SERVICE_EVENTS_TOTAL
    assert sample(samples, total, kind=kind, outcome="not_watched") == 1.0
    assert sample(samples, total, kind=kind, outcome="malformed") == 1.0  # once, however often it returns
    assert sample(samples, metrics.EVENTS_MESSAGES_TOTAL, outcome="malformed") == 1.0
    left = pipe.attributes()  # the malformed one waits for the redrive policy
    assert left["ApproximateNumberOfMessages"] + left["ApproximateNumberOfMessagesNotVisible"] == 1


def test_a_recommendation_event_reads_the_findings_early_once(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    ses.proxy.tenants.add_tenant("acme")
    arn = ses.proxy.tenants.tenant("acme").arn
    ses.proxy.set_account(VdmEnabled="ENABLED")
    pipe = event_pipeline(ses)
    exporter = make_exporter(
        ses,
        refresh_loop=True,
        findings=contract.FindingsConfig(),  # the next scheduled read: 30 minutes after the first
        events_queue_url=pipe.queue_url,
        events_wait_seconds=1,
    )
    until(lambda: get(exporter, "/status").json()["findings"]["open"] == 0)
    assert ses.proxy.count("ListRecommendations") == 1
    ses.proxy.recommendations.add(arn, "BOUNCE", "HIGH")
    for _ in range(5):
        pipe.send_body(advisor_recommendation(arn))
    until(lambda: get(exporter, "/status").json()["findings"]["open"] == 1)
    time.sleep(3)
    assert ses.proxy.count("ListRecommendations") == 2  # one early read for the burst
    times = sorted(r.at for r in ses.proxy.requests() if r.operation == "ListRecommendations")
    assert times[1] - times[0] >= 1.0  # the call's limit: 1 request a second
    samples = scrape_metrics(exporter)
    kind = metrics.SERVICE_EVENT_RECOMMENDATION
    total = metrics.EVENTS_SERVICE_EVENTS_TOTAL
    assert sample(samples, total, kind=kind, outcome="acted") == 1.0
    assert sample(samples, total, kind=kind, outcome="rate_limited") == 4.0
    worst = get(exporter, "/status").json()["findings"]["worst"][0]
    assert (worst["resource"], worst["type"], worst["impact"]) == ("acme", "BOUNCE", "HIGH")
