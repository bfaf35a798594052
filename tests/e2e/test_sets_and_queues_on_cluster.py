"""Issue 20 on the e2e stack, staged with the other stories (conftest: MISSING and QUIET).

- Item 1: e2e-missing/guard lists marketing (12% bounces) and `deleted`, which SES does not have, both
  protected in Enforce. Each set is its own GetConfigurationSet: marketing is paused within refresh +
  hold all the same, `deleted` is its own state (ConfigurationSetsFound False naming it, the
  ConfigurationSetMissing Event, SESConfigurationSetMissing at the webhook) and Ready stays True.
- Item 10: e2e-quiet/events reads SES events from a queue nothing publishes to. Three long polls
  (20 s each) later: every ReceiveMessage succeeded, nothing stale, Ready and EventsReceived True, and
  no alert of that monitor was ever pending or firing.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from e2e_helpers import E2E, MISSING, QUIET, key

from sesmonitor import metrics
from support.live_ses import SesAccountProcess
from support.waiting import wait_for

REFRESH_SECONDS, HOLD_SECONDS = 60, 120
WAIT_SECONDS = 20  # the exporter's long poll (events_wait_seconds' default)
QUIET_POLLS = 3


@pytest.fixture(scope="module")
def staged(e2e: E2E) -> E2E:
    assert MISSING in e2e.side_stories
    assert QUIET in e2e.side_stories
    return e2e


def condition(env: E2E, ref: tuple[str, str], kind: str) -> dict[str, Any]:
    return next((c for c in env.status(ref).get("conditions", []) if c["type"] == kind), {})


def event_reasons(env: E2E, ref: tuple[str, str]) -> list[str]:
    doc = env.stack.require_cluster().kubectl_json(
        "-n", ref[0], "get", "events", "--field-selector", f"involvedObject.name={ref[1]}"
    )
    return [item.get("reason", "") for item in doc["items"]]


def sending(account: SesAccountProcess, name: str) -> bool:
    switches: dict[str, bool] = account.control("GET", "sending")
    return switches.get(name, True)


def test_a_missing_set_is_named_and_the_other_is_still_protected(staged: E2E) -> None:
    env, account = staged, staged.accounts["missing"]
    wait_for(
        lambda: not sending(account, "marketing"),
        env.remaining(REFRESH_SECONDS + HOLD_SECONDS + 30),
        "marketing paused beside the missing set",
    )
    print(f"[e2e] marketing paused {time.time() - env.started:.0f}s after the exporters were Ready")
    found = wait_for(
        lambda: (c := condition(env, MISSING, "ConfigurationSetsFound")).get("status") == "False" and c,
        60,
        "ConfigurationSetsFound False",
    )
    assert found["reason"] == "ConfigurationSetMissing"
    assert "SES has no configuration set deleted" in found["message"]
    assert "not protected while missing: deleted" in found["message"]
    assert condition(env, MISSING, "Ready")["status"] == "True"  # marketing is monitored and protected
    states = wait_for(
        lambda: (
            (s := {p["configurationSet"]: p["state"] for p in env.status(MISSING).get("protection", [])}).get(
                "marketing"
            )
            == "paused"
            and s
        ),
        60,
        "status.protection",
    )
    assert states == {"marketing": "paused", "deleted": "missing"}
    wait_for(lambda: "ConfigurationSetMissing" in event_reasons(env, MISSING), 60, "the Event")
    assert "ConfigurationSetPaused" in event_reasons(env, MISSING)
    notified = env.wait_notification(MISSING, "SESConfigurationSetMissing", timeout=120)
    assert notified["labels"]["configuration_set"] == "deleted"
    assert "NotFoundException for configuration set deleted" in notified["annotations"]["description"]
    assert env.notifications(MISSING, "SESConfigurationSetMissing", "firing")
    assert all(
        a["labels"]["configuration_set"] == "deleted"
        for a in env.notifications(MISSING, "SESConfigurationSetMissing")
    )
    prometheus = env.stack.prometheus
    missing = f'max({metrics.CONFIGURATION_SET_MISSING}{{sesmonitor="{key(MISSING)}"'
    assert prometheus.query_value(missing + ', configuration_set="deleted"})') == 1.0
    assert prometheus.query_value(missing + ', configuration_set="marketing"})') == 0.0
    failures = f'{metrics.CONSECUTIVE_FAILURES}{{sesmonitor="{key(MISSING)}", api="GetConfigurationSet"}}'
    assert prometheus.query_value(f"max(max_over_time({failures}[5m]))") == 0.0  # a missing set is no failure
    assert env.prometheus_alerts(MISSING, "SESMonitorAWSReadErrors") == []


def test_a_quiet_queue_reads_clean_for_three_long_polls(staged: E2E) -> None:
    """Until its first long poll answers (20 s on an empty queue) a consumer has read nothing, so it is
    stale then: true, and not the bug. From that first answer on, three more long polls of the empty
    queue must all succeed: before the fix each one timed out at the client."""
    env = staged
    prometheus = env.stack.prometheus
    mine = f'sesmonitor="{key(QUIET)}", api="{metrics.API_RECEIVE_MESSAGE}"'
    first = wait_for(
        lambda: prometheus.query_value(
            f"min(min_over_time({metrics.LAST_SUCCESS_TIMESTAMP_SECONDS}{{{mine}}}[15m]))"
        ),
        WAIT_SECONDS + 60,
        "the quiet queue's first answered long poll",
    )
    time.sleep(max(0.0, first + QUIET_POLLS * WAIT_SECONDS + 10 - time.time()))
    since = f"{int(time.time() - first - 5)}s"  # Prometheus scrapes every 5 s: from the first answer on

    def worst(metric: str) -> float | None:
        return prometheus.query_value(f"max(max_over_time({metric}{{{mine}}}[{since}]))")

    assert worst(metrics.STALE) == 0.0
    assert worst(metrics.CONSECUTIVE_FAILURES) == 0.0
    requests = metrics.AWS_REQUESTS_TOTAL
    succeeded = prometheus.query_value(f'sum(increase({requests}{{{mine}, outcome="success"}}[{since}]))')
    assert succeeded is not None
    assert succeeded >= QUIET_POLLS - 0.5  # increase() extrapolates: about 3, never 0
    assert prometheus.query_value(f'sum({requests}{{{mine}, outcome!="success"}})') == 0
    ready = wait_for(
        lambda: (c := condition(env, QUIET, "Ready")).get("status") == "True" and c, 30, "QUIET Ready"
    )
    assert ready["reason"] == "Monitoring"
    received = condition(env, QUIET, "EventsReceived")
    assert (received["status"], received["reason"]) == ("True", "Receiving"), received
    assert "dead-letter queue ses-quiet-dlq after 5 receives" in received["message"]
    # No alert of this monitor was pending or firing at any time since the first answer (before it,
    # `sesmonitor_stale` is 1 for a consumer that has read nothing yet, and SESMonitorAWSReadErrors
    # may be pending for those seconds: far shorter than its `for`). A scrape and a rule evaluation
    # after the first answer: 15 s.
    alerts = f'ALERTS{{sesmonitor="{key(QUIET)}"}}'
    assert prometheus.query_range(alerts, max(env.started, first) + 15, time.time(), 2) == []
    assert prometheus.query(f'ALERTS{{sesmonitor="{key(QUIET)}", alertstate="firing"}}[1h]') == []
    assert env.notifications(QUIET) == []
