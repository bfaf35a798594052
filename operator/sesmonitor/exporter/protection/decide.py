"""Whether to pause or resume one protected configuration set: a pure function of what was read.

`decide(config, monitor, facts, now)` sees the set's sending state, sesmonitor's own record of what it did
to the set (read back from the set's tags, so a restarted exporter knows), this refresh's CloudWatch
datapoints of the set's rates and a pending resume request. Its rules, each tested in
tests/unit/test_protection.py:

- only the configured sets, and only a set's own sending switch: never the account's;
- nothing without knowing: the sending state and the record must have been read, and a pause needs this
  refresh's datapoints;
- a pause needs the set's rate to have *held* at or above its level: the newest datapoint at most
  FRESH_SECONDS old, and every datapoint back to at least `hold_seconds` before it at or above the level,
  at least MIN_DATAPOINTS of them. Gaps (no mail, so no datapoint) neither break nor make a streak;
- once: a set already paused is never paused again, whoever paused it (DryRun holds its would-be pause
  in memory the same way, so it reports once too);
- a resume only of a set this monitor paused, only when a person asked after that pause; a set someone
  else paused stays as it is;
- after a resume (by sesmonitor or by hand) no pause before `cooldown_seconds` have passed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sesmonitor.contract import ProtectionConfig
from sesmonitor.exporter.model.record import PAUSED, RATES, RESUMED, Record
from sesmonitor.exporter.model.series import Series

FRESH_SECONDS: Final = 15 * 60  # CloudWatch publishes SES datapoints a few minutes late
MIN_DATAPOINTS: Final = 3  # one or two bad minutes never pause a set
# Actions.
NONE: Final = "none"
PAUSE: Final = "pause"
WOULD_PAUSE: Final = "would_pause"  # DryRun's pause: reported, never written
RESUME: Final = "resume"
NOTE_RESUMED: Final = "note_resumed"  # someone re-enabled a set sesmonitor paused: start the cooldown


@dataclass(frozen=True)
class SetFacts:
    name: str
    sending_enabled: bool | None  # None: not read in this refresh
    record_known: bool  # the record (tags) has been read; `record` None then means "never acted"
    record: Record | None
    rates: Mapping[str, Series] | None  # rate metric -> this refresh's datapoints; None: not read
    resume_requested_at: float | None = None


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str  # one line for the log, the status and the Event
    metric: str = ""
    rate: float | None = None
    level: float | None = None


def levels(config: ProtectionConfig) -> dict[str, float]:
    return {RATES[0]: config.bounce_rate, RATES[1]: config.complaint_rate}


def held(series: Series, level: float, now: float, hold_seconds: float) -> tuple[bool, float | None, str]:
    """Whether the rate held at or above `level`: (held, newest value, why not)."""
    points = sorted(
        (
            (t, v)
            for t, v in zip(series.timestamps, series.values, strict=False)
            if math.isfinite(v) and t <= now
        ),
        reverse=True,
    )
    if not points:
        return False, None, "no datapoint"
    newest_t, newest_v = points[0]
    if now - newest_t > FRESH_SECONDS:
        return False, newest_v, f"newest datapoint is {int(now - newest_t)}s old"
    streak = 0
    oldest = newest_t
    for t, v in points:
        if v < level:
            break
        streak += 1
        oldest = t
    if streak < MIN_DATAPOINTS:
        return False, newest_v, f"{streak} datapoint(s) at or above the level, {MIN_DATAPOINTS} needed"
    if newest_t - oldest < hold_seconds:
        return False, newest_v, f"at or above the level for {int(newest_t - oldest)}s of {int(hold_seconds)}s"
    return True, newest_v, ""


def _percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def decide(config: ProtectionConfig, monitor: str, facts: SetFacts, now: float) -> Decision:
    if facts.name not in config.configuration_sets:
        return Decision(NONE, "not a protected configuration set")
    if facts.sending_enabled is None or not facts.record_known:
        return Decision(NONE, "sending state or sesmonitor's record of the set not read yet")
    record = facts.record
    ours = record is not None and record.monitor == monitor
    if not facts.sending_enabled:
        if not (ours and record is not None and record.state == PAUSED):
            return Decision(NONE, "paused outside sesmonitor: sesmonitor never resumes it")
        if facts.resume_requested_at is not None and facts.resume_requested_at >= record.at:
            return Decision(RESUME, "a person asked to resume it")
        return Decision(NONE, "paused by sesmonitor; waiting for a person to resume it")
    if ours and record is not None and record.state == PAUSED:
        return Decision(NOTE_RESUMED, "sending was re-enabled outside sesmonitor")
    if record is not None and record.state == RESUMED and now - record.at < config.cooldown_seconds:
        return Decision(NONE, f"cooldown after the resume at {int(record.at)} holds")
    if facts.rates is None:
        return Decision(NONE, "no CloudWatch read in this refresh")
    for metric, level in levels(config).items():
        series = facts.rates.get(metric)
        if series is None:
            continue
        ok, value, _why = held(series, level, now, config.hold_seconds)
        if ok and value is not None:
            noun = "bounce" if metric == RATES[0] else "complaint"
            reason = (
                f"{noun} rate {_percent(value)} at or above {_percent(level)}"
                f" for {config.hold_seconds // 60}m or more"
            )
            action = PAUSE if config.mode == "Enforce" else WOULD_PAUSE
            return Decision(action, reason, metric, value, level)
    return Decision(NONE, "rates below the levels, or not held long enough")
