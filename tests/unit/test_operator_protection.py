"""spec.protection on the Kubernetes side: the Protection condition, status.protection, one Event per set
transition, and the resume annotation passed on to the exporter through its ConfigMap (then removed)."""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Mapping
from typing import Any

from test_operator_apply import MONITOR, FakeApi, World, exporter_doc

from sesmonitor.contract import CONFIG_FILE_NAME, RESUME_FILE_NAME, ProtectedSetStatus
from sesmonitor.operator.kube import KubeError
from sesmonitor.operator.protection import (
    protection_events,
    resume_data,
    resume_requests,
    stored_requests,
    stored_sequence,
)
from sesmonitor.operator.status.protection import protection_condition
from support.monitors import load_monitor

SPEC = {
    "region": "eu-west-1",
    "configurationSets": ["marketing", "transactional"],
    "protection": {"mode": "Enforce", "configurationSets": ["marketing", "transactional"]},
}
PAUSED = ProtectedSetStatus(
    mode="Enforce",
    state="paused",
    sending_enabled=False,
    paused_at="2026-01-01T00:00:00Z",
    reason="bounce rate 12.00%",
    resumed_at=None,
    cooldown_until=None,
    last_error=None,
    last_error_code=None,
    resume_refused=None,
)
WATCHING = ProtectedSetStatus(
    **{**PAUSED, "state": "watching", "sending_enabled": True, "paused_at": None, "reason": None}
)


class ProtectedWorld(World):
    def __init__(self) -> None:
        super().__init__()
        monitor = copy.deepcopy(MONITOR)
        monitor["spec"] = copy.deepcopy(SPEC)
        self.api.objects[FakeApi.key(MONITOR)] = monitor
        self.api.patch_metadata = self.patch_metadata  # type: ignore[attr-defined]
        self.set_sets(marketing=WATCHING, transactional=WATCHING)

    def set_sets(self, **sets: ProtectedSetStatus) -> None:
        doc = exporter_doc()
        doc.protection = dict(sets)
        self.doc = doc

    def patch_metadata(
        self, api_version: str, kind: str, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        obj = self.api.objects[(api_version, kind, namespace, name)]
        annotations = obj["metadata"].setdefault("annotations", {})
        for key, value in metadata["annotations"].items():
            if value is None:
                annotations.pop(key, None)
        return obj

    def annotate(self, value: str) -> None:
        self.api.objects[FakeApi.key(MONITOR)]["metadata"]["annotations"] = {"sesmonitor.io/resume": value}

    def config_map(self) -> dict[str, Any]:
        found: dict[str, Any] = self.api.objects[("v1", "ConfigMap", "mail", "sesmon-prod")]
        return found

    def requests(self) -> dict[str, Any]:
        requests: dict[str, Any] = json.loads(self.config_map()["data"][RESUME_FILE_NAME])["requests"]
        return requests

    def annotations(self) -> dict[str, str]:
        found: dict[str, str] = self.api.objects[FakeApi.key(MONITOR)]["metadata"].get("annotations") or {}
        return found

    def condition(self) -> dict[str, Any]:
        (found,) = [c for c in self.status["conditions"] if c["type"] == "Protection"]
        return found


def test_pause_shows_in_the_condition_the_status_and_one_event() -> None:
    world = ProtectedWorld()
    world.reconciler.reconcile("mail", "prod")
    assert (world.condition()["status"], world.condition()["reason"]) == ("True", "Watching")
    assert world.events == []
    world.set_sets(marketing=PAUSED, transactional=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    condition = world.condition()
    assert (condition["status"], condition["reason"]) == ("False", "Paused")
    assert (
        "marketing paused by sesmonitor at 2026-01-01T00:00:00Z (bounce rate 12.00%)" in condition["message"]
    )
    assert "sesmonitor resume -n mail prod marketing" in condition["message"]
    assert world.status["protection"][0] == {
        "configurationSet": "marketing",
        "state": "paused",
        "pausedAt": "2026-01-01T00:00:00Z",
        "reason": "bounce rate 12.00%",
    }
    assert [(t, r) for t, r, _ in world.events] == [("Warning", "ConfigurationSetPaused")]
    world.reconciler.reconcile("mail", "prod")  # steady: no second Event
    assert len(world.events) == 1


def test_the_annotation_is_written_to_the_config_map_then_removed() -> None:
    world = ProtectedWorld()
    world.set_sets(marketing=PAUSED, transactional=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    world.annotate("marketing")
    world.reconciler.reconcile("mail", "prod")
    # The resume key, applied under a field manager of its own; the exporter's configuration kept.
    assert world.api.managers[-1] == ("ConfigMap", "sesmon-prod", "sesmonitor-operator-resume")
    assert world.requests() == {"marketing": {"at": "2026-01-01T00:00:00Z", "sequence": 1}}
    assert CONFIG_FILE_NAME in world.config_map()["data"]
    assert "sesmonitor.io/resume" not in world.annotations()
    (requested,) = [m for t, r, m in world.events if r == "ResumeRequested"]
    assert "through its ConfigMap sesmon-prod" in requested
    # The next pass finds the children as rendered: the resume key is no drift, nothing is written.
    writes = len(world.api.writes)
    world.reconciler.reconcile("mail", "prod")
    assert world.api.writes[writes:] == []
    # A second resume of the same set keeps only its newest request, beside another set's.
    world.now += datetime.timedelta(hours=2)
    world.annotate("marketing,transactional")
    world.reconciler.reconcile("mail", "prod")
    # Numbered by the operator: the exporter orders them by number, never by the operator's clock.
    asked = {"at": "2026-01-01T02:00:00Z", "sequence": 2}
    assert world.requests() == {"marketing": asked, "transactional": asked}
    resumed = ProtectedSetStatus(**{**WATCHING, "state": "cooldown", "resumed_at": "2026-01-01T02:01:00Z"})
    world.set_sets(marketing=resumed, transactional=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1][:2] == ("Normal", "ConfigurationSetResumed")
    assert world.condition()["reason"] == "Watching"


def test_the_exporters_refusal_shows_in_the_status_and_one_event() -> None:
    world = ProtectedWorld()
    world.reconciler.reconcile("mail", "prod")
    refusal = "resume asked at 2026-01-01T00:00:00Z refused: transactional is not paused by sesmonitor"
    world.set_sets(
        marketing=WATCHING, transactional=ProtectedSetStatus(**{**WATCHING, "resume_refused": refusal})
    )
    world.reconciler.reconcile("mail", "prod")
    assert world.status["protection"][1]["resumeRefused"] == refusal
    assert world.events[-1] == ("Warning", "ResumeRefused", f"configuration set transactional: {refusal}")
    world.reconciler.reconcile("mail", "prod")  # the same refusal: no second Event
    assert len(world.events) == 1


def test_an_unprotected_set_is_refused_and_a_failed_write_kept_for_the_next_pass() -> None:
    world = ProtectedWorld()
    world.annotate("promo")
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1][:2] == ("Warning", "ResumeRefused")
    assert "promo is not a protected configuration set" in world.events[-1][2]
    assert RESUME_FILE_NAME not in world.config_map()["data"]  # nothing for the exporter
    assert world.annotations() == {}
    world.api.apply_errors["ConfigMap"] = KubeError(403, "Forbidden", "configmaps is forbidden")
    world.annotate("marketing")
    world.reconciler.reconcile("mail", "prod")  # the children are as rendered: only the resume write fails
    assert world.annotations() == {"sesmonitor.io/resume": "marketing"}  # tried again next pass
    world.api.apply_errors.clear()
    world.reconciler.reconcile("mail", "prod")
    assert world.requests() == {"marketing": {"at": "2026-01-01T00:00:00Z", "sequence": 1}}
    assert world.annotations() == {}


def test_resume_data_keeps_the_newest_request_of_protected_sets_only() -> None:
    now = datetime.datetime(2026, 1, 1, 3, tzinfo=datetime.UTC)
    stored = {"marketing": "2026-01-01T01:00:00Z", "gone": {"at": "2026-01-01T01:00:00Z", "sequence": 6}}
    data = resume_data(stored, ["transactional"], ["marketing", "transactional"], now, sequence=6)
    assert json.loads(data) == {
        "requests": {
            "marketing": "2026-01-01T01:00:00Z",  # an older operator's, kept as it was
            "transactional": {"at": "2026-01-01T03:00:00Z", "sequence": 7},
        },
        "sequence": 7,
    }
    config_map = {"data": {RESUME_FILE_NAME: data}}
    assert stored_requests(config_map) == json.loads(data)["requests"]
    assert stored_sequence(config_map) == 7
    # The counter survives a set leaving spec.protection: the file's own number, not only the sets'.
    assert stored_sequence({"data": {RESUME_FILE_NAME: '{"sequence": 9, "requests": {}}'}}) == 9
    assert stored_requests({"data": {RESUME_FILE_NAME: "not json"}}) == {}
    assert stored_sequence({"data": {RESUME_FILE_NAME: "not json"}}) == 0
    assert stored_requests(None) == {}
    assert stored_sequence(None) == 0


def test_condition_cases() -> None:
    spec = load_monitor(SPEC, name="p", namespace=None).spec
    failed = {"configurationSet": "marketing", "state": "watching", "lastError": "AccessDeniedException: no"}
    would = {
        "configurationSet": "marketing",
        "state": "would_pause",
        "pausedAt": "t",
        "reason": "bounce rate 12.00%",
    }
    elsewhere = {"configurationSet": "transactional", "state": "paused_elsewhere"}
    cases = [
        ([failed], ("False", "ActionFailed")),
        ([would], ("False", "WouldPause")),
        ([elsewhere], ("False", "Paused")),
        ([{"configurationSet": "marketing", "state": "unknown"}], ("Unknown", "NoData")),
    ]
    for sets, expected in cases:
        condition = protection_condition(spec, "mail", "p", sets, None)
        assert condition is not None
        assert (condition.status, condition.reason) == expected, sets
    off = load_monitor(name="p", namespace=None, region="eu-west-1")
    assert protection_condition(off.spec, "mail", "p", [], None) is None
    assert [e.reason for e in protection_events([], [would])] == ["WouldPauseConfigurationSet"]
    other_failed = {**failed, "configurationSet": "transactional"}
    assert [e.reason for e in protection_events([would], [would, other_failed])] == ["ProtectionFailed"]


def test_the_condition_tells_a_real_pause_in_dry_run_and_a_second_monitor() -> None:
    """Items 2, 4, 5, 8 as people see them: DryRun never says "nothing was written" of a real pause, a
    set with two monitors says so, a re-enable outside sesmonitor is named, a dropped request is an Event."""
    dry = load_monitor({**SPEC, "protection": {**SPEC["protection"], "mode": "DryRun"}}, name="p").spec
    real = {
        "configurationSet": "transactional",
        "state": "paused",
        "pausedAt": "t",
        "reason": "bounce rate 12.00%",
        "alsoProtectedBy": "uid-b/mail/p",
    }
    condition = protection_condition(dry, "mail", "p", [real], None)
    assert condition is not None
    assert (condition.status, condition.reason) == ("False", "Paused")
    assert "nothing was written" not in condition.message
    assert "switch back to Enforce to resume it" in condition.message
    assert "transactional is also protected by uid-b/mail/p" in condition.message
    cooling = {
        "configurationSet": "marketing",
        "state": "cooldown",
        "cooldownUntil": "u",
        "resumedBy": "outside sesmonitor",
    }
    spec = load_monitor(SPEC, name="p", namespace=None).spec
    watching = protection_condition(spec, "mail", "p", [cooling], None)
    assert watching is not None
    assert "marketing in cooldown until u (resumed by outside sesmonitor)" in watching.message
    dropped = {**cooling, "resumeDropped": "resume request 3 dropped: asked before the pause"}
    events = protection_events([cooling], [dropped, real])
    assert [(e.type, e.reason) for e in events] == [
        ("Warning", "ResumeDropped"),
        ("Warning", "ConfigurationSetPaused"),
        ("Warning", "ProtectedByAnotherMonitor"),
    ]
    assert protection_events([dropped, real], [dropped, real]) == []  # steady: no second Event


def test_resume_requests() -> None:
    assert resume_requests({"sesmonitor.io/resume": " marketing, promo ,marketing"}) == ["marketing", "promo"]
    assert resume_requests({}) == []
    assert resume_requests(None) == []


def test_a_missing_protected_set_is_named_and_not_counted_as_watched() -> None:
    spec = load_monitor(SPEC, name="p", namespace=None).spec
    watching = {"configurationSet": "marketing", "state": "watching"}
    missing = {"configurationSet": "transactional", "state": "missing"}
    condition = protection_condition(spec, "mail", "p", [watching, missing], None)
    assert condition is not None
    assert (condition.status, condition.reason) == ("True", "Watching")
    assert condition.message == (
        "Enforce: watching marketing; nothing paused; not found in SES, so not protected: transactional"
    )
    paused = {"configurationSet": "marketing", "state": "paused", "pausedAt": "t", "reason": "bounce rate 9%"}
    condition = protection_condition(spec, "mail", "p", [paused, missing], None)
    assert condition is not None
    assert condition.reason == "Paused"
    assert condition.message.endswith("; not found in SES, so not protected: transactional")
