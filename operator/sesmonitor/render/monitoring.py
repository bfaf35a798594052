"""prometheus-operator objects: the ServiceMonitor that scrapes the exporter and the PrometheusRule."""

from __future__ import annotations

from typing import Any, Final

from sesmonitor.api import SesMonitor
from sesmonitor.contract import METRICS_PATH
from sesmonitor.render.defaults import RenderDefaults
from sesmonitor.render.labels import (
    COMPONENT_ALERTING,
    COMPONENT_EXPORTER,
    COMPONENT_MONITORING,
    common_labels,
    merged,
)
from sesmonitor.render.names import child_names
from sesmonitor.render.promql import duration
from sesmonitor.render.rules import rule_groups
from sesmonitor.render.workload import PORT_NAME

MONITORING_API_VERSION: Final = "monitoring.coreos.com/v1"


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
        "metadata": {
            "name": names.service_monitor,
            "namespace": monitor.namespace,
            "labels": merged(
                prometheus.service_monitor_labels, common_labels(monitor, defaults, COMPONENT_MONITORING)
            ),
        },
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
        "metadata": {
            "name": names.prometheus_rule,
            "namespace": monitor.namespace,
            "labels": merged(
                monitor.spec.prometheus.rule_labels, common_labels(monitor, defaults, COMPONENT_ALERTING)
            ),
        },
        "spec": {"groups": rule_groups(monitor)},
    }
