"""The spec.tenants families from the state's last reading: a scrape never calls AWS.

Cardinality: one `aws_ses_tenant_status` series per watched tenant (at most spec.tenants.limit), its
state in its labels, and one `aws_ses_tenants` series per state.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sesmonitor import metrics as m
from sesmonitor.exporter.model.state import ExporterState
from sesmonitor.exporter.model.tenants import Tenant, counts

BASE = (m.LABEL_MONITOR, m.LABEL_REGION)
TENANT_LABELS = (
    *BASE,
    m.LABEL_TENANT,
    m.LABEL_STATE,
    m.LABEL_STATUS,
    m.LABEL_PAUSED_BY,
    m.LABEL_CAUSE,
    m.LABEL_IMPACT,
    m.LABEL_POLICY,
)


def tenant_labels(tenant: Tenant) -> list[str]:
    """The label values of a tenant's series; the cause cut to CAUSE_MAX_LENGTH (one line)."""
    cause = " ".join((tenant.cause or "").split())[: m.CAUSE_MAX_LENGTH]
    return [
        tenant.name,
        tenant.state,
        tenant.aggregate or tenant.sending_status or "",
        tenant.paused_by or "",
        cause,
        tenant.impact or "",
        tenant.policy or "",
    ]


class TenantsCollector(Collector):
    def __init__(self, state: ExporterState, monitor: str, region: str) -> None:
        self._state = state
        self._base = [monitor, region]

    def reading(self) -> object:
        """What these families are made of: the state's TenantsView, a new object after every read."""
        return self._state.view().tenants

    def collect(self) -> Iterator[Metric]:
        view = self._state.view().tenants
        base = self._base
        failed = GaugeMetricFamily(
            m.TENANTS_READ_FAILED, "1 while the last read of spec.tenants' tenants failed.", labels=BASE
        )
        failed.add_metric(base, 0.0 if view.last_attempt_ok or view.reading is None else 1.0)
        yield failed
        if view.reading is None:
            return
        reading = view.reading
        status = GaugeMetricFamily(
            m.TENANT_STATUS,
            "1 per watched SES tenant; its state (contract.TENANT_STATES), aggregate sending status, who"
            " paused it and why, the reputation impact and policy in the labels.",
            labels=TENANT_LABELS,
        )
        for tenant in reading.tenants:
            status.add_metric([*base, *tenant_labels(tenant)], 1.0)
        yield status
        by_state = GaugeMetricFamily(
            m.TENANTS, "Watched SES tenants in each state.", labels=(*BASE, m.LABEL_STATE)
        )
        for state, count in counts(reading.tenants).items():
            by_state.add_metric([*base, state], float(count))
        yield by_state
        for name, help_, value in (
            (m.TENANTS_MATCHING, "SES tenants spec.tenants' selection matched.", reading.matching),
            (
                m.TENANTS_UNWATCHED,
                "SES tenants matched beyond spec.tenants.limit, not read.",
                reading.matching - len(reading.tenants),
            ),
        ):
            family = GaugeMetricFamily(name, help_, labels=BASE)
            family.add_metric(base, float(value))
            yield family
        if view.last_success is not None:
            last = GaugeMetricFamily(
                m.TENANTS_LAST_SUCCESS, "When the tenants were last read (Unix time).", labels=BASE
            )
            last.add_metric(base, view.last_success)
            yield last
