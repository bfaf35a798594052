"""spec.protection over real HTTP: the exporter against moto + the fault proxy, whose stand-in answers
PutConfigurationSetSendingOptions (moto lacks it); TagResource / ListTagsForResource are moto's own.

Scenario `protect`: marketing at 12% bounces, transactional at 0.5%, steady mail for 3 hours."""

from __future__ import annotations

import dataclasses
import fnmatch
import http.client
import json
import time
from pathlib import Path
from typing import Any

from sesmonitor import metrics
from sesmonitor.contract import RESUME_FILE_NAME, ExporterStatus, ProtectionConfig
from sesmonitor.exporter import Exporter
from sesmonitor.exporter.model.protection import rfc3339
from support.exporter_checks import FakeClock, get, sample, scrape_metrics
from support.monitors import load_monitor
from support.moto_ses import SCENARIOS
from support.waiting import wait_for

SETS = ("marketing", "transactional")
WRITES = ("PutConfigurationSetSendingOptions", "TagResource")


def protection(mode: str = "Enforce") -> ProtectionConfig:
    return ProtectionConfig(mode, SETS, bounce_rate=0.10, complaint_rate=0.005, hold_seconds=600)


def start(
    simulated_ses: Any, make_exporter: Any, mode: str = "Enforce", control_dir: Path | None = None
) -> tuple[Any, Exporter, FakeClock]:
    ses = simulated_ses("protect", configuration_sets=list(SETS))
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, protection=protection(mode), control_dir=control_dir)
    return ses, exporter, clock


def status(exporter: Exporter) -> dict[str, Any]:
    return ExporterStatus.from_json(get(exporter, "/status").body).protection


def ask_resume(control_dir: Path, clock: FakeClock, *names: str) -> None:
    """What the operator does for `sesmonitor.io/resume`: the ConfigMap's resume.json, as kubelet mounts
    it (a new file swapped in), asked now."""
    path = control_dir / RESUME_FILE_NAME
    try:
        requests = json.loads(path.read_text())["requests"]
    except FileNotFoundError:
        requests = {}
    requests.update({name: rfc3339(clock.now) for name in names})
    path.with_suffix(".new").write_text(json.dumps({"requests": requests}))
    path.with_suffix(".new").replace(path)


def post(exporter: Exporter, path: str) -> int:
    host, port = exporter.address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", path, body=json.dumps({"configuration_set": "marketing"}))
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def writes(ses: Any) -> list[tuple[str, int]]:
    return [(r.operation, r.status) for r in ses.proxy.requests() if r.operation in WRITES]


def test_dry_run_makes_no_write_and_reports_once(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter, "DryRun")
    for _ in range(3):
        exporter.refresher.refresh_once(clock.advance(60))
    assert writes(ses) == []
    assert ses.proxy.sending_enabled("marketing")
    found = status(exporter)
    assert found["marketing"]["state"] == "would_pause"
    assert found["marketing"]["reason"] == "bounce rate 12.00%"
    assert found["transactional"]["state"] == "watching"
    samples = scrape_metrics(exporter)
    actions = metrics.PROTECTION_ACTIONS_TOTAL
    assert sample(samples, actions, configuration_set="marketing", action="would_pause") == 1
    assert sample(samples, metrics.CONFIGURATION_SET_SENDING_ENABLED, configuration_set="marketing") == 1


def test_enforce_pauses_the_offending_set_once_and_survives_a_restart(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter)
    exporter.refresher.refresh_once(clock.now)
    assert writes(ses) == [("PutConfigurationSetSendingOptions", 200), ("TagResource", 200)]
    assert not ses.proxy.sending_enabled("marketing")
    assert ses.proxy.sending_enabled("transactional")  # the healthy set untouched
    puts = ses.proxy.requests("PutConfigurationSetSendingOptions")
    assert len(puts) == 1
    for _ in range(3):  # acts once, not every refresh
        exporter.refresher.refresh_once(clock.advance(60))
    assert len(writes(ses)) == 2
    found = status(exporter)
    assert found["marketing"]["state"] == "paused"
    assert found["marketing"]["sending_enabled"] is False
    assert found["transactional"]["state"] == "watching"
    paused_at = found["marketing"]["paused_at"]
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.CONFIGURATION_SET_SENDING_ENABLED, configuration_set="marketing") == 0
    assert sample(samples, metrics.CONFIGURATION_SET_SENDING_ENABLED, configuration_set="transactional") == 1
    assert (
        sample(
            samples,
            metrics.CONFIGURATION_SET_PAUSED_INFO,
            configuration_set="marketing",
            paused_by="sesmonitor",
            paused_at=paused_at,
        )
        == 1
    )
    # The record is the set's tags, as moto keeps them.
    tags = ses.client("sesv2", direct=True).list_tags_for_resource(
        ResourceArn="arn:aws:ses:us-east-1:123456789012:configuration-set/marketing"
    )["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["sesmonitor:state"] == "paused"

    exporter.stop()
    restarted = make_exporter(ses, clock=clock, protection=protection())
    ses.proxy.reset()
    restarted.refresher.refresh_once(clock.advance(60))
    assert writes(ses) == []  # no second pause
    assert ses.proxy.count("ListTagsForResource") == 2  # read back, once per set
    again = status(restarted)
    assert again["marketing"]["state"] == "paused"
    assert again["marketing"]["paused_at"] == paused_at


def test_a_denied_pause_is_reported_never_raised(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter)
    ses.proxy.inject("PutConfigurationSetSendingOptions", "access_denied", times=1)
    results = exporter.refresher.refresh_once(clock.now)
    assert all(results.values())  # monitoring goes on
    found = status(exporter)["marketing"]
    assert found["state"] == "watching"
    assert found["last_error_code"] == "AccessDeniedException"
    samples = scrape_metrics(exporter)
    failed = {"configuration_set": "marketing", "action": "pause", "code": "AccessDeniedException"}
    assert sample(samples, metrics.PROTECTION_ACTION_FAILED, **failed) == 1
    actions = metrics.PROTECTION_ACTIONS_TOTAL
    assert sample(samples, actions, configuration_set="marketing", action="pause", outcome="denied") == 1
    # The next refresh tries again, succeeds, and the failure is gone.
    exporter.refresher.refresh_once(clock.advance(60))
    assert status(exporter)["marketing"]["state"] == "paused"
    assert (
        sample(scrape_metrics(exporter), metrics.PROTECTION_ACTION_FAILED, configuration_set="marketing")
        is None
    )


def test_resume_restores_sending_and_the_cooldown_holds(simulated_ses, make_exporter, tmp_path):
    ses, exporter, clock = start(simulated_ses, make_exporter, control_dir=tmp_path)
    exporter.refresher.refresh_once(clock.now)
    assert not ses.proxy.sending_enabled("marketing")
    clock.advance(30)
    ask_resume(tmp_path, clock, "transactional")  # not paused: nothing to resume
    exporter.refresher.refresh_once(clock.advance(30))
    refused = status(exporter)["transactional"]["resume_refused"]
    assert "transactional is not paused by sesmonitor" in refused
    ask_resume(tmp_path, clock, "marketing")
    exporter.refresher.refresh_once(clock.advance(60))
    assert ses.proxy.sending_enabled("marketing")
    found = status(exporter)["marketing"]
    assert found["state"] == "cooldown"
    assert found["resumed_at"] is not None
    assert found["resume_refused"] is None
    for _ in range(3):  # still at 12%, but the cooldown holds
        exporter.refresher.refresh_once(clock.advance(60))
    assert ses.proxy.sending_enabled("marketing")
    assert len(ses.proxy.requests("PutConfigurationSetSendingOptions")) == 2  # the pause and the resume


def test_a_set_paused_by_someone_else_is_never_resumed(simulated_ses, make_exporter, tmp_path):
    ses, exporter, clock = start(simulated_ses, make_exporter, control_dir=tmp_path)
    ses.proxy.set_sending("marketing", False)  # paused by hand, outside sesmonitor
    exporter.refresher.refresh_once(clock.now)
    clock.advance(30)
    ask_resume(tmp_path, clock, "marketing")
    exporter.refresher.refresh_once(clock.advance(60))
    assert writes(ses) == []
    found = status(exporter)["marketing"]
    assert found["state"] == "paused_elsewhere"
    assert "not paused by sesmonitor" in found["resume_refused"]
    samples = scrape_metrics(exporter)
    assert (
        sample(
            samples, metrics.CONFIGURATION_SET_PAUSED_INFO, configuration_set="marketing", paused_by="unknown"
        )
        == 1
    )


def test_iam_policy_covers_exactly_what_protection_calls(simulated_ses, make_exporter, tmp_path):
    from sesmonitor.render.iam import iam_policy

    ses, exporter, clock = start(simulated_ses, make_exporter, control_dir=tmp_path)
    exporter.refresher.refresh_once(clock.now)  # pauses marketing
    clock.advance(30)
    ask_resume(tmp_path, clock, "marketing")
    exporter.refresher.refresh_once(clock.advance(60))  # resumes it
    assert ses.proxy.sending_enabled("marketing")
    monitor = load_monitor(
        {"configurationSets": list(SETS), "protection": {"mode": "Enforce", "configurationSets": list(SETS)}}
    )
    allowed = {a for s in iam_policy(monitor)["Statement"] for a in s["Action"]}
    prefix = {"monitoring": "cloudwatch", "ses": "ses", "sts": "sts"}
    called = {f"{prefix[r.service]}:{r.operation}" for r in ses.proxy.requests()}
    # GetCallerIdentity (the account ID for the sets' ARNs) is allowed to every identity.
    assert called - {"sts:GetCallerIdentity"} == allowed
    for protect in iam_policy(monitor)["Statement"][-2:]:
        assert protect["Resource"] == [f"arn:aws:ses:us-east-1:*:configuration-set/{name}" for name in SETS]
    # The tag write is allowed for sesmonitor's keys only: every key the exporter wrote passes it.
    (tag,) = [s for s in iam_policy(monitor)["Statement"] if "ses:TagResource" in s["Action"]]
    (pattern,) = tag["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]
    written = ses.client("sesv2", direct=True).list_tags_for_resource(
        ResourceArn="arn:aws:ses:us-east-1:123456789012:configuration-set/marketing"
    )["Tags"]
    assert len(written) >= 3
    assert all(fnmatch.fnmatchcase(t["Key"], pattern) for t in written), written


def test_after_a_resume_protection_still_judges_on_recent_datapoints(simulated_ses, make_exporter, tmp_path):
    """The resume's extra GetConfigurationSet pass moves that API's schedule away from GetMetricData's;
    protection then judges on the datapoints read within the last interval. With no cooldown, a set
    still at 12% is paused again at the next pass."""
    ses = simulated_ses("protect", configuration_sets=list(SETS))
    clock = FakeClock(ses.seeded.now)
    config = ProtectionConfig("Enforce", SETS, 0.10, 0.005, hold_seconds=600, cooldown_seconds=0)
    exporter = make_exporter(ses, clock=clock, protection=config, control_dir=tmp_path)
    start = clock.now
    exporter.refresher.refresh_once(start)
    clock.advance(5)
    ask_resume(tmp_path, clock, "marketing")
    assert exporter.protector is not None
    assert exporter.protector.poll_control()  # what wakes the loop
    exporter.refresher.refresh_once(start + 10, apis=["GetConfigurationSet"])  # what the wake-up does
    assert ses.proxy.sending_enabled("marketing")
    exporter.refresher.refresh_due(start + 60)  # GetMetricData and GetAccount only
    assert ses.proxy.sending_enabled("marketing")
    exporter.refresher.refresh_due(start + 70)  # GetConfigurationSet only: data from 10s ago
    assert not ses.proxy.sending_enabled("marketing")
    assert len(ses.proxy.requests("PutConfigurationSetSendingOptions")) == 3


def test_the_port_takes_no_resume(simulated_ses, make_exporter):
    """Any pod reaching the Service could send it: the port is read-only, a resume travels by file."""
    ses, exporter, clock = start(simulated_ses, make_exporter)
    exporter.refresher.refresh_once(clock.now)
    assert post(exporter, "/protection/resume") == 405
    exporter.refresher.refresh_once(clock.advance(60))
    assert not ses.proxy.sending_enabled("marketing")
    assert len(ses.proxy.requests("PutConfigurationSetSendingOptions")) == 1  # the pause alone


def test_the_watcher_wakes_the_loop_for_a_new_request(simulated_ses, make_exporter, tmp_path):
    """With the refresh loop running (a long interval), a request is acted on within seconds."""
    ses = simulated_ses("protect", configuration_sets=list(SETS))
    exporter = make_exporter(
        ses, protection=protection(), control_dir=tmp_path, refresh_loop=True, refresh_interval_seconds=3600
    )
    wait_for(lambda: not ses.proxy.sending_enabled("marketing"), timeout=30, what="the pause")
    path = tmp_path / RESUME_FILE_NAME
    path.write_text(json.dumps({"requests": {"marketing": rfc3339(time.time())}}))
    wait_for(lambda: ses.proxy.sending_enabled("marketing"), timeout=30, what="the resume")
    assert wait_for(lambda: status(exporter)["marketing"]["state"] == "cooldown", timeout=10, what="cooldown")


def test_a_missing_set_is_its_own_state_and_the_others_are_protected(simulated_ses, make_exporter):
    """A protected set SES does not have (deleted, or misspelled in the spec) beside marketing at 9%
    bounces (its level 8%). Before, GetConfigurationSet for every set was one step: the
    NotFoundException failed it, protection skipped every set (marketing showed `unknown` and sent on)
    and the step backed off."""
    nine = dataclasses.replace(
        SCENARIOS["protect"], set_rates={"marketing": (0.09, 0.0004), "transactional": (0.005, 0.0001)}
    )
    ses = simulated_ses(nine, configuration_sets=list(SETS))
    clock = FakeClock(ses.seeded.now)
    sets = (*SETS, "deleted")
    config = ProtectionConfig("Enforce", sets, bounce_rate=0.08, complaint_rate=0.005, hold_seconds=600)
    exporter = make_exporter(ses, clock=clock, protection=config, configuration_sets=sets)
    results = exporter.refresher.refresh_once(clock.now)
    assert results["GetConfigurationSet"]  # a missing set is not a failed read
    assert not ses.proxy.sending_enabled("marketing")
    assert ses.proxy.sending_enabled("transactional")
    doc = ExporterStatus.from_json(get(exporter, "/status").body)
    assert doc.configuration_sets_missing == ["deleted"]
    assert doc.protection["deleted"]["state"] == "missing"
    assert doc.protection["marketing"]["state"] == "paused"
    assert doc.protection["marketing"]["reason"] == "bounce rate 9.00%"
    assert doc.protection["transactional"]["state"] == "watching"
    assert doc.apis["GetConfigurationSet"]["consecutive_failures"] == 0
    assert doc.ready
    samples = scrape_metrics(exporter)
    missing = metrics.CONFIGURATION_SET_MISSING
    assert sample(samples, missing, configuration_set="deleted") == 1
    assert sample(samples, missing, configuration_set="marketing") == 0
    assert sample(samples, metrics.CONFIGURATION_SET_SENDING_ENABLED, configuration_set="deleted") is None
    # Nothing but its read touches the missing set: no tag read, no write; and no backoff.
    assert ses.proxy.count("ListTagsForResource") == 2  # marketing's and transactional's
    assert exporter.refresher.next_due["GetConfigurationSet"] == clock.now + 60
    # Created after all (the typo fixed in SES instead): read, judged, watched at the next pass.
    ses.client("sesv2", direct=True).create_configuration_set(ConfigurationSetName="deleted")
    exporter.refresher.refresh_once(clock.advance(60))
    doc = ExporterStatus.from_json(get(exporter, "/status").body)
    assert doc.configuration_sets_missing == []
    assert doc.protection["deleted"]["state"] == "watching"
    assert sample(scrape_metrics(exporter), missing, configuration_set="deleted") == 0
