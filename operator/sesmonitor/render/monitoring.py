"""prometheus-operator objects: the ServiceMonitor that scrapes the exporter and the PrometheusRule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sesmonitor.api import SesMonitor
from sesmonitor.contract import METRICS_PATH
from sesmonitor.render.defaults import RenderDefaults
from sesmonitor.render.labels import (
    COMPONENT_ALERTING,
    COMPONENT_EXPORTER,
    COMPONENT_MONITORING,
    child_metadata,
    common_labels,
)
from sesmonitor.render.names import child_names
from sesmonitor.render.promql import duration
from sesmonitor.render.rules import rule_groups
from sesmonitor.render.workload import PORT_NAME

MONITORING_API_VERSION: Final = "monitoring.coreos.com/v1"


def _metadata(
    name: str, namespace: str, labels: dict[str, str], annotations: Mapping[str, str]
) -> dict[str, Any]:
    """No empty annotations map: a child rendered before the chart had any stays byte-for-byte equal."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return metadata


def service_monitor(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    names = child_names(monitor.name)
    prometheus = monitor.spec.prometheus
    # Selects the exporter Service only (the Service carries the exporter component label).
    service_labels = common_labels(monitor, defaults, COMPONENT_EXPORTER)
    selector = {
        key: service_labels[key]
        for key in ("app.kubernetes.io/component", "app.kubernetes.io/instance", "app.kubernetes.io/name")
    }
    return {
        "apiVersion": MONITORING_API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": _metadata(
            names.service_monitor,
            monitor.namespace,
            child_metadata(
                defaults.service_monitor_labels,
                prometheus.service_monitor_labels,
                common_labels(monitor, defaults, COMPONENT_MONITORING),
            ),
            defaults.service_monitor_annotations,
        ),
        "spec": {
            "namespaceSelector": {"matchNames": [monitor.namespace]},
            "selector": {"matchLabels": selector},
            "endpoints": [
                {
                    "port": PORT_NAME,
                    "path": METRICS_PATH,
                    "scheme": "http",
                    "interval": duration(prometheus.scrape_interval),
                }
            ],
        },
    }


def prometheus_rule(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    names = child_names(monitor.name)
    return {
        "apiVersion": MONITORING_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": _metadata(
            names.prometheus_rule,
            monitor.namespace,
            child_metadata(
                defaults.prometheus_rule_labels,
                monitor.spec.prometheus.rule_labels,
                common_labels(monitor, defaults, COMPONENT_ALERTING),
            ),
            defaults.prometheus_rule_annotations,
        ),
        "spec": {"groups": rule_groups(monitor, defaults.runbook_base_url)},
    }
