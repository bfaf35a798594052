"""The last good values and the health of each AWS API, shared by the refresh loop and the scrapes.

Writers (the refresh loop, botocore's event hooks) take a lock; readers get an immutable `StateView`
copied under that lock, so a scrape never waits on AWS and never sees half a refresh.

Staleness, precisely: an API is stale at time `now` unless its last attempt succeeded and that success
is at most `STALE_AFTER_INTERVALS` refresh intervals old (the second half catches a refresh loop that
stopped running). Ready: every API has succeeded at least once and its last success is at most that old,
so one failed refresh marks values stale at once but takes readiness away only after three intervals.
An API read less often than every refresh (GetConfigurationSet, `model.cadence`) counts its intervals in
its own read interval.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from sesmonitor import metrics
from sesmonitor.contract import STALE_AFTER_INTERVALS
from sesmonitor.exporter.model.account import AccountSnapshot
from sesmonitor.exporter.model.configuration_set import SetRead
from sesmonitor.exporter.model.counting import CounterState
from sesmonitor.exporter.model.events import EventsSnapshot, RedrivePolicy
from sesmonitor.exporter.model.findings import FindingsReading, FindingsView
from sesmonitor.exporter.model.series import SeriesKey
from sesmonitor.exporter.model.snapshot import SeriesSnapshot
from sesmonitor.exporter.model.tenants import Tenant, TenantsReading, TenantsView

API_CLOUDWATCH, API_ACCOUNT = metrics.APIS  # "GetMetricData", "GetAccount": also the `api` label
API_CONFIGURATION_SET = metrics.API_CONFIGURATION_SET  # only with configuration sets listed


@dataclass(frozen=True)
class ApiView:
    last_attempt: float | None = None
    last_attempt_ok: bool = False
    last_success: float | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_time: float | None = None
    last_error_code: str | None = None
    last_error_kind: str | None = None

    def stale(self, now: float, refresh_interval: float) -> bool:
        if not self.last_attempt_ok or self.last_success is None:
            return True
        return now - self.last_success > STALE_AFTER_INTERVALS * refresh_interval

    def fresh_enough_for_ready(self, now: float, refresh_interval: float) -> bool:
        return (
            self.last_success is not None
            and now - self.last_success <= STALE_AFTER_INTERVALS * refresh_interval
        )


@dataclass(frozen=True)
class EventsView:
    """The SES event consumer's counts and the queue as last read (None until read)."""

    counts: EventsSnapshot | None = None
    queue_visible: int | None = None
    queue_in_flight: int | None = None
    oldest_received_age: float | None = None
    loop_restarts: int = 0  # the consumer's loops restarted after an unexpected exception
    redrive: RedrivePolicy | None = None  # the queue's RedrivePolicy; None until GetQueueAttributes


@dataclass(frozen=True)
class StateView:
    refresh_interval: float
    series: Mapping[SeriesKey, SeriesSnapshot] | None  # None until GetMetricData first succeeds
    # The count counters (aws_ses_send_total, ...), per count series; empty until GetMetricData succeeds.
    counters: Mapping[SeriesKey, CounterState]
    # The count series that have had a datapoint in some read since the exporter started.
    counts_seen: frozenset[SeriesKey]
    account: AccountSnapshot | None  # None until GetAccount first succeeds
    apis: Mapping[str, ApiView]
    # Each listed configuration set's ReputationMetricsEnabled (None: AWS did not say); None until
    # GetConfigurationSet first succeeds, or without configuration sets.
    reputation_enabled: Mapping[str, bool | None] | None
    # Each listed set's SendingOptions.SendingEnabled, from the same GetConfigurationSet reads.
    sending_enabled: Mapping[str, bool | None]
    requests: Mapping[tuple[str, str], int]  # (api, outcome) -> HTTP requests
    metrics_requested: int
    refresh_duration: float | None
    last_full_refresh: float | None  # end of the last pass in which every API succeeded
    version: int  # bumped on every change; lets the HTTP layer cache a rendering
    events: EventsView = field(default_factory=EventsView)  # only with spec.events
    # spec.tenants, read on its own schedule (not an API of `apis`: a read every 20 minutes is not stale)
    tenants: TenantsView = field(default_factory=TenantsView)
    findings: FindingsView = field(default_factory=FindingsView)  # spec.findings, likewise
    # Each listed set's newest GetConfigurationSet outcome (empty until the first pass).
    configuration_set_reads: Mapping[str, SetRead] = field(default_factory=dict)
    # The APIs read less often than every refresh: api -> its read interval (seconds).
    read_intervals: Mapping[str, float] = field(default_factory=dict)

    def interval(self, api: str) -> float:
        return max(self.refresh_interval, self.read_intervals.get(api, 0.0))

    @property
    def missing_configuration_sets(self) -> tuple[str, ...]:
        """The listed sets GetConfigurationSet last answered NotFoundException for."""
        return tuple(sorted(name for name, one in self.configuration_set_reads.items() if one.missing))

    def stale(self, api: str, now: float) -> bool:
        return self.apis[api].stale(now, self.interval(api))

    def any_stale(self, now: float) -> bool:
        return any(self.stale(api, now) for api in self.apis)

    def ready(self, now: float) -> bool:
        return all(a.fresh_enough_for_ready(now, self.interval(api)) for api, a in self.apis.items())

    def last_error(self) -> str | None:
        """The most recent error of an API that is still failing, else None."""
        failing = [
            (a.last_error_time or 0.0, f"{name}: {a.last_error}")
            for name, a in self.apis.items()
            if a.consecutive_failures and a.last_error
        ]
        return max(failing)[1] if failing else None


@dataclass
class _Mutable:
    series: dict[SeriesKey, SeriesSnapshot] | None = None
    counters: dict[SeriesKey, CounterState] = field(default_factory=dict)
    counts_seen: frozenset[SeriesKey] = frozenset()
    account: AccountSnapshot | None = None
    reputation_enabled: dict[str, bool | None] | None = None
    sending_enabled: dict[str, bool | None] = field(default_factory=dict)
    apis: dict[str, ApiView] = field(default_factory=dict)
    requests: dict[tuple[str, str], int] = field(default_factory=dict)
    metrics_requested: int = 0
    refresh_duration: float | None = None
    last_full_refresh: float | None = None
    version: int = 0
    events: EventsView = field(default_factory=EventsView)
    tenants: TenantsView = field(default_factory=TenantsView)
    findings: FindingsView = field(default_factory=FindingsView)
    configuration_set_reads: dict[str, SetRead] = field(default_factory=dict)


_View = TypeVar("_View", TenantsView, FindingsView)


def _failed(view: _View, now: float, message: str, code: str | None) -> _View:
    """A slow read's view after a failed attempt: the last reading stays, the failure is counted."""
    return replace(
        view,
        last_attempt=now,
        last_attempt_ok=False,
        consecutive_failures=view.consecutive_failures + 1,
        last_error=message,
        last_error_code=code,
    )


class ExporterState:
    def __init__(
        self,
        refresh_interval: float,
        apis: tuple[str, ...] = metrics.APIS,
        read_intervals: Mapping[str, float] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._refresh_interval = refresh_interval
        self._read_intervals = MappingProxyType(dict(read_intervals or {}))
        self._m = _Mutable(apis={api: ApiView() for api in apis})
        self._view: StateView | None = None

    def _changed(self) -> None:
        self._m.version += 1
        self._view = None

    def record_request(self, api: str, outcome: str) -> None:
        with self._lock:
            key = (api, outcome)
            self._m.requests[key] = self._m.requests.get(key, 0) + 1
            self._changed()

    def add_metrics_requested(self, count: int) -> None:
        with self._lock:
            self._m.metrics_requested += count
            self._changed()

    def record_cloudwatch(
        self,
        now: float,
        series: Mapping[SeriesKey, SeriesSnapshot],
        counters: Mapping[SeriesKey, CounterState] | None = None,
        counts_seen: frozenset[SeriesKey] = frozenset(),
    ) -> None:
        with self._lock:
            self._m.series = dict(series)
            if counters is not None:
                self._m.counters = dict(counters)
            self._m.counts_seen |= counts_seen
            self._success(API_CLOUDWATCH, now)

    def record_account(self, now: float, account: AccountSnapshot) -> None:
        with self._lock:
            self._m.account = account
            self._success(API_ACCOUNT, now)

    def record_configuration_sets(self, now: float, reads: Mapping[str, SetRead]) -> None:
        """Each set's GetConfigurationSet on its own: a set read keeps its values, a missing one loses
        them, one that failed keeps its last good ones. The API fails only for a set whose read failed
        (not for a missing set, which is a state of its own, shown per set)."""
        with self._lock:
            enabled = dict(self._m.reputation_enabled or {})
            for name, one in reads.items():
                if one.ok:
                    enabled[name] = one.reputation_enabled
                    self._m.sending_enabled[name] = one.sending_enabled
                elif one.missing:
                    enabled.pop(name, None)
                    self._m.sending_enabled.pop(name, None)
            self._m.reputation_enabled = enabled
            self._m.configuration_set_reads.update(reads)  # a pass may read only the sets due
            failed = sorted(
                ((n, one) for n, one in reads.items() if one.error is not None), key=lambda x: x[0]
            )
            if not failed:
                self._success(metrics.API_CONFIGURATION_SET, now)
                return
        name, first = failed[0]
        names = ", ".join(n for n, _ in failed)
        self.record_failure(
            metrics.API_CONFIGURATION_SET,
            now,
            f"configuration set(s) {names}: {first.error}",
            first.error_code,
            first.error_kind,
        )

    def record_events(
        self, now: float, counts: EventsSnapshot, oldest_received_age: float | None, ok: bool = True
    ) -> None:
        """The consumer's counts; `ok` False: counted, but the pass failed (record_failure follows)."""
        with self._lock:
            self._m.events = replace(self._m.events, counts=counts, oldest_received_age=oldest_received_age)
            if ok:
                self._success(metrics.API_RECEIVE_MESSAGE, now)
            else:
                self._changed()

    def record_loop_crash(self, api: str, now: float, message: str) -> None:
        """A consumer loop caught an exception it did not foresee and restarts: counted, and the
        loop's API reads as failing (kind `error`) until its next success."""
        with self._lock:
            self._m.events = replace(self._m.events, loop_restarts=self._m.events.loop_restarts + 1)
        self.record_failure(api, now, message, None, "error")

    def record_queue(
        self,
        now: float,
        visible: int | None,
        in_flight: int | None,
        redrive: RedrivePolicy | None = None,
    ) -> None:
        with self._lock:
            self._m.events = replace(
                self._m.events,
                queue_visible=visible,
                queue_in_flight=in_flight,
                redrive=redrive if redrive is not None else self._m.events.redrive,
            )
            self._success(metrics.API_QUEUE_ATTRIBUTES, now)

    def record_tenants(self, now: float, reading: TenantsReading) -> None:
        with self._lock:
            old = self._m.tenants
            self._m.tenants = TenantsView(
                reading,
                last_success=now,
                last_attempt=now,
                last_attempt_ok=True,
                early_reads=old.early_reads,
                last_early_read=old.last_early_read,
            )
            self._changed()

    def record_tenants_read_again(self, now: float, fresh: tuple[Tenant, ...]) -> None:
        """Some watched tenants read again between two reads (a service event named them): each replaces
        its older self in the last reading; the reading's time and cost stay the full read's."""
        with self._lock:
            view = self._m.tenants
            if view.reading is None or not fresh:
                return
            by_name = {t.name: t for t in fresh}
            tenants = tuple(by_name.get(t.name, t) for t in view.reading.tenants)
            self._m.tenants = replace(
                view,
                reading=replace(view.reading, tenants=tenants),
                early_reads=view.early_reads + 1,
                last_early_read=now,
            )
            self._changed()

    def record_tenants_failure(self, now: float, message: str, code: str | None) -> None:
        """Keeps the last reading; says the reads fail."""
        with self._lock:
            self._m.tenants = _failed(self._m.tenants, now, message, code)
            self._changed()

    def record_findings(self, now: float, reading: FindingsReading) -> None:
        with self._lock:
            self._m.findings = FindingsView(
                reading, vdm_enabled=True, last_success=now, last_attempt=now, last_attempt_ok=True
            )
            self._changed()

    def record_findings_skipped(self, now: float, vdm_enabled: bool | None) -> None:
        """No read: VDM is off (False) or not known yet (None). A reading from while VDM was on stays."""
        with self._lock:
            if self._m.findings.vdm_enabled != vdm_enabled:
                self._m.findings = replace(self._m.findings, vdm_enabled=vdm_enabled, last_attempt=now)
                self._changed()

    def record_findings_failure(self, now: float, message: str, code: str | None) -> None:
        with self._lock:
            self._m.findings = replace(_failed(self._m.findings, now, message, code), vdm_enabled=True)
            self._changed()

    def _success(self, api: str, now: float) -> None:
        self._m.apis[api] = replace(
            self._m.apis[api],
            last_attempt=now,
            last_attempt_ok=True,
            last_success=now,
            consecutive_failures=0,
        )
        self._changed()

    def record_failure(
        self, api: str, now: float, message: str, code: str | None = None, kind: str | None = None
    ) -> None:
        """Keeps the last good values; only the API's health changes."""
        with self._lock:
            old = self._m.apis[api]
            self._m.apis[api] = replace(
                old,
                last_attempt=now,
                last_attempt_ok=False,
                consecutive_failures=old.consecutive_failures + 1,
                last_error=message,
                last_error_time=now,
                last_error_code=code,
                last_error_kind=kind,
            )
            self._changed()

    def finish_pass(self, now: float, duration: float) -> None:
        with self._lock:
            self._m.refresh_duration = duration
            if all(a.last_attempt_ok for a in self._m.apis.values()):
                self._m.last_full_refresh = now
            self._changed()

    def view(self) -> StateView:
        with self._lock:
            if self._view is None:
                m = self._m
                self._view = StateView(
                    refresh_interval=self._refresh_interval,
                    series=MappingProxyType(dict(m.series)) if m.series is not None else None,
                    counters=MappingProxyType(dict(m.counters)),
                    counts_seen=m.counts_seen,
                    account=m.account,
                    reputation_enabled=(
                        MappingProxyType(dict(m.reputation_enabled))
                        if m.reputation_enabled is not None
                        else None
                    ),
                    sending_enabled=MappingProxyType(dict(m.sending_enabled)),
                    apis=MappingProxyType(dict(m.apis)),
                    requests=MappingProxyType(dict(m.requests)),
                    metrics_requested=m.metrics_requested,
                    refresh_duration=m.refresh_duration,
                    last_full_refresh=m.last_full_refresh,
                    version=m.version,
                    events=m.events,
                    tenants=m.tenants,
                    findings=m.findings,
                    configuration_set_reads=MappingProxyType(dict(m.configuration_set_reads)),
                    read_intervals=self._read_intervals,
                )
            return self._view
