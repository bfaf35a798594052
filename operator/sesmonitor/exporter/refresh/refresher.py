"""The background loop that reads AWS every refresh interval, each API on its own schedule.

A failed read keeps the last good values (the state marks them stale), is logged and counted, and puts
that API, and only that API, on an exponential backoff: a denied GetAccount never holds back CloudWatch.
What changes slowly is read less often than every pass (`model.cadence`): the counts every 5 minutes
(the rates every pass), a configuration set's settings every 10 minutes (a protected set every pass).
Tests drive `refresh_once(now)` with their own clock instead of sleeping.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sesmonitor import metrics
from sesmonitor.contract import ExporterConfig
from sesmonitor.exporter.aws.backoff import MIN_WAIT_SECONDS, backoff_delay
from sesmonitor.exporter.aws.outcomes import classify_exception, describe_exception, error_code
from sesmonitor.exporter.model.cadence import due, due_sets
from sesmonitor.exporter.model.configuration_set import NOT_FOUND_CODE, SetRead
from sesmonitor.exporter.model.counting import CounterState, advance
from sesmonitor.exporter.model.protection import ProtectionStep
from sesmonitor.exporter.model.series import Series, SeriesKey
from sesmonitor.exporter.model.snapshot import ERROR_STATUS_CODES, summarize
from sesmonitor.exporter.model.state import API_ACCOUNT, API_CLOUDWATCH, API_CONFIGURATION_SET, ExporterState
from sesmonitor.exporter.refresh.account import AccountReader
from sesmonitor.exporter.refresh.cloudwatch import CloudWatchReader
from sesmonitor.exporter.refresh.reputation import ConfigurationSetReader, explain_absences

log = logging.getLogger(__name__)

COUNTS = frozenset(m.aws_name for m in metrics.COUNT_METRICS)


class Refresher:
    def __init__(
        self,
        config: ExporterConfig,
        state: ExporterState,
        cloudwatch: CloudWatchReader,
        account: AccountReader,
        clock: Callable[[], float] = time.time,
        *,
        configuration_sets: ConfigurationSetReader | None = None,
        protector: ProtectionStep | None = None,
    ) -> None:
        self._config = config
        self._state = state
        self._cloudwatch = cloudwatch
        self._account = account
        self._configuration_sets = configuration_sets
        self.protector = protector
        self._read_now: dict[str, Any] = {}  # this pass's raw reads, for the protection step
        self._last_series: tuple[float, dict[SeriesKey, Series]] | None = None  # (read at, series)
        # The counts as last read, served (and explaining absent rates) until the next count read.
        self._count_series: dict[SeriesKey, Series] = {}
        self._counts_read_at: float | None = None  # the last GetMetricData that asked for the counts
        self._set_read_at: dict[str, float] = {}  # each set's last answered GetConfigurationSet
        # The sets whose sending switch protection judges on every pass: read on every pass.
        self._every_pass = frozenset(
            config.protection.configuration_sets if config.protection and protector is not None else ()
        )
        self._clock = clock
        # The sets' ReputationOptions first: a pass explains absent rates with what it just read.
        self._next_due: dict[str, float] = {API_CONFIGURATION_SET: 0.0} if configuration_sets else {}
        self._next_due.update({API_CLOUDWATCH: 0.0, API_ACCOUNT: 0.0})
        self._lock = threading.Lock()  # one pass at a time, whoever calls

    @property
    def next_due(self) -> dict[str, float]:
        return dict(self._next_due)

    def refresh_once(self, now: float | None = None, apis: Iterable[str] | None = None) -> dict[str, bool]:
        """Read the given APIs (all by default) as of `now`; returns which succeeded.

        AWS failures are recorded, never raised.
        """
        wanted = list(self._next_due) if apis is None else list(apis)
        unknown = sorted(set(wanted) - set(self._next_due))
        if unknown:
            raise ValueError(f"unknown API(s): {', '.join(unknown)}")
        with self._lock:
            now = self._clock() if now is None else now
            started = time.perf_counter()
            results = {}
            self._read_now = {}
            for api in wanted:
                results[api] = self._refresh_api(api, now)
                failures = self._state.view().apis[api].consecutive_failures
                self._next_due[api] = now + backoff_delay(self._config.refresh_interval_seconds, failures)
            if self.protector is not None and API_CONFIGURATION_SET in self._read_now:
                # Only on this pass's sending state, and datapoints read within the last interval (a
                # resume's extra pass shifts GetConfigurationSet's schedule away from GetMetricData's).
                # Each set on its own read: one that failed or is missing is not judged, the rest are.
                read_at, series = self._last_series or (0.0, None)
                fresh = now - read_at <= self._config.refresh_interval_seconds
                reads = self._read_now[API_CONFIGURATION_SET]
                sending = {name: one.sending_enabled for name, one in reads.items() if one.ok}
                missing = frozenset(name for name, one in reads.items() if one.missing)
                self.protector.run(now, sending, series if fresh else None, missing=missing)
            elif self.protector is not None and API_CONFIGURATION_SET not in self._next_due:
                # No configuration set listed: spec.protection's tenants alone, on every pass.
                self.protector.run(now, {}, None)
            self._state.finish_pass(now, time.perf_counter() - started)
            return results

    def refresh_due(self, now: float | None = None) -> dict[str, bool]:
        now = self._clock() if now is None else now
        due = [api for api, at in self._next_due.items() if at <= now]
        return self.refresh_once(now, due) if due else {}

    def _refresh_api(self, api: str, now: float) -> bool:
        try:
            if api == API_CLOUDWATCH:
                self._refresh_cloudwatch(now)
            elif api == API_CONFIGURATION_SET and self._configuration_sets is not None:
                names = due_sets(
                    self._configuration_sets.configuration_sets,
                    self._set_read_at,
                    now,
                    self._config.settings_read_interval_seconds,
                    self._every_pass,
                )
                if not names:  # every set's settings were read within the interval
                    return True
                reads = self._configuration_sets.read_each(names)
                self._log_sets(reads)
                self._state.record_configuration_sets(now, reads)
                self._read_now[API_CONFIGURATION_SET] = reads
                # Answered (a missing set too) waits the interval; a failed read is due at once.
                self._set_read_at.update((name, now) for name, one in reads.items() if one.error is None)
                failed = [name for name, one in reads.items() if one.error is not None]
                if failed:  # recorded (the API's health names them); the other sets were read
                    return False
            else:
                self._state.record_account(now, self._account.read())
        except Exception as exc:
            message = describe_exception(exc)
            failures = self._state.view().apis[api].consecutive_failures + 1
            log.warning("%s failed (%d in a row), serving the last good values: %s", api, failures, message)
            self._state.record_failure(api, now, message, error_code(exc), classify_exception(exc))
            return False
        log.debug("%s refreshed", api)
        return True

    def _refresh_cloudwatch(self, now: float) -> None:
        """The rates on every pass; the counts too when their read is due, else the last ones read."""
        counts_due = due(self._counts_read_at, now, self._config.counts_read_interval_seconds)
        reading = self._cloudwatch.read(now, counts=counts_due)
        if reading.counts:
            counts = {key: one for key, one in reading.series.items() if key.metric in COUNTS}
        else:
            counts = self._count_series
        series = {**reading.series, **counts}
        snapshots = {
            key: summarize(one, now, self._config.lookback_seconds, self._config.window_seconds)
            for key, one in series.items()
        }
        snapshots = explain_absences(
            snapshots, series, now, self._config.lookback_seconds, self._state.view().reputation_enabled
        )
        if reading.counts:
            seen = frozenset(key for key, one in counts.items() if any(math.isfinite(v) for v in one.values))
            self._state.record_cloudwatch(now, snapshots, self._count(counts, now), seen)
            self._count_series, self._counts_read_at = counts, now
        else:  # the counters stay as the last count read left them
            self._state.record_cloudwatch(now, snapshots)
        self._last_series = (now, series)

    def _log_sets(self, reads: Mapping[str, SetRead]) -> None:
        disabled = sorted(name for name, one in reads.items() if one.ok and one.reputation_enabled is False)
        if disabled:
            log.warning(
                "reputation metrics are disabled for configuration set(s) %s: AWS publishes no"
                " reputation rates for them (enable: aws sesv2"
                " put-configuration-set-reputation-options --configuration-set-name <set>"
                " --reputation-metrics-enabled)",
                ", ".join(disabled),
            )
        missing = sorted(name for name, one in reads.items() if one.missing)
        if missing:
            log.warning(
                "configuration set(s) %s do not exist in %s (GetConfigurationSet: %s): deleted, or"
                " misspelled in spec.configurationSets; the other sets are read and protected as usual",
                ", ".join(missing),
                self._config.region,
                NOT_FOUND_CODE,
            )
        for name, one in sorted(reads.items()):
            if one.error is not None:
                log.warning("GetConfigurationSet of %s failed: %s", name, one.error)

    def _count(self, series: dict[SeriesKey, Series], now: float) -> dict[SeriesKey, CounterState]:
        """Each count series' counter after this read; a series CloudWatch answered with an error keeps
        its counter and cursor, so its periods are added by a later read."""
        counters = dict(self._state.view().counters)
        for key, one in series.items():
            if key.metric not in COUNTS:
                continue
            if one.status_code in ERROR_STATUS_CODES:
                if key not in counters:  # still starts at 0, cursor placed at once
                    counters[key] = advance(None, (), now, self._config.count_settle_seconds, self._period)
                continue
            counters[key] = advance(
                counters.get(key),
                zip(one.timestamps, one.values, strict=False),
                now,
                self._config.count_settle_seconds,
                self._period,
            )
        return counters

    @property
    def _period(self) -> int:
        return self._config.period_seconds

    def run(self, stop: threading.Event) -> None:
        """Refresh whatever is due until `stop` is set; the first pass starts at once. A resume request
        wakes the loop for a pass of the sending state (and so the protection step) at once."""
        while not stop.is_set():
            self.refresh_due()
            wait = max(min(self._next_due.values()) - self._clock(), MIN_WAIT_SECONDS)
            if self.protector is None:
                stop.wait(wait)
            elif self.protector.wake.wait(wait):
                self.protector.wake.clear()
                if not stop.is_set():
                    self.refresh_once(apis=[API_CONFIGURATION_SET])
