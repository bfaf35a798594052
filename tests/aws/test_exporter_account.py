"""SESv2 GetAccount through botocore's Stubber (moto lacks it) and through the proxy's stand-in."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sesmonitor import metrics
from sesmonitor.exporter import AwsClients
from support.exporter_checks import FakeClock, get, sample, scrape_metrics


def account_response(status: str, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": status,
        "ProductionAccessEnabled": True,
        "SendingEnabled": status != "SHUTDOWN",
        "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 1234.0},
    }
    doc.update(overrides)
    return doc


def stubbed_exporter(ses, make_exporter, clock) -> tuple[Any, Stubber]:
    sesv2 = boto3.client("sesv2", region_name="us-east-1", endpoint_url=ses.endpoint_url)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=ses.endpoint_url)
    stub = Stubber(sesv2)
    stub.activate()
    exporter = make_exporter(ses, clients=AwsClients(cloudwatch=cloudwatch, sesv2=sesv2), clock=clock)
    return exporter, stub


@pytest.mark.parametrize("status", ["HEALTHY", "PROBATION", "SHUTDOWN"])
def test_enforcement_status_maps_to_gauges(simulated_ses, make_exporter, status):
    ses = simulated_ses("healthy")
    clock = FakeClock(ses.seeded.now)
    exporter, stub = stubbed_exporter(ses, make_exporter, clock)
    stub.add_response("get_account", account_response(status), {})
    assert exporter.refresher.refresh_once(clock.now) == {"GetMetricData": True, "GetAccount": True}
    stub.assert_no_pending_responses()
    samples = scrape_metrics(exporter)
    for candidate in metrics.ENFORCEMENT_STATUSES:
        expected = 1.0 if candidate == status else 0.0
        assert sample(samples, metrics.ENFORCEMENT_STATUS, status=candidate) == expected
    assert sample(samples, metrics.SENDING_ENABLED) == (0.0 if status == "SHUTDOWN" else 1.0)
    assert sample(samples, metrics.PRODUCTION_ACCESS_ENABLED) == 1.0
    assert sample(samples, metrics.QUOTA_MAX_24H_SEND) == 50000.0
    assert sample(samples, metrics.QUOTA_MAX_SEND_RATE) == 14.0
    assert sample(samples, metrics.QUOTA_SENT_LAST_24H) == 1234.0
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetAccount", outcome="success") == 1
    account = get(exporter, "/status").json()["account"]
    assert account == {
        "enforcement_status": status,
        "sending_enabled": status != "SHUTDOWN",
        "production_access_enabled": True,
        "max_24_hour_send": 50000.0,
        "sent_last_24_hours": 1234.0,
        "max_send_rate": 14.0,
        "suppressed_reasons": None,  # the stubbed answer has no SuppressionAttributes
        "review_status": None,
        "review_case_id": None,
        "vdm_enabled": False,  # no VdmAttributes: AWS's answer where VDM was never set up
    }


def test_unknown_status_and_missing_fields(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    clock = FakeClock(ses.seeded.now)
    exporter, stub = stubbed_exporter(ses, make_exporter, clock)
    stub.add_response("get_account", {"EnforcementStatus": "DISABLED"}, {})
    exporter.refresher.refresh_once(clock.now)
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.ENFORCEMENT_STATUS, status="DISABLED") == 1.0
    assert sample(samples, metrics.ENFORCEMENT_STATUS, status="HEALTHY") == 0.0
    # AWS left these out: no series rather than a made-up value.
    for name in (metrics.SENDING_ENABLED, metrics.QUOTA_MAX_24H_SEND, metrics.QUOTA_SENT_LAST_24H):
        assert sample(samples, name) is None


def test_access_denied_is_counted_not_fatal_and_cloudwatch_still_refreshes(simulated_ses, make_exporter):
    ses = simulated_ses("seed")
    clock = FakeClock(ses.seeded.now)
    exporter, stub = stubbed_exporter(ses, make_exporter, clock)
    stub.add_response("get_account", account_response("HEALTHY"), {})
    stub.add_client_error(
        "get_account",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ses:GetAccount",
        http_status_code=403,
    )
    stub.add_client_error("get_account", service_error_code="TooManyRequestsException", http_status_code=429)
    for _ in range(3):
        exporter.refresher.refresh_once(clock.now)
        clock.advance(60)
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetAccount", outcome="success") == 1
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetAccount", outcome="denied") == 1
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetAccount", outcome="throttled") == 1
    assert sample(samples, metrics.CONSECUTIVE_FAILURES, api="GetAccount") == 2
    assert sample(samples, metrics.STALE, api="GetAccount") == 1
    # The last good account values are still served.
    assert sample(samples, metrics.ENFORCEMENT_STATUS, status="HEALTHY") == 1.0
    # CloudWatch kept refreshing on its own.
    assert ses.proxy.count("GetMetricData") == 3
    assert sample(samples, metrics.STALE, api="GetMetricData") == 0
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="GetMetricData", outcome="success") == 3


def test_stand_in_get_account_switches_at_run_time(simulated_ses, make_exporter):
    """The proxy answers SESv2 GetAccount for the demo; its control endpoint changes the answer."""
    ses = simulated_ses("healthy")
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    exporter.refresher.refresh_once(clock.now)
    assert sample(scrape_metrics(exporter), metrics.ENFORCEMENT_STATUS, status="HEALTHY") == 1.0

    request = urllib.request.Request(
        ses.endpoint_url + "/__sesmonitor/account",
        data=json.dumps({"EnforcementStatus": "SHUTDOWN", "SendingEnabled": False}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    assert json.loads(urllib.request.urlopen(request).read())["EnforcementStatus"] == "SHUTDOWN"
    clock.advance(60)
    exporter.refresher.refresh_once(clock.now)
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.ENFORCEMENT_STATUS, status="SHUTDOWN") == 1.0
    assert sample(samples, metrics.ENFORCEMENT_STATUS, status="HEALTHY") == 0.0
    assert sample(samples, metrics.SENDING_ENABLED) == 0.0
    assert get(exporter, "/status").json()["account"]["enforcement_status"] == "SHUTDOWN"
    # The control requests were not counted as AWS requests.
    assert {r.operation for r in ses.proxy.requests()} == {"GetMetricData", "GetAccount"}


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ({}, (1.0, None, 0.0)),  # the stand-in's default: BOUNCE and COMPLAINT suppressed, no review, no VDM
        ({"SuppressedReasons": []}, (0.0, None, 0.0)),
        ({"SuppressedReasons": ["BOUNCE"], "VdmEnabled": "ENABLED"}, (1.0, None, 1.0)),
        ({"VdmEnabled": "DISABLED", "ReviewStatus": "PENDING", "ReviewCaseId": "1234567890"},
         (1.0, ("PENDING", "1234567890"), 0.0)),
        ({"ReviewStatus": "DENIED"}, (1.0, ("DENIED", ""), 0.0)),
    ],
)  # fmt: skip
def test_suppression_list_review_case_and_vdm(simulated_ses, make_exporter, account, expected):
    """Through the GetAccount stand-in over HTTP: what the suppression and review alerts read."""
    suppression, review, vdm = expected
    ses = simulated_ses("healthy")
    ses.proxy.set_account(**account)
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock)
    exporter.refresher.refresh_once(clock.now)
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.SUPPRESSION_LIST_ENABLED) == suppression
    reviews = [k for k in samples if k[0] == metrics.REVIEW_INFO]
    if review is None:
        assert reviews == []
    else:
        assert sample(samples, metrics.REVIEW_INFO, review_status=review[0], case_id=review[1]) == 1.0
    assert sample(samples, metrics.VDM_ENABLED) == vdm
    doc = get(exporter, "/status").json()["account"]
    assert doc["suppressed_reasons"] == account.get("SuppressedReasons", ["BOUNCE", "COMPLAINT"])
    assert doc["review_case_id"] == account.get("ReviewCaseId")
    assert doc["vdm_enabled"] is (account.get("VdmEnabled") == "ENABLED")
