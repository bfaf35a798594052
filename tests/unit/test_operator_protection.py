"""spec.protection on the Kubernetes side: the Protection condition, status.protection, one Event per set
transition, and the resume annotation passed on to the exporter (then removed)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from test_operator_apply import MONITOR, FakeApi, World, exporter_doc

from sesmonitor.api import load
from sesmonitor.contract import ProtectedSetStatus
from sesmonitor.operator.protection import protection_condition, protection_events, resume_requests

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
)
WATCHING = ProtectedSetStatus(
    mode="Enforce",
    state="watching",
    sending_enabled=True,
    paused_at=None,
    reason=None,
    resumed_at=None,
    cooldown_until=None,
    last_error=None,
    last_error_code=None,
)


class ProtectedWorld(World):
    def __init__(self) -> None:
        super().__init__()
        monitor = copy.deepcopy(MONITOR)
        monitor["spec"] = copy.deepcopy(SPEC)
        self.api.objects[FakeApi.key(MONITOR)] = monitor
        self.resumes: list[tuple[str, str]] = []
        self.answer: tuple[bool | None, str] = (True, "resume of marketing accepted")
        self.reconciler.resume = self.resume
        self.api.patch_metadata = self.patch_metadata  # type: ignore[attr-defined]
        self.set_sets(marketing=WATCHING, transactional=WATCHING)

    def set_sets(self, **sets: ProtectedSetStatus) -> None:
        doc = exporter_doc()
        doc.protection = dict(sets)
        self.doc = doc

    def resume(self, url: str, name: str, timeout: float) -> tuple[bool | None, str]:
        self.resumes.append((url, name))
        return self.answer

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


def test_the_annotation_is_passed_on_then_removed() -> None:
    world = ProtectedWorld()
    world.set_sets(marketing=PAUSED, transactional=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    world.annotate("marketing")
    world.reconciler.reconcile("mail", "prod")
    assert world.resumes == [("http://127.0.0.1:1/mail/prod/protection/resume", "marketing")]
    assert "sesmonitor.io/resume" not in world.api.objects[FakeApi.key(MONITOR)]["metadata"]["annotations"]
    assert ("Normal", "ResumeRequested") in [(t, r) for t, r, _ in world.events]
    resumed = ProtectedSetStatus(**{**WATCHING, "state": "cooldown", "resumed_at": "2026-01-01T01:00:00Z"})
    world.set_sets(marketing=resumed, transactional=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1][:2] == ("Normal", "ConfigurationSetResumed")
    assert world.condition()["reason"] == "Watching"


def test_a_refused_resume_is_an_event_and_an_unanswered_one_is_kept() -> None:
    world = ProtectedWorld()
    world.answer = (False, "transactional is not paused by sesmonitor (mail/prod); nothing to resume")
    world.annotate("transactional")
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1][:2] == ("Warning", "ResumeRefused")
    world.answer = (None, "connection refused")
    world.annotate("marketing")
    world.reconciler.reconcile("mail", "prod")
    annotations = world.api.objects[FakeApi.key(MONITOR)]["metadata"]["annotations"]
    assert annotations == {"sesmonitor.io/resume": "marketing"}  # tried again next pass


def test_condition_cases() -> None:
    spec = load(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "p"},
            "spec": SPEC,
        }
    ).spec
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
    off = load(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "p"},
            "spec": {"region": "eu-west-1"},
        }
    )
    assert protection_condition(off.spec, "mail", "p", [], None) is None
    assert [e.reason for e in protection_events([], [would])] == ["WouldPauseConfigurationSet"]
    other_failed = {**failed, "configurationSet": "transactional"}
    assert [e.reason for e in protection_events([would], [would, other_failed])] == ["ProtectionFailed"]


def test_resume_requests() -> None:
    assert resume_requests({"sesmonitor.io/resume": " marketing, promo ,marketing"}) == ["marketing", "promo"]
    assert resume_requests({}) == []
    assert resume_requests(None) == []
