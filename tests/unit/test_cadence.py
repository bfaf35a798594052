"""How often the refresh reads what changes slowly (issue 21: 6): the counts every 5 minutes, a set's
settings every 10, a protected set every pass; and the counters come out the same at that pace."""

from __future__ import annotations

import random

import pytest

from sesmonitor import contract
from sesmonitor.contract import COUNTS_READ_SECONDS_DEFAULT as COUNTS_READ_SECONDS
from sesmonitor.contract import SETTINGS_READ_SECONDS_DEFAULT as SETTINGS_READ_SECONDS
from sesmonitor.exporter.main import count_reach, read_intervals
from sesmonitor.exporter.model.cadence import due, due_sets
from sesmonitor.exporter.model.counting import advance, settled_boundary
from sesmonitor.exporter.refresh.cloudwatch import query_window

P = 60
SETTLE = 300
T0 = 1_800_000_017.0  # 17 s into a minute, like a real refresh


def test_a_read_is_due_when_never_made_or_an_interval_old():
    assert due(None, T0, COUNTS_READ_SECONDS)
    assert not due(T0, T0 + COUNTS_READ_SECONDS - 1, COUNTS_READ_SECONDS)
    assert due(T0, T0 + COUNTS_READ_SECONDS, COUNTS_READ_SECONDS)


def test_refreshes_every_minute_read_the_counts_on_every_fifth():
    last: float | None = None
    reads = []
    for minute in range(31):
        now = T0 + minute * P
        if due(last, now, COUNTS_READ_SECONDS):
            reads.append(minute)
            last = now
    assert reads == [0, 5, 10, 15, 20, 25, 30]


def test_sets_are_read_every_ten_minutes_a_protected_or_failed_one_every_pass():
    sets = ("marketing", "transactional", "alerts")
    read_at: dict[str, float] = {}
    passes = []
    for minute in range(21):
        now = T0 + minute * P
        names = due_sets(sets, read_at, now, SETTINGS_READ_SECONDS, every_pass={"alerts"})
        passes.append(names)
        # transactional's read fails from minute 10 to 12: not recorded, so due again next pass.
        read_at.update((n, now) for n in names if not (n == "transactional" and 10 <= minute <= 12))
    assert passes[0] == sets
    assert all(p == ("alerts",) for p in passes[1:10])
    assert passes[10] == sets
    assert passes[11] == passes[12] == ("transactional", "alerts")
    assert passes[13] == ("transactional", "alerts")  # read at 13: its interval starts again
    assert all(p == ("alerts",) for p in passes[14:20])
    assert passes[20] == ("marketing", "alerts")
    assert SETTINGS_READ_SECONDS == 600  # the figure: 240 -> about 130 requests an hour


def test_reads_every_five_minutes_count_each_settled_minute_once_like_reads_every_minute():
    """The same counter whether the counts come every minute or every 5 (or every 7, after a failed
    read): no minute lost, none added twice, across reads of the window CloudWatch would return."""
    rng = random.Random(21)
    sends = {T0 - 17 + m * P - 3 * 3600: float(rng.randint(0, 40)) for m in range(6 * 60)}

    def window(now: float, reach: int) -> list[tuple[float, float]]:
        start, end = query_window(now, reach, P)
        return sorted(
            ((t, v) for t, v in sends.items() if start.timestamp() <= t < end.timestamp()), reverse=True
        )

    reach = count_reach(contract.ExporterConfig(monitor="m/m", region="us-east-1"))
    totals = {}
    for name, pace in (
        ("every minute", [1] * 120),
        ("every 5", [5] * 24),
        ("5 then a failed 2", [5, 7] * 10),
    ):
        state = advance(None, window(T0, reach), T0, SETTLE, P)
        now = T0
        for step in pace:
            now += step * P
            state = advance(state, window(now, reach), now, SETTLE, P)
        expected = sum(
            v
            for t, v in sends.items()
            if settled_boundary(T0, SETTLE, P) <= t < settled_boundary(now, SETTLE, P)
        )
        assert state.total == expected, name
        totals[name] = (now, state.total)
    assert totals["every minute"] == totals["every 5"]


def test_only_an_api_with_unprotected_sets_is_stale_on_the_slower_interval():
    base = {"monitor": "m/m", "region": "us-east-1", "configuration_sets": ("a", "b")}
    assert read_intervals(contract.ExporterConfig(**base)) == {"GetConfigurationSet": SETTINGS_READ_SECONDS}
    assert read_intervals(contract.ExporterConfig(monitor="m/m", region="us-east-1")) == {}
    protection = contract.ProtectionConfig("DryRun", ("a", "b"), 0.1, 0.005)
    assert read_intervals(contract.ExporterConfig(**base, protection=protection)) == {}
    one = contract.ProtectionConfig("DryRun", ("a",), 0.1, 0.005)
    assert read_intervals(contract.ExporterConfig(**base, protection=one)) == {
        "GetConfigurationSet": SETTINGS_READ_SECONDS
    }


def test_the_intervals_are_configurable_and_the_rendered_file_omits_them_at_their_defaults():
    config = contract.ExporterConfig(monitor="m/m", region="us-east-1")
    assert (config.counts_read_interval_seconds, config.settings_read_interval_seconds) == (300, 600)
    assert "read_interval" not in config.to_json()  # every monitor's file and hash as before
    fast = contract.ExporterConfig.from_json(
        '{"monitor": "m/m", "region": "us-east-1", "counts_read_interval_seconds": 25}'
    )
    assert fast.counts_read_interval_seconds == 25
    assert contract.ExporterConfig.from_json(fast.to_json()) == fast
    with pytest.raises(contract.ConfigError, match="settings_read_interval_seconds"):
        contract.ExporterConfig.from_json(
            '{"monitor": "m/m", "region": "r", "settings_read_interval_seconds": 0}'
        )
