"""The demo's stand-in for prometheus-operator's ServiceMonitor and PrometheusRule translation."""

from __future__ import annotations

from typing import Any

import pytest

from support.prometheus_operator import rule_file, scrape_configs


def _objects() -> tuple[dict[str, Any], dict[str, Any]]:
    service = {
        "metadata": {"name": "sesmon-prod", "namespace": "mail", "labels": {"app": "x", "tier": "exp"}},
        "spec": {"ports": [{"name": "metrics", "port": 9435}]},
    }
    monitor = {
        "metadata": {"name": "sesmon-prod", "namespace": "mail"},
        "spec": {
            "selector": {
                "matchLabels": {"app": "x"},
                "matchExpressions": [{"key": "tier", "operator": "Exists"}],
            },
            "endpoints": [{"port": "metrics", "interval": "15s", "path": "/metrics"}],
        },
    }
    return monitor, service


def test_scrape_job_carries_prometheus_operator_labels() -> None:
    monitor, service = _objects()
    (job,) = scrape_configs(monitor, service, "127.0.0.1:19435")
    assert job["job_name"] == "serviceMonitor/mail/sesmon-prod/0"
    assert job["scrape_interval"] == "15s"
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:19435"]
    assert job["static_configs"][0]["labels"] == {
        "namespace": "mail",
        "service": "sesmon-prod",
        "endpoint": "metrics",
        "job": "sesmon-prod",
    }


@pytest.mark.parametrize(
    "breakage",
    [
        lambda m, s: m["spec"]["selector"]["matchLabels"].update(app="y"),
        lambda m, s: s["metadata"]["labels"].pop("tier"),
        lambda m, s: s["metadata"].update(namespace="other"),
        lambda m, s: m["spec"]["endpoints"][0].update(port="http"),
    ],
)
def test_a_monitor_that_would_scrape_nothing_fails_loudly(breakage: Any) -> None:
    monitor, service = _objects()
    breakage(monitor, service)
    with pytest.raises(ValueError, match=r"does not select|not a port"):
        scrape_configs(monitor, service, "127.0.0.1:1")


def test_rule_file_is_the_groups() -> None:
    groups = [{"name": "g", "rules": [{"alert": "A", "expr": "vector(1)"}]}]
    assert rule_file({"spec": {"groups": groups}}) == {"groups": groups}
