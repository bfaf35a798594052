"""The rendered alert rules, read as data (their behaviour over time is proven in tests/rules/)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sesmonitor import metrics
from sesmonitor.api import SesMonitor
from sesmonitor.render import child_names
from sesmonitor.render import rules as rules_module
from sesmonitor.render.promql import any_of, fraction, quote
from sesmonitor.render.rules import (
    ACCOUNT_ALERTS,
    BOUNCE_RATE_HIGH,
    BOUNCE_RATE_RISING,
    COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_ALERTS,
    CONFIGURATION_SET_BOUNCE_RATE_HIGH,
    EXPORTER_DOWN,
    rule_file,
    rule_groups,
)
from support.monitors import load_monitor

SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
# Every metric name `sesmonitor.metrics` defines (its string constants that are series names).
KNOWN_METRICS = {
    value
    for key, value in vars(metrics).items()
    if key.isupper()
    and isinstance(value, str)
    and (value.startswith(("aws_ses_", "sesmonitor_")) or value == "up")
} | {m.prometheus_name for m in metrics.CLOUDWATCH_METRICS}


def make(spec: dict[str, Any] | None = None, name: str = "example", namespace: str = "mail") -> SesMonitor:
    return load_monitor(spec, name=name, namespace=namespace)


def rules_of(monitor: SesMonitor) -> list[dict[str, Any]]:
    (group,) = rule_groups(monitor)
    result: list[dict[str, Any]] = group["rules"]
    return result


def by_name(monitor: SesMonitor, alert: str) -> list[dict[str, Any]]:
    return [rule for rule in rules_of(monitor) if rule["alert"] == alert]


def test_one_group_named_after_the_monitor() -> None:
    groups = rule_groups(make())
    assert [g["name"] for g in groups] == ["sesmonitor/mail/example"]
    assert rule_file([make(name="a"), make(name="b")])["groups"][1]["name"] == "sesmonitor/mail/b"


def test_alert_set_without_and_with_configuration_sets() -> None:
    assert {r["alert"] for r in rules_of(make())} == set(ACCOUNT_ALERTS)
    with_sets = {r["alert"] for r in rules_of(make({"configurationSets": ["marketing"]}))}
    assert with_sets == set(ACCOUNT_ALERTS) | set(CONFIGURATION_SET_ALERTS)
    assert all(name.startswith("SES") for name in with_sets)


def test_every_selector_names_a_contract_metric_and_this_monitor_only() -> None:
    monitor = make({"configurationSets": ["marketing", "tx"]})
    seen = set()
    for rule in rules_of(monitor):
        selectors = SELECTOR.findall(rule["expr"])
        assert selectors, rule["alert"]
        for metric, matchers in selectors:
            seen.add(metric)
            assert metric in KNOWN_METRICS, f"{rule['alert']}: {metric} is not in sesmonitor.metrics"
            if metric == metrics.UP:
                assert matchers == f'namespace="mail",service="{child_names("example").service}"'
            else:
                assert matchers.startswith('sesmonitor="mail/example"'), rule["alert"]
    assert {metrics.BOUNCE_RATE.prometheus_name, metrics.COMPLAINT_RATE.prometheus_name} <= seen


def test_rules_source_spells_no_metric_name() -> None:
    source = Path(rules_module.__file__).read_text()
    for name in KNOWN_METRICS - {metrics.UP}:
        assert name not in source, f"{name} must come from sesmonitor.metrics"
    assert "aws_ses_" not in source


def test_account_wide_selectors_exclude_configuration_sets() -> None:
    for rule in rules_of(make()):
        for metric, matchers in SELECTOR.findall(rule["expr"]):
            if metric.startswith("aws_ses_"):
                assert 'configuration_set=""' in matchers, rule["alert"]


def test_rate_alerts_average_over_the_window_at_each_threshold() -> None:
    monitor = make(
        {
            "window": "90m",
            "thresholds": {
                "bounceRate": {"warning": "2.5%", "critical": "7%"},
                "complaintRate": {"warning": "0.05%", "critical": "0.3%"},
            },
        }
    )
    bounce = by_name(monitor, BOUNCE_RATE_HIGH)
    assert [r["labels"]["severity"] for r in bounce] == ["warning", "critical"]
    series = f'{metrics.BOUNCE_RATE.prometheus_name}{{sesmonitor="mail/example",configuration_set=""}}'
    assert bounce[0]["expr"] == f"max by (sesmonitor, region) (avg_over_time({series}[1h30m])) >= 0.025"
    assert bounce[1]["expr"].endswith(") >= 0.07")
    complaint = by_name(monitor, COMPLAINT_RATE_HIGH)
    assert [r["expr"].rsplit(" ", 1)[1] for r in complaint] == ["0.0005", "0.003"]
    assert "avg_over_time(" in complaint[0]["expr"]
    assert "[1h30m]" in complaint[0]["expr"]


def test_for_and_keep_firing_for() -> None:
    monitor = make({"alerting": {"for": "10m", "keepFiringFor": "1h"}})
    for rule in rules_of(monitor):
        assert rule["for"] == "10m"
        if rule["alert"] in (BOUNCE_RATE_HIGH, COMPLAINT_RATE_HIGH):
            assert rule["keep_firing_for"] == "1h"
    zero = make({"alerting": {"for": "0s", "keepFiringFor": "0s"}})
    assert all("for" not in r and "keep_firing_for" not in r for r in rules_of(zero))


def test_labels_and_annotations() -> None:
    monitor = make(
        {
            "alerting": {
                "labels": {"team": "mail", "severity": "ignored", "sesmonitor": "forged"},
                "annotations": {"runbook_url": "https://runbooks.example.com/ses", "summary": "ignored"},
                "severities": {"warning": "P3", "critical": "P1"},
            }
        }
    )
    severities = set()
    for rule in rules_of(monitor):
        labels, annotations = rule["labels"], rule["annotations"]
        assert labels["team"] == "mail"
        assert labels["sesmonitor"] == "mail/example"
        assert labels["namespace"] == "mail"
        severities.add(labels["severity"])
        assert annotations["runbook_url"] == "https://runbooks.example.com/ses"
        assert annotations["summary"] != "ignored"
        assert annotations["description"]
    assert severities == {"P1", "P3"}
    warning, critical = by_name(monitor, BOUNCE_RATE_HIGH)
    assert "{{ $value | humanizePercentage }}" in warning["annotations"]["description"]
    assert "5%" in warning["annotations"]["description"]
    assert "10%" in critical["annotations"]["summary"]


def test_configuration_set_rules_select_the_listed_sets() -> None:
    monitor = make({"configurationSets": ["marketing", "tx-eu"]})
    rules = by_name(monitor, CONFIGURATION_SET_BOUNCE_RATE_HIGH)
    assert [r["labels"]["severity"] for r in rules] == ["warning", "critical"]
    assert 'configuration_set=~"marketing|tx-eu"' in rules[0]["expr"]
    assert "by (sesmonitor, region, configuration_set)" in rules[0]["expr"]
    assert "{{ $labels.configuration_set }}" in rules[0]["annotations"]["description"]


def test_trend_alert_projects_the_window_average() -> None:
    (rule,) = by_name(make(), BOUNCE_RATE_RISING)
    assert "predict_linear(" in rule["expr"]
    assert "[6h:5m], 86400) >= 0.05" in rule["expr"]
    assert "< 0.05) and" in rule["expr"]
    # A sustained rise: the window average compared over three consecutive 2h segments.
    for offset in ("offset 2h", "offset 4h", "offset 6h"):
        assert offset in rule["expr"]


def test_critical_judges_a_short_average_and_warning_the_window() -> None:
    monitor = make({"configurationSets": ["marketing"]})
    for name in (BOUNCE_RATE_HIGH, COMPLAINT_RATE_HIGH, CONFIGURATION_SET_BOUNCE_RATE_HIGH):
        rules = {r["labels"]["severity"]: r for r in by_name(monitor, name)}
        assert "[1h])" in rules["warning"]["expr"]
        assert "[10m]" not in rules["warning"]["expr"]
        assert "[10m])" in rules["critical"]["expr"]
        assert "[1h]" not in rules["critical"]["expr"]
    # A window shorter than 10 minutes is used as it is.
    short = {r["labels"]["severity"]: r for r in by_name(make({"window": "5m"}), BOUNCE_RATE_HIGH)}
    assert "[5m])" in short["critical"]["expr"]


def test_exporter_down_watches_the_rendered_service() -> None:
    (rule,) = by_name(make(name="mail.prod"), EXPORTER_DOWN)
    service = child_names("mail.prod").service
    assert f'up{{namespace="mail",service="{service}"}}' in rule["expr"]
    assert "absent(" in rule["expr"]


@pytest.mark.parametrize(
    ("percent", "text"),
    [("5%", "0.05"), ("0.1%", "0.001"), ("14.32%", "0.1432"), ("100%", "1"), ("0.0001%", "0.000001")],
)
def test_fraction_is_exact(percent: str, text: str) -> None:
    assert fraction(percent) == text


def test_promql_quoting() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert any_of(["Reputation.BounceRate", "x|y"]) == "Reputation\\.BounceRate|x\\|y"
