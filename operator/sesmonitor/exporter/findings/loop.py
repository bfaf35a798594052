"""The `sesmonitor-findings` thread: the open findings every spec.findings read interval, while VDM is on.

Whether VDM is on comes from GetAccount (the refresh loop reads it every refresh): with VDM off the loop
makes no call and looks again after CHECK_SECONDS, so enabling VDM shows within a minute; before the
first GetAccount it looks again after WAIT_FOR_ACCOUNT_SECONDS. A failed read keeps the last reading and
backs off (`aws.backoff`).

An advisor's recommendation event (`request_early`, from the events room through `main`) makes the next
read due within COALESCE_SECONDS, at most once per EARLY_GAP_SECONDS: a burst of events is one read, and
early reads add at most 12 reads an hour, each paced like any other (≥ 1 s between ListRecommendations
requests, its limit). The read that follows restarts the schedule; polling goes on, since EventBridge
delivers best effort.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sesmonitor.exporter.aws.backoff import backoff_delay
from sesmonitor.exporter.aws.outcomes import describe_exception, error_code
from sesmonitor.exporter.findings.reader import FindingsReader
from sesmonitor.exporter.model.early_reads import EarlyReads
from sesmonitor.exporter.model.service_events import ACTED, NOT_WATCHED, RATE_LIMITED
from sesmonitor.exporter.model.state import ExporterState

log = logging.getLogger(__name__)
CHECK_SECONDS = 60.0
WAIT_FOR_ACCOUNT_SECONDS = 2.0
EARLY_GAP_SECONDS = 300.0
COALESCE_SECONDS = 2.0  # > 1 s: the early read's first request is never within a second of the last one
EARLY_KEY = "findings"


class FindingsLoop:
    def __init__(
        self,
        reader: FindingsReader,
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
        self.early = EarlyReads(EARLY_GAP_SECONDS)  # `wake` also ends the wait on stop

    def request_early(self, now: float) -> str:
        """ACTED: the next read comes within COALESCE_SECONDS; RATE_LIMITED: one came early within the
        last EARLY_GAP_SECONDS; NOT_WATCHED: VDM is off or not known yet, nothing can be read."""
        account = self._state.view().account
        if account is None or not account.vdm_enabled:
            return NOT_WATCHED
        return ACTED if self.early.request(EARLY_KEY, now) else RATE_LIMITED

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
            # until the next read, or sooner when an event asked for one
            if self.early.wake.wait(wait) and not stop.is_set():
                stop.wait(self._coalesce)
                self.early.take()
