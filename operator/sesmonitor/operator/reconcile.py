"""One reconcile pass over one SesMonitor; every kopf handler calls `reconcile` and nothing else.

1. read the SesMonitor fresh (the handler's copy may be stale), validate it and check it against
   the operator's exporter policy (`sesmonitor.operator.policy`; a refused one gets nothing);
2. render its children (`sesmonitor.render`) and apply those that are missing or differ;
3. read the exporter's ``/status``; when it cannot be read or its Deployment (as the apply saw it)
   rolls out, its pods, to say why;
4. compute the status; write it only if it changed;
5. post Events for conditions that changed.

Reads are cheap and unconditional; every write is conditional, so a pass that finds the world as
rendered writes nothing at all. Failures end in `ReconcileFailed` after the status and Events said
what went wrong; the handlers turn it into kopf's retry with backoff.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sesmonitor.api import API_VERSION, KIND, SesMonitor, SpecError, load
from sesmonitor.api.spec import RESUME_ANNOTATION
from sesmonitor.api.status import RECONCILED
from sesmonitor.operator import shapes
from sesmonitor.operator.apply import ApplyReport, OwnerReference, apply_children
from sesmonitor.operator.events import Poster, announce
from sesmonitor.operator.exporter_client import fetch_status
from sesmonitor.operator.kube import Api, KubeError
from sesmonitor.operator.pods import diagnose, rollout_progress
from sesmonitor.operator.policy import POLICY_DENIED, check, denial_message
from sesmonitor.operator.protection import (
    TENANT,
    protection_events,
    resume_config_map,
    resume_data,
    resume_field_manager,
    resume_refusal,
    resume_requests,
    stored_requests,
    stored_sequence,
)
from sesmonitor.operator.settings import OperatorSettings
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status import compute as status_mod
from sesmonitor.operator.telemetry import DELETED, ERROR, REFUSED, SUCCESS, UNEXPECTED, OperatorTelemetry
from sesmonitor.render import child_names, render_all, selector_labels

logger = logging.getLogger(__name__)

# Reconciled=False reasons.
INVALID_SPEC: Final = "InvalidSpec"
RENDER_FAILED: Final = "RenderFailed"
PROMETHEUS_OPERATOR_MISSING: Final = "PrometheusOperatorMissing"
RESOURCE_TYPE_MISSING: Final = "ResourceTypeMissing"
FORBIDDEN: Final = "Forbidden"
INVALID_CHILD: Final = "InvalidChild"
CONFLICT: Final = "Conflict"
API_UNAVAILABLE: Final = "APIUnavailable"
API_ERROR: Final = "APIError"
STATUS_WRITE_FAILED: Final = "StatusWriteFailed"

PROMETHEUS_OPERATOR_KINDS: Final = frozenset({"ServiceMonitor", "PrometheusRule"})
# Failures a retry fixes without anyone's help (Reconciling=True); the others need a person to change
# the spec, RBAC, an admission policy or install a CRD (Stalled=True).
TRANSIENT_REASONS: Final = frozenset({CONFLICT, API_UNAVAILABLE, API_ERROR})


class ReconcileFailed(Exception):
    """The pass did not bring the SesMonitor to its desired state; ``permanent`` when retrying the
    same spec cannot help (an invalid spec)."""

    def __init__(self, reason: str, message: str, *, permanent: bool = False) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Result:
    """What one pass did: for logs and tests."""

    gone: bool = False
    report: ApplyReport | None = None
    status_written: bool = False
    events: int = 0


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Reconciler:
    """Everything a pass needs; one per operator process, shared by all handlers (thread-safe)."""

    api: Api
    settings: OperatorSettings
    post: Poster
    fetch: Callable[[str, float], ExporterReading] = fetch_status
    clock: Callable[[], datetime.datetime] = _now
    telemetry: OperatorTelemetry = field(default_factory=OperatorTelemetry)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)
    # uids of SesMonitors seen deleted; their timers stop (see handlers) and any late pass no-ops.
    deleted: set[str] = field(default_factory=set)

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def forget(self, namespace: str, name: str, uid: str | None) -> None:
        if uid:
            self.deleted.add(uid)
        with self._locks_guard:
            self._locks.pop(f"{namespace}/{name}", None)
        self.telemetry.forget(namespace, name)

    def reconcile(self, namespace: str, name: str) -> Result:
        """One pass; serialised per SesMonitor (a create handler and a timer may fire together);
        its result, reason and duration go to the operator's metrics."""
        with self._lock(f"{namespace}/{name}"):
            started = time.monotonic()
            result, reason = ERROR, UNEXPECTED
            try:
                done = self._reconcile(namespace, name)
                result, reason = (DELETED, "Deleted") if done.gone else (SUCCESS, shapes.APPLIED)
                return done
            except ReconcileFailed as exc:
                result, reason = (REFUSED if exc.permanent else ERROR), exc.reason
                raise
            except KubeError as exc:  # reading the SesMonitor itself failed
                reason = reason_of(exc)
                raise
            finally:
                self.telemetry.reconciled(
                    namespace,
                    name,
                    result=result,
                    reason=reason,
                    seconds=time.monotonic() - started,
                    now=self.clock().timestamp(),
                )

    # -- the pass ----------------------------------------------------------------------------------

    def _reconcile(self, namespace: str, name: str) -> Result:
        obj = self.api.get(API_VERSION, KIND, namespace, name)
        if obj is None or obj.get("metadata", {}).get("uid") in self.deleted:
            return Result(gone=True)
        if obj["metadata"].get("deletionTimestamp"):
            return Result(gone=True)  # garbage collection takes the children with it
        previous: dict[str, Any] = dict(obj.get("status") or {})

        monitor: SesMonitor | None = None
        report: ApplyReport | None = None
        try:
            monitor = load(obj)
        except SpecError as exc:
            outcome = ReconcileOutcome(False, INVALID_SPEC, str(exc))
        else:
            outcome, report = self._apply(monitor, obj)
            if report is not None and namespace_terminating(report):
                # The namespace controller is deleting everything, the SesMonitor included: no status,
                # no Event, no retry (each would be refused for the same reason).
                return Result(gone=True, report=report)

        if monitor is None:
            reading = ExporterReading(error="the spec is invalid; no exporter is running")
        elif outcome.reason == POLICY_DENIED:
            reading = ExporterReading(error="the operator's exporter policy refused this spec")
        else:
            reading = self._read_exporter(monitor, report)
        if monitor is not None and report is not None:  # rendered and applied: the ConfigMap exists
            self._pass_resumes(obj, monitor)
        written, events = self._write_status(obj, monitor, outcome, reading, previous)
        result = Result(report=report, status_written=written, events=events)
        if report is not None and report.writes:
            logger.info("%s/%s: %s", namespace, name, report.summary())
        if not outcome.ok:
            permanent = outcome.reason in {INVALID_SPEC, POLICY_DENIED}
            raise ReconcileFailed(outcome.reason, outcome.message, permanent=permanent)
        return result

    def _apply(self, monitor: SesMonitor, obj: dict[str, Any]) -> tuple[ReconcileOutcome, ApplyReport | None]:
        defaults = self.settings.render_defaults
        violations = check(monitor, self.settings.exporter_policy, defaults.exporter_image)
        if violations:  # nothing is rendered, so nothing is created or changed
            return ReconcileOutcome(False, POLICY_DENIED, denial_message(violations)), None
        try:
            children = render_all(monitor, self.settings.render_defaults)
        except Exception as exc:  # a render bug must not stop the other monitors
            logger.exception("rendering %s failed", monitor.key)
            return ReconcileOutcome(False, RENDER_FAILED, f"rendering the children failed: {exc}"), None
        owner = OwnerReference(API_VERSION, KIND, monitor.name, str(obj["metadata"]["uid"]))
        report = apply_children(self.api, children, owner, self.settings.field_manager)
        return outcome_of(report), report

    def _pass_resumes(self, obj: dict[str, Any], monitor: SesMonitor) -> None:
        """sesmonitor.io/resume=<set>[,<set>]: write each protected set's request into the exporter's
        ConfigMap, post an Event, then remove the annotation; kept for the next pass when the write
        failed. The exporter judges each request: its refusals show in status.protection and a
        ResumeRefused Event. A tenant (`tenant:<name>`) is refused here: sesmonitor never resumes one."""
        wanted = resume_requests(obj["metadata"].get("annotations"))
        if not wanted:
            return
        protection = monitor.spec.protection
        protected = [] if protection.mode == "Off" else list(protection.configuration_sets)
        refusals = {name: resume_refusal(name, protection) for name in wanted}
        passed = [name for name in wanted if refusals[name] is None]
        if passed and not self._write_resumes(monitor, passed, protected):
            return
        config_map = child_names(monitor.name).config_map
        for name in wanted:
            refusal = refusals[name]
            if refusal is None:
                message = (
                    f"resume of {name} passed to the exporter through its ConfigMap {config_map}; it acts"
                    " within about a minute (kubelet's ConfigMap refresh)"
                )
                self.post(obj, "Normal", "ResumeRequested", message)
            else:  # a tenant's too: sesmonitor never resumes one, and says how a person does
                self.post(obj, "Warning", "ResumeRefused", refusal)
        try:
            self.api.patch_metadata(
                API_VERSION, KIND, monitor.namespace, monitor.name, {"annotations": {RESUME_ANNOTATION: None}}
            )
        except KubeError as exc:
            logger.warning("%s: cannot remove %s: %s", monitor.key, RESUME_ANNOTATION, exc)

    def _write_resumes(self, monitor: SesMonitor, asked: list[str], protected: list[str]) -> bool:
        """Server-side apply the ConfigMap's resume key under its own field manager; False if not written."""
        name = child_names(monitor.name).config_map
        try:
            live = self.api.get("v1", "ConfigMap", monitor.namespace, name)
            if live is None:  # not created yet (its apply failed): the next pass tries again
                logger.warning("%s: resume of %s waits for ConfigMap %s", monitor.key, ", ".join(asked), name)
                return False
            data = resume_data(stored_requests(live), asked, protected, self.clock(), stored_sequence(live))
            body = resume_config_map(monitor.namespace, name, data)
            self.api.apply(body, resume_field_manager(self.settings.field_manager))
        except KubeError as exc:
            logger.warning("%s: resume of %s not passed on: %s", monitor.key, ", ".join(asked), exc)
            return False
        logger.info("%s: resume of %s written to ConfigMap %s", monitor.key, ", ".join(asked), name)
        return True

    def _read_exporter(self, monitor: SesMonitor, report: ApplyReport | None) -> ExporterReading:
        namespace, name = monitor.namespace, monitor.name
        url = self.settings.exporter_status_url(namespace, name, child_names(name).service)
        reading = self.fetch(url, self.settings.exporter_timeout)
        # The Deployment as the apply read (or wrote) it: a rollout under way is Reconciling (kstatus).
        live = report.live.get(f"Deployment {child_names(name).deployment}") if report else None
        rollout = rollout_progress(live)
        if rollout is not None:
            reading = dataclasses.replace(reading, rollout=rollout)
        if reading.status is not None and rollout is None:
            return reading
        # Unreachable or rolling out: the pods usually say why (image pull, scheduling, crash loop).
        # Read-only, and only then, so a monitor at rest makes no such request.
        try:
            pods = self.api.list_objects("v1", "Pod", namespace, selector_labels(monitor))
            deployment = (
                None
                if pods
                else self.api.get("apps/v1", "Deployment", namespace, child_names(name).deployment)
            )
        except KubeError as exc:
            logger.warning("%s: cannot read the exporter's pods: %s", monitor.key, exc)
            return reading
        return dataclasses.replace(reading, workload=diagnose(deployment, pods))

    def _write_status(
        self,
        obj: dict[str, Any],
        monitor: SesMonitor | None,
        outcome: ReconcileOutcome,
        reading: ExporterReading,
        previous: dict[str, Any],
    ) -> tuple[bool, int]:
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        generation = meta.get("generation")
        if monitor is None:
            new = status_mod.invalid_spec_status(
                previous=previous, outcome=outcome, generation=generation, now=self.clock()
            )
        else:
            new = status_mod.compute_status(
                monitor_key=monitor.key,
                spec=monitor.spec,
                generation=generation,
                outcome=outcome,
                reading=reading,
                previous=previous,
                now=self.clock(),
            )
        self.telemetry.observe_conditions(namespace, name, new["conditions"])
        patch = status_mod.status_patch(previous, new)
        # The Events first, then the status that records their transitions: a replica stopped between
        # the two posts them again (at least once) instead of never (events.py).
        events = 0
        if patch is not None:
            changes = status_mod.condition_changes(
                previous.get("conditions"),
                new["conditions"],
                (RECONCILED, *status_mod.RATE_CONDITIONS),
            )
            events = announce(obj, changes, self.post)
            # each protected set's and tenant's transition, once (the status remembers the last state)
            transitions = protection_events(previous.get("protection"), new.get("protection") or [])
            transitions += protection_events(
                previous.get("protectionTenants"), new.get("protectionTenants") or [], TENANT
            )
            for event in transitions:
                self.post(obj, event.type, event.reason, event.message)
                events += 1
        written = False
        if patch is not None:
            try:
                self.api.patch_status(API_VERSION, KIND, namespace, name, patch)
                written = True
            except KubeError as exc:
                if exc.status == 404 and not exc.type_missing:
                    return False, events  # deleted meanwhile
                raise ReconcileFailed(
                    STATUS_WRITE_FAILED, f"writing the status failed: {exc.message}"
                ) from None
        return written, events


def namespace_terminating(report: ApplyReport) -> bool:
    """Every failed write was refused because the namespace is being deleted."""
    return bool(report.failed) and all(
        f.error.status == 403 and "being terminated" in f.error.message for f in report.failed
    )


def outcome_of(report: ApplyReport) -> ReconcileOutcome:
    """Reconciled's reason and message from what applying the children came to."""
    if not report.failed:
        if report.pruned:
            return ReconcileOutcome(
                True,
                shapes.APPLIED,
                "all children are applied, but the installed CRDs drop fields the rules need: "
                + "; ".join(report.pruned)
                + " (without keep_firing_for, alerts resolve in every gap of the data: upgrade"
                " prometheus-operator's CRDs to v0.69 or later)",
            )
        return ReconcileOutcome(True, shapes.APPLIED, "all children are applied as rendered")
    first = report.failed[0]
    error = first.error
    details = "; ".join(str(f) for f in report.failed)
    if error.type_missing and first.kind in PROMETHEUS_OPERATOR_KINDS:
        kinds = list(dict.fromkeys(f.kind for f in report.failed if f.error.type_missing))
        types = "resource type is" if len(kinds) == 1 else "resource types are"
        return ReconcileOutcome(
            False,
            PROMETHEUS_OPERATOR_MISSING,
            f"the {' and '.join(kinds)} {types} not served (monitoring.coreos.com/v1): install"
            " prometheus-operator or its CRDs; the exporter is deployed meanwhile",
        )
    reason = reason_of(error)
    return ReconcileOutcome(False, reason, details, transient=reason in TRANSIENT_REASONS)


def reason_of(error: KubeError) -> str:
    """Reconciled's reason for a failed API call."""
    if error.type_missing:
        return RESOURCE_TYPE_MISSING
    if error.status == 403:
        return FORBIDDEN
    if error.status in {400, 422}:
        return INVALID_CHILD
    if error.status == 409:
        return CONFLICT
    if error.status in {0, 429} or error.status >= 500:
        return API_UNAVAILABLE
    return API_ERROR


def backoff(retry: int, settings: OperatorSettings) -> float:
    """Seconds before retry number ``retry`` (0-based): doubling from min(5s, interval), capped."""
    base = min(5.0, settings.reconcile_interval)
    return float(min(settings.max_backoff, base * 2 ** min(retry, 16)))
