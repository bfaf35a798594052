"""A listed configuration set SES does not have: the exporter's per-set reads (pure state), the
ConfigurationSetsFound condition (pure) and its Event through a reconcile."""

from __future__ import annotations

import copy
import dataclasses

from test_operator_apply import MONITOR, FakeApi, World, exporter_doc

from sesmonitor import metrics
from sesmonitor.api.status import CONFIGURATION_SETS_FOUND, READY
from sesmonitor.contract import ApiHealth
from sesmonitor.exporter.model.configuration_set import MISSING, SetRead
from sesmonitor.exporter.model.state import ExporterState
from sesmonitor.operator.shapes import Condition
from sesmonitor.operator.status.configuration_sets import configuration_sets_condition
from support.monitors import load_monitor

API = metrics.API_CONFIGURATION_SET
READ_OK = ApiHealth(
    last_success_time="2026-01-01T00:00:00Z", consecutive_failures=0, stale=False, last_error=None,
    last_error_time=None, last_error_code=None, last_error_kind=None,
)  # fmt: skip


def state_of(**reads: SetRead) -> ExporterState:
    state = ExporterState(60, (*metrics.APIS, API))
    state.record_configuration_sets(100.0, reads)
    return state


def test_a_missing_set_is_no_failure_of_the_api_and_leaves_the_others_read() -> None:
    view = state_of(marketing=SetRead(True, False), deleted=MISSING).view()
    assert view.apis[API].consecutive_failures == 0
    assert view.apis[API].last_attempt_ok
    assert view.missing_configuration_sets == ("deleted",)
    assert dict(view.sending_enabled) == {"marketing": False}
    assert dict(view.reputation_enabled or {}) == {"marketing": True}


def test_a_set_whose_read_failed_fails_the_api_naming_it_and_keeps_its_last_values() -> None:
    state = state_of(marketing=SetRead(True, True), transactional=SetRead(True, True))
    denied = SetRead(
        error="AccessDeniedException: no", error_code="AccessDeniedException", error_kind="denied"
    )
    state.record_configuration_sets(160.0, {"marketing": SetRead(True, False), "transactional": denied})
    view = state.view()
    health = view.apis[API]
    assert health.consecutive_failures == 1
    assert health.last_error == "configuration set(s) transactional: AccessDeniedException: no"
    assert (health.last_error_code, health.last_error_kind) == ("AccessDeniedException", "denied")
    assert dict(view.sending_enabled) == {"marketing": False, "transactional": True}  # its last good value
    assert view.missing_configuration_sets == ()


SPEC = {
    "region": "eu-west-1",
    "configurationSets": ["marketing", "typo"],
    "protection": {"mode": "Enforce", "configurationSets": ["marketing", "typo"]},
}


def doc_with(missing: list[str], read: bool = True):  # type: ignore[no-untyped-def]
    doc = exporter_doc()
    return dataclasses.replace(
        doc, configuration_sets_missing=missing, apis={**doc.apis, API: READ_OK} if read else dict(doc.apis)
    )


def test_the_condition_names_the_missing_set_and_what_protection_does_not_cover() -> None:
    spec = load_monitor(SPEC).spec
    found = configuration_sets_condition(spec, doc_with(["typo"]), None)
    assert found is not None
    assert (found.status, found.reason) == ("False", "ConfigurationSetMissing")
    assert "SES has no configuration set typo in eu-west-1" in found.message
    assert "not protected while missing: typo" in found.message
    ok = configuration_sets_condition(spec, doc_with([]), None)
    assert ok is not None
    assert (ok.status, ok.reason) == ("True", "AllFound")
    unread = configuration_sets_condition(spec, doc_with([], read=False), None)
    assert unread is not None
    assert (unread.status, unread.reason) == ("Unknown", "NotReadYet")
    down = Condition("ExporterReady", "False", "ExporterUnreachable", "connection refused")
    gone = configuration_sets_condition(spec, doc_with(["typo"]), down)
    assert gone is not None
    assert (gone.status, gone.reason) == ("Unknown", "ExporterUnreachable")
    assert configuration_sets_condition(load_monitor({}).spec, doc_with(["typo"]), None) is None


def test_a_missing_set_posts_one_event_and_leaves_ready_true() -> None:
    world = World()
    monitor = copy.deepcopy(MONITOR)
    monitor["spec"] = {**monitor["spec"], "configurationSets": ["marketing", "typo"]}
    world.api.objects[FakeApi.key(MONITOR)] = monitor
    world.doc = doc_with([])
    world.reconciler.reconcile("mail", "prod")
    assert not [e for e in world.events if e[1] == "ConfigurationSetMissing"]
    world.doc = doc_with(["typo"])
    world.reconciler.reconcile("mail", "prod")
    world.reconciler.reconcile("mail", "prod")  # steady: no second Event
    missing = [e for e in world.events if e[1] == "ConfigurationSetMissing"]
    assert len(missing) == 1
    kind, _, message = missing[0]
    assert kind == "Warning"
    assert "SES has no configuration set typo" in message
    conditions = {c["type"]: c for c in world.status["conditions"]}
    assert conditions[CONFIGURATION_SETS_FOUND]["status"] == "False"
    assert conditions[READY]["status"] == "True"  # marketing is monitored all the same
    world.doc = doc_with([])
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1][1] == "AllFound"
