"""Constants and helpers of the e2e tier, shared by its conftest and tests (see conftest for the design)."""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from support.live_ses import SesAccountProcess
from support.monitors import monitor_document
from support.simulated_aws.scenarios import TENANT_PREFIX
from support.user_stack import CREDENTIALS_SECRET, RELEASE, MonitorRef, UserStack
from support.waiting import wait_for
from support.webhook_receiver import alerts_of

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"

BURSTS: MonitorRef = ("e2e-bursts", "seed")
HEALTHY: MonitorRef = ("e2e-healthy", "steady")
DOWN: MonitorRef = ("e2e-down", "steady")
REVIEW: MonitorRef = ("e2e-review", "probe")
BLIND: MonitorRef = ("e2e-blind", "aws")
# Like HEALTHY, but without the `release` label: kube-prometheus-stack's Prometheus ignores it.
UNLABELLED: MonitorRef = ("e2e-unlabelled", "steady")
ALL = (BURSTS, HEALTHY, DOWN, REVIEW, BLIND)
# spec.protection in Enforce (test_protection_on_cluster.py), staged with the others when selected.
PROTECT: MonitorRef = ("e2e-protect", "guard")
PROTECT_SETS = ["marketing", "transactional"]
PROTECTION_TESTS = "test_protection_on_cluster.py"
# Issue 20's stories (test_sets_and_queues_on_cluster.py), staged with the others when selected: a
# protected set beside one SES does not have (item 1), and a queue nothing publishes to (item 10).
MISSING: MonitorRef = ("e2e-missing", "guard")
MISSING_SETS = ["marketing", "deleted"]  # the account has marketing only
QUIET: MonitorRef = ("e2e-quiet", "events")
SETS_AND_QUEUES_TESTS = "test_sets_and_queues_on_cluster.py"
# Issue 21's demo story (test_tenants_on_cluster.py), staged with the others when selected: the
# `tenants` account (AWS paused one tenant of three, a finding open on it), spec.tenants and
# spec.findings read at the exporter's start.
TENANTS: MonitorRef = ("e2e-tenants", "saas")
TENANTS_TESTS = "test_tenants_on_cluster.py"

# The operator's own ServiceMonitor and PrometheusRule (chart values), selected like the monitors'
# children by `release`, scraped every 5s, its down alert's `for` compressed like the monitors' alerts.
OPERATOR_DOWN = "SESMonitorOperatorDown"
OPERATOR_JOB = "sesmonitor-operator-metrics"
OPERATOR_DOWN_FOR_SECONDS = 10
OPERATOR_MONITORING = (
    "metrics.serviceMonitor.enabled=true",
    f"metrics.serviceMonitor.labels.release={RELEASE}",
    "metrics.serviceMonitor.interval=5s",
    "metrics.prometheusRule.enabled=true",
    f"metrics.prometheusRule.labels.release={RELEASE}",
    f"metrics.prometheusRule.for.operatorDown={OPERATOR_DOWN_FOR_SECONDS}s",
)
# From the operator's scale to 0 to SESMonitorOperatorDown at the webhook: its pod terminating, the
# target dropped, `for`, Alertmanager's group_wait; measured about 20-40s.
OPERATOR_DOWN_WITHIN_SECONDS = 120

BURST_EVERY_MINUTES = 2
NAIVE_ALERT = "NaiveBounceRate"
DEMO_TEST = "test_demo_once"

T = TypeVar("T")


def key(ref: MonitorRef) -> str:
    return f"{ref[0]}/{ref[1]}"


def manifest(
    ref: MonitorRef,
    endpoint_url: str,
    *,
    lookback: str = "2h",
    keep_firing_for: str = "2m",
    release_label: bool = True,
) -> dict[str, Any]:
    """A SesMonitor as a user of kube-prometheus-stack writes it: static keys from a Secret, and the
    `release` label on its ServiceMonitor and PrometheusRule (unless `release_label` is False)."""
    prometheus: dict[str, Any] = {"scrapeInterval": "5s"}
    if release_label:
        prometheus |= {"serviceMonitorLabels": {"release": RELEASE}, "ruleLabels": {"release": RELEASE}}
    spec = {
        "window": "5m",
        "alerting": {"for": "30s", "keepFiringFor": keep_firing_for, "labels": {"team": "mail"}},
        "aws": {"endpointURL": endpoint_url, "credentialsSecretRef": {"name": CREDENTIALS_SECRET}},
        "exporter": {"refreshInterval": "60s", "lookback": lookback},
        "prometheus": prometheus,
    }
    return monitor_document(spec, name=ref[1], namespace=ref[0], region=REGION)


def protect_manifest(endpoint_url: str) -> dict[str, Any]:
    """PROTECT's SesMonitor: both sets watched, Enforce, held for 2 minutes."""
    doc = manifest(PROTECT, endpoint_url)
    doc["spec"]["configurationSets"] = PROTECT_SETS
    doc["spec"]["protection"] = {"mode": "Enforce", "configurationSets": PROTECT_SETS, "holdFor": "2m"}
    return doc


def missing_manifest(endpoint_url: str) -> dict[str, Any]:
    """MISSING's SesMonitor: marketing (12% bounces) and a set SES does not have, both protected."""
    doc = manifest(MISSING, endpoint_url)
    doc["spec"]["configurationSets"] = MISSING_SETS
    doc["spec"]["protection"] = {"mode": "Enforce", "configurationSets": MISSING_SETS, "holdFor": "2m"}
    return doc


def quiet_manifest(endpoint_url: str, queue_url: str) -> dict[str, Any]:
    """QUIET's SesMonitor: a healthy account and spec.events on a queue that never gets a message."""
    doc = manifest(QUIET, endpoint_url)
    doc["spec"]["events"] = {"queueURL": queue_url}
    return doc


def tenants_manifest(endpoint_url: str) -> dict[str, Any]:
    """TENANTS' SesMonitor: the demo's selection (the tenants whose name starts with cust-) and the
    account's open findings."""
    doc = manifest(TENANTS, endpoint_url)
    doc["spec"]["tenants"] = {"prefix": TENANT_PREFIX}
    doc["spec"]["findings"] = {}
    return doc


def naive_rule(refresh_phase: float) -> dict[str, Any]:
    """The control rule as a PrometheusRule (with the `release` label, so prometheus-operator loads it)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "e2e-control", "namespace": BURSTS[0], "labels": {"release": RELEASE}},
        "spec": naive_rule_file(refresh_phase),
    }


def naive_rule_file(refresh_phase: float) -> dict[str, Any]:
    """The control: the seed post's first rule (raw rate > 5%, no averaging), on what a plain CloudWatch
    exporter would serve, i.e. the rate only while the newest datapoint is from the last whole minute.

    The exporter serves the newest datapoint within its lookback, so that condition is read from its
    age: refreshing `refresh_phase` seconds into each minute, the age of a datapoint from the previous
    minute stays below 120 + phase seconds until the next refresh; it goes past that only when a minute
    had no mail (a gap between bursts).
    """
    fresh = 120 + refresh_phase + 3
    sel = f'sesmonitor="{key(BURSTS)}", configuration_set=""'
    rate = f"aws_ses_reputation_bounce_rate_average{{{sel}}}"
    age = f'sesmonitor_datapoint_age_seconds{{{sel}, metric="Reputation.BounceRate"}}'
    return {
        "groups": [
            {
                "name": "e2e-control",
                "rules": [
                    {
                        "alert": NAIVE_ALERT,
                        "expr": f"({rate} * 100 > 5) and on (sesmonitor) ({age} < {fresh:.0f})",
                        "labels": {"severity": "info", "sesmonitor": key(BURSTS), "team": "mail"},
                        "annotations": {"summary": "raw bounce rate above 5% (no averaging, no lookback)"},
                    }
                ],
            }
        ]
    }


@dataclass
class E2E:
    stack: UserStack
    accounts: dict[str, SesAccountProcess]
    started: float  # wall clock when the exporters were running
    side_stories: tuple[MonitorRef, ...] = ()  # staged beside ALL for other modules (PROTECT)
    events: dict[str, float] = field(default_factory=dict)  # what the fixture did, and when (wall clock)
    deleted_pod: str = ""  # the exporter Pod of e2e-down the fixture deleted
    # The operator's outage the fixture staged: what Prometheus had of it before, the alert it got.
    operator_before: dict[str, float] = field(default_factory=dict)
    operator_down_alert: dict[str, Any] = field(default_factory=dict)

    def operator_notifications(self, status: str | None = None) -> list[dict[str, Any]]:
        """SESMonitorOperatorDown as sent to the webhook (no `sesmonitor` label: not a monitor's)."""
        return [
            {**alert, "_receiver": notification.get("_receiver")}
            for notification, alert in alerts_of(self.stack.require_webhook().notifications())
            if alert.get("labels", {}).get("alertname") == OPERATOR_DOWN
            and (status is None or alert.get("status") == status)
        ]

    def notifications(
        self, ref: MonitorRef, alertname: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Alerts (as sent to the webhook) of one monitor, with the receiver name under `_receiver`."""
        out = []
        for notification, alert in alerts_of(self.stack.require_webhook().notifications()):
            labels = alert.get("labels", {})
            if labels.get("sesmonitor") != key(ref):
                continue
            if alertname is not None and labels.get("alertname") != alertname:
                continue
            if status is not None and alert.get("status") != status:
                continue
            out.append({**alert, "_receiver": notification.get("_receiver")})
        return out

    def wait_notification(
        self, ref: MonitorRef, alertname: str, timeout: float, status: str = "firing"
    ) -> dict[str, Any]:
        return wait_for(
            lambda: next(iter(self.notifications(ref, alertname, status)), None),
            timeout,
            f"a {status} {alertname} notification for {key(ref)}",
        )

    def prometheus_alerts(self, ref: MonitorRef, alertname: str | None = None) -> list[dict[str, Any]]:
        return [
            a
            for a in self.stack.prometheus.alerts()
            if a["labels"].get("sesmonitor") == key(ref)
            and (alertname is None or a["labels"]["alertname"] == alertname)
        ]

    def status(self, ref: MonitorRef) -> dict[str, Any]:
        status: dict[str, Any] = self.stack.sesmonitor(ref).get("status") or {}
        return status

    def remaining(self, seconds_after_start: float) -> float:
        """Seconds left until `seconds_after_start` after the exporters started (at least 30)."""
        return max(30.0, self.started + seconds_after_start - time.time())


def parse_time(text: str) -> float:
    """RFC 3339 times as Prometheus and Alertmanager write them (nanoseconds, Z) as epoch seconds."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()
