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
    protection=ProtectionConfig("Enforce", SETS, bounce_rate=0.1, complaint_rate=0.005),
)


class FakeSesV2:
    """The three SESv2 calls protection makes; the sets' tags start as sesmonitor's pause of marketing."""

    def __init__(self) -> None:
        self.tags: dict[str, list[dict[str, str]]] = {
            "marketing": tags_of(r.Record(r.PAUSED, PAUSED_AT, MONITOR, r.RATES[0], 0.12))
        }
        self.sending = {"marketing": False, "transactional": True}

    def list_tags_for_resource(self, ResourceArn: str) -> dict[str, Any]:
        return {"Tags": self.tags.get(ResourceArn.rsplit("/", 1)[1], [])}

    def tag_resource(self, ResourceArn: str, Tags: list[dict[str, str]]) -> None:
        self.tags[ResourceArn.rsplit("/", 1)[1]] = Tags

    def put_configuration_set_sending_options(self, ConfigurationSetName: str, SendingEnabled: bool) -> None:
        self.sending[ConfigurationSetName] = SendingEnabled


def write(path: Path, requests: dict[str, str]) -> None:
    """As kubelet does: a new file swapped in (a new inode), never the old one edited."""
    new = path.with_suffix(".new")
    new.write_text(json.dumps({"requests": requests}))
    os.replace(new, path)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, FakeSesV2, Protector]:
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    return path, ses, Protector(CONFIG, ses, control=ControlFile(path).read)


def run(protector: Protector, ses: FakeSesV2, now: float) -> None:
    protector.run(now, dict(ses.sending), None)


def test_parse_requests() -> None:
    assert parse_requests('{"requests": {"marketing": "2026-01-01T00:00:00Z"}}') == {"marketing": PAUSED_AT}
    cases = {
        "[]": "requests",
        '{"requests": 1}': "requests",
        '{"requests": {"m": 5}}': "requests.m",
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
    write(path, {"marketing": "2026-01-01T00:00:00Z"})
    assert control.read() == {"marketing": PAUSED_AT}
    write(path, {"marketing": "2026-01-01T00:01:00Z"})
    assert control.read() == {"marketing": PAUSED_AT + 60}  # re-read on change
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
    write(path, {"marketing": rfc3339(PAUSED_AT + 120)})
    assert protector.poll_control()  # the watcher would wake the loop
    run(protector, ses, PAUSED_AT + 130)
    assert ses.sending["marketing"]
    assert protector.view().status(PAUSED_AT + 130)["marketing"]["state"] == "cooldown"
    assert not protector.poll_control()  # judged: nothing new


def test_a_request_waiting_for_the_record_wakes_the_loop_once(tmp_path: Path) -> None:
    path = tmp_path / RESUME_FILE_NAME
    ses = FakeSesV2()
    protector = Protector(CONFIG, ses, control=ControlFile(path).read)
    write(path, {"marketing": rfc3339(PAUSED_AT + 120)})
    assert protector.poll_control()
    assert not protector.poll_control()  # not judged yet (no refresh), but the loop was woken for it
    write(path, {"marketing": rfc3339(PAUSED_AT + 180)})
    assert protector.poll_control()  # a newer request wakes it again
    run(protector, ses, PAUSED_AT + 190)
    assert ses.sending["marketing"]


def test_an_old_request_never_resumes_a_later_pause(world: tuple[Path, FakeSesV2, Protector]) -> None:
    path, ses, protector = world
    write(path, {"marketing": rfc3339(PAUSED_AT - 600)})  # e.g. the request that resumed an earlier pause
    for minute in range(1, 4):
        run(protector, ses, PAUSED_AT + 60 * minute)
    assert not ses.sending["marketing"]
    found = protector.view().status(PAUSED_AT + 180)["marketing"]
    assert (found["state"], found["resume_refused"]) == ("paused", None)  # history, not a refusal
    # Asked directly, it is refused the same way the pure decision would.
    accepted, message = protector.request_resume("marketing", PAUSED_AT - 600)
    assert not accepted
    assert "before the pause at 2026-01-01T00:00:00Z" in message


def test_a_request_for_a_set_sesmonitor_did_not_pause_is_refused_visibly(
    world: tuple[Path, FakeSesV2, Protector],
) -> None:
    path, ses, protector = world
    run(protector, ses, PAUSED_AT + 60)
    write(path, {"transactional": rfc3339(PAUSED_AT + 120), "promo": rfc3339(PAUSED_AT + 120)})
    run(protector, ses, PAUSED_AT + 130)
    assert ses.sending == {"marketing": False, "transactional": True}  # nothing written
    refused = protector.view().status(PAUSED_AT + 130)["transactional"]["resume_refused"]
    assert refused == (
        "resume asked at 2026-01-01T00:02:00Z refused: transactional is not paused by sesmonitor"
        " (mail/prod); nothing to resume"
    )
    assert "promo" not in protector.view().status(PAUSED_AT + 130)  # not protected: ignored
