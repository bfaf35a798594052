"""The alert path end to end, as a user runs it: simulated SES account -> exporter Pod -> Prometheus
(configured by prometheus-operator from the rendered ServiceMonitor and PrometheusRule) -> Alertmanager
-> webhook.

The stories run concurrently from the start of the session (see conftest); the tests are ordered so the
quick checks come first and each later one finds its story further along.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import boto3
import pytest
from e2e_helpers import (
    ALL,
    BLIND,
    BURSTS,
    DOWN,
    E2E,
    HEALTHY,
    NAIVE_ALERT,
    REGION,
    REVIEW,
    ROOT,
    UNLABELLED,
    key,
    parse_time,
)

from sesmonitor import metrics
from sesmonitor.api import format_percent
from sesmonitor.api.alerts import runbook_anchor
from sesmonitor.render import child_names
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL
from sesmonitor.render.rules import (
    ACCOUNT_UNDER_REVIEW,
    AWS_READ_ERRORS,
    BOUNCE_RATE_HIGH,
)
from support.demo_runs import DemoRun
from support.user_stack import RELEASE, MonitorRef
from support.waiting import wait_for

BOUNCE = metrics.BOUNCE_RATE.prometheus_name
COMPLAINT = metrics.COMPLAINT_RATE.prometheus_name
# Each crossing takes one 2-minute burst cycle; two of them (the naive rule resolves in each) keep the
# tier near 6 minutes.
GAPS_WANTED = 2


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == kind), {})


# --------------------------------------------------------------------------------------------------


def test_prometheus_targets_come_from_the_labelled_service_monitors(e2e: E2E) -> None:
    """prometheus-operator turned each labelled ServiceMonitor into a scrape job whose target, the
    exporter Pod behind the Service, is up."""
    prometheus = e2e.stack.prometheus
    jobs = prometheus.scrape_jobs()
    for ref in ALL:
        assert f"serviceMonitor/{ref[0]}/{child_names(ref[1]).service_monitor}/0" in jobs, jobs
    namespaces = {r[0] for r in ALL}

    def all_up() -> list[dict[str, Any]]:
        # e2e-down's exporter Pod was just replaced: its old target may linger for a scrape or two.
        targets = [t for t in prometheus.targets() if t["labels"].get("namespace") in namespaces]
        ok = len(targets) == len(ALL) and all(t["health"] == "up" for t in targets)
        return targets if ok else []

    targets = wait_for(all_up, 60, "one target up per labelled monitor")
    by_namespace = {t["labels"]["namespace"]: t for t in targets}
    for ref in ALL:
        target = by_namespace[ref[0]]
        assert target["labels"]["service"] == child_names(ref[1]).service
        assert target["scrapeUrl"].endswith(":9435/metrics"), target


def test_service_monitor_without_the_release_label_is_ignored(e2e: E2E) -> None:
    """The first thing users get wrong: kube-prometheus-stack's Prometheus selects ServiceMonitors and
    PrometheusRules by `release`; without it the exporter runs and nothing scrapes it."""
    cluster = e2e.stack.require_cluster()
    sm = cluster.kubectl_json(
        "-n",
        UNLABELLED[0],
        "get",
        "servicemonitors.monitoring.coreos.com",
        child_names(UNLABELLED[1]).service,
    )
    assert "release" not in sm["metadata"].get("labels", {})
    (pod,) = e2e.stack.exporter_pods(UNLABELLED)
    assert condition(pod["status"], "Ready")["status"] == "True"
    # Picked-up monitors made later than it have been scraped for a while (the fixture waited for it).
    prometheus = e2e.stack.prometheus
    assert not [j for j in prometheus.scrape_jobs() if j.startswith(f"serviceMonitor/{UNLABELLED[0]}/")]
    assert not [t for t in prometheus.targets() if t["labels"].get("namespace") == UNLABELLED[0]]
    assert prometheus.query(f'up{{namespace="{UNLABELLED[0]}"}}') == []
    assert f"sesmonitor/{key(UNLABELLED)}" not in {g["name"] for g in prometheus.rules()}
    # ... and the docs say so where users install.
    install = " ".join((ROOT / "docs" / "install.md").read_text().split())
    assert f"release: {RELEASE}" in install
    assert "A ServiceMonitor or PrometheusRule without it is ignored" in install


def test_prometheus_loads_the_labelled_rules_without_errors(e2e: E2E) -> None:
    prometheus = e2e.stack.prometheus
    objects = e2e.stack.require_cluster().kubectl_json("get", "prometheusrules.monitoring.coreos.com", "-A")
    labelled = [o for o in objects["items"] if o["metadata"].get("labels", {}).get("release") == RELEASE]
    expected = {g["name"]: len(g["rules"]) for o in labelled for g in o["spec"]["groups"]}
    stories = (*ALL, *e2e.side_stories)
    # The monitors' groups, the control rule and the operator's own (the chart's metrics.prometheusRule).
    assert set(expected) == {f"sesmonitor/{key(ref)}" for ref in stories} | {
        "e2e-control",
        "sesmonitor-operator",
    }

    def evaluated() -> list[dict[str, Any]]:
        groups = [g for g in prometheus.rules() if g["name"] in expected]
        rules = [r for g in groups for r in g["rules"]]
        return groups if len(groups) == len(expected) and all(r["health"] != "unknown" for r in rules) else []

    groups = wait_for(evaluated, 90, "every rendered rule to be loaded and evaluated once")
    assert {g["name"]: len(g["rules"]) for g in groups} == expected
    # The rule files are the ones prometheus-operator generated from the objects.
    assert all("/etc/prometheus/rules/" in g["file"] for g in groups), [g["file"] for g in groups]
    unhealthy = [
        (g["name"], r.get("name"), r["health"], r.get("lastError"))
        for g in groups
        for r in g["rules"]
        if r["health"] != "ok" or r.get("lastError")
    ]
    assert unhealthy == []


def test_bounce_alert_reaches_the_webhook_with_labels_and_annotations(e2e: E2E) -> None:
    alert = e2e.wait_notification(BURSTS, BOUNCE_RATE_HIGH, timeout=e2e.remaining(240))
    # At ~14.8% both levels fire; the notification that got through is the critical one.
    critical = next(a for a in e2e.notifications(BURSTS, BOUNCE_RATE_HIGH, "firing")
                    if a["labels"]["severity"] == "critical")  # fmt: skip
    labels, annotations = critical["labels"], critical["annotations"]
    # The rule's labels, the namespace, and the external label prometheus-operator gives its Prometheus.
    assert labels == {
        "alertname": BOUNCE_RATE_HIGH,
        "severity": "critical",
        "sesmonitor": key(BURSTS),
        "namespace": BURSTS[0],
        "region": REGION,
        "team": "mail",
        "prometheus": f"monitoring/{RELEASE}",
    }
    # The annotations as the operator rendered them into the PrometheusRule (their wording is the unit
    # and rules tiers' business), with the templated value filled in.
    rule_object = e2e.stack.require_cluster().kubectl_json(
        "-n",
        BURSTS[0],
        "get",
        "prometheusrules.monitoring.coreos.com",
        child_names(BURSTS[1]).prometheus_rule,
    )
    (rendered,) = [
        r
        for g in rule_object["spec"]["groups"]
        for r in g["rules"]
        if r.get("alert") == BOUNCE_RATE_HIGH and r["labels"]["severity"] == "critical"
    ]
    assert annotations["summary"] == rendered["annotations"]["summary"]
    assert "10%" in annotations["summary"]
    assert "{{" not in annotations["summary"]  # static: the value is the description's
    # No runbook_url of the story's own: the default, the alert's section of docs/alerts.md at the tag.
    assert annotations["runbook_url"] == rendered["annotations"]["runbook_url"]
    assert annotations["runbook_url"] == f"{DEFAULT_RUNBOOK_BASE_URL}#{runbook_anchor(BOUNCE_RATE_HIGH)}"
    description = annotations["description"]
    assert key(BURSTS) in description, description
    assert REGION in description, description
    match = re.search(r"\bis (\d+(?:\.\d+)?)%", description)
    assert match, description
    assert "{{" not in description
    described = float(match.group(1))
    assert 14.0 < described < 16.0  # the seed story: 14.32% rising ~4%/day
    # The value in the text is the one Prometheus alerted on.
    in_prometheus = [float(a["value"]) * 100 for a in e2e.prometheus_alerts(BURSTS, BOUNCE_RATE_HIGH)]
    assert any(abs(v - described) < 0.02 for v in in_prometheus), (described, in_prometheus)
    # The example routing: team=mail critical goes to Opsgenie and Slack.
    receivers = {a["_receiver"] for a in e2e.notifications(BURSTS, BOUNCE_RATE_HIGH, "firing")
                 if a["labels"]["severity"] == "critical"}  # fmt: skip
    assert receivers == {"opsgenie-mail", "slack-mail"}
    assert alert["startsAt"]
    # ... and the example's inhibit rule holds the warning twin back while the critical one fires.
    monitoring = e2e.stack.require_monitoring()

    def warning_inhibited() -> bool:
        return any(
            a["labels"].get("alertname") == BOUNCE_RATE_HIGH
            and a["labels"].get("sesmonitor") == key(BURSTS)
            and a["labels"].get("severity") == "warning"
            and a["status"]["state"] == "suppressed"
            and a["status"].get("inhibitedBy")
            for a in monitoring.alertmanager_alerts()
        )

    wait_for(warning_inhibited, 30, "Alertmanager to inhibit the warning SESBounceRateHigh")


def test_status_shows_the_rates_prometheus_sees(e2e: E2E) -> None:
    """The operator Pod reads each exporter's /status through its Service DNS name; Prometheus scrapes
    the same exporter: both show the same numbers."""
    prometheus = e2e.stack.prometheus

    def compare(ref: MonitorRef) -> list[tuple[str, Any, Any]]:
        status = e2e.status(ref)
        sel = f'{{sesmonitor="{key(ref)}", configuration_set=""}}'
        pairs = {
            "bounceRate": prometheus.query_value(BOUNCE + sel),
            "bounceRateWindowAverage": prometheus.query_value(
                metrics.window_average_name(metrics.BOUNCE_RATE) + sel
            ),
            "complaintRate": prometheus.query_value(COMPLAINT + sel),
            "complaintRateWindowAverage": prometheus.query_value(
                metrics.window_average_name(metrics.COMPLAINT_RATE) + sel
            ),
        }
        diffs = [
            (field, status.get(field), None if value is None else format_percent(value))
            for field, value in pairs.items()
            if value is None or status.get(field) != format_percent(value)
        ]
        current = prometheus.query(f'{metrics.ENFORCEMENT_STATUS}{{sesmonitor="{key(ref)}"}} == 1')
        enforcement = current[0]["metric"]["status"] if current else None
        if enforcement is None or status.get("enforcementStatus") != enforcement:
            diffs.append(("enforcementStatus", status.get("enforcementStatus"), enforcement))
        return diffs

    for ref in (HEALTHY, REVIEW, BURSTS):
        # The operator reconciles every 5s and Prometheus scrapes every 5s: allow them to catch up.
        last: list[Any] = []

        def same(ref: MonitorRef = ref) -> bool:
            nonlocal last
            last = compare(ref)
            return not last

        deadline = time.monotonic() + 45
        while not same() and time.monotonic() < deadline:
            time.sleep(1)
        assert last == [], f"{key(ref)}: (field, status, Prometheus) differ: {last}"
    assert e2e.status(HEALTHY)["bounceRate"] == "0.8%"


def test_account_switched_to_probation_raises_under_review(e2e: E2E) -> None:
    alert = e2e.wait_notification(REVIEW, ACCOUNT_UNDER_REVIEW, timeout=e2e.remaining(150))
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"] == "SES account is under review (PROBATION)"
    # It started only after the switch: the account was HEALTHY before.
    for active in e2e.prometheus_alerts(REVIEW, ACCOUNT_UNDER_REVIEW):
        assert parse_time(active["activeAt"]) >= e2e.events["probation"] - 2
    status = wait_for(
        lambda: (s := e2e.status(REVIEW)).get("enforcementStatus") == "PROBATION" and s,
        30,
        "status PROBATION",
    )
    assert condition(status, "AccountHealthy")["status"] == "False"
    # Ready says the monitor works, and it does: the account's trouble is in AccountHealthy and the alert.
    assert condition(status, "Ready")["status"] == "True"
    assert "PROBATION" in e2e.stack.kubectl_get_sesmon()


def test_deleted_exporter_pod_is_restored_and_scraped_again(e2e: E2E) -> None:
    """The exporter Pod of e2e-down was deleted once scraped: its Deployment makes another, Prometheus
    finds it through the Service's endpoints, the monitor is Ready again, and nobody is paged."""
    assert e2e.deleted_pod
    pod = e2e.stack.wait_exporter_ready(DOWN, timeout=120)
    assert pod["metadata"]["name"] != e2e.deleted_pod
    e2e.stack.wait_scraped(DOWN, timeout=120, pod=pod["metadata"]["name"])
    status = wait_for(
        lambda: condition(s := e2e.status(DOWN), "Ready").get("status") == "True" and s,
        120,
        "e2e-down Ready again",
    )
    assert status["bounceRate"] == "0.8%"
    assert e2e.prometheus_alerts(DOWN) == []
    assert e2e.notifications(DOWN) == []


def test_bounce_alert_does_not_resolve_between_bursts(e2e: E2E) -> None:
    """CloudWatch has a datapoint in every other minute only (1-minute bursts every 2 minutes, the seed
    post's 20-minute rhythm compressed). The rendered alert (window average over the exporter's
    newest-datapoint series, and no keep_firing_for here) stays firing across the gaps, while the seed
    post's naive rule beside it resolves in them."""
    prometheus = e2e.stack.prometheus
    assert prometheus is not None
    first = e2e.wait_notification(BURSTS, BOUNCE_RATE_HIGH, timeout=e2e.remaining(240))
    fired_at = parse_time(first["startsAt"])
    newest = (
        f'{metrics.DATAPOINT_TIMESTAMP_SECONDS}{{sesmonitor="{key(BURSTS)}", configuration_set="",'
        ' metric="Reputation.BounceRate"}'
    )

    def gaps_crossed() -> int:
        """Times the newest datapoint moved on by two minutes or more: a minute without one was crossed."""
        result = prometheus.query_range(newest, fired_at, time.time(), 5)
        stamps = [float(v) for _t, v in result[0]["values"]] if result else []
        return sum(1 for a, b in itertools.pairwise(stamps) if b - a >= 120)

    wait_for(
        lambda: gaps_crossed() >= GAPS_WANTED,
        e2e.remaining(480),
        f"{GAPS_WANTED} gaps between bursts crossed after the alert fired",
        interval=5,
    )
    end = time.time()
    assert e2e.notifications(BURSTS, BOUNCE_RATE_HIGH, "resolved") == []
    # Firing at every evaluation since it fired (both levels), not just "no notification".
    firing = prometheus.query_range(
        f'ALERTS{{alertname="{BOUNCE_RATE_HIGH}", alertstate="firing", sesmonitor="{key(BURSTS)}"}}',
        fired_at + 5,
        end,
        2,
    )
    assert {s["metric"]["severity"] for s in firing} == {"warning", "critical"}
    for series in firing:
        stamps = [float(t) for t, _v in series["values"]]
        assert stamps[0] <= fired_at + 7
        assert max(b - a for a, b in itertools.pairwise(stamps)) <= 2.5, series["metric"]
    # The control: the seed post's naive rule on the same series flapped.
    assert e2e.notifications(BURSTS, NAIVE_ALERT, "resolved"), (
        "the naive control rule never resolved: the gaps did not reach Prometheus"
    )
    # And the raw CloudWatch datapoints have gaps: minutes without any (no mail sent).
    account = e2e.accounts["bursts"]
    client = boto3.client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=account.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    minute = int(end // 60) * 60
    answer = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "bounce",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SES",
                        "MetricName": "Reputation.BounceRate",
                        "Dimensions": [],
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
            }
        ],
        StartTime=minute - 600,
        EndTime=minute,
    )
    stamps = sorted(t.timestamp() for t in answer["MetricDataResults"][0]["Timestamps"])
    assert 3 <= len(stamps) <= 7, stamps  # every other minute of the last ten
    assert all(b - a >= 120 for a, b in itertools.pairwise(stamps)), stamps


def test_healthy_account_raises_no_alert(e2e: E2E) -> None:
    prometheus = e2e.stack.prometheus
    assert time.time() - e2e.started > 120, "run after the slower stories, so the quiet means something"
    status = e2e.status(HEALTHY)
    assert condition(status, "Ready")["status"] == "True", status
    assert (status["bounceRate"], status["enforcementStatus"]) == ("0.8%", "HEALTHY")
    assert e2e.prometheus_alerts(HEALTHY) == []
    # Nothing ever fired; and nothing was pending once the exporter had been scraped (before that,
    # prometheus-operator may load the rules first, and "no exporter yet" is pending for a scrape).
    # (A rule evaluated in the seconds around that first scrape may still see none: allow 10s.)
    alerts = f'ALERTS{{sesmonitor="{key(HEALTHY)}"}}'
    assert prometheus.query_range(alerts, e2e.started + 10, time.time(), 2) == []
    assert prometheus.query(f'ALERTS{{sesmonitor="{key(HEALTHY)}", alertstate="firing"}}[1h]') == []
    assert e2e.notifications(HEALTHY) == []


def test_unreachable_aws_raises_read_errors_not_silence(e2e: E2E) -> None:
    """The account's process is killed (connection refused). The exporter keeps serving the last values
    and counts failures; three in a row (60s, 120s, then 240s after the kill, with its backoff) and
    SESMonitorAWSReadErrors fires."""
    alert = e2e.wait_notification(BLIND, AWS_READ_ERRORS, timeout=e2e.remaining(400))
    assert alert["labels"]["api"] in metrics.APIS
    assert alert["labels"]["severity"] == "warning"
    status = e2e.status(BLIND)
    assert condition(status, "ExporterReady")["status"] == "False"
    assert condition(status, "Ready")["status"] == "False"
    # The last good values are still served (not replaced by zeros or dropped).
    prometheus = e2e.stack.prometheus
    assert prometheus.query_value(
        f'{BOUNCE}{{sesmonitor="{key(BLIND)}", configuration_set=""}}'
    ) == pytest.approx(0.008)
    errors = prometheus.query(
        f'{metrics.AWS_REQUESTS_TOTAL}{{sesmonitor="{key(BLIND)}", outcome!="success"}} > 0'
    )
    assert errors, "the exporter should count the failed requests"


def test_demo_once(demo_once: DemoRun | None) -> None:
    """`scripts/demo.py --once` (started with the session) brings everything up, sees the seed story's
    alerts arrive, prints what a user wants, and tears down."""
    assert demo_once is not None
    code, output = demo_once.finish(timeout=max(60.0, demo_once.started + demo_once.timeout - time.time()))
    assert code == 0, output[-4000:]
    for expected in (
        "$ kubectl get sesmon -A",
        "PROBATION",
        "firing   SESBounceRateHigh",
        "[FIRING] -> opsgenie-mail: SESBounceRateHigh severity=critical sesmonitor=mail/prod",
        "Prometheus:    http://",
        "Alertmanager:  http://",
        "OK: SESBounceRateHigh, SESAccountUnderReview",
        "stopped everything",
    ):
        assert expected in output, f"{expected!r} missing from:\n{output[-4000:]}"
    assert re.search(r"mail\s+prod\s+us-east-1\s+\d+\.\d+%\s+\d+\.\d+%\s+PROBATION", output), output[-3000:]
