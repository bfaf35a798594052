"""A person's resume as the exporter gets it: the control file the operator writes through the
ConfigMap (sesmonitor.exporter.protection.control), judged by the protector against the set's record,
never over HTTP."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from sesmonitor.contract import RESUME_FILE_NAME, ExporterConfig, ProtectionConfig
from sesmonitor.exporter.model import record as r
from sesmonitor.exporter.model.protection import rfc3339
from sesmonitor.exporter.protection.control import ControlFile, parse_requests
from sesmonitor.exporter.protection.protector import Protector, tags_of

MONITOR = "mail/prod"
SETS = ("marketing", "transactional")
PAUSED_AT = 1_767_225_600.0  # 2026-01-01T00:00:00Z
CONFIG = ExporterConfig(
    monitor=MONITOR,
    region="us-east-1",
    configuration_sets=SETS,
    role_arn="arn:aws:iam::123456789012:role/sesmonitor",
    protection=ProtectionConfig("Enforce", SETS, bounce_rate=0.1, complaint_rate=0.005, cluster_id="uid-1"),
)
OWNER = "uid-1/mail/prod"


class FakeSesV2:
    """The SESv2 calls protection makes; the sets' tags start as sesmonitor's pause of marketing."""

    def __init__(self, request: str = "") -> None:
        self.tags: dict[str, list[dict[str, str]]] = {
            "marketing": tags_of(r.Record(r.PAUSED, PAUSED_AT, OWNER, r.RATES[0], 0.12, request))
        }
        self.sending = {"marketing": False, "transactional": True}

    def get_configuration_set(self, ConfigurationSetName: str) -> dict[str, Any]:
        return {"SendingOptions": {"SendingEnabled": self.sending[ConfigurationSetName]}}

    def list_tags_for_resource(self, ResourceArn: str) -> dict[str, Any]:
        return {"Tags": self.tags.get(ResourceArn.rsplit("/", 1)[1], [])}

    def tag_resource(self, ResourceArn: str, Tags: list[dict[str, str]]) -> None:
        """As SES: the keys given are added or overwritten, the others kept."""
        name = ResourceArn.rsplit("/", 1)[1]
        merged = {t["Key"]: t["Value"] for t in self.tags.get(name, [])} | {
            t["Key"]: t["Value"] for t in Tags
        }
        self.tags[name] = [{"Key": k, "Value": v} for k, v in merged.items()]

    def put_configuration_set_sending_options(self, ConfigurationSetName: str, SendingEnabled: bool) -> None:
        self.sending[ConfigurationSetName] = SendingEnabled


def write(path: Path, requests: dict[str, Any]) -> None:
    """As kubelet does: a new file swapped in (a new inode), never the old one edited. An int is a
    request's sequence, as the operator writes it (with its clock's `at`, which the exporter ignores)."""
    doc = {
        name: {"sequence": one, "at": "2020-01-01T00:00:00Z"} if isinstance(one, int) else one
        for name, one in requests.items()
    }
    new = path.with_suffix(".new")
    new.write_text(json.dumps({"requests": doc}))
    os.replace(new, path)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, FakeSesV2, Protector]:
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    return path, ses, Protector(CONFIG, ses, control=ControlFile(path).read, settle_seconds=5, sleep=no_sleep)


def no_sleep(_seconds: float) -> None:
    pass


def run(protector: Protector, ses: FakeSesV2, now: float) -> None:
    protector.run(now, dict(ses.sending), None)


def test_parse_requests() -> None:
    new = '{"sequence": 3, "requests": {"marketing": {"sequence": 3, "at": "2026-01-01T00:00:00Z"}}}'
    assert parse_requests(new) == {"marketing": "3"}
    # An older operator's request: its time, kept as a string (never compared with a clock).
    assert parse_requests('{"requests": {"marketing": "2026-01-01T00:00:00Z"}}') == {
        "marketing": "2026-01-01T00:00:00Z"
    }
    cases = {
        "[]": "requests",
        '{"requests": 1}': "requests",
        '{"requests": {"m": 5}}': "requests.m",
        '{"requests": {"m": {"sequence": 0}}}': "requests.m.sequence",
        '{"requests": {"m": {"sequence": true}}}': "requests.m.sequence",
        '{"requests": {"m": "yesterday"}}': "yesterday",
    }
    for bad, message in cases.items():
        with pytest.raises(ValueError, match=message):
            parse_requests(bad)
    with pytest.raises(ValueError, match="time zone"):
        parse_requests('{"requests": {"m": "2026-01-01T00:00:00"}}')


def test_control_file_missing_changed_and_malformed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / RESUME_FILE_NAME
    control = ControlFile(path)
    assert control.read() == {}  # no file: no request (the key exists only after the first resume)
    write(path, {"marketing": 1})
    assert control.read() == {"marketing": "1"}
    write(path, {"marketing": 2})
    assert control.read() == {"marketing": "2"}  # re-read on change
    path.write_text("{not json")
    with caplog.at_level(logging.ERROR, logger="sesmonitor.exporter.protection.control"):
        assert control.read() == {}
        assert control.read() == {}
    assert len(caplog.records) == 1  # logged once, never raised
    path.unlink()
    assert control.read() == {}


def test_a_request_after_the_pause_resumes_the_set(world: tuple[Path, FakeSesV2, Protector]) -> None:
    path, ses, protector = world
    run(protector, ses, PAUSED_AT + 60)
    assert not ses.sending["marketing"]  # no request: stays paused
    write(path, {"marketing": 1})
    assert protector.poll_control()  # the watcher would wake the loop
    run(protector, ses, PAUSED_AT + 130)
    assert ses.sending["marketing"]
    assert protector.view().status(PAUSED_AT + 130)["marketing"]["state"] == "cooldown"
    assert not protector.poll_control()  # judged: nothing new
    assert {t["Key"]: t["Value"] for t in ses.tags["marketing"]}["sesmonitor:request"] == "1"


def test_the_order_never_depends_on_two_clocks(tmp_path: Path) -> None:
    """Item 8: a request in the same second as the pause, or from an operator whose clock is an hour
    behind the exporter's, is newer than the pause by its sequence, and resumes it."""
    for at in (rfc3339(PAUSED_AT), rfc3339(PAUSED_AT - 3600)):
        path = tmp_path / f"{at}.json"
        ses = FakeSesV2(request="4")  # the pause came after request 4
        protector = Protector(CONFIG, ses, control=ControlFile(path).read, settle_seconds=5, sleep=no_sleep)
        run(protector, ses, PAUSED_AT)
        path.write_text(json.dumps({"sequence": 5, "requests": {"marketing": {"sequence": 5, "at": at}}}))
        run(protector, ses, PAUSED_AT + 1)
        assert ses.sending["marketing"], at


def test_a_request_waiting_for_the_record_wakes_the_loop_once(tmp_path: Path) -> None:
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    protector = Protector(CONFIG, ses, control=ControlFile(path).read, sleep=no_sleep)
    write(path, {"marketing": 1})
    assert protector.poll_control()
    assert not protector.poll_control()  # not judged yet (no refresh), but the loop was woken for it
    write(path, {"marketing": 2})
    assert protector.poll_control()  # a newer request wakes it again
    run(protector, ses, PAUSED_AT + 190)
    assert ses.sending["marketing"]


def test_an_old_request_never_resumes_a_later_pause(tmp_path: Path) -> None:
    """The request the record names (judged when it came, e.g. the one that resumed an earlier pause)
    is history: never acted on again, neither refused nor dropped."""
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2(request="3")
    protector = Protector(CONFIG, ses, control=ControlFile(path).read, sleep=no_sleep)
    write(path, {"marketing": 3})
    for minute in range(1, 4):
        run(protector, ses, PAUSED_AT + 60 * minute)
    assert not ses.sending["marketing"]
    found = protector.view().status(PAUSED_AT + 180)["marketing"]
    assert (found["state"], found["resume_refused"], found["resume_dropped_count"]) == ("paused", None, 0)
    write(path, {"marketing": 4})  # asked again
    run(protector, ses, PAUSED_AT + 240)
    assert ses.sending["marketing"]


def test_every_dropped_request_is_shown_and_counted(tmp_path: Path) -> None:
    """Item 8: a request replaced before it could be judged (the set's tags unreadable), and an older
    operator's request (a time, no sequence) found at start, are dropped visibly, never silently."""
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    protector = Protector(CONFIG, ses, control=ControlFile(path).read, sleep=no_sleep)
    write(path, {"marketing": 1})
    assert protector.poll_control()
    write(path, {"marketing": 2})
    assert protector.poll_control()
    run(protector, ses, PAUSED_AT + 60)
    assert ses.sending["marketing"]  # request 2 resumed it
    found = protector.view().status(PAUSED_AT + 60)["marketing"]
    assert found["resume_dropped"] == "resume request 1 dropped: request 2 replaced it before it was judged"
    assert found["resume_dropped_count"] == 1

    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps({"requests": {"marketing": rfc3339(PAUSED_AT + 3600)}}))
    ses = FakeSesV2()
    restarted = Protector(CONFIG, ses, control=ControlFile(legacy).read, sleep=no_sleep)
    run(restarted, ses, PAUSED_AT + 60)
    assert not ses.sending["marketing"]  # its clock says "after the pause", which no clock here can check
    found = restarted.view().status(PAUSED_AT + 60)["marketing"]
    assert "an older operator wrote it" in str(found["resume_dropped"])
    assert found["resume_dropped_count"] == 1


def test_a_request_for_a_set_sesmonitor_did_not_pause_is_refused_visibly(
    world: tuple[Path, FakeSesV2, Protector],
) -> None:
    path, ses, protector = world
    run(protector, ses, PAUSED_AT + 60)
    write(path, {"transactional": 1, "promo": 1})
    run(protector, ses, PAUSED_AT + 130)
    assert ses.sending == {"marketing": False, "transactional": True}  # nothing written
    refused = protector.view().status(PAUSED_AT + 130)["transactional"]["resume_refused"]
    assert refused == (
        "resume request 1 refused: transactional is not paused by sesmonitor (uid-1/mail/prod); nothing to"
        " resume"
    )
    assert "promo" not in protector.view().status(PAUSED_AT + 130)  # not protected: ignored


def test_a_resume_put_off_by_the_backoff_is_not_lost(world: tuple[Path, FakeSesV2, Protector]) -> None:
    """Item 6: a failed resume is tried again after the backoff, not every refresh, and the request
    waits for it."""
    path, ses, protector = world
    calls: list[bool] = []
    resume = ses.put_configuration_set_sending_options

    def throttled_once(ConfigurationSetName: str, SendingEnabled: bool) -> None:
        calls.append(SendingEnabled)
        if len(calls) == 1:
            raise RuntimeError("Rate exceeded")
        resume(ConfigurationSetName=ConfigurationSetName, SendingEnabled=SendingEnabled)

    ses.put_configuration_set_sending_options = throttled_once  # type: ignore[method-assign]
    write(path, {"marketing": 1})
    run(protector, ses, PAUSED_AT + 60)
    found = protector.view().status(PAUSED_AT + 60)["marketing"]
    assert (found["state"], found["next_attempt_at"]) == ("paused", rfc3339(PAUSED_AT + 120))
    run(protector, ses, PAUSED_AT + 90)  # within the backoff: no call
    assert calls == [True]
    run(protector, ses, PAUSED_AT + 120)
    assert calls == [True, True]
    assert ses.sending["marketing"]
    assert protector.view().status(PAUSED_AT + 120)["marketing"]["last_error"] is None


def test_an_unreadable_record_is_read_again_after_the_backoff(
    world: tuple[Path, FakeSesV2, Protector], caplog: pytest.LogCaptureFixture
) -> None:
    """Item 6 for reads too: ListTagsForResource denied is asked again after 1, 3 and 7 minutes, one
    ERROR line each, not at every refresh; nothing is decided without the record meanwhile."""
    _path, ses, protector = world
    asked: list[str] = []

    def denied(ResourceArn: str) -> dict[str, Any]:
        asked.append(ResourceArn.rsplit("/", 1)[1])
        raise RuntimeError("AccessDeniedException: not authorized")

    ses.list_tags_for_resource = denied  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="sesmonitor.exporter.protection.protector"):
        for minute in range(10):
            run(protector, ses, PAUSED_AT + 60 * minute)
    assert asked.count("marketing") == 4
    assert len([rec for rec in caplog.records if "set marketing failed" in rec.getMessage()]) == 4
    assert protector.view().status(PAUSED_AT + 540)["marketing"]["state"] == "unknown"


def test_a_legacy_record_is_this_clusters_and_is_rewritten_with_the_cluster(tmp_path: Path) -> None:
    """A pause an older release recorded (owner `<namespace>/<name>`, no cluster) stays resumable after
    the upgrade; the resume's record names the cluster."""
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    ses.tags["marketing"] = tags_of(r.Record(r.PAUSED, PAUSED_AT, MONITOR, r.RATES[0], 0.12))
    protector = Protector(CONFIG, ses, control=ControlFile(path).read, sleep=no_sleep)
    run(protector, ses, PAUSED_AT + 60)
    assert protector.view().status(PAUSED_AT + 60)["marketing"]["state"] == "paused"
    write(path, {"marketing": 1})
    run(protector, ses, PAUSED_AT + 120)
    assert ses.sending["marketing"]
    assert {t["Key"]: t["Value"] for t in ses.tags["marketing"]}["sesmonitor:monitor"] == OWNER


def test_a_request_accepted_but_not_acted_on_is_refused_visibly(tmp_path: Path) -> None:
    """Asked while a read still says "enabled" right after the pause (not confirmed yet): nothing to
    resume in that read, and the request says so rather than vanishing."""
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    protector = Protector(CONFIG, ses, control=ControlFile(path).read, sleep=no_sleep)
    write(path, {"marketing": 1})
    protector.run(PAUSED_AT + 30, {"marketing": True, "transactional": True}, None)  # a stale read
    assert not ses.sending["marketing"]
    refused = protector.view().status(PAUSED_AT + 30)["marketing"]["resume_refused"]
    assert (
        refused
        == "resume request 1 refused: paused by sesmonitor; a read still says enabled (not confirmed yet)"
    )
