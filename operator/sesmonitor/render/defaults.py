"""Operator-level defaults that a SesMonitor may leave out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from sesmonitor import __version__

DEFAULT_EXPORTER_IMAGE: Final = "ghcr.io/sesmonitor/sesmonitor:0.1.0"
PROJECT_URL: Final = "https://github.com/sesmonitor/sesmonitor"  # Chart.yaml's home
# docs/alerts.md as this release tagged it: an alert links the runbook of the rule it was rendered from.
DEFAULT_RUNBOOK_BASE_URL: Final = f"{PROJECT_URL}/blob/v{__version__}/docs/alerts.md"


@dataclass(frozen=True)
class RenderDefaults:
    exporter_image: str = DEFAULT_EXPORTER_IMAGE
    exporter_image_pull_policy: str = "IfNotPresent"
    exporter_requests: dict[str, str] = field(default_factory=lambda: {"cpu": "10m", "memory": "64Mi"})
    exporter_limits: dict[str, str] = field(default_factory=lambda: {"memory": "128Mi"})
    # The operator's own name, written as app.kubernetes.io/managed-by on every child.
    managed_by: str = "sesmonitor-operator"
    # Operator-wide metadata of every ServiceMonitor and PrometheusRule (the chart's serviceMonitor.* and
    # prometheusRule.* values: `release: <name>` for kube-prometheus-stack's selectors, once). A
    # SesMonitor's spec.prometheus.serviceMonitorLabels / ruleLabels win key by key.
    service_monitor_labels: dict[str, str] = field(default_factory=dict)
    service_monitor_annotations: dict[str, str] = field(default_factory=dict)
    prometheus_rule_labels: dict[str, str] = field(default_factory=dict)
    prometheus_rule_annotations: dict[str, str] = field(default_factory=dict)
    # Where every alert's runbook_url points, + "#<anchor>" (the chart's alerting.runbookBaseURL, e.g. a
    # mirror of docs/alerts.md); a SesMonitor's spec.alerting.runbookBaseURL wins.
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    # The cluster's identity (the kube-system namespace's UID, read by the operator at start, or the
    # chart's clusterID): in the owner spec.protection writes into a set's record (docs/protection.md).
    cluster_id: str = ""
