"""Whether to pause or resume one protected target (a configuration set or a tenant): a pure function of
what was read.

A `Target` says what kind of thing is protected, which of them are listed and which signals pause one:
`set_target` (the set's CloudWatch bounce and complaint rates) and `tenant_target` (the tenant's
reputation entity's ReputationImpact, HIGH on every read). The rules below hold for both; "the set" is
either.

`decide(config, owner, monitor, facts, now)` sees the set's sending state, sesmonitor's record of what was
last done to the set (read back from the set's tags, so a restarted exporter and other monitors know),
this refresh's CloudWatch datapoints of the set's rates and whether a person's resume request is pending.
Its rules, each tested in tests/unit/test_protection.py:

- only the configured sets, and only a set's own sending switch: never the account's;
- nothing without knowing: the sending state and the record must have been read, and a pause needs this
  refresh's datapoints;
- a pause needs the set's rate to have *held* at or above its level: the newest datapoint at most
  FRESH_SECONDS old, and every datapoint back to at least `hold_seconds` before it at or above the level,
  at least MIN_DATAPOINTS of them. Gaps (no mail, so no datapoint) neither break nor make a streak;
- once: a set already paused is never paused again, whoever paused it (DryRun holds its would-be pause
  in memory the same way, so it reports once too); a pause another monitor is making (its intent record,
  within CONFIRM_GRACE_SECONDS) is left to it;
- a resume only of a set this monitor paused (its owner, whatever its mode now), only when a person asked
  after that pause; DryRun refuses to resume a pause Enforce made (it writes nothing to AWS); a set
  someone else paused stays as it is;
- every observed re-enable is a resume: a set seen paused and then sending again, whoever paused and
  re-enabled it, starts the cooldown; so does a record claiming a pause on a set that sends. But a read
  still saying "enabled" right after this monitor's own pause, before any read confirmed it, is taken
  for a stale read (SES reads are eventually consistent) for CONFIRM_GRACE_SECONDS, not a re-enable;
- after a resume (by sesmonitor or observed) no pause before `cooldown_seconds` have passed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from sesmonitor.contract import ProtectionConfig
from sesmonitor.exporter.model.record import (
    CLAIMS_PAUSE,
    IMPACT,
    PAUSED,
    PAUSING,
    RATES,
    STARTS_COOLDOWN,
    Record,
    owns,
)
from sesmonitor.exporter.model.series import Series

FRESH_SECONDS: Final = 15 * 60  # CloudWatch publishes SES datapoints a few minutes late
MIN_DATAPOINTS: Final = 3  # one or two bad minutes never pause a set
# How long after this monitor's pause a read saying "still enabled" is taken for a stale read rather than
# a hand re-enable, unless a read has confirmed the pause. The protector reads the switch back right after
# its pause; SES's reads settle within seconds, and a person who re-enables within this time gets the
# cooldown at the end of it (one refresh or two late) instead of an immediate second pause. Also how long
# another monitor's intent record (a pause being made) is left alone.
CONFIRM_GRACE_SECONDS: Final = 180
# Actions.
NONE: Final = "none"
PAUSE: Final = "pause"
WOULD_PAUSE: Final = "would_pause"  # DryRun's pause: reported, never written
RESUME: Final = "resume"
NOTE_RESUMED: Final = "note_resumed"  # a re-enable seen (not sesmonitor's resume): start the cooldown
REFUSE_RESUME: Final = "refuse_resume"  # a person asked, and this monitor cannot do it: say why
WRITES: Final = (PAUSE, RESUME, NOTE_RESUMED)  # the actions that write to AWS in Enforce
# Target kinds, as the metrics' target_kind label and the docs say them (bounded: these two).
CONFIGURATION_SET: Final = "configuration_set"
TENANT: Final = "tenant"


@dataclass(frozen=True)
class Signal:
    """One series that pauses a target when it holds at or above `level`."""

    metric: str  # the key of its series in the facts' `rates`
    level: float
    noun: str  # "bounce rate", "reputation impact"
    shown: Literal["percent", "impact"] = "percent"  # how its value reads in a reason

    def reason(self, value: float, hold_seconds: int) -> str:
        held_for = f"for {hold_seconds // 60}m or more"
        if self.shown == "impact":
            return f"{self.noun} HIGH on every read {held_for}"
        return f"{self.noun} {_percent(value)} at or above {_percent(self.level)} {held_for}"


@dataclass(frozen=True)
class Target:
    """What is protected: its kind, the listed names (no other is ever judged) and its signals."""

    kind: str  # CONFIGURATION_SET | TENANT
    names: tuple[str, ...]
    signals: tuple[Signal, ...]
    source: str  # where the signals come from, for "no ... read in this refresh"

    @property
    def noun(self) -> str:
        return self.kind.replace("_", " ")


def set_target(config: ProtectionConfig) -> Target:
    return Target(
        CONFIGURATION_SET,
        config.configuration_sets,
        tuple(
            Signal(m, level, noun)
            for (m, level), noun in zip(levels(config).items(), RATE_NOUNS, strict=True)
        ),
        "CloudWatch",
    )


def tenant_target(config: ProtectionConfig) -> Target:
    """A tenant pauses on its ReputationImpact: 1.0 (HIGH) on every read for `hold_seconds`."""
    return Target(
        TENANT, config.tenants, (Signal(IMPACT, 1.0, "reputation impact", "impact"),), "reputation entity"
    )


@dataclass(frozen=True)
class SetFacts:
    name: str
    sending_enabled: bool | None  # None: not read in this refresh
    record_known: bool  # the record (tags) has been read; `record` None then means "never acted"
    record: Record | None
    rates: Mapping[str, Series] | None  # rate metric -> this refresh's datapoints; None: not read
    resume_requested: bool = False  # a person's request newer than the record (the protector judged it)
    # When a read last said the set was paused (None: not since this process started, or it was ours to
    # change): "enabled" now is a re-enable, unless a record at or after that time already says so.
    disabled_at: float | None = None
    pause_confirmed: bool = False  # a read since this monitor's pause said the set was paused


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str  # one line for the log, the status and the Event
    metric: str = ""
    rate: float | None = None
    level: float | None = None


RATE_NOUNS: Final = ("bounce rate", "complaint rate")


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


def decide(
    config: ProtectionConfig,
    owner: str,
    monitor: str,
    facts: SetFacts,
    now: float,
    *,
    target: Target | None = None,
) -> Decision:
    """`owner`: this monitor's owner id (model.record.owner_id); `monitor`: its `<namespace>/<name>`;
    `target`: what `facts` is of (the configuration sets by default)."""
    target = target or set_target(config)
    if facts.name not in target.names:
        return Decision(NONE, f"not a protected {target.noun}")
    if facts.sending_enabled is None or not facts.record_known:
        return Decision(NONE, f"sending state or sesmonitor's record of the {target.noun} not read yet")
    record = facts.record
    ours = owns(owner, record, monitor)
    claim = record is not None and record.state in CLAIMS_PAUSE
    if not facts.sending_enabled:
        if not (ours and claim and record is not None):
            return Decision(NONE, "paused outside sesmonitor: sesmonitor never resumes it")
        if facts.resume_requested:
            if config.mode == "DryRun" and not record.dry:
                return Decision(
                    REFUSE_RESUME,
                    "this monitor paused it in Enforce and, in DryRun, writes nothing to AWS: switch it"
                    " back to Enforce to resume, or re-enable sending by hand (the cooldown starts)",
                )
            return Decision(RESUME, "a person asked to resume it")
        return Decision(NONE, "paused by sesmonitor; waiting for a person to resume it")
    if record is not None and claim:
        age = now - record.at
        if ours and record.state == PAUSED and not facts.pause_confirmed and age < CONFIRM_GRACE_SECONDS:
            return Decision(NONE, "paused by sesmonitor; a read still says enabled (not confirmed yet)")
        if record.state == PAUSED:
            return Decision(NOTE_RESUMED, "sending was re-enabled outside sesmonitor")
        if record.state == PAUSING and not ours and age < CONFIRM_GRACE_SECONDS:
            return Decision(NONE, f"another monitor ({record.monitor}) is pausing it")
    elif facts.disabled_at is not None and not (
        record is not None and record.state in STARTS_COOLDOWN and record.at >= facts.disabled_at
    ):
        return Decision(NOTE_RESUMED, "sending was re-enabled outside sesmonitor")
    if record is not None and record.state in STARTS_COOLDOWN and now - record.at < config.cooldown_seconds:
        return Decision(NONE, f"cooldown after the resume at {int(record.at)} holds")
    if facts.rates is None:
        return Decision(NONE, f"no {target.source} read in this refresh")
    for signal in target.signals:
        series = facts.rates.get(signal.metric)
        if series is None:
            continue
        ok, value, _why = held(series, signal.level, now, config.hold_seconds)
        if ok and value is not None:
            action = PAUSE if config.mode == "Enforce" else WOULD_PAUSE
            reason = signal.reason(value, config.hold_seconds)
            return Decision(action, reason, signal.metric, value, signal.level)
    if target.kind == TENANT:
        return Decision(NONE, "reputation impact not HIGH, or not on every read long enough")
    return Decision(NONE, "rates below the levels, or not held long enough")
