"""The spec.findings families from the state's last reading: a scrape never calls AWS.

Cardinality: one `aws_ses_reputation_finding_open` series per open finding, at most spec.findings.limit.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sesmonitor import metrics as m
from sesmonitor.exporter.model.state import ExporterState

BASE = (m.LABEL_MONITOR, m.LABEL_REGION)
FINDING_LABELS = (*BASE, m.LABEL_TYPE, m.LABEL_IMPACT, m.LABEL_RESOURCE_TYPE, m.LABEL_RESOURCE)


class FindingsCollector(Collector):
    def __init__(self, state: ExporterState, monitor: str, region: str) -> None:
        self._state = state
        self._base = [monitor, region]

    def reading(self) -> object:
        """What these families are made of: the state's FindingsView, a new object after every read."""
        return self._state.view().findings

    def collect(self) -> Iterator[Metric]:
        view = self._state.view().findings
        base = self._base
        failed = GaugeMetricFamily(
            m.FINDINGS_READ_FAILED, "1 while the last read of the reputation findings failed.", labels=BASE
        )
        # a skipped read (VDM off) is no failure
        failing = view.consecutive_failures > 0 and not view.last_attempt_ok and view.vdm_enabled is True
        failed.add_metric(base, 1.0 if failing else 0.0)
        yield failed
        reading = view.reading
        if reading is None:
            return
        open_ = GaugeMetricFamily(
            m.REPUTATION_FINDING_OPEN,
            "1 per open SES reputation finding (VDM's advisor): its type, impact and resource.",
            labels=FINDING_LABELS,
        )
        seen = set()
        for finding in reading.findings:
            labels = (finding.type, finding.impact or "", finding.resource_type, finding.resource)
            if labels not in seen:  # one finding per type and resource: a repeat adds no series
                seen.add(labels)
                open_.add_metric([*base, *labels], 1.0)
        yield open_
        by_impact = GaugeMetricFamily(
            m.REPUTATION_FINDINGS, "Open SES reputation findings by impact.", labels=(*BASE, m.LABEL_IMPACT)
        )
        for impact in m.FINDING_IMPACTS:
            by_impact.add_metric([*base, impact], float(sum(f.impact == impact for f in reading.findings)))
        yield by_impact
        if view.last_success is not None:
            last = GaugeMetricFamily(
                m.FINDINGS_LAST_SUCCESS,
                "When the reputation findings were last read (Unix time).",
                labels=BASE,
            )
            last.add_metric(base, view.last_success)
            yield last
