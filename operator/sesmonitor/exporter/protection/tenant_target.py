"""spec.protection's tenants: `protection.decide` with `decide.tenant_target`, applied through SESv2.

Each pass (the protector's, after its sets), for each listed tenant by name: GetTenant once for its ARN,
then GetReputationEntity (type RESOURCE, the tenant's ARN; botocore's sesv2 model has no TENANT type):
its sending state (false while its customer-managed or AWS-managed status is DISABLED) and its
ReputationImpact, kept as a series over the hold time (1.0 for HIGH). SESv2 gives no per-tenant bounce
or complaint rate, so the impact is the signal (docs/protection.md#tenants).

The record of what sesmonitor did lives in the tenant's tags, the keys a set's record uses
(`protector.tags_of`), so a restarted exporter reads it back (ListTagsForResource on the tenant's ARN).
Writes (Enforce only), at most one tenant per pass, never a resume:

- a pause: the intent record (`pausing`), read back after `settle_seconds`, then
  UpdateReputationEntityCustomerManagedStatus DISABLED, the record `paused`, and a GetReputationEntity
  that confirms it; a failed status call rewrites the intent (the record before it, or `abandoned`);
- a re-enable seen (a person set the customer-managed status back to ENABLED, or AWS reinstated it):
  the record `reenabled`, so the cooldown holds across restarts.

DryRun writes nothing: its would-be pauses live in memory. A failed call is counted, shown and tried
again after a backoff, never raised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from botocore.exceptions import ClientError

from sesmonitor import contract
from sesmonitor.exporter.aws.backoff import backoff_delay
from sesmonitor.exporter.aws.outcomes import classify_exception, describe_exception, error_code
from sesmonitor.exporter.model import record as r
from sesmonitor.exporter.model.protection import Failure, ProtectedSet, rfc3339
from sesmonitor.exporter.model.series import Series
from sesmonitor.exporter.protection import decide as p
from sesmonitor.exporter.protection.protector import (
    RECORD_REREAD_SECONDS,
    WRITE_SETTLE_SECONDS,
    describe_failure,
    record_of,
    same_record,
    tags_of,
)

log = logging.getLogger(__name__)

ENTITY_TYPE: Final = "RESOURCE"  # botocore's ReputationEntityType enum has this value only
DISABLED: Final = "DISABLED"
ENABLED: Final = "ENABLED"
HIGH: Final = "HIGH"
ONE_AT_A_TIME: Final = "one tenant action per refresh: judged again at the next one"


@dataclass
class _Tenant:
    """What the protector knows of one tenant; only the refresh thread changes it."""

    arn: str | None = None
    missing: bool = False  # GetTenant: NotFoundException
    sending: bool | None = None
    disabled_at: float | None = None
    impact: list[tuple[float, float]] = field(default_factory=list)  # (read at, 1.0 HIGH / 0.0)
    record: r.Record | None = None
    record_known: bool = False
    read_at: float = float("-inf")
    read_started: float = 0.0
    dry: r.Record | None = None
    pending: r.Record | None = None
    confirmed: bool = False
    reason: str = ""
    failure: Failure | None = None
    failures: int = 0
    retry_at: float = 0.0
    other_owner: str | None = None


class TenantProtector:
    def __init__(
        self,
        config: contract.ExporterConfig,
        sesv2: Any,
        owner: str,
        on_event: Callable[[str, str, str], None] = lambda *_: None,
        *,
        settle_seconds: float = WRITE_SETTLE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        assert config.protection is not None
        self.config = config.protection
        self.target = p.tenant_target(self.config)
        self._monitor = config.monitor
        self.owner = owner
        self._interval = config.refresh_interval_seconds
        self._sesv2 = sesv2
        self._on_event = on_event
        self._settle = settle_seconds
        self._sleep = sleep
        self._tenants = {name: _Tenant() for name in sorted(self.config.tenants)}
        self._actions: dict[tuple[str, str, str], int] = {}  # (tenant, action, outcome) -> count
        self._actions_lock = threading.Lock()  # a scrape copies them while a pass counts
        self._changed = False  # the last entity read changed the tenant's sending state
        # How far back the impact series reaches: the hold time and decide's freshness, one pass more.
        self._keep = self.config.hold_seconds + p.FRESH_SECONDS + self._interval

    @property
    def dry_run(self) -> bool:
        return self.config.mode == "DryRun"

    def view(self) -> tuple[ProtectedSet, ...]:
        """Called under the protector's lock, as the refresh thread's writes are."""
        return tuple(
            ProtectedSet(
                name,
                one.sending,
                one.record_known,
                self._record(one),
                one.reason,
                one.failure,
                ours=r.owns(self.owner, self._record(one), self._monitor),
                confirmed=one.confirmed,
                also_protected_by=one.other_owner,
                retry_at=one.retry_at if one.failure is not None else None,
                missing=one.missing,
            )
            for name, one in self._tenants.items()
        )

    def _record(self, one: _Tenant) -> r.Record | None:
        return one.dry if self.dry_run and one.dry is not None else one.record

    # -- one pass ----------------------------------------------------------------------------------------

    def run(self, now: float) -> dict[str, p.Decision]:
        decisions: dict[str, p.Decision] = {}
        acted = False
        for name, one in self._tenants.items():
            if not self._read_entity(name, now):
                one.reason = (
                    "no such tenant (GetTenant: NotFoundException)"
                    if one.missing
                    else "the tenant's reputation entity could not be read"
                )
                decisions[name] = p.Decision(p.NONE, one.reason)
                continue
            self._write_pending(name, now)
            if (
                not one.record_known or self._changed or now - one.read_at >= RECORD_REREAD_SECONDS
            ) and now >= one.retry_at:
                self._read_tags(name, now)
            decision = self._decide(name, now)
            if acted and decision.action in (*p.WRITES, p.WOULD_PAUSE):  # DryRun reports one at a time too
                decision = p.Decision(p.NONE, f"{decision.reason}; {ONE_AT_A_TIME}")
            elif decision.action in p.WRITES and not self.dry_run:
                if now < one.retry_at:
                    decision = p.Decision(
                        p.NONE,
                        f"{decision.reason}; after a failed call, next attempt at {rfc3339(one.retry_at)}",
                    )
                elif self._read_tags(name, now):  # re-read just before the write, and judge again
                    decision = self._decide(name, now)
                else:
                    decision = p.Decision(p.NONE, "the tenant's record could not be read before the write")
            one.reason = decision.reason
            decisions[name] = decision
            acted = self._apply(name, decision, now) or acted
        return decisions

    def _read_entity(self, name: str, now: float) -> bool:
        """The tenant's ARN (once) and its reputation entity: sending state and impact."""
        one = self._tenants[name]
        self._changed = False
        try:
            if one.arn is None:
                try:
                    answer = self._sesv2.get_tenant(TenantName=name)
                except ClientError as exc:
                    if error_code(exc) == "NotFoundException":
                        one.missing, one.sending = True, None
                        return False
                    raise
                one.arn, one.missing = str((answer.get("Tenant") or {}).get("TenantArn") or "") or None, False
                if one.arn is None:
                    raise ValueError(f"GetTenant of {name} gave no TenantArn")
            entity = self._entity(one.arn)
        except Exception as exc:
            self._fail(name, "read_entity", exc, now, count=False)
            return False
        if one.failure is not None and one.failure.action == "read_entity":
            self._reset(one)
        sending = entity_sending(entity)
        self._changed = one.sending is not None and sending != one.sending
        one.sending = sending
        if not sending:
            one.confirmed, one.disabled_at = True, now
        high = 1.0 if entity.get("ReputationImpact") == HIGH else 0.0
        one.impact = [(t, v) for t, v in one.impact if now - t <= self._keep] + [(now, high)]
        return True

    def _entity(self, arn: str) -> Mapping[str, Any]:
        answer = self._sesv2.get_reputation_entity(
            ReputationEntityType=ENTITY_TYPE, ReputationEntityReference=arn
        )
        entity = answer.get("ReputationEntity")
        return entity if isinstance(entity, Mapping) else {}

    def _decide(self, name: str, now: float) -> p.Decision:
        one = self._tenants[name]
        record = self._record(one)
        effective = one.sending
        if self.dry_run and one.sending and record is not None and record.dry and record.state == r.PAUSED:
            effective = False  # DryRun's pause, in memory
        newest_first = sorted(one.impact, reverse=True)
        series = Series(tuple(t for t, _ in newest_first), tuple(v for _, v in newest_first))
        facts = p.SetFacts(
            name,
            effective,
            one.record_known,
            record,
            {r.IMPACT: series},
            disabled_at=one.disabled_at,
            pause_confirmed=one.confirmed,
        )
        return p.decide(self.config, self.owner, self._monitor, facts, now, target=self.target)

    def _apply(self, name: str, decision: p.Decision, now: float) -> bool:
        """Act on the decision; True when it wrote (or, in DryRun, would have written) to AWS."""
        action = decision.action
        one = self._tenants[name]
        if action not in (p.PAUSE, p.WOULD_PAUSE, p.NOTE_RESUMED):
            return False  # RESUME and REFUSE_RESUME need a person's request: tenants take none
        before = self._record(one)
        if action == p.WOULD_PAUSE or self.dry_run:
            state = r.PAUSED if action == p.WOULD_PAUSE else r.REENABLED
            one.dry = r.Record(state, now, self.owner, decision.metric, decision.rate, dry=True)
            self._count(name, action, "success")
            verb = "would pause" if action == p.WOULD_PAUSE else "saw a re-enable of"
            self._event(name, action, f"DryRun: {verb} tenant {name}: {decision.reason}")
            return True
        if action == p.PAUSE:
            self._pause(name, decision, before, now)
            return True
        one.pending = one.record = self._after(before, r.REENABLED, now)
        self._write_pending(name, now)
        self._event(
            name, action, f"sending of tenant {name} was re-enabled outside sesmonitor; cooldown starts"
        )
        return True

    def _after(self, before: r.Record | None, state: str, now: float) -> r.Record:
        if before is None:
            return r.Record(state, now, self.owner)
        return replace(before, state=state, at=now, monitor=self.owner, dry=False)

    def _pause(self, name: str, decision: p.Decision, before: r.Record | None, now: float) -> None:
        one = self._tenants[name]
        assert one.arn is not None
        intent = r.Record(r.PAUSING, now, self.owner, decision.metric, decision.rate)
        try:
            self._sesv2.tag_resource(ResourceArn=one.arn, Tags=tags_of(intent))
        except Exception as exc:
            self._fail(name, "pause", exc, now)
            return
        if time.monotonic() - one.read_started >= self._settle:
            self._lost(name, now, "its read-to-write took longer than the settle time")
            return
        self._sleep(self._settle)  # any writer that read before this intent landed has written by now
        if not self._read_tags(name, now) or not same_record(one.record, intent):
            self._lost(name, now, "the tenant's record is not this intent")
            return
        try:
            self._set_status(one.arn, DISABLED)
        except Exception as exc:
            self._fail(name, "pause", exc, now)
            claimed = before is not None and before.state in r.CLAIMS_PAUSE
            undo = before if before is not None and not claimed else replace(intent, state=r.ABANDONED)
            one.pending = one.record = undo
            self._write_pending(name, now, force=True)
            return
        self._count(name, "pause", "success")
        one.sending, one.confirmed, one.disabled_at = False, False, None
        one.pending = one.record = replace(intent, state=r.PAUSED)
        self._reset(one)
        self._write_pending(name, now, force=True)
        try:  # confirm; a stale answer leaves it to decide's grace
            one.confirmed = not entity_sending(self._entity(one.arn))
        except Exception as exc:
            log.info(
                "protection: reading back the pause of tenant %s failed: %s", name, describe_exception(exc)
            )
        self._event(name, p.PAUSE, f"paused tenant {name}: {decision.reason}")

    def _set_status(self, arn: str, status: str) -> None:
        self._sesv2.update_reputation_entity_customer_managed_status(
            ReputationEntityType=ENTITY_TYPE, ReputationEntityReference=arn, SendingStatus=status
        )

    def _lost(self, name: str, now: float, why: str) -> None:
        one = self._tenants[name]
        one.retry_at = now + backoff_delay(self._interval, max(one.failures, 1))
        self._count(name, "pause", "lost_race")
        log.warning("protection (%s): pause of tenant %s given up (%s)", self.owner, name, why)

    def _write_pending(self, name: str, now: float, *, force: bool = False) -> None:
        one = self._tenants[name]
        record = one.pending
        if record is None or one.arn is None or (not force and now < one.retry_at):
            return
        try:
            self._sesv2.tag_resource(ResourceArn=one.arn, Tags=tags_of(record))
        except Exception as exc:
            self._fail(name, "tag", exc, now)
            return
        self._count(name, "tag", "success")
        one.pending = None
        if one.failure is not None and one.failure.action == "tag":
            self._reset(one)
        self._read_tags(name, now)

    def _read_tags(self, name: str, now: float) -> bool:
        one = self._tenants[name]
        if one.arn is None:
            return False
        started = time.monotonic()
        try:
            tags = self._sesv2.list_tags_for_resource(ResourceArn=one.arn).get("Tags", [])
        except Exception as exc:
            self._fail(name, "read_tags", exc, now, count=False)
            return False
        record = record_of(tags)
        if one.pending is None:  # a record not yet written is what the tenant will have
            one.record = record
        foreign = record is not None and not r.owns(self.owner, record, self._monitor)
        one.other_owner = record.monitor if foreign and record is not None else None
        one.record_known, one.read_at, one.read_started = True, now, started
        if one.failure is not None and one.failure.action == "read_tags":
            self._reset(one)
        return True

    @staticmethod
    def _reset(one: _Tenant) -> None:
        one.failure, one.failures, one.retry_at = None, 0, 0.0

    def _fail(self, name: str, action: str, exc: Exception, now: float, *, count: bool = True) -> None:
        message = describe_failure(action, exc).replace("on a configuration set", "on a tenant")
        one = self._tenants[name]
        one.failures += 1
        one.retry_at = now + backoff_delay(self._interval, one.failures)
        one.failure = Failure(action, error_code(exc), message, now)
        log.error(
            "protection: %s of tenant %s failed (%d in a row, next attempt at %s): %s",
            action,
            name,
            one.failures,
            rfc3339(one.retry_at),
            message,
        )
        if count:
            self._count(name, action, classify_exception(exc))

    def _count(self, name: str, action: str, outcome: str) -> None:
        key = (name, action, outcome)
        with self._actions_lock:
            self._actions[key] = self._actions.get(key, 0) + 1

    def actions(self) -> dict[tuple[str, str, str], int]:
        with self._actions_lock:
            return dict(self._actions)

    def _event(self, name: str, action: str, message: str) -> None:
        log.warning("protection (%s, %s): %s", self.config.mode, self.owner, message)
        self._on_event(name, action, message)


def entity_sending(entity: Mapping[str, Any]) -> bool:
    """Whether the reputation entity lets the tenant send: neither status record says DISABLED."""
    for key in ("CustomerManagedStatus", "AwsSesManagedStatus"):
        status = entity.get(key)
        if isinstance(status, Mapping) and status.get("Status") == DISABLED:
            return False
    return entity.get("SendingStatusAggregate") != DISABLED
