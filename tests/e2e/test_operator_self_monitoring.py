"""The operator watched like the components beside it: the chart's own ServiceMonitor and
PrometheusRule (values, with `release: kube-prometheus-stack` as kube-prometheus-stack selects them),
Prometheus scraping the operator's /metrics, and SESMonitorOperatorDown reaching the webhook when the
operator is stopped.

The outage is staged by the e2e fixture (conftest: `_stop_operator`, `_restore_operator`), beside the
monitors' stories, so it adds no wait of its own; these tests check what it recorded and that the
operator is back.
"""

from __future__ import annotations

from e2e_helpers import (
    ALL,
    E2E,
    HEALTHY,
    OPERATOR_DOWN,
    OPERATOR_DOWN_FOR_SECONDS,
    OPERATOR_DOWN_WITHIN_SECONDS,
    OPERATOR_JOB,
    key,
    parse_time,
)

from sesmonitor.api.alerts import runbook_anchor
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL
from support.user_stack import OPERATOR_NAMESPACE, OPERATOR_RELEASE, RELEASE
from support.waiting import wait_for

SELECTOR = f'job="{OPERATOR_JOB}", namespace="{OPERATOR_NAMESPACE}"'


def test_prometheus_scrapes_the_operator_through_the_charts_service_monitor(e2e: E2E) -> None:
    """Before the outage Prometheus had the operator up with reconciles counted; after it, the new
    operator Pod is scraped and counts its own (every monitor reconciled since it started)."""
    assert e2e.operator_before["up"] == 1
    assert e2e.operator_before["reconciles"] > 0
    prometheus = e2e.stack.prometheus
    assert f"serviceMonitor/{OPERATOR_NAMESPACE}/{OPERATOR_RELEASE}/0" in prometheus.scrape_jobs()
    cluster = e2e.stack.require_cluster()
    monitor = cluster.kubectl_json(
        "-n", OPERATOR_NAMESPACE, "get", "servicemonitors.monitoring.coreos.com", OPERATOR_RELEASE
    )
    assert monitor["metadata"]["labels"]["release"] == RELEASE
    (pod,) = cluster.kubectl_json(
        "-n", OPERATOR_NAMESPACE, "get", "pods", "-l", "app.kubernetes.io/component=operator"
    )["items"]
    name = pod["metadata"]["name"]
    wait_for(
        lambda: (
            prometheus.query(f'up{{{SELECTOR}, pod="{name}"}} == 1')
            and prometheus.query(
                f'sesmonitor_operator_last_successful_reconcile_timestamp_seconds{{{SELECTOR}, pod="{name}",'
                f' sesmonitor="{key(HEALTHY)}"}} > {e2e.operator_before["restored"] - 1}'
            )
        ),
        90,
        "the restored operator scraped, e2e-healthy reconciled since it started",
    )
    assert (
        prometheus.query_value(f'sum(sesmonitor_operator_reconciles_total{{{SELECTOR}, result="success"}})')
        or 0
    ) > 0
    assert prometheus.query_value(f"sesmonitor_operator_active{{{SELECTOR}}}") == 1
    # Every labelled story's monitor is counted by its Ready condition (reason names only).
    ready = prometheus.query(f'sesmonitor_operator_monitors{{{SELECTOR}, condition="Ready"}}')
    assert ready, "no sesmonitor_operator_monitors series"
    assert sum(float(s["value"][1]) for s in ready) >= len(ALL)
    assert {s["metric"]["status"] for s in ready} <= {"True", "False", "Unknown"}


def test_stopping_the_operator_fires_its_down_alert_at_the_webhook(e2e: E2E) -> None:
    alert = e2e.operator_down_alert
    assert alert, "the fixture saw no SESMonitorOperatorDown"
    stopped = e2e.operator_before["stopped"]
    took = alert["_seen"] - stopped
    assert OPERATOR_DOWN_FOR_SECONDS <= took <= OPERATOR_DOWN_WITHIN_SECONDS, took
    assert parse_time(alert["startsAt"]) >= stopped
    assert alert["labels"] == {
        "alertname": OPERATOR_DOWN,
        "severity": "warning",
        "namespace": OPERATOR_NAMESPACE,
        "job": OPERATOR_JOB,
        "prometheus": f"monitoring/{RELEASE}",
    }
    annotations = alert["annotations"]
    assert annotations["runbook_url"] == f"{DEFAULT_RUNBOOK_BASE_URL}#{runbook_anchor(OPERATOR_DOWN)}"
    assert annotations["summary"] == "The sesmonitor operator is down or not reconciling"
    assert OPERATOR_JOB in annotations["description"]
    # No team label: the example routing's root receiver takes it.
    assert alert["_receiver"] == "slack-mail"
    # The operator is back: the alert resolves, and nothing of it fires in Prometheus any more.
    wait_for(
        lambda: [
            a
            for a in e2e.operator_notifications("resolved")
            if parse_time(a["startsAt"]) == parse_time(alert["startsAt"])
        ],
        90,
        "SESMonitorOperatorDown resolved at the webhook",
    )
    assert not [a for a in e2e.stack.prometheus.alerts() if a["labels"].get("alertname") == OPERATOR_DOWN]
    outage = e2e.operator_before["restored"] - stopped
    print(f"[e2e] operator stopped for {outage:.0f}s, SESMonitorOperatorDown after {took:.0f}s")
