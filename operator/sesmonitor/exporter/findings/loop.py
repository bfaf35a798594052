"""The `sesmonitor-findings` thread: the open findings every spec.findings read interval, while VDM is on.

Whether VDM is on comes from GetAccount (the refresh loop reads it every refresh): with VDM off the loop
makes no call and looks again after CHECK_SECONDS, so enabling VDM shows within a minute; before the
first GetAccount it looks again after WAIT_FOR_ACCOUNT_SECONDS. A failed read keeps the last reading and
backs off (`aws.backoff`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sesmonitor.exporter.aws.backoff import backoff_delay
from sesmonitor.exporter.aws.outcomes import describe_exception, error_code
from sesmonitor.exporter.findings.reader import FindingsReader
from sesmonitor.exporter.model.state import ExporterState

log = logging.getLogger(__name__)
CHECK_SECONDS = 60.0
WAIT_FOR_ACCOUNT_SECONDS = 2.0


class FindingsLoop:
    def __init__(
        self,
        reader: FindingsReader,
        state: ExporterState,
        interval_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reader = reader
        self._state = state
        self._interval = interval_seconds
        self._clock = clock

    def read_once(self, now: float | None = None) -> bool | None:
        """True when the findings were read, False when the read failed, None when VDM is off or not
        known yet (no call made)."""
        at = self._clock() if now is None else now
        account = self._state.view().account
        vdm = account.vdm_enabled if account is not None else None
        if not vdm:
            self._state.record_findings_skipped(at, vdm)
            return None
        try:
            reading = self._reader.read()
        except Exception as exc:
            message = describe_exception(exc)
            log.warning("reading the reputation findings failed, serving the last reading: %s", message)
            self._state.record_findings_failure(at, message, error_code(exc))
            return False
        self._state.record_findings(at, reading)
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            outcome = self.read_once()
            if outcome is None:
                known = self._state.view().findings.vdm_enabled is not None
                wait = min(CHECK_SECONDS if known else WAIT_FOR_ACCOUNT_SECONDS, self._interval)
            else:
                wait = backoff_delay(self._interval, self._state.view().findings.consecutive_failures)
            stop.wait(wait)
