"""spec.protection's I/O: applies `protection.decide` to each protected set through SESv2.

The record of what sesmonitor did to a set lives in the set's tags (TAG_* keys), so a restarted exporter
and any other monitor of the set read it back (ListTagsForResource). Writes (Enforce only):

- a pause: the intent record (`pausing`) first, TagResource; only once it is written and read back as
  written, PutConfigurationSetSendingOptions(false), then the record `paused` and a read of the switch
  (GetConfigurationSet) that confirms it. No pause ever stands without its record: when the intent
  cannot be written nothing is paused and the failure is shown (SESMonitorProtectionFailed); when the
  pause call fails after it, the intent is rewritten (the record before it, or `abandoned`);
- a resume (a person's request) or an observed re-enable: the switch, then the record.

The record is re-read before every write, after it, whenever the set's sending switch changed and at
least every RECORD_REREAD_SECONDS, so two monitors of one set see each other's pauses, resumes and
cooldowns. Each Enforce monitor keeps a watcher tag of its own on the set (TAG_WATCHER_PREFIX), so both
monitors' status says (`also_protected_by`) that the set has another, as does a record another wrote.

SESv2 has no conditional write, so "conditional on what was read" is as strong as this
(WRITE_SETTLE_SECONDS):
the decision is re-made on a read made just before the intent is written, and the intent is read back
`settle_seconds` after it is written. Two monitors that both read the set before either's intent landed
both write; each read-back then shows the last writer's intent, so only the last writer pauses and the
other backs off (its next attempt after its backoff, on a fresh read, finds the pause made). That holds
while each writer's read-to-write time stays below `settle_seconds`; a writer that took longer takes it
as a lost race and pauses nothing. It never guards against a writer that ignores the record (a person).

DryRun writes nothing: its would-be pauses, resumes and observed re-enables live in memory, but it shows
and keeps this monitor's own earlier (Enforce) pauses as real, and refuses, saying why, to resume them.

A failed call is logged (ERROR, once per attempt), counted and shown (/status, metrics), never raised:
protection must not stop the monitoring. A failed write is tried again after a backoff (the refresh
interval, doubled per failure, at most 10 minutes), not every refresh; its failure stays shown (and the
alert firing) until a write succeeds.

A person's resume arrives as a file the operator writes through the exporter's ConfigMap
(`sesmonitor.exporter.protection.control`; never over HTTP, which any pod could reach). Each request
carries the operator's sequence number; the record keeps the number of the last request judged when it
was written, so a request with another number is newer: ordered without comparing two clocks.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sesmonitor import contract
from sesmonitor.exporter.aws.backoff import backoff_delay
from sesmonitor.exporter.aws.outcomes import classify_exception, describe_exception, error_code
from sesmonitor.exporter.model import record as r
from sesmonitor.exporter.model.protection import Failure, ProtectedSet, ProtectionView, TenantStep, rfc3339
from sesmonitor.exporter.model.series import Series, SeriesKey
from sesmonitor.exporter.protection import decide as p

log = logging.getLogger(__name__)

TAG_STATE: Final = "sesmonitor:state"  # pausing | paused | resumed | reenabled | abandoned
TAG_AT: Final = "sesmonitor:at"  # RFC 3339
TAG_MONITOR: Final = "sesmonitor:monitor"  # the owner: <cluster id>/<namespace>/<name>
TAG_METRIC: Final = "sesmonitor:metric"
TAG_RATE: Final = "sesmonitor:rate"  # a fraction; SES tag values allow no "%"
TAG_REQUEST: Final = "sesmonitor:request"  # the resume request's sequence current at the write
# Each Enforce monitor of a set keeps a tag of its own there, "<RFC 3339> <owner>" under this prefix and a
# digest of its owner, rewritten daily: so every monitor of the set, not only the one that reads another's
# record, sees that more than one protects it. One not rewritten for two days is a monitor gone.
TAG_WATCHER_PREFIX: Final = "sesmonitor:watcher:"
WATCHER_REFRESH_SECONDS: Final = 24 * 3600
WATCHER_STALE_SECONDS: Final = 2 * 24 * 3600
RECORD_REREAD_SECONDS: Final = 300  # a steady set's record is re-read this often (another monitor's)
WRITE_SETTLE_SECONDS: Final = 1.0  # the intent is read back this long after it was written
# SES allows 50 tags on a resource; TagResource over the limit answers BadRequestException (SESv2's model
# names no error of its own for it).
TAG_LIMIT_CODES: Final = ("BadRequestException", "TooManyTagsException", "LimitExceededException")


def tags_of(record: r.Record) -> list[dict[str, str]]:
    tags = {TAG_STATE: record.state, TAG_AT: rfc3339(record.at), TAG_MONITOR: record.monitor}
    tags[TAG_METRIC] = record.metric
    tags[TAG_RATE] = f"{record.rate:.6f}" if record.rate is not None else ""
    tags[TAG_REQUEST] = record.request
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def record_of(tags: list[dict[str, str]]) -> r.Record | None:
    """The record in a set's tags; None when sesmonitor never acted on it (or the tags are not ours)."""
    values = {t.get("Key"): t.get("Value", "") for t in tags}
    state, at, monitor = values.get(TAG_STATE), values.get(TAG_AT), values.get(TAG_MONITOR)
    if state not in r.STATES or not at or not monitor:
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
        rate = float(values[TAG_RATE]) if values.get(TAG_RATE) else None
    except ValueError:
        return None
    return r.Record(state, when, monitor, values.get(TAG_METRIC, ""), rate, values.get(TAG_REQUEST, ""))


def watcher_key(owner: str) -> str:
    return TAG_WATCHER_PREFIX + hashlib.sha256(owner.encode()).hexdigest()[:16]


def watcher_tag(owner: str, now: float) -> dict[str, str]:
    return {"Key": watcher_key(owner), "Value": f"{rfc3339(now)} {owner}"[: r.MAX_TAG_VALUE]}


def watchers_of(tags: list[dict[str, str]]) -> dict[str, tuple[str, float]]:
    """Each monitor's watcher tag: key -> (owner, when it was written)."""
    out = {}
    for tag in tags:
        key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if not key.startswith(TAG_WATCHER_PREFIX):
            continue
        at, _, owner = value.partition(" ")
        try:
            out[key] = (owner, datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())
        except ValueError:
            continue
    return out


def same_record(a: r.Record | None, b: r.Record | None) -> bool:
    """Equal as the tags hold them (whole seconds)."""
    return (a is None and b is None) or (a is not None and b is not None and tags_of(a) == tags_of(b))


def describe_failure(action: str, exc: Exception) -> str:
    """The failure as shown: a tag write over SES's 50-tag limit says so, and what to do."""
    message = describe_exception(exc)
    if action in ("pause", "tag") and error_code(exc) in TAG_LIMIT_CODES and "tag" in message.lower():
        message = (
            f"the set's record could not be written ({message}): SES allows 50 tags on a configuration set"
            " and sesmonitor needs 7 of them (one more per other monitor of the set); remove some"
        )
    if action == "pause":
        message = f"{message}; nothing was paused (a pause needs its record first)"
    return message


@dataclass
class _Set:
    """What the protector knows of one set; guarded by the protector's lock."""

    sending: bool | None = None  # this refresh's read (as AWS said, whatever DryRun pretends)
    disabled_at: float | None = None  # when a read last said paused (cleared by our own writes)
    record: r.Record | None = None  # the tags' record, as last read or written
    record_known: bool = False
    read_at: float = float("-inf")  # when the record was last read (the refresh clock)
    read_started: float = 0.0  # time.monotonic() at the start of that read
    dry: r.Record | None = None  # DryRun's in-memory record
    pending: r.Record | None = None  # a record to write into the tags (tried again after a failure)
    confirmed: bool = False  # a read since this monitor's pause said the set was paused
    reason: str = ""
    failure: Failure | None = None
    failures: int = 0  # failed protection calls in a row
    retry_at: float = 0.0  # no write before this (the refresh clock): the backoff
    refused: str | None = None
    dropped: str | None = None
    dropped_count: int = 0
    other_owner: str | None = None  # another monitor seen in the set's tags
    watched_at: float | None = None  # when this monitor's watcher tag was written, as last read
    accepted: str | None = None  # the request to act on (its sequence)
    seen: str | None = None  # the request already judged
    woken: str | None = None  # the request the loop was woken for


class Protector:
    def __init__(
        self,
        config: contract.ExporterConfig,
        sesv2: Any,
        sts: Any | None = None,
        on_event: Callable[[str, str, str], None] = lambda *_: None,
        control: Callable[[], Mapping[str, str]] | None = None,
        *,
        settle_seconds: float = WRITE_SETTLE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        tenants: Callable[[str], TenantStep] | None = None,
    ) -> None:
        """`tenants`: builds the step that protects spec.protection.tenants from this monitor's owner id
        (`protection.tenant_target.TenantProtector`); judged after the sets on each pass."""
        assert config.protection is not None
        self.config = config.protection
        self._monitor = config.monitor
        self.owner = r.owner_id(self.config.cluster_id, config.monitor)
        self._interval = config.refresh_interval_seconds
        self._region = config.region
        self._role_arn = config.role_arn
        self._sesv2 = sesv2
        self._sts = sts
        self._on_event = on_event  # (set, action, message): for tests and logs
        self._settle = settle_seconds
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sets = {name: _Set() for name in self.config.configuration_sets}
        self._control = control  # the resume requests the operator wrote (protection.control)
        self._asked: dict[str, str] = {}  # what the control file holds now: set -> request sequence
        self._at_start: dict[str, str] | None = None  # what it held at this process's first refresh
        self._actions: dict[tuple[str, str, str], int] = {}
        self._arn_prefix: str | None = None
        self._missing: frozenset[str] = frozenset()  # GetConfigurationSet: NotFoundException
        self.wake = threading.Event()  # set by a new resume request: the refresh loop acts at once
        self.tenants = tenants(self.owner) if tenants is not None else None

    @property
    def dry_run(self) -> bool:
        return self.config.mode == "DryRun"

    # -- what others ask and read ------------------------------------------------------------------

    def poll_control(self) -> bool:
        """Read the control file; True when it holds a request not judged yet (the caller then wakes
        the refresh loop, which judges it after reading the set's sending state and record)."""
        if self._control is None:
            return False
        asked = self._control()
        with self._lock:
            self._asked = {n: seq for n, seq in asked.items() if n in self._sets}
            # Once per request: one still waiting for its set's record (tags unreadable) must not wake
            # the loop, and so call AWS, every few seconds.
            new = False
            for name, seq in self._asked.items():
                one = self._sets[name]
                if seq not in (one.seen, one.woken):
                    if one.woken is not None and one.woken != one.seen:
                        self._drop(name, one.woken, f"request {seq} replaced it before it was judged")
                    one.woken = seq
                    new = True
            return new

    def request_resume(self, name: str, request: str) -> tuple[bool, str]:
        """Judge a person's resume request (its sequence): accepted (acted on by `run`) only for a set
        this monitor paused. The refusal shows in /status (`resume_refused`)."""
        with self._lock:
            if name not in self._sets:
                return False, f"{name} is not a protected configuration set"
            one = self._sets[name]
            record = self._record(one)
            if r.owns(self.owner, record, self._monitor) and record and record.state in r.CLAIMS_PAUSE:
                one.accepted = request
                one.refused = None
                return True, f"resume of {name} (request {request}) accepted"
            why = f"{name} is not paused by sesmonitor ({self.owner}); nothing to resume"
            one.refused = f"resume request {request} refused: {why}"
            return False, one.refused

    def _take_request(self, name: str) -> None:
        """Judge the control file's request for `name` once, when the set's record is known.

        The request the record names is history: it was judged when it came (say, the one that resumed
        an earlier pause, still in the file). A request an older operator wrote (a time, no sequence)
        that was in the file before this process started cannot be ordered against the set's pauses
        without comparing two clocks: dropped, and shown (`resume_dropped`) and counted, as is a request
        replaced by a newer one before it could be judged (`poll_control`)."""
        with self._lock:
            one = self._sets[name]
            request = self._asked.get(name)
            if request is None or one.seen == request or not one.record_known:
                return
            one.seen = request
            record = self._record(one)
            if r.owns(self.owner, record, self._monitor) and record is not None and record.request == request:
                return
            if not request.isdigit() and (self._at_start or {}).get(name) == request:
                self._drop(
                    name,
                    request,
                    "an older operator wrote it (no sequence) before this exporter started, so its order"
                    " against the set's pauses is unknown; ask again",
                )
                return
        accepted, message = self.request_resume(name, request)
        (log.info if accepted else log.warning)("protection (%s): %s", self.owner, message)

    def _drop(self, name: str, request: str, why: str) -> None:
        """Under the lock: a request neither acted on nor refused, shown and counted, never silent."""
        one = self._sets[name]
        one.dropped = f"resume request {request} dropped: {why}"
        one.dropped_count += 1
        log.warning("protection (%s): %s of %s", self.owner, one.dropped, name)

    def view(self) -> ProtectionView:
        with self._lock:
            sets = tuple(
                ProtectedSet(
                    name,
                    one.sending,
                    one.record_known,
                    self._record(one),
                    one.reason,
                    one.failure,
                    one.refused,
                    ours=r.owns(self.owner, self._record(one), self._monitor),
                    confirmed=one.confirmed,
                    also_protected_by=one.other_owner,
                    resume_dropped=one.dropped,
                    resume_dropped_count=one.dropped_count,
                    retry_at=one.retry_at if one.failure is not None else None,
                    missing=name in self._missing,
                )
                for name, one in self._sets.items()
            )
            tenants = self.tenants
            return ProtectionView(
                self.config.mode,
                self.owner,
                self.config.cooldown_seconds,
                sets,
                dict(self._actions),
                tenants.view() if tenants is not None else (),
                tenants.actions() if tenants is not None else {},
            )

    def _record(self, one: _Set) -> r.Record | None:
        return one.dry if self.dry_run and one.dry is not None else one.record

    # -- one refresh ---------------------------------------------------------------------------------

    def run(
        self,
        now: float,
        sending: Mapping[str, bool | None] | None,
        series: Mapping[SeriesKey, Series] | None,
        *,
        missing: frozenset[str] = frozenset(),
    ) -> dict[str, p.Decision]:
        """Decide and act for every protected set; `sending` / `series` None when not read this refresh.
        A set in `missing` (GetConfigurationSet: NotFoundException) is skipped: nothing to read or write."""
        self.poll_control()
        with self._lock:
            if self._at_start is None:
                self._at_start = dict(self._asked)
            self._missing = missing & frozenset(self._sets)
        decisions = {}
        for name, one in self._sets.items():
            if name in missing:
                with self._lock:
                    one.sending = None
                    one.reason = "the configuration set does not exist (NotFoundException)"
                decisions[name] = p.Decision(p.NONE, one.reason)
                continue
            actual = sending.get(name) if sending is not None else None
            with self._lock:
                changed = actual is not None and one.sending is not None and actual != one.sending
                if actual is not None:
                    one.sending = actual
                    if actual is False:
                        one.confirmed, one.disabled_at = True, now
            self._write_pending(name, now)
            due = not one.record_known or changed or now - one.read_at >= RECORD_REREAD_SECONDS
            if due and now >= one.retry_at:  # a failed read waits for the backoff too
                self._read_tags(name, now)
            self._take_request(name)
            rates = (
                None
                if series is None
                else {m: series[SeriesKey(m, name)] for m in r.RATES if SeriesKey(m, name) in series}
            )
            decision = self._decide(name, now, rates)
            deferred = False
            if decision.action in p.WRITES and not self.dry_run:
                if now < one.retry_at:
                    deferred = True
                    decision = p.Decision(
                        p.NONE,
                        f"{decision.reason}; after a failed call, next attempt at {rfc3339(one.retry_at)}",
                    )
                elif self._read_tags(name, now):  # re-read just before the write, and judge again
                    decision = self._decide(name, now, rates)
                else:
                    deferred = True
                    decision = p.Decision(p.NONE, "the set's record could not be read before the write")
            decisions[name] = decision
            with self._lock:
                one.reason = decision.reason
            self._apply(name, decision, now, deferred=deferred)
            self._watch(name, now)
        if self.tenants is not None:
            self.tenants.run(now)
        return decisions

    def _watch(self, name: str, now: float) -> None:
        """Enforce: keep this monitor's watcher tag on the set fresh (once a day)."""
        one = self._sets[name]
        with self._lock:
            due = one.record_known and (
                one.watched_at is None or now - one.watched_at >= WATCHER_REFRESH_SECONDS
            )
        if self.dry_run or not due or now < one.retry_at:
            return
        try:
            self._sesv2.tag_resource(ResourceArn=self._arn(name), Tags=[watcher_tag(self.owner, now)])
        except Exception as exc:
            self._fail(name, "tag", exc, now)
            return
        self._count(name, "tag", "success")
        with self._lock:
            one.watched_at = now
            if one.failure is not None and one.failure.action == "tag":
                self._reset(one)

    def _decide(self, name: str, now: float, rates: Mapping[str, Series] | None) -> p.Decision:
        with self._lock:
            one = self._sets[name]
            record = self._record(one)
            effective = one.sending
            if (
                self.dry_run
                and one.sending
                and record is not None
                and record.dry
                and record.state == r.PAUSED
            ):
                effective = False  # DryRun's pause, in memory
            facts = p.SetFacts(
                name,
                effective,
                one.record_known,
                record,
                rates,
                resume_requested=one.accepted is not None,
                disabled_at=one.disabled_at,
                pause_confirmed=one.confirmed,
            )
        return p.decide(self.config, self.owner, self._monitor, facts, now)

    def _apply(self, name: str, decision: p.Decision, now: float, *, deferred: bool = False) -> None:
        action = decision.action
        one = self._sets[name]
        if action != p.RESUME and not deferred:
            with self._lock:
                if one.accepted is not None and action != p.REFUSE_RESUME:  # never dropped silently
                    one.refused = f"resume request {one.accepted} refused: {decision.reason}"
                one.accepted = None  # nothing (left) to resume; a resume put off by the backoff waits
        if action == p.NONE:
            return
        with self._lock:
            before = self._record(one)
            # The last request judged: one that came after it (even during this pass) is judged next.
            request = one.seen or ""
        if action == p.REFUSE_RESUME:
            with self._lock:
                one.refused = f"resume request {one.seen} refused: {decision.reason}"
            log.warning("protection (%s): %s of %s", self.owner, one.refused, name)
            return
        if action == p.WOULD_PAUSE or self.dry_run:
            state = {p.WOULD_PAUSE: r.PAUSED, p.RESUME: r.RESUMED, p.NOTE_RESUMED: r.REENABLED}[action]
            dry = r.Record(state, now, self.owner, decision.metric, decision.rate, request, dry=True)
            if action != p.WOULD_PAUSE and before is not None:
                dry = replace(before, state=state, at=now, monitor=self.owner, request=request, dry=True)
            with self._lock:
                one.dry, one.refused, one.accepted = dry, None, None
            self._count(name, action, "success")
            messages = {
                p.WOULD_PAUSE: f"DryRun: would pause configuration set {name}: {decision.reason}",
                p.RESUME: f"DryRun: resumed configuration set {name} (nothing was paused in AWS)",
                p.NOTE_RESUMED: f"DryRun: {name} was re-enabled outside sesmonitor; cooldown starts",
            }
            self._event(name, action, messages[action])
            return
        if action == p.PAUSE:
            self._pause(name, decision, before, request, now)
        elif action == p.RESUME:
            self._resume(name, before, request, now)
        else:  # NOTE_RESUMED: only the record
            self._set_pending(name, self._after(before, r.REENABLED, request, now))
            self._write_pending(name, now)
            self._event(name, action, f"sending of {name} was re-enabled outside sesmonitor; cooldown starts")

    def _after(self, before: r.Record | None, state: str, request: str, now: float) -> r.Record:
        if before is None:
            return r.Record(state, now, self.owner, request=request)
        return replace(before, state=state, at=now, monitor=self.owner, request=request, dry=False)

    def _pause(
        self, name: str, decision: p.Decision, before: r.Record | None, request: str, now: float
    ) -> None:
        one = self._sets[name]
        intent = r.Record(r.PAUSING, now, self.owner, decision.metric, decision.rate, request)
        try:
            self._sesv2.tag_resource(ResourceArn=self._arn(name), Tags=tags_of(intent))
        except Exception as exc:
            self._fail(name, "pause", exc, now)
            return
        written = time.monotonic()
        if written - one.read_started >= self._settle:
            self._lost(name, now, f"its read-to-write took {written - one.read_started:.1f}s")
            return
        self._sleep(self._settle)  # any writer that read before this intent landed has written by now
        if not self._read_tags(name, now):
            self._lost(name, now, "the intent record could not be read back")
            return
        with self._lock:
            landed = one.record
        if not same_record(landed, intent):
            self._lost(name, now, f"the set's record now says {landed.state if landed else 'nothing'}")
            return
        try:
            self._sesv2.put_configuration_set_sending_options(ConfigurationSetName=name, SendingEnabled=False)
        except Exception as exc:
            self._fail(name, "pause", exc, now)
            # Never a record claiming a pause that did not happen: the one before, or `abandoned`.
            claimed = before is not None and before.state in r.CLAIMS_PAUSE
            undo = before if before is not None and not claimed else replace(intent, state=r.ABANDONED)
            self._set_pending(name, undo)
            self._write_pending(name, now, force=True)
            return
        self._count(name, "pause", "success")
        with self._lock:
            one.sending, one.confirmed = False, False  # as AWS now has it; confirmed by a read below
        self._set_pending(name, replace(intent, state=r.PAUSED))
        self._succeeded(name)
        self._write_pending(name, now, force=True)
        self._read_back(name)
        self._event(name, p.PAUSE, f"paused configuration set {name}: {decision.reason}")

    def _resume(self, name: str, before: r.Record | None, request: str, now: float) -> None:
        one = self._sets[name]
        with self._lock:
            token = one.accepted or request  # the request that resumes it: done once the record says so
        try:
            self._sesv2.put_configuration_set_sending_options(ConfigurationSetName=name, SendingEnabled=True)
        except Exception as exc:
            self._fail(name, "resume", exc, now)
            return
        self._count(name, "resume", "success")
        with self._lock:
            one.sending, one.accepted, one.refused, one.disabled_at = True, None, None, None
        self._succeeded(name)
        self._set_pending(name, self._after(before, r.RESUMED, token, now))
        self._write_pending(name, now, force=True)
        self._event(name, p.RESUME, f"resumed configuration set {name} (asked by a person)")

    def _read_back(self, name: str) -> None:
        """Confirm a pause by reading the switch back; a stale answer leaves it to decide's grace."""
        try:
            answer = self._sesv2.get_configuration_set(ConfigurationSetName=name)
        except Exception as exc:
            log.info("protection: reading back the pause of %s failed: %s", name, describe_exception(exc))
            return
        if (answer.get("SendingOptions") or {}).get("SendingEnabled") is False:
            with self._lock:
                self._sets[name].confirmed = True

    def _lost(self, name: str, now: float, why: str) -> None:
        """Another writer's record landed (or may have) around this intent: pause nothing, back off."""
        one = self._sets[name]
        with self._lock:
            one.retry_at = now + backoff_delay(self._interval, max(one.failures, 1))
        self._count(name, "pause", "lost_race")
        log.warning(
            "protection (%s): pause of %s given up, another writer may own the set's record (%s);"
            " judged again on a fresh read after %s",
            self.owner,
            name,
            why,
            rfc3339(one.retry_at),
        )

    def _set_pending(self, name: str, record: r.Record) -> None:
        with self._lock:
            one = self._sets[name]
            one.record, one.pending, one.refused = record, record, None

    def _write_pending(self, name: str, now: float, *, force: bool = False) -> None:
        """Write the pending record into the set's tags (after a failure, once the backoff is over),
        then read it back: a record someone else wrote meanwhile is what the set has now."""
        one = self._sets[name]
        with self._lock:
            record = one.pending
        if record is None or (not force and now < one.retry_at):
            return
        try:
            self._sesv2.tag_resource(ResourceArn=self._arn(name), Tags=tags_of(record))
        except Exception as exc:
            self._fail(name, "tag", exc, now)
            return
        self._count(name, "tag", "success")
        with self._lock:
            one.pending = None
            if one.failure is not None and one.failure.action == "tag":
                self._reset(one)
        self._read_tags(name, now)

    def _read_tags(self, name: str, now: float) -> bool:
        one = self._sets[name]
        started = time.monotonic()
        try:
            tags = self._sesv2.list_tags_for_resource(ResourceArn=self._arn(name)).get("Tags", [])
        except Exception as exc:
            self._fail(name, "read_tags", exc, now, count=False)
            return False
        record = record_of(tags)
        watchers = watchers_of(tags)
        own = watchers.pop(watcher_key(self.owner), None)
        others = sorted(o for o, at in watchers.values() if now - at < WATCHER_STALE_SECONDS)
        foreign = record is not None and not r.owns(self.owner, record, self._monitor)
        if foreign and record is not None and now - record.at < WATCHER_STALE_SECONDS:
            others = [record.monitor, *(o for o in others if o != record.monitor)]
        with self._lock:
            if one.pending is None:  # a record not yet written is what the set will have
                one.record = record
            one.record_known, one.read_at, one.read_started = True, now, started
            one.watched_at = own[1] if own is not None else None
            one.other_owner = ", ".join(others) if others else None
            if one.failure is not None and one.failure.action == "read_tags":
                self._reset(one)
        return True

    def _succeeded(self, name: str) -> None:
        with self._lock:
            self._reset(self._sets[name])

    @staticmethod
    def _reset(one: _Set) -> None:
        one.failure, one.failures, one.retry_at = None, 0, 0.0

    def _arn(self, name: str) -> str:
        if self._arn_prefix is None:
            if self._role_arn:
                parts = self._role_arn.split(":")
                partition, account = parts[1], parts[4]
            else:
                if self._sts is None:
                    raise RuntimeError("no STS client to learn the account ID from")
                identity = self._sts.get_caller_identity()
                partition, account = str(identity["Arn"]).split(":")[1], str(identity["Account"])
            self._arn_prefix = f"arn:{partition}:ses:{self._region}:{account}:configuration-set/"
        return self._arn_prefix + name

    def _fail(self, name: str, action: str, exc: Exception, now: float, *, count: bool = True) -> None:
        """One ERROR line per attempt; attempts come once per backoff step, not every refresh."""
        message = describe_failure(action, exc)
        one = self._sets[name]
        with self._lock:
            one.failures += 1
            one.retry_at = now + backoff_delay(self._interval, one.failures)
            one.failure = Failure(action, error_code(exc), message, now)
            retry_at = one.retry_at
        log.error(
            "protection: %s of configuration set %s failed (%d in a row, next attempt at %s): %s",
            action,
            name,
            one.failures,
            rfc3339(retry_at),
            message,
        )
        if count:
            self._count(name, action, classify_exception(exc))

    def _count(self, name: str, action: str, outcome: str) -> None:
        with self._lock:
            key = (name, action, outcome)
            self._actions[key] = self._actions.get(key, 0) + 1

    def _event(self, name: str, action: str, message: str) -> None:
        log.warning("protection (%s, %s): %s", self.config.mode, self.owner, message)
        self._on_event(name, action, message)
