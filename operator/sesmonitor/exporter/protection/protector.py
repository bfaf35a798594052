"""spec.protection's I/O: applies `protection.decide` to each protected set through SESv2.

Writes (Enforce only): PutConfigurationSetSendingOptions on the set, then TagResource with sesmonitor's
record of what it did (TAG_* keys), which ListTagsForResource reads back after a restart, so a restarted
exporter never pauses twice and knows which pauses are its own. DryRun writes nothing: its would-be
pauses live in memory. The account's ARN prefix comes from the role ARN, else STS GetCallerIdentity
(which needs no IAM permission). A failed call is logged, counted and shown (/status, metrics), never
raised: protection must not stop the monitoring.

A person's resume arrives as a file the operator writes through the exporter's ConfigMap
(`sesmonitor.exporter.protection.control`; never over HTTP, which any pod could reach). Each request
is judged once, after the set's record is read: accepted only for a set this monitor paused at or
before the request's time; refused (shown in /status `resume_refused`) otherwise; ignored as history
when older than the set's record, like the request that resumed it before a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sesmonitor import contract
from sesmonitor.exporter.aws.outcomes import classify_exception, describe_exception, error_code
from sesmonitor.exporter.model import record as r
from sesmonitor.exporter.model.protection import Failure, ProtectedSet, ProtectionView, rfc3339
from sesmonitor.exporter.model.series import Series, SeriesKey
from sesmonitor.exporter.protection import decide as p

log = logging.getLogger(__name__)

TAG_STATE: Final = "sesmonitor:state"  # paused | resumed
TAG_AT: Final = "sesmonitor:at"  # RFC 3339
TAG_MONITOR: Final = "sesmonitor:monitor"  # <namespace>/<name>
TAG_METRIC: Final = "sesmonitor:metric"
TAG_RATE: Final = "sesmonitor:rate"  # a fraction; SES tag values allow no "%"


def tags_of(record: r.Record) -> list[dict[str, str]]:
    tags = {TAG_STATE: record.state, TAG_AT: rfc3339(record.at), TAG_MONITOR: record.monitor}
    if record.metric:
        tags[TAG_METRIC] = record.metric
    if record.rate is not None:
        tags[TAG_RATE] = f"{record.rate:.6f}"
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def record_of(tags: list[dict[str, str]]) -> r.Record | None:
    """The record in a set's tags; None when sesmonitor never acted on it (or the tags are not ours)."""
    values = {t.get("Key"): t.get("Value", "") for t in tags}
    state, at, monitor = values.get(TAG_STATE), values.get(TAG_AT), values.get(TAG_MONITOR)
    if state not in (r.PAUSED, r.RESUMED) or not at or not monitor:
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
        rate = float(values[TAG_RATE]) if values.get(TAG_RATE) else None
    except ValueError:
        return None
    return r.Record(state, when, monitor, values.get(TAG_METRIC, ""), rate)


class Protector:
    def __init__(
        self,
        config: contract.ExporterConfig,
        sesv2: Any,
        sts: Any | None = None,
        on_event: Callable[[str, str, str], None] = lambda *_: None,
        control: Callable[[], Mapping[str, float]] | None = None,
    ) -> None:
        assert config.protection is not None
        self.config = config.protection
        self._monitor = config.monitor
        self._region = config.region
        self._role_arn = config.role_arn
        self._sesv2 = sesv2
        self._sts = sts
        self._on_event = on_event  # (set, action, message): for tests and logs
        self._lock = threading.Lock()
        self._records: dict[str, r.Record | None] = {}  # read from the tags (or written by us)
        self._dry: dict[str, r.Record] = {}
        self._untagged: dict[str, r.Record] = {}  # written to AWS, tags not yet
        self._sending: dict[str, bool | None] = {}
        self._reasons: dict[str, str] = {}
        self._failures: dict[str, Failure] = {}
        self._requests: dict[str, float] = {}  # accepted resume requests: set -> asked at
        self._control = control  # the resume requests the operator wrote (protection.control)
        self._asked: dict[str, float] = {}  # what the control file holds now
        self._seen: dict[str, float] = {}  # the request of each set already judged
        self._woken: dict[str, float] = {}  # the request of each set the loop was woken for
        self._refused: dict[str, str] = {}
        self._since: float | None = None  # this process's first refresh
        self._actions: dict[tuple[str, str, str], int] = {}
        self._arn_prefix: str | None = None
        self._missing: frozenset[str] = frozenset()  # GetConfigurationSet: NotFoundException
        self.wake = threading.Event()  # set by a new resume request: the refresh loop acts at once

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
            self._asked = {n: at for n, at in asked.items() if n in self.config.configuration_sets}
            # Once per request: one still waiting for its set's record (tags unreadable) must not wake
            # the loop, and so call AWS, every few seconds.
            new = {
                n: at for n, at in self._asked.items() if at not in (self._seen.get(n), self._woken.get(n))
            }
            self._woken.update(new)
            return bool(new)

    def request_resume(self, name: str, requested_at: float) -> tuple[bool, str]:
        """Judge a person's resume asked at `requested_at`: accepted (acted on by `run`) only for a set
        this monitor paused at or before that time. The refusal shows in /status (`resume_refused`)."""
        with self._lock:
            if name not in self.config.configuration_sets:
                return False, f"{name} is not a protected configuration set"
            record = self._record(name)
            if record is None or record.state != r.PAUSED or record.monitor != self._monitor:
                why = f"{name} is not paused by sesmonitor ({self._monitor}); nothing to resume"
            elif requested_at < record.at:
                # The same rule as protection.decide: an old request never lifts a later pause.
                why = f"asked before the pause at {rfc3339(record.at)}; ask again"
            else:
                self._requests[name] = requested_at
                self._refused.pop(name, None)
                return True, f"resume of {name} (asked at {rfc3339(requested_at)}) accepted"
            self._refused[name] = f"resume asked at {rfc3339(requested_at)} refused: {why}"
            return False, self._refused[name]

    def _take_request(self, name: str, now: float) -> None:
        """Judge the control file's request for `name` once, when the set's record is known.

        A request older than what sesmonitor last did to the set (or, with no record, than this
        process) is history, e.g. the request that resumed it before a restart: ignored, not refused.
        """
        with self._lock:
            at = self._asked.get(name)
            if at is None or self._seen.get(name) == at or name not in self._records:
                return
            self._seen[name] = at
            record = self._record(name)
            horizon = record.at if record is not None else (self._since or now)
        if at < horizon:
            log.info("resume request of %s at %s predates the set's record: ignored", name, rfc3339(at))
            return
        accepted, message = self.request_resume(name, at)
        (log.info if accepted else log.warning)("protection (%s): %s", self._monitor, message)

    def view(self) -> ProtectionView:
        with self._lock:
            sets = tuple(
                ProtectedSet(
                    name,
                    self._sending.get(name),
                    name in self._records,
                    self._record(name),
                    self._reasons.get(name, ""),
                    self._failures.get(name),
                    self._refused.get(name),
                    missing=name in self._missing,
                )
                for name in self.config.configuration_sets
            )
            return ProtectionView(
                self.config.mode, self._monitor, self.config.cooldown_seconds, sets, dict(self._actions)
            )

    def _record(self, name: str) -> r.Record | None:
        if self.dry_run and name in self._dry:
            return self._dry[name]
        return self._records.get(name)

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
        decisions = {}
        if self._since is None:
            self._since = now
        self.poll_control()
        with self._lock:
            self._missing = missing & set(self.config.configuration_sets)
        for name in self.config.configuration_sets:
            if name in missing:
                with self._lock:
                    self._sending[name] = None
                    self._reasons[name] = "the configuration set does not exist (NotFoundException)"
                decisions[name] = p.Decision(p.NONE, self._reasons[name])
                continue
            actual = sending.get(name) if sending is not None else None
            with self._lock:
                self._sending[name] = actual
            self._retry_tags(name, now)
            if name not in self._records:
                self._read_tags(name, now)
            self._take_request(name, now)
            with self._lock:
                record = self._record(name)
                requested = self._requests.get(name)
            effective = actual
            if self.dry_run and actual and record is not None and record.state == r.PAUSED:
                effective = False  # DryRun's pause, in memory
            rates = (
                None
                if series is None
                else {m: series[SeriesKey(m, name)] for m in r.RATES if SeriesKey(m, name) in series}
            )
            facts = p.SetFacts(name, effective, name in self._records, record, rates, requested)
            decision = p.decide(self.config, self._monitor, facts, now)
            decisions[name] = decision
            with self._lock:
                self._reasons[name] = decision.reason
                if decision.action != p.RESUME:
                    self._requests.pop(name, None)  # nothing (left) to resume
            self._apply(name, decision, record, now)
        return decisions

    def _apply(self, name: str, decision: p.Decision, record: r.Record | None, now: float) -> None:
        action = decision.action
        if action == p.NONE:
            return
        if action == p.WOULD_PAUSE:
            self._remember(
                name, r.Record(r.PAUSED, now, self._monitor, decision.metric, decision.rate), dry=True
            )
            self._count(name, action, "success")
            self._event(name, action, f"DryRun: would pause configuration set {name}: {decision.reason}")
            return
        if action == p.RESUME and self.dry_run:
            self._remember(name, self._resumed(record, now), dry=True)
            with self._lock:
                self._requests.pop(name, None)
            self._count(name, action, "success")
            self._event(name, action, f"DryRun: resumed configuration set {name} (nothing was paused in AWS)")
            return
        if action == p.NOTE_RESUMED:
            self._write_record(name, self._resumed(record, now), now)
            self._event(name, action, f"sending of {name} was re-enabled outside sesmonitor; cooldown starts")
            return
        enable = action == p.RESUME
        try:
            self._sesv2.put_configuration_set_sending_options(
                ConfigurationSetName=name, SendingEnabled=enable
            )
        except Exception as exc:
            self._fail(name, action, exc, now)
            return
        self._count(name, action, "success")
        with self._lock:
            self._sending[name] = enable  # as AWS now has it; the next GetConfigurationSet confirms it
            self._failures.pop(name, None)
            self._requests.pop(name, None)
        if enable:
            self._write_record(name, self._resumed(record, now), now)
            self._event(name, action, f"resumed configuration set {name} (asked by a person)")
        else:
            self._write_record(
                name, r.Record(r.PAUSED, now, self._monitor, decision.metric, decision.rate), now
            )
            self._event(name, action, f"paused configuration set {name}: {decision.reason}")

    def _resumed(self, record: r.Record | None, now: float) -> r.Record:
        if record is None:
            return r.Record(r.RESUMED, now, self._monitor)
        return replace(record, state=r.RESUMED, at=now, monitor=self._monitor)

    def _remember(self, name: str, record: r.Record, *, dry: bool) -> None:
        with self._lock:
            self._refused.pop(name, None)  # a refusal is about the state before this pause or resume
            if dry:
                self._dry[name] = record
            else:
                self._records[name] = record

    def _write_record(self, name: str, record: r.Record, now: float) -> None:
        """Keep the record in memory at once; write it to the set's tags (retried until it is)."""
        self._remember(name, record, dry=False)
        with self._lock:
            self._untagged[name] = record
        self._retry_tags(name, now)

    def _retry_tags(self, name: str, now: float) -> None:
        with self._lock:
            record = self._untagged.get(name)
        if record is None:
            return
        try:
            self._sesv2.tag_resource(ResourceArn=self._arn(name), Tags=tags_of(record))
        except Exception as exc:
            self._fail(name, "tag", exc, now)
            return
        self._count(name, "tag", "success")
        with self._lock:
            self._untagged.pop(name, None)
            if self._failures.get(name, Failure("", "", "", 0)).action == "tag":
                self._failures.pop(name, None)

    def _read_tags(self, name: str, now: float) -> None:
        try:
            tags = self._sesv2.list_tags_for_resource(ResourceArn=self._arn(name)).get("Tags", [])
        except Exception as exc:
            self._fail(name, "read_tags", exc, now, count=False)
            return
        with self._lock:
            self._records[name] = record_of(tags)
            if self._failures.get(name, Failure("", "", "", 0)).action == "read_tags":
                self._failures.pop(name, None)

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
        message = describe_exception(exc)
        log.error("protection: %s of configuration set %s failed: %s", action, name, message)
        with self._lock:
            self._failures[name] = Failure(action, error_code(exc), message, now)
        if count:
            self._count(name, action, classify_exception(exc))

    def _count(self, name: str, action: str, outcome: str) -> None:
        with self._lock:
            key = (name, action, outcome)
            self._actions[key] = self._actions.get(key, 0) + 1

    def _event(self, name: str, action: str, message: str) -> None:
        log.warning("protection (%s, %s): %s", self.config.mode, self._monitor, message)
        self._on_event(name, action, message)
