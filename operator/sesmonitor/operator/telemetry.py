"""The operator's own metrics, ``sesmonitor_operator_*``: what `metrics_endpoint` serves on /metrics.

In: each reconcile pass's result, reason and duration and the Ready and Stalled conditions it
computed (from `reconcile`), each failed Kubernetes API call (from `kube`, through a callback), the
peering state (from `peering`), a SesMonitor's deletion. Out: a `CollectorRegistry` of its own (not
prometheus_client's global one, so two operators in one test process never share a counter). No I/O.

Cardinality stays bounded by the number of SesMonitors: the only per-monitor series is the time of
its last successful reconcile (label ``sesmonitor="<namespace>/<name>"``, as on every exporter series;
a ``namespace`` label would clash with the one prometheus-operator gives the operator's own target).
Every other label takes values from a fixed list: results, the operator's condition reasons,
operations, HTTP status codes. A SesMonitor's series go when it is deleted, and all of them while
peering pauses this replica (a paused replica sees no deletions, so what it knew would go stale).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from sesmonitor import __version__
from sesmonitor.metrics import LABEL_MONITOR

PREFIX: Final = "sesmonitor_operator_"
RECONCILES_TOTAL: Final = PREFIX + "reconciles_total"
RECONCILE_DURATION_SECONDS: Final = PREFIX + "reconcile_duration_seconds"
KUBERNETES_API_ERRORS_TOTAL: Final = PREFIX + "kubernetes_api_errors_total"
MONITORS: Final = PREFIX + "monitors"
LAST_SUCCESSFUL_RECONCILE: Final = PREFIX + "last_successful_reconcile_timestamp_seconds"
ACTIVE: Final = PREFIX + "active"
INFO: Final = PREFIX + "info"

# A pass's result: its children applied and its status written; a failure the operator or the
# cluster must fix (RBAC, the API server, a missing CRD: what the alerts are about); the spec refused
# (invalid, or the exporter policy: its author's to fix, shown as Stalled on the SesMonitor); the
# SesMonitor gone or going.
SUCCESS: Final = "success"
ERROR: Final = "error"
REFUSED: Final = "refused"
DELETED: Final = "deleted"
RESULTS: Final = (SUCCESS, ERROR, REFUSED, DELETED)
# The reason of a pass that raised something other than the reconcile's own failures (a bug).
UNEXPECTED: Final = "Unexpected"
# The conditions counted in MONITORS: kstatus's reading of a SesMonitor (Ready, else Stalled or not).
COUNTED_CONDITIONS: Final = ("Ready", "Stalled")
# The code of an API call that got no answer (connection refused, TLS, a timeout).
NO_ANSWER: Final = "none"
# A pass reads the SesMonitor, applies four children and reads an exporter with a 3 s timeout.
DURATION_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class _Monitor:
    last_success: float | None = None
    conditions: tuple[tuple[str, str, str], ...] = ()  # (type, status, reason) of COUNTED_CONDITIONS


def status_code(status: int) -> str:
    """An API call's HTTP status as the ``code`` label; ``none`` when there was no answer."""
    return str(status) if status > 0 else NO_ANSWER


class OperatorTelemetry:
    """The metrics of one operator process; thread-safe (reconciles run in kopf's thread pool)."""

    def __init__(self, *, peering: str | None = None, process_metrics: bool = True) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._monitors: dict[str, _Monitor] = {}
        self._reconciles = Counter(
            RECONCILES_TOTAL.removesuffix("_total"),
            "Reconcile passes over SesMonitors, by result (success, error, refused, deleted) and the"
            " Reconciled condition's reason.",
            ["result", "reason"],
            registry=self.registry,
        )
        self._duration = Histogram(
            RECONCILE_DURATION_SECONDS,
            "How long a reconcile pass took, by result.",
            ["result"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._api_errors = Counter(
            KUBERNETES_API_ERRORS_TOTAL.removesuffix("_total"),
            "Failed Kubernetes API calls of the reconcile passes (not kopf's watches), by operation and"
            " HTTP status code (none: no answer).",
            ["operation", "code"],
            registry=self.registry,
        )
        self._active = Gauge(
            ACTIVE,
            "1 while this replica reconciles; 0 while kopf peering pauses it for another replica.",
            registry=self.registry,
        )
        self._active.set(1)
        self._is_active = True
        info = Gauge(
            INFO,
            "The operator's version and peering mode (standalone, or peering through the named object).",
            ["version", "mode", "peering"],
            registry=self.registry,
        )
        info.labels(__version__, "standalone" if peering is None else "peering", peering or "").set(1)
        for result in RESULTS:  # every result at 0 from the start, so rate() sees the first one
            self._duration.labels(result)
        self.registry.register(_MonitorCollector(self._snapshot))
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    # -- what the reconciler reports --------------------------------------------------------------

    def reconciled(
        self, namespace: str, name: str, *, result: str, reason: str, seconds: float, now: float
    ) -> None:
        """One pass over ``namespace/name`` ended with ``result`` (one of RESULTS) after ``seconds``."""
        if result not in RESULTS:
            raise ValueError(f"unknown reconcile result {result!r}")
        self._reconciles.labels(result, reason).inc()
        self._duration.labels(result).observe(max(0.0, seconds))
        if result == DELETED:
            self.forget(namespace, name)
        elif result == SUCCESS and self.active:
            with self._lock:
                self._monitors.setdefault(_key(namespace, name), _Monitor()).last_success = now

    def observe_conditions(self, namespace: str, name: str, conditions: Iterable[Mapping[str, Any]]) -> None:
        """The SesMonitor's conditions as this pass computed them (counted by Ready and Stalled)."""
        counted = tuple(
            (str(c["type"]), str(c.get("status") or "Unknown"), str(c.get("reason") or ""))
            for c in conditions
            if c.get("type") in COUNTED_CONDITIONS
        )
        if not self.active:
            return
        with self._lock:
            self._monitors.setdefault(_key(namespace, name), _Monitor()).conditions = counted

    def forget(self, namespace: str, name: str) -> None:
        """The SesMonitor is deleted: its series go."""
        with self._lock:
            self._monitors.pop(_key(namespace, name), None)

    def api_error(self, operation: str, status: int) -> None:
        self._api_errors.labels(operation, status_code(status)).inc()

    # -- peering ----------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._is_active

    def set_active(self, active: bool) -> None:
        """Peering let this replica work (True) or paused it (False: what it knew of monitors goes)."""
        self._is_active = active
        self._active.set(1 if active else 0)
        if not active:
            with self._lock:
                self._monitors.clear()

    # -- reading ----------------------------------------------------------------------------------

    def _snapshot(self) -> dict[str, _Monitor]:
        with self._lock:
            return {key: _Monitor(m.last_success, m.conditions) for key, m in self._monitors.items()}


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


class _MonitorCollector(Collector):
    """The per-monitor state, read whole at each scrape (a deleted monitor leaves nothing behind)."""

    def __init__(self, snapshot: Callable[[], dict[str, _Monitor]]) -> None:
        self._snapshot = snapshot

    def describe(self) -> Iterable[Metric]:
        return []  # unchecked: its series come and go with the monitors

    def collect(self) -> Iterator[Metric]:
        monitors = self._snapshot()
        counts: dict[tuple[str, str, str], int] = {}
        for monitor in monitors.values():
            for condition in monitor.conditions:
                counts[condition] = counts.get(condition, 0) + 1
        by_condition = GaugeMetricFamily(
            MONITORS,
            "SesMonitors by the status and reason of their Ready and Stalled conditions.",
            labels=["condition", "status", "reason"],
        )
        for labels, count in sorted(counts.items()):
            by_condition.add_metric(list(labels), count)
        yield by_condition
        last = GaugeMetricFamily(
            LAST_SUCCESSFUL_RECONCILE,
            "When a SesMonitor was last reconciled without an error (Unix time).",
            labels=[LABEL_MONITOR],
        )
        for key, monitor in sorted(monitors.items()):
            if monitor.last_success is not None:
                last.add_metric([key], monitor.last_success)
        yield last
