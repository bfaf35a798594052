"""benchmarks/exporter.py's own logic: the scenario every exporter is measured on, and what a peer that
fails to serve data reports (issue 11, item 14: both runs on a fresh machine lost cloudwatch_exporter to
the seed's burst gaps, with a stale "connection refused" and no log)."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support.http_servers import BackgroundServer, QuietHandler

ROOT = Path(__file__).resolve().parents[2]
MINUTE = 60


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("exporter_benchmark", ROOT / "benchmarks/exporter.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve the module's annotations through it
    spec.loader.exec_module(module)
    return module


def sent_minutes(sends: Any, start: float, end: float) -> list[float]:
    """Minute starts in [start, end] that had mail."""
    first = int(start // MINUTE) * MINUTE
    return [t for t in range(first, int(end) + 1, MINUTE) if start <= t <= end and sends(t)]


@pytest.mark.parametrize("offset", [0, 7, 59, 301, 899, 1199])  # anywhere in the 20-minute cycle
def test_the_newest_burst_ends_as_the_run_starts(bench: ModuleType, offset: int) -> None:
    now = 1_800_000_000 + offset
    sends = bench.bench_scenario(now).sends
    newest = (now // MINUTE) * MINUTE - MINUTE  # the newest whole minute seed_scenario writes
    assert sends(newest) == bench.BURST_PER_MINUTE
    # A peer's window (range 600 s, delay 60 s) holds that burst for 8 minutes after seeding at least:
    # the newest seeded minute starts up to 2 minutes before `now`.
    for later in range(0, 480, 30):
        scrape_at = now + later
        assert sent_minutes(sends, scrape_at - 660, scrape_at - 60), later


def test_bursts_keep_the_seed_pattern(bench: ModuleType) -> None:
    now = 1_800_000_123
    sends = bench.bench_scenario(now).sends
    minutes = sent_minutes(sends, now - 2 * 3600, now - MINUTE)
    assert len(minutes) == 6 * bench.BURST_MINUTES  # 5 minutes in every 20, for 2 hours
    gaps = {b - a for a, b in itertools.pairwise(minutes)}
    assert gaps == {MINUTE, (bench.BURST_EVERY - bench.BURST_MINUTES + 1) * MINUTE}


class _NoSesSeries(QuietHandler):
    def do_GET(self) -> None:
        self.send_body(200, b"# HELP up whatever\nup 1\ncloudwatch_exporter_scrape_error 0.0\n", ())


@pytest.fixture
def peer_without_ses_series() -> Iterator[int]:
    server = BackgroundServer(_NoSesSeries)
    server.start()
    yield server.port
    server.stop()


def test_a_peer_without_data_reports_what_it_served_and_its_log(
    bench: ModuleType, peer_without_ses_series: int, tmp_path: Path
) -> None:
    log_path = tmp_path / "peer.log"
    log_path.write_text("".join(f"line {i}\n" for i in range(40)))
    proc = subprocess.Popen(["sleep", "30"])
    try:
        target = bench.Target("peer", "1", proc, peer_without_ses_series, log_path, False, "")
        with pytest.raises(bench.PeerFailed) as failed:
            bench.wait_for_data(target, timeout=1.5)
    finally:
        proc.kill()
        proc.wait()
    message = str(failed.value)
    assert "no SES CloudWatch series" in message
    assert "refused" not in message
    assert failed.value.log_tail == [f"line {i}" for i in range(40 - bench.LOG_TAIL_LINES, 40)]
