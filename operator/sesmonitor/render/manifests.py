"""Every child object of one SesMonitor, in apply order."""

from __future__ import annotations

from typing import Any

from sesmonitor.api import SesMonitor
from sesmonitor.render.defaults import RenderDefaults
from sesmonitor.render.monitoring import prometheus_rule, service_monitor
from sesmonitor.render.workload import config_map, deployment, service


def render_all(monitor: SesMonitor, defaults: RenderDefaults) -> list[dict[str, Any]]:
    """ConfigMap, Deployment, Service, ServiceMonitor, PrometheusRule: pure and deterministic.

    No owner references: the operator adds them (the CLI's output is for GitOps, where there is no owner).
    """
    return [
        config_map(monitor, defaults),
        deployment(monitor, defaults),
        service(monitor, defaults),
        service_monitor(monitor, defaults),
        prometheus_rule(monitor, defaults),
    ]
