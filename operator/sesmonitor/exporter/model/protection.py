"""spec.protection as the rest of the exporter sees it: each protected set's state, the calls made.

`protection.protector` builds a `ProtectionView`; `serving` turns it into /status and metric families;
`refresh.refresher` hands each pass's reads to a `ProtectionStep`. Neither knows the protector itself.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Protocol

from sesmonitor import contract
from sesmonitor.exporter.model.record import CLAIMS_PAUSE, RESUMED, STARTS_COOLDOWN, Record, describe_record
from sesmonitor.exporter.model.record import PAUSED as PAUSED_RECORD
from sesmonitor.exporter.model.series import Series, SeriesKey

# States in /status and the metrics.
WATCHING: Final = "watching"
PAUSED: Final = "paused"
WOULD_PAUSE: Final = "would_pause"
PAUSED_ELSEWHERE: Final = "paused_elsewhere"
COOLDOWN: Final = "cooldown"
UNKNOWN: Final = "unknown"
MISSING: Final = "missing"  # GetConfigurationSet: NotFoundException; never judged, never written to


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Failure:
    action: str  # pause | resume | tag | read_tags
    code: str
    message: str
    at: float


@dataclass(frozen=True)
class ProtectedSet:
    name: str
    sending_enabled: bool | None  # as AWS says, whatever DryRun pretends
    record_known: bool
    record: Record | None  # DryRun: its in-memory record when it has one, else the tags'
    reason: str  # the last decision's
    failure: Failure | None
    resume_refused: str | None = None  # why the newest resume request was refused
    ours: bool = False  # the record is this monitor's own (model.record.owns)
    confirmed: bool = False  # a read since this monitor's pause said the set was paused
    also_protected_by: str | None = None  # another monitor seen in the set's record
    resume_dropped: str | None = None
    resume_dropped_count: int = 0
    retry_at: float | None = None  # after a failure, no call before this
    missing: bool = False  # the set does not exist (GetConfigurationSet: NotFoundException)


@dataclass(frozen=True)
class ProtectionView:
    mode: str
    owner: str  # this monitor's owner id (model.record.owner_id)
    cooldown_seconds: int
    sets: tuple[ProtectedSet, ...]
    actions: Mapping[tuple[str, str, str], int]  # (set, action, outcome) -> count
    # spec.protection's tenants (protection.tenant_target), in the same shape; sending_enabled is what the
    # tenant's reputation entity says. Their calls by (tenant, action, outcome).
    tenants: tuple[ProtectedSet, ...] = ()
    tenant_actions: Mapping[tuple[str, str, str], int] = field(default_factory=dict)

    def state(self, one: ProtectedSet, now: float) -> str:
        record = one.record
        if one.missing:
            return MISSING
        if one.sending_enabled is None or not one.record_known:
            return UNKNOWN
        if one.ours and record is not None and record.state in CLAIMS_PAUSE:
            if record.dry:
                return WOULD_PAUSE
            # A real pause, whatever the mode now; "enabled" right after it is a read not settled yet.
            if not one.sending_enabled or (record.state == PAUSED_RECORD and not one.confirmed):
                return PAUSED
        if not one.sending_enabled:
            return PAUSED_ELSEWHERE
        if record is not None and record.state in STARTS_COOLDOWN and now - record.at < self.cooldown_seconds:
            return COOLDOWN
        return WATCHING

    def status(self, now: float) -> dict[str, contract.ProtectedSetStatus]:
        return self.statuses(self.sets, now)

    def tenant_status(self, now: float) -> dict[str, contract.ProtectedSetStatus]:
        return self.statuses(self.tenants, now)

    def statuses(
        self, targets: tuple[ProtectedSet, ...], now: float
    ) -> dict[str, contract.ProtectedSetStatus]:
        out = {}
        for one in targets:
            record = one.record
            paused = record is not None and record.state in CLAIMS_PAUSE and one.ours
            resumed = record is not None and record.state in STARTS_COOLDOWN
            by = None
            if resumed and record is not None:
                by = f"sesmonitor ({record.monitor})" if record.state == RESUMED else "outside sesmonitor"
            out[one.name] = contract.ProtectedSetStatus(
                mode=self.mode,
                state=self.state(one, now),
                sending_enabled=one.sending_enabled,
                paused_at=rfc3339(record.at) if paused and record else None,
                reason=describe_record(record) if paused and record else None,
                resumed_at=rfc3339(record.at) if resumed and record else None,
                cooldown_until=rfc3339(record.at + self.cooldown_seconds) if resumed and record else None,
                last_error=one.failure.message if one.failure else None,
                last_error_code=one.failure.code if one.failure else None,
                resume_refused=one.resume_refused,
                resumed_by=by,
                owner=self.owner,
                also_protected_by=one.also_protected_by,
                resume_dropped=one.resume_dropped,
                resume_dropped_count=one.resume_dropped_count,
                next_attempt_at=rfc3339(one.retry_at) if one.retry_at else None,
            )
        return out


class ProtectionStep(Protocol):
    """What the refresh loop and the collector use of `protection.protector.Protector`."""

    wake: threading.Event  # set by a new resume request: the refresh loop acts at once

    def run(
        self,
        now: float,
        sending: Mapping[str, bool | None] | None,
        series: Mapping[SeriesKey, Series] | None,
        *,
        missing: frozenset[str] = frozenset(),
    ) -> object: ...

    def view(self) -> ProtectionView: ...


class TenantStep(Protocol):
    """What the protector uses of `protection.tenant_target.TenantProtector`."""

    def run(self, now: float) -> object: ...

    def view(self) -> tuple[ProtectedSet, ...]: ...

    def actions(self) -> dict[tuple[str, str, str], int]: ...
