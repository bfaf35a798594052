"""The `sesmonitor-tenants` thread: one read of the tenants every spec.tenants read interval.

A failed read keeps the last reading (marked as failing in /status and `sesmonitor_tenants_read_failed`)
and backs off like the refresh loop's APIs (`aws.backoff`), never reading sooner than the interval: with
at most 2 requests per tenant a read (GetTenant and GetReputationEntity of a listed name; a share of
the list pages otherwise) and the interval 20 minutes at least, no tenant costs more than 1 request per
10 minutes. Tests call `read_once(now)` and advance a simulated clock by `next_delay()` instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sesmonitor.exporter.aws.backoff import backoff_delay
from sesmonitor.exporter.aws.outcomes import describe_exception, error_code
from sesmonitor.exporter.model.state import ExporterState
from sesmonitor.exporter.tenants.reader import TenantsReader

log = logging.getLogger(__name__)


class TenantsLoop:
    def __init__(
        self,
        reader: TenantsReader,
        state: ExporterState,
        interval_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reader = reader
        self._state = state
        self._interval = interval_seconds
        self._clock = clock

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

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.read_once()
            stop.wait(self.next_delay())
