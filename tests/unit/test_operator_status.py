"""The SesMonitor status as the operator computes it: conditions, reasons, messages, transitions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from sesmonitor.api import parse_spec
from sesmonitor.contract import (
    AccountStatus,
    ApiHealth,
    ExporterStatus,
    RateStatus,
    empty_account,
    empty_rate,
)
from sesmonitor.operator.shapes import ExporterReading, PodProblem, ReconcileOutcome
from sesmonitor.operator.status.compute import (
    compute_status,
    condition_changes,
    invalid_spec_status,
    rfc3339,
    status_patch,
)

KEY = "mail/prod"
T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)
SPEC = parse_spec({"region": "eu-west-1", "window": "30m"})
OK = ReconcileOutcome(True)


def rate(current: float | None, average: float | None = None) -> RateStatus:
    value = empty_rate()
    value["current"] = current
    value["window_average"] = average
    value["timestamp"] = None if current is None else "2026-01-02T03:00:00Z"
    return value


def account(enforcement: str | None = "HEALTHY", sending: bool | None = True) -> AccountStatus:
    value = empty_account()
    value["enforcement_status"] = enforcement
    value["sending_enabled"] = sending
    return value


def exporter(
    bounce: RateStatus | None = None,
    complaint: RateStatus | None = None,
    acct: AccountStatus | None = None,
    *,
    ready: bool = True,
    stale: bool = False,
    monitor: str = KEY,
    last_error: str | None = None,
) -> ExporterReading:
    doc = ExporterStatus(
        monitor=monitor,
        region="eu-west-1",
        ready=ready,
        stale=stale,
        bounce_rate=bounce if bounce is not None else rate(0.01, 0.012),
        complaint_rate=complaint if complaint is not None else rate(0.0002, 0.0003),
        account=acct if acct is not None else account(),
        last_refresh_time="2026-01-02T03:04:00Z" if ready else None,
        last_error=last_error,
    )
    return ExporterReading(status=doc, url="http://exporter:9435/status")


def compute(
    reading: ExporterReading,
    previous: dict[str, Any] | None = None,
    outcome: ReconcileOutcome = OK,
    now: datetime.datetime = T0,
    generation: int = 3,
) -> dict[str, Any]:
    return compute_status(
        monitor_key=KEY,
        spec=SPEC,
        generation=generation,
        outcome=outcome,
        reading=reading,
        previous=previous,
        now=now,
    )


def cond(status: dict[str, Any], kind: str) -> dict[str, Any]:
    matches = [c for c in status["conditions"] if c["type"] == kind]
    assert len(matches) == 1, status["conditions"]
    return matches[0]


def test_all_healthy_is_ready() -> None:
    status = compute(exporter())
    assert [c["type"] for c in status["conditions"]] == [
        "Ready",
        "Reconciled",
        "ExporterReady",
        "BounceRateHealthy",
        "ComplaintRateHealthy",
        "AccountHealthy",
    ]
    assert all(c["status"] == "True" for c in status["conditions"])
    assert cond(status, "BounceRateHealthy")["reason"] == "BelowThreshold"
    assert cond(status, "BounceRateHealthy")["message"] == (
        "bounce rate 1.2% (mean of CloudWatch's datapoints over the last 30m)"
        " is below the warning threshold 5%"
    )
    assert cond(status, "ComplaintRateHealthy")["message"] == (
        "complaint rate 0.03% (mean of CloudWatch's datapoints over the last 30m)"
        " is below the warning threshold 0.1%"
    )
    assert cond(status, "AccountHealthy")["reason"] == "Healthy"
    assert status["observedGeneration"] == 3
    assert all(c["observedGeneration"] == 3 for c in status["conditions"])
    assert all(c["lastTransitionTime"] == "2026-01-02T03:04:05Z" for c in status["conditions"])
    assert status["bounceRate"] == "1%"
    assert status["bounceRateWindowAverage"] == "1.2%"
    assert status["complaintRate"] == "0.02%"
    assert status["complaintRateWindowAverage"] == "0.03%"
    assert status["enforcementStatus"] == "HEALTHY"
    assert status["sendingEnabled"] is True
    assert cond(status, "Ready")["reason"] == "Monitoring"
    # Changes every refresh; the exporter's own metrics carry it (see test_refresh_time_alone...).
    assert "lastRefreshTime" not in status


@pytest.mark.parametrize(
    ("average", "status_", "reason", "fragment"),
    [
        (
            0.0499,
            "True",
            "BelowThreshold",
            "bounce rate 4.99% (mean of CloudWatch's datapoints over the last 30m)"
            " is below the warning threshold 5%",
        ),
        (
            0.05,
            "False",
            "AboveWarning",
            "bounce rate 5% (mean of CloudWatch's datapoints over the last 30m)"
            " is at or above the warning threshold 5%",
        ),
        (0.07, "False", "AboveWarning", "(critical 10%)"),
        (
            0.10,
            "False",
            "AboveCritical",
            "bounce rate 10% (mean of CloudWatch's datapoints over the last 30m)"
            " is at or above the critical threshold 10%",
        ),
        (0.1432, "False", "AboveCritical", "14.32%"),
    ],
)
def test_bounce_rate_against_thresholds(average: float, status_: str, reason: str, fragment: str) -> None:
    status = compute(exporter(bounce=rate(0.01, average)))
    condition = cond(status, "BounceRateHealthy")
    assert (condition["status"], condition["reason"]) == (status_, reason)
    assert fragment in condition["message"]
    # Ready says the monitor works, whatever the rate: GitOps health checks must not fail on it.
    assert (cond(status, "Ready")["status"], cond(status, "Ready")["reason"]) == ("True", "Monitoring")


def test_complaint_rate_above_critical_names_rate_and_threshold() -> None:
    status = compute(exporter(complaint=rate(0.004, 0.0061)))
    condition = cond(status, "ComplaintRateHealthy")
    assert condition["reason"] == "AboveCritical"
    assert (
        condition["message"] == "complaint rate 0.61% (mean of CloudWatch's datapoints over the last 30m)"
        " is at or above the critical threshold 0.5%"
    )


def test_latest_datapoint_used_without_a_window_average() -> None:
    status = compute(exporter(bounce=rate(0.06, None)))
    assert cond(status, "BounceRateHealthy")["message"].startswith(
        "bounce rate 6% (newest CloudWatch datapoint) is at or above"
    )
    assert "bounceRateWindowAverage" not in status


def test_no_datapoint_is_unknown_nodata() -> None:
    status = compute(exporter(bounce=rate(None, None)))
    condition = cond(status, "BounceRateHealthy")
    assert (condition["status"], condition["reason"]) == ("Unknown", "NoData")
    assert cond(status, "Ready")["status"] == "True"
    assert "bounceRate" not in status


@pytest.mark.parametrize(
    ("enforcement", "sending", "status_", "reason"),
    [
        ("HEALTHY", True, "True", "Healthy"),
        ("PROBATION", True, "False", "UnderReview"),
        ("SHUTDOWN", False, "False", "SendingPaused"),
        ("HEALTHY", False, "False", "SendingPaused"),
        (None, None, "Unknown", "NoData"),
        ("SOMETHING_NEW", True, "Unknown", "UnknownEnforcementStatus"),
    ],
)
def test_account_condition(enforcement: str | None, sending: bool | None, status_: str, reason: str) -> None:
    status = compute(exporter(acct=account(enforcement, sending)))
    condition = cond(status, "AccountHealthy")
    assert (condition["status"], condition["reason"]) == (status_, reason)


def test_ready_means_the_monitor_works_not_that_the_account_is_healthy() -> None:
    status = compute(exporter(bounce=rate(0.2, 0.2), complaint=rate(0.01, 0.01), acct=account("SHUTDOWN")))
    assert cond(status, "BounceRateHealthy")["reason"] == "AboveCritical"
    assert cond(status, "ComplaintRateHealthy")["reason"] == "AboveCritical"
    assert cond(status, "AccountHealthy")["reason"] == "SendingPaused"
    ready = cond(status, "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Monitoring")
    assert status["enforcementStatus"] == "SHUTDOWN"
    # The monitor not working is what takes Ready away.
    assert cond(compute(exporter(stale=True)), "Ready")["status"] == "False"
    failed = compute(exporter(), outcome=ReconcileOutcome(False, "Forbidden", "denied"))
    assert (cond(failed, "Ready")["status"], cond(failed, "Ready")["reason"]) == ("False", "Forbidden")


def test_unreachable_exporter() -> None:
    reading = ExporterReading(error="connection refused", url="http://sesmon-prod.mail.svc:9435/status")
    status = compute(reading)
    exporter_ready = cond(status, "ExporterReady")
    assert (exporter_ready["status"], exporter_ready["reason"]) == ("False", "ExporterUnreachable")
    assert "http://sesmon-prod.mail.svc:9435/status" in exporter_ready["message"]
    assert "connection refused" in exporter_ready["message"]
    for kind in ("BounceRateHealthy", "ComplaintRateHealthy", "AccountHealthy"):
        assert cond(status, kind)["status"] == "Unknown"
        assert cond(status, kind)["reason"] == "ExporterUnreachable"
    assert cond(status, "Ready")["status"] == "False"
    assert cond(status, "Ready")["reason"] == "ExporterUnreachable"
    # Reconciled is independent of the exporter: children were applied.
    assert cond(status, "Reconciled")["status"] == "True"
    assert status["observedGeneration"] == 3


def test_unreachable_exporter_keeps_the_last_known_rates() -> None:
    before = compute(exporter(bounce=rate(0.02, 0.03)))
    after = compute(ExporterReading(error="timed out"), previous=before, now=T1)
    assert after["bounceRate"] == "2%"
    assert after["bounceRateWindowAverage"] == "3%"


def test_exporter_not_ready_and_stale() -> None:
    status = compute(exporter(ready=False))
    condition = cond(status, "ExporterReady")
    assert (condition["status"], condition["reason"]) == ("False", "NotReady")
    assert condition["message"] == "the exporter has no complete read of AWS yet; waiting for its reads"
    # An exporter without per-API error codes still gets its error through.
    old = cond(compute(exporter(ready=False, last_error="GetAccount: AccessDenied: no")), "ExporterReady")
    assert (old["reason"], old["message"]) == (
        "AWSError",
        "the exporter has no complete read of AWS yet: GetAccount: AccessDenied: no",
    )
    stale = cond(compute(exporter(stale=True)), "ExporterReady")
    assert (stale["status"], stale["reason"]) == ("False", "Stale")
    # Stale data is still data: the rate conditions judge it.
    assert cond(compute(exporter(stale=True)), "BounceRateHealthy")["status"] == "True"


def test_exporter_of_another_monitor_is_not_trusted() -> None:
    status = compute(exporter(monitor="other/monitor", bounce=rate(0.5, 0.5)))
    assert cond(status, "ExporterReady")["reason"] == "MonitorMismatch"
    assert cond(status, "BounceRateHealthy")["status"] == "Unknown"
    assert "bounceRate" not in status


def test_failed_reconcile_observes_the_generation_and_says_stalled() -> None:
    before = compute(exporter(), generation=3)
    failed = ReconcileOutcome(
        False, "PrometheusOperatorMissing", "the ServiceMonitor resource type is not served"
    )
    after = compute(exporter(), previous=before, outcome=failed, generation=4, now=T1)
    assert after["observedGeneration"] == 4
    assert cond(after, "Stalled")["reason"] == "PrometheusOperatorMissing"
    reconciled = cond(after, "Reconciled")
    assert (reconciled["status"], reconciled["reason"]) == ("False", "PrometheusOperatorMissing")
    assert reconciled["lastTransitionTime"] == rfc3339(T1)
    assert cond(after, "Ready")["reason"] == "PrometheusOperatorMissing"
    assert cond(after, "Ready")["status"] == "False"


def test_failed_reconcile_is_observed_and_stalled_for_kstatus() -> None:
    failed = ReconcileOutcome(False, "Forbidden", "cannot create deployments")
    status = compute(exporter(), outcome=failed)
    # kstatus: a lagging observedGeneration means "in progress"; Stalled=True means "failed".
    assert status["observedGeneration"] == 3
    stalled = cond(status, "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "Forbidden")
    assert "cannot create deployments" in stalled["message"]
    recovered = compute(exporter(), previous=status, now=T1)
    assert all(c["type"] != "Stalled" for c in recovered["conditions"])


def test_last_transition_time_moves_only_when_status_changes() -> None:
    warning = compute(exporter(bounce=rate(0.06, 0.06)), now=T0)
    # Same status (False), new reason: the transition time stays.
    critical = compute(exporter(bounce=rate(0.12, 0.12)), previous=warning, now=T1)
    assert cond(critical, "BounceRateHealthy")["reason"] == "AboveCritical"
    assert cond(critical, "BounceRateHealthy")["lastTransitionTime"] == rfc3339(T0)
    # Status changes: it moves.
    later = T1 + datetime.timedelta(minutes=1)
    healthy = compute(exporter(bounce=rate(0.01, 0.01)), previous=critical, now=later)
    assert cond(healthy, "BounceRateHealthy")["lastTransitionTime"] == rfc3339(later)
    # Conditions that did not change keep their time.
    assert cond(healthy, "ComplaintRateHealthy")["lastTransitionTime"] == rfc3339(T0)


def test_unchanged_world_means_no_patch() -> None:
    first = compute(exporter(), now=T0)
    second = compute(exporter(), previous=first, now=T1)
    assert second == first
    assert status_patch(first, second) is None


def test_patch_holds_only_changes_and_nulls_for_removed_keys() -> None:
    first = compute(exporter(bounce=rate(0.02, 0.03)))
    second = compute(exporter(bounce=rate(None, None)), previous=first, now=T1)
    patch = status_patch(first, second)
    assert patch is not None
    assert patch["bounceRate"] is None
    assert patch["bounceRateWindowAverage"] is None
    assert "complaintRate" not in patch
    assert "observedGeneration" not in patch
    assert patch["conditions"][0]["type"] == "Ready"


def test_patch_from_empty_status_sets_everything() -> None:
    status = compute(exporter())
    patch = status_patch(None, status)
    assert patch == status


def test_condition_changes_raise_events_only_on_transitions() -> None:
    types = ("BounceRateHealthy", "ComplaintRateHealthy", "AccountHealthy")
    healthy = compute(exporter())
    # A new, healthy monitor: nothing to announce.
    assert condition_changes(None, healthy["conditions"], types) == []
    # Nothing changed: nothing to announce.
    assert condition_changes(healthy["conditions"], healthy["conditions"], types) == []
    warning = compute(exporter(bounce=rate(0.06, 0.06)), previous=healthy, now=T1)
    changes = condition_changes(healthy["conditions"], warning["conditions"], types)
    assert [(c.type, c.current.reason, c.warning) for c in changes] == [
        ("BounceRateHealthy", "AboveWarning", True)
    ]
    recovered = compute(exporter(), previous=warning, now=T1)
    changes = condition_changes(warning["conditions"], recovered["conditions"], types)
    assert [(c.type, c.current.reason, c.warning) for c in changes] == [
        ("BounceRateHealthy", "BelowThreshold", False)
    ]
    # A new monitor still waiting for data (Unknown) is not announced either.
    waiting = compute(ExporterReading(error="connection refused"))
    assert condition_changes(None, waiting["conditions"], types) == []
    # A new monitor that is already unhealthy is announced.
    probation = compute(exporter(acct=account("PROBATION")))
    assert [c.type for c in condition_changes(None, probation["conditions"], types)] == ["AccountHealthy"]


def test_invalid_spec_status_keeps_other_conditions() -> None:
    before = compute(exporter())
    failed = ReconcileOutcome(False, "InvalidSpec", "spec.region: required field is missing")
    after = invalid_spec_status(previous=before, outcome=failed, generation=4, now=T1)
    assert after["observedGeneration"] == 4
    assert cond(after, "Stalled")["reason"] == "InvalidSpec"
    assert cond(after, "Reconciled")["reason"] == "InvalidSpec"
    assert cond(after, "Ready")["status"] == "False"
    assert cond(after, "BounceRateHealthy") == cond(before, "BounceRateHealthy")
    assert after["bounceRate"] == before["bounceRate"]


def test_status_matches_the_crd_status_schema() -> None:
    from sesmonitor.api import SesMonitorStatus

    for reading in (exporter(), ExporterReading(error="refused"), exporter(bounce=rate(None, None))):
        SesMonitorStatus.model_validate(compute(reading))


# --------------------------------------------------------------------------------------------------
# The AWS error and the exporter's pods reach the conditions (issue 11, item 1)
# --------------------------------------------------------------------------------------------------


def failing(api: str, code: str, kind: str, message: str, failures: int = 3) -> ExporterReading:
    """An exporter whose ``api`` keeps failing with AWS error ``code`` (counted as ``kind``)."""
    reading = exporter(ready=False, last_error=f"{api}: {code}: {message}")
    assert reading.status is not None
    health: ApiHealth = {
        "last_success_time": None,
        "consecutive_failures": failures,
        "stale": True,
        "last_error": f"{code}: {message}",
        "last_error_time": f"2026-01-02T03:0{failures}:00Z",
        "last_error_code": code,
        "last_error_kind": kind,
    }
    reading.status.apis = {api: health}
    return reading


@pytest.mark.parametrize(
    ("code", "kind", "reason"),
    [
        ("AccessDeniedException", "denied", "AWSAccessDenied"),
        ("AccessDenied", "denied", "AWSAccessDenied"),
        ("ExpiredToken", "denied", "AWSCredentialsExpired"),
        ("NoCredentialsError", "denied", "AWSNoCredentials"),
        ("EndpointConnectionError", "error", "AWSUnreachable"),
        ("ConnectTimeoutError", "timeout", "AWSUnreachable"),
        ("Throttling", "throttled", "AWSThrottled"),
        ("InternalFailure", "server_error", "AWSServerError"),
        ("ValidationError", "client_error", "AWSError"),
    ],
)
def test_the_aws_error_is_the_reason_and_its_words_the_message(code: str, kind: str, reason: str) -> None:
    status = compute(failing("GetAccount", code, kind, "User: arn:aws:iam::1:role/x is not authorized"))
    exporter_ready = cond(status, "ExporterReady")
    assert (exporter_ready["status"], exporter_ready["reason"]) == ("False", reason)
    assert exporter_ready["message"] == (
        f"the exporter has no complete read of AWS yet: GetAccount: {code}:"
        " User: arn:aws:iam::1:role/x is not authorized"
    )
    # Ready (and so the printer column Reason) carries it too, not "ExporterUnreachable".
    ready = cond(status, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", reason)
    assert ready["message"] == f"ExporterReady: {exporter_ready['message']}"


def test_an_aws_outage_after_good_reads_says_so_and_keeps_the_rates() -> None:
    reading = failing("GetMetricData", "EndpointConnectionError", "error", 'Could not connect to "x"')
    assert reading.status is not None
    reading.status.ready, reading.status.stale = True, True
    reading.status.last_refresh_time = "2026-01-02T03:00:00Z"
    status = compute(reading)
    assert cond(status, "ExporterReady")["reason"] == "AWSUnreachable"
    assert cond(status, "ExporterReady")["message"].startswith(
        "the exporter serves data last read from AWS at 2026-01-02T03:00:00Z: GetMetricData:"
    )
    assert status["bounceRate"] == "1%"


def test_repeated_failures_of_the_same_error_write_nothing() -> None:
    first = compute(failing("GetAccount", "AccessDeniedException", "denied", "no", failures=1))
    later = compute(
        failing("GetAccount", "AccessDeniedException", "denied", "no", failures=7), previous=first, now=T1
    )
    assert status_patch(first, later) is None


def test_an_unreachable_exporter_says_what_its_pod_says() -> None:
    problem = PodProblem("ImagePullBackOff", "exporter pod sesmon-prod-1: ImagePullBackOff: not found")
    reading = ExporterReading(error="connection refused", url="http://s:9435/status", workload=problem)
    status = compute(reading)
    exporter_ready = cond(status, "ExporterReady")
    assert exporter_ready["reason"] == "ImagePullBackOff"
    assert exporter_ready["message"] == (
        "exporter pod sesmon-prod-1: ImagePullBackOff: not found"
        " (its /status at http://s:9435/status: connection refused)"
    )
    assert cond(status, "Ready")["reason"] == "ImagePullBackOff"
    assert cond(status, "BounceRateHealthy")["reason"] == "ImagePullBackOff"


# --------------------------------------------------------------------------------------------------
# Written only when a reader would see a change (item 9); kstatus conditions (item 10)
# --------------------------------------------------------------------------------------------------


def test_refresh_time_alone_changing_writes_nothing() -> None:
    first = compute(exporter(), now=T0)
    moved = exporter()
    assert moved.status is not None
    moved.status.last_refresh_time = "2026-01-02T03:09:00Z"
    for rate_ in (moved.status.bounce_rate, moved.status.complaint_rate):
        rate_["age_seconds"] = 12.5
        rate_["timestamp"] = "2026-01-02T03:08:00Z"
    assert status_patch(first, compute(moved, previous=first, now=T1)) is None


def test_rates_are_compared_at_their_shown_precision() -> None:
    first = compute(exporter(bounce=rate(0.012341, 0.012342)))
    same = compute(exporter(bounce=rate(0.012343, 0.012344)), previous=first, now=T1)
    assert status_patch(first, same) is None
    moved = compute(exporter(bounce=rate(0.0125, 0.0125)), previous=first, now=T1)
    assert status_patch(first, moved) is not None


def test_a_refresh_time_written_by_an_older_operator_is_removed_once() -> None:
    first = compute(exporter())
    old = {**first, "lastRefreshTime": "2026-01-02T03:04:00Z"}
    assert status_patch(old, compute(exporter(), previous=old, now=T1)) == {"lastRefreshTime": None}


def test_a_transient_failure_is_reconciling_not_stalled() -> None:
    conflict = ReconcileOutcome(
        False, "Conflict", "Deployment sesmon-prod: the object has been modified", True
    )
    status = compute(exporter(), outcome=conflict)
    reconciling = cond(status, "Reconciling")
    assert (reconciling["status"], reconciling["reason"]) == ("True", "Conflict")
    assert reconciling["message"].startswith("retrying: Deployment sesmon-prod")
    assert all(c["type"] != "Stalled" for c in status["conditions"])
    assert status["observedGeneration"] == 3
    recovered = compute(exporter(), previous=status, now=T1)
    assert {c["type"] for c in recovered["conditions"]}.isdisjoint({"Reconciling", "Stalled"})
    from sesmonitor.api import SesMonitorStatus

    SesMonitorStatus.model_validate(status)
