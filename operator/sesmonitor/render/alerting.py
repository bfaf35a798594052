"""One monitor's alert rule in the shape every rule group shares: its labels, annotations, `for` and
`keep_firing_for`, from spec.alerting. `rules` (the CloudWatch alerts) and `event_rules` (the SES event
alerts) each build their rules with an `AlertBuilder`.

Annotations follow the monitoring-mixins convention: `summary` is static (no template: one line that
groups and reads the same for every firing), the values and label references go into `description`,
and `runbook_url` links the alert's section of docs/alerts.md (under the runbook base URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sesmonitor import metrics
from sesmonitor.api import SesMonitor
from sesmonitor.api.alerts import runbook_anchor
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL
from sesmonitor.render.promql import duration


class AlertBuilder:
    def __init__(self, monitor: SesMonitor, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL) -> None:
        self.monitor = monitor
        self.key = monitor.key
        self.spec = monitor.spec
        self.for_ = duration(monitor.spec.alerting.for_)
        self.keep_firing_for = duration(monitor.spec.alerting.keep_firing_for)
        self.runbook_base_url = monitor.spec.alerting.runbook_base_url or runbook_base_url

    def labels(self, severity: str) -> dict[str, str]:
        ours = {"severity": severity, metrics.LABEL_MONITOR: self.key, "namespace": self.monitor.namespace}
        return dict(sorted({**self.spec.alerting.labels, **ours}.items()))

    def annotations(self, name: str, summary: str, description: str) -> dict[str, str]:
        """The user's annotations win over the default runbook_url, ours over the user's."""
        runbook = {"runbook_url": f"{self.runbook_base_url}#{runbook_anchor(name)}"}
        ours = {"summary": summary, "description": description}
        return dict(sorted({**runbook, **self.spec.alerting.annotations, **ours}.items()))

    def alert(
        self,
        name: str,
        expr: str,
        *,
        severity: str,
        summary: str,
        description: str,
        keep_firing: bool = False,
    ) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": name, "expr": expr}
        if self.for_:
            rule["for"] = self.for_
        if keep_firing and self.keep_firing_for:
            rule["keep_firing_for"] = self.keep_firing_for
        rule["labels"] = self.labels(severity)
        rule["annotations"] = self.annotations(name, summary, description)
        return rule

    def severities(self) -> Mapping[str, str]:
        levels = self.spec.alerting.severities
        return {"warning": levels.warning, "critical": levels.critical}
