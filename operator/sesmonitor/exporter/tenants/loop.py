"""The `sesmonitor-tenants` thread: one read of the tenants every spec.tenants read interval, and a tenant
read again sooner when a service event names it.

A failed read keeps the last reading (marked as failing in /status and `sesmonitor_tenants_read_failed`)
and backs off like the refresh loop's APIs (`aws.backoff`); scheduled reads never come sooner than the
interval: with at most 2 requests per tenant a read (GetTenant and GetReputationEntity of a listed name;
a share of the list pages otherwise) and the interval 20 minutes at least, they cost no tenant more than
1 request per 10 minutes. Tests call `read_once(now)` and advance a simulated clock by `next_delay()` instead.

Service events (`request_early`, from the events room through `main`): a sending-status event (or an
advisor finding on a tenant) names a watched tenant, and the loop reads that tenant again within
COALESCE_SECONDS instead of up to a read interval later; the scheduled reads go on, since EventBridge
delivers best effort. The budget: a tenant is read early at most once per read interval (`EarlyReads`),
and such a read is one GetReputationEntity, so however many events come, the early reads add at most
1 request per watched tenant per read interval (≤ 0.5 per tenant per 10 minutes at the 20-minute
minimum) to the scheduled reads' ≤ 1: ≤ 1.5 per tenant per 10 minutes in the worst case, a burst
naming every tenant included. When the tenants due at once cost as much as a whole read (a burst
across a listing), the loop makes the whole read instead, which also restarts the schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sesmonitor.exporter.aws.backoff import backoff_delay
from sesmonitor.exporter.aws.outcomes import describe_exception, error_code
from sesmonitor.exporter.model.early_reads import EarlyReads
from sesmonitor.exporter.model.service_events import ACTED, NOT_WATCHED, RATE_LIMITED, ServiceEvent
from sesmonitor.exporter.model.state import ExporterState
from sesmonitor.exporter.model.tenants import Tenant
from sesmonitor.exporter.tenants.reader import TenantsReader

log = logging.getLogger(__name__)
# After the first request wakes the loop, the moment it waits for the rest of a burst (the consumer
# receives 10 messages at a time, each handed on at once).
COALESCE_SECONDS = 2.0


def named_tenant(event: ServiceEvent, tenants: tuple[Tenant, ...]) -> Tenant | None:
    """The watched tenant the event's resource is: by ARN, else by the tenant id or name in it (the
    Developer Guide writes a tenant's ARN both as tenant/<name>/<id> and as tenant/<id>)."""
    arn = event.resource_arn
    if not arn or ":tenant/" not in arn:
        return None
    by_arn = {t.arn: t for t in tenants if t.arn}
    if arn in by_arn:
        return by_arn[arn]
    last = arn.rsplit("/", 1)[-1]
    for tenant in tenants:
        if tenant.arn and tenant.arn.rsplit("/", 1)[-1] == last:
            return tenant
    name = event.tenant_name
    return next((t for t in tenants if t.name == name), None) if name else None


class TenantsLoop:
    def __init__(
        self,
        reader: TenantsReader,
        state: ExporterState,
        interval_seconds: float,
        clock: Callable[[], float] = time.time,
        coalesce_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self._reader = reader
        self._state = state
        self._interval = interval_seconds
        self._clock = clock
        self._coalesce = coalesce_seconds
        self.early = EarlyReads(interval_seconds)  # per tenant name; `wake` also ends the wait on stop

    def read_once(self, now: float | None = None) -> bool:
        """Read the tenants; True when it succeeded. AWS failures are recorded, never raised."""
        try:
            reading = self._reader.read()
        except Exception as exc:
            message = describe_exception(exc)
            log.warning("reading the tenants failed, serving the last reading: %s", message)
            self._state.record_tenants_failure(
                self._clock() if now is None else now, message, error_code(exc)
            )
            return False
        self._state.record_tenants(self._clock() if now is None else now, reading)
        log.debug("read %d tenants in %d requests", len(reading.tenants), reading.requests)
        return True

    def next_delay(self) -> float:
        """Seconds from the end of a read to the next: the interval, longer after failures."""
        return backoff_delay(self._interval, self._state.view().tenants.consecutive_failures)

    def request_early(self, event: ServiceEvent, now: float) -> str:
        """Ask for the named tenant to be read again soon: ACTED, RATE_LIMITED (read early within the
        last read interval: the scheduled read covers it) or NOT_WATCHED (no watched tenant of that
        ARN in the last reading, or no reading yet: the next read covers it)."""
        reading = self._state.view().tenants.reading
        tenant = named_tenant(event, reading.tenants) if reading is not None else None
        if tenant is None:
            return NOT_WATCHED
        return ACTED if self.early.request(tenant.name, now) else RATE_LIMITED

    def read_early(self, now: float | None = None) -> bool:
        """Read the tenants asked for; True when it made a whole read instead (the schedule restarts)."""
        names = set(self.early.take())
        reading = self._state.view().tenants.reading
        if not names or reading is None:
            return False
        due = tuple(t for t in reading.tenants if t.name in names)
        if not due:
            return False
        if reading.requests and len(due) >= reading.requests:
            log.info("%d tenants named by service events: reading them all (%d requests)",
                     len(due), reading.requests)  # fmt: skip
            self.read_once(now)
            return True
        try:
            fresh = self._reader.read_again(due)
        except Exception as exc:
            message = describe_exception(exc)
            log.warning("reading %d tenants again failed, serving the last reading: %s", len(due), message)
            self._state.record_tenants_failure(
                self._clock() if now is None else now, message, error_code(exc)
            )
            return False
        self._state.record_tenants_read_again(self._clock() if now is None else now, fresh)
        log.info("read %d tenants again after service events: %s", len(fresh), ", ".join(sorted(names)))
        return False

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.read_once()
            self._wait(stop, self.next_delay())

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Until the next scheduled read, reading the tenants asked for as they come."""
        due = time.monotonic() + seconds
        while not stop.is_set():
            left = due - time.monotonic()
            if left <= 0:
                return
            if not self.early.wake.wait(left) or stop.is_set():
                continue
            stop.wait(self._coalesce)
            if not stop.is_set() and self.read_early():
                due = time.monotonic() + self._interval
