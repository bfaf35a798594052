"""The count counters (aws_ses_send_total, ...): each settled period added exactly once (issue 11: 8)."""

from __future__ import annotations

import math

from sesmonitor.exporter.model.counting import CounterState, advance, settle, settled_boundary

P = 60.0
SETTLE = 300.0
T0 = 1_800_000_000.0  # a period boundary


def minutes(values: dict[int, float]) -> list[tuple[float, float]]:
    """Datapoints at T0 + minute * 60, newest first as CloudWatch returns them."""
    return sorted(((T0 + m * P, v) for m, v in values.items()), reverse=True)


def test_settled_boundary_is_the_end_of_the_newest_period_older_than_the_settle_delay():
    assert settled_boundary(T0 + 600, SETTLE, P) == T0 + 300
    assert settled_boundary(T0 + 659.9, SETTLE, P) == T0 + 300
    assert settled_boundary(T0 + 660, SETTLE, P) == T0 + 360


def test_first_read_places_the_cursor_and_adds_nothing():
    points = minutes(dict.fromkeys(range(120), 10.0))
    added, cursor = settle(points, None, T0 + 120 * P, SETTLE, P)
    assert added == 0.0
    assert cursor == T0 + 115 * P


def test_only_settled_periods_after_the_cursor_are_added():
    points = minutes({m: float(m) for m in range(30)})
    now = T0 + 30 * P  # minutes 25..29 are younger than 5 minutes' settle
    added, cursor = settle(points, T0 + 10 * P, now, SETTLE, P)
    assert added == sum(range(10, 25))
    assert cursor == T0 + 25 * P


def test_a_second_read_of_the_same_window_adds_nothing():
    points = minutes(dict.fromkeys(range(60), 7.0))
    now = T0 + 60 * P
    _, cursor = settle(points, T0, now, SETTLE, P)
    assert settle(points, cursor, now, SETTLE, P) == (0.0, cursor)
    assert settle(points, cursor, now + 59, SETTLE, P) == (0.0, cursor)  # no new period settled


def test_a_partial_newest_minute_is_counted_with_its_final_value():
    """CloudWatch first shows 3 of the minute's 40 sends; the counter adds 40, once, after settling."""
    cursor = settled_boundary(T0, SETTLE, P)
    total = 0.0
    for now, newest in ((T0 + 61, 3.0), (T0 + 121, 25.0), (T0 + 181, 40.0), (T0 + 421, 40.0)):
        added, cursor = settle([(T0, newest)], cursor, now, SETTLE, P)
        total += added
    assert total == 40.0


def test_refreshes_every_minute_add_up_to_the_sum_of_the_settled_minutes():
    sends = {m: float((m * 7) % 13) for m in range(0, 180) if m % 20 < 5}  # the seed's bursts
    state: CounterState | None = None
    first = T0 + 60 * P
    for step in range(0, 100):
        now = first + step * P + 13  # a refresh 13 s into each minute
        window = {m: v for m, v in sends.items() if now - 7200 <= T0 + m * P < math.floor(now / P) * P}
        state = advance(state, minutes(window), now, SETTLE, P)
    assert state is not None
    start = settled_boundary(first + 13, SETTLE, P)
    expected = sum(v for m, v in sends.items() if start <= T0 + m * P < state.cursor)
    assert state.total == expected
    assert state.cursor == settled_boundary(first + 99 * P + 13, SETTLE, P)


def test_a_missed_refresh_is_caught_up_by_the_next_and_the_cursor_never_moves_back():
    points = minutes(dict.fromkeys(range(60), 1.0))
    cursor = T0 + 10 * P
    added, cursor = settle(points, cursor, T0 + 40 * P, SETTLE, P)  # 25 minutes after a long gap
    assert (added, cursor) == (25.0, T0 + 35 * P)
    assert settle(points, cursor, T0 + 20 * P, SETTLE, P) == (0.0, cursor)  # clock stepped back


def test_non_finite_values_are_skipped():
    points = [(T0, math.nan), (T0 + P, 5.0), (T0 + 2 * P, math.inf)]
    assert settle(points, T0, T0 + 10 * P, SETTLE, P) == (5.0, T0 + 5 * P)
