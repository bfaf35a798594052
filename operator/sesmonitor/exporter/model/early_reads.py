"""Requests that a slow loop (tenants, findings) read sooner than its schedule, at most one per key per
`min_gap_seconds`: the events room asks (a service event came), the loop's thread wakes, waits a moment
so a burst arrives whole, and takes every pending key at once. Thread-safe; the caller passes `now`.
"""

from __future__ import annotations

import threading

PRUNE_AT = 1024


class EarlyReads:
    def __init__(self, min_gap_seconds: float) -> None:
        self.min_gap = min_gap_seconds
        self.wake = threading.Event()  # set while a request is pending (and to stop the loop's wait)
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._accepted: dict[str, float] = {}  # key -> when its last request was accepted
        self._prune_at = PRUNE_AT

    def request(self, key: str, now: float) -> bool:
        """True when accepted; False (rate-limited) when `key` was accepted under `min_gap_seconds` ago."""
        with self._lock:
            last = self._accepted.get(key)
            if last is not None and now - last < self.min_gap:
                return False
            if len(self._accepted) > self._prune_at:  # only the keys asked for within the gap, amortized
                self._accepted = {k: t for k, t in self._accepted.items() if now - t < self.min_gap}
                self._prune_at = max(PRUNE_AT, 2 * len(self._accepted))
            self._accepted[key] = now
            self._pending.add(key)
            self.wake.set()
            return True

    @property
    def remembered(self) -> int:
        """Keys whose last acceptance is remembered: those within the gap, and at most as many older."""
        with self._lock:
            return len(self._accepted)

    def take(self) -> tuple[str, ...]:
        """Every pending key, sorted, and none pending afterwards."""
        with self._lock:
            pending = tuple(sorted(self._pending))
            self._pending.clear()
            self.wake.clear()
            return pending
