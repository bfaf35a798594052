"""/metrics' text: prometheus_client's exposition of each collector in turn, the slow rooms' once a reading.

The tenants' and findings' families change only when their room records a reading or a failed read
(every 20 and 30 minutes by default), yet they are most of the page: 5,000 tenant series took a median
140 to 240 ms to render (docs/benchmarks.md), paid by every scrape that found the state moved (every AWS
request bumps its version) and the 1-second page cache run out, as each Prometheus scrape does. So
each collector is a `RenderPart`: one with a `reading` keeps its bytes while that function returns the
same object (the state's views are immutable, compared by identity); the others are rendered each
time. `generate_latest` of a registry is the join of its collectors' texts in registration order, so
the page is byte-identical to a fresh rendering (tests/unit/test_metrics_text.py).

The whole page is also kept for up to `cache_seconds` while the state's version is unchanged, so a
burst of scrapers shares one rendering (datapoint ages are then at most that much behind).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client import generate_latest
from prometheus_client.registry import Collector

from sesmonitor.exporter.model.state import ExporterState


@dataclass(frozen=True)
class RenderPart:
    collector: Collector
    # The object the collector's families are made of; None: rendered on every rendering of the page.
    reading: Callable[[], object] | None = None


class MetricsRenderer:
    def __init__(
        self,
        parts: Sequence[RenderPart],
        state: ExporterState,
        clock: Callable[[], float] = time.time,
        cache_seconds: float = 1.0,
    ) -> None:
        self._parts = tuple(parts)
        self._state = state
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[int, float, bytes] | None = None
        self._by_reading: dict[int, tuple[object, bytes]] = {}  # part index -> (reading, its text)

    def _fresh(self, cached: tuple[int, float, bytes] | None, version: int, now: float) -> bytes | None:
        if cached and cached[0] == version and 0 <= now - cached[1] < self._cache_seconds:
            return cached[2]
        return None

    def render(self) -> bytes:
        version = self._state.view().version
        now = self._clock()
        body = self._fresh(self._cached, version, now)
        if body is not None:
            return body
        with self._lock:  # one rendering at a time; the others reuse it
            body = self._fresh(self._cached, version, now)
            if body is None:
                body = b"".join(self._text(index, part) for index, part in enumerate(self._parts))
                self._cached = (version, now, body)
            return body

    def _text(self, index: int, part: RenderPart) -> bytes:
        if part.reading is None:
            return generate_latest(part.collector)
        # The reading is taken before the collector reads the state: a reading recorded in between is
        # then kept under the older one, and the next rendering renders again (never the reverse, which
        # would keep an old text under the new reading).
        reading = part.reading()
        kept = self._by_reading.get(index)
        if kept is not None and kept[0] is reading:
            return kept[1]
        text = generate_latest(part.collector)
        self._by_reading[index] = (reading, text)
        return text
