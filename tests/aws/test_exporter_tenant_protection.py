"""spec.protection's tenants over real HTTP: the exporter against moto + the fault proxy, whose tenants
stand-in answers GetTenant, GetReputationEntity, UpdateReputationEntityCustomerManagedStatus and the
tagging calls on tenant ARNs (moto 5.2.5 has no tenants).

Three listed tenants: acme and globex with ReputationImpact HIGH, initech LOW; a fourth, hooli, HIGH but
not listed. The hold time is 2 minutes, so the third read a minute apart pauses."""

from __future__ import annotations

import fnmatch
from typing import Any
from urllib.parse import unquote

from sesmonitor import metrics
from sesmonitor.contract import ExporterStatus, ProtectionConfig
from sesmonitor.exporter import Exporter
from sesmonitor.exporter.protection.tenant_target import ONE_AT_A_TIME
from sesmonitor.render.iam import iam_policy
from support.exporter_checks import FakeClock, get, sample, scrape_metrics
from support.monitors import load_monitor

TENANTS = ("acme", "globex", "initech")
UPDATE = "UpdateReputationEntityCustomerManagedStatus"
WRITES = (UPDATE, "TagResource", "UntagResource")


def protection(mode: str = "Enforce") -> ProtectionConfig:
    return ProtectionConfig(mode, (), 0.1, 0.005, hold_seconds=120, cooldown_seconds=3600, tenants=TENANTS)


def start(simulated_ses: Any, make_exporter: Any, mode: str = "Enforce") -> tuple[Any, Exporter, FakeClock]:
    ses = simulated_ses("healthy", hours=0.5)
    for name, impact in (("acme", "HIGH"), ("globex", "HIGH"), ("initech", "LOW"), ("hooli", "HIGH")):
        ses.proxy.tenants.add_tenant(name, impact=impact, tags={"team": "mail"})
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(ses, clock=clock, configuration_sets=(), protection=protection(mode))
    return ses, exporter, clock


def passes(exporter: Exporter, clock: FakeClock, count: int) -> None:
    for _ in range(count):
        exporter.refresher.refresh_once(clock.advance(60))


def status(exporter: Exporter) -> dict[str, Any]:
    return ExporterStatus.from_json(get(exporter, "/status").body).protection_tenants


def writes(ses: Any) -> list[tuple[str, int]]:
    return [(r.operation, r.status) for r in ses.proxy.requests() if r.operation in WRITES]


def customer(ses: Any, name: str) -> str:
    return ses.proxy.tenants.tenant(name).customer.status


def tags(ses: Any, name: str) -> dict[str, str]:
    return dict(ses.proxy.tenants.tenant(name).tags)


def test_dry_run_says_what_it_would_pause_one_at_a_time_and_writes_nothing(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter, "DryRun")
    passes(exporter, clock, 3)
    assert writes(ses) == []
    assert [customer(ses, n) for n in (*TENANTS, "hooli")] == ["ENABLED"] * 4
    found = status(exporter)
    assert sorted(found) == list(TENANTS)  # hooli is not listed: never judged
    assert found["acme"]["state"] == "would_pause"
    assert found["acme"]["reason"] == "reputation impact HIGH"
    assert found["globex"]["state"] == "watching"  # one action per pass, in DryRun too
    assert found["initech"]["state"] == "watching"
    samples = scrape_metrics(exporter)
    would = {"tenant": "acme", "target_kind": "tenant", "action": "would_pause", "configuration_set": ""}
    assert sample(samples, metrics.PROTECTION_ACTIONS_TOTAL, **would) == 1
    passes(exporter, clock, 1)
    assert status(exporter)["globex"]["state"] == "would_pause"
    assert writes(ses) == []
    assert tags(ses, "acme") == {"team": "mail"}


def test_enforce_pauses_one_tenant_records_it_survives_a_restart_and_never_resumes(
    simulated_ses, make_exporter
):
    ses, exporter, clock = start(simulated_ses, make_exporter)
    passes(exporter, clock, 2)
    assert writes(ses) == []  # two reads of HIGH span 1 minute of the 2 held
    passes(exporter, clock, 1)
    # The intent record, the pause, the record: acme only (globex waits for the next pass).
    assert writes(ses) == [("TagResource", 200), (UPDATE, 200), ("TagResource", 200)]
    (update,) = ses.proxy.requests(UPDATE)
    assert unquote(update.path).endswith(
        f"/RESOURCE/{ses.proxy.tenants.tenant('acme').arn}/customer-managed-status"
    )
    assert customer(ses, "acme") == "DISABLED"
    assert customer(ses, "globex") == "ENABLED"
    assert ONE_AT_A_TIME in exporter.protector.view().tenants[1].reason  # type: ignore[union-attr]
    assert tags(ses, "acme")["sesmonitor:state"] == "paused"
    assert tags(ses, "acme")["sesmonitor:metric"] == "ReputationImpact"
    assert tags(ses, "acme")["team"] == "mail"  # a team's tag stays
    found = status(exporter)
    assert found["acme"]["state"] == "paused"
    assert found["acme"]["sending_enabled"] is False
    paused_at = found["acme"]["paused_at"]
    samples = scrape_metrics(exporter)
    paused = {"tenant": "acme", "target_kind": "tenant", "action": "pause", "outcome": "success"}
    assert sample(samples, metrics.PROTECTION_ACTIONS_TOTAL, **paused) == 1

    ses.proxy.tenants.set_aws_status("acme", "ENABLED", impact="LOW")  # the impact comes down
    ses.proxy.tenants.set_aws_status("globex", "ENABLED", impact="LOW")
    ses.proxy.reset()
    passes(exporter, clock, 5)
    assert writes(ses) == []  # never resumes on its own
    assert customer(ses, "acme") == "DISABLED"

    exporter.stop()
    restarted = restart(ses, make_exporter, clock)
    passes(restarted, clock, 3)
    assert writes(ses) == []  # no second pause, no resume
    again = status(restarted)
    assert again["acme"]["state"] == "paused"
    assert again["acme"]["paused_at"] == paused_at
    assert customer(ses, "acme") == "DISABLED"


def restart(ses: Any, make_exporter: Any, clock: FakeClock) -> Exporter:
    return make_exporter(ses, clock=clock, configuration_sets=(), protection=protection())


def test_a_hand_re_enable_is_recorded_and_the_cooldown_holds(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter)
    passes(exporter, clock, 3)
    assert customer(ses, "acme") == "DISABLED"
    ses.proxy.tenants.set_aws_status("globex", "ENABLED", impact="LOW")
    # A person re-enables it, as docs/protection.md says (the impact is still HIGH).
    ses.client("sesv2").update_reputation_entity_customer_managed_status(
        ReputationEntityType="RESOURCE",
        ReputationEntityReference=ses.proxy.tenants.tenant("acme").arn,
        SendingStatus="ENABLED",
    )
    ses.proxy.reset()
    passes(exporter, clock, 5)
    assert writes(ses) == [("TagResource", 200)]  # the record `reenabled`; no pause in the cooldown
    assert tags(ses, "acme")["sesmonitor:state"] == "reenabled"
    found = status(exporter)["acme"]
    assert found["state"] == "cooldown"
    assert found["resumed_by"] == "outside sesmonitor"
    assert customer(ses, "acme") == "ENABLED"


def test_a_denied_pause_is_shown_and_leaves_no_record_claiming_it(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter)
    ses.proxy.inject(UPDATE, "access_denied", times=1)
    passes(exporter, clock, 3)
    found = status(exporter)["acme"]
    assert found["state"] == "watching"
    assert found["last_error_code"] == "AccessDeniedException"
    assert "nothing was paused" in found["last_error"]
    assert customer(ses, "acme") == "ENABLED"
    assert tags(ses, "acme")["sesmonitor:state"] == "abandoned"
    samples = scrape_metrics(exporter)
    failed = {"tenant": "acme", "target_kind": "tenant", "action": "pause", "code": "AccessDeniedException"}
    assert sample(samples, metrics.PROTECTION_ACTION_FAILED, **failed) == 1
    denied = {"tenant": "acme", "target_kind": "tenant", "action": "pause", "outcome": "denied"}
    assert sample(samples, metrics.PROTECTION_ACTIONS_TOTAL, **denied) == 1
    assert customer(ses, "globex") == "ENABLED"  # the failed action was this pass's one
    passes(exporter, clock, 1)  # after the backoff (one refresh interval): paused, the failure gone
    assert customer(ses, "acme") == "DISABLED"
    assert status(exporter)["acme"]["state"] == "paused"
    assert sample(scrape_metrics(exporter), metrics.PROTECTION_ACTION_FAILED, tenant="acme") is None


def test_iam_policy_covers_exactly_what_tenant_protection_calls(simulated_ses, make_exporter):
    ses, exporter, clock = start(simulated_ses, make_exporter)
    passes(exporter, clock, 4)  # acme, then globex paused
    monitor = load_monitor({"protection": {"mode": "Enforce", "tenants": list(TENANTS)}})
    statements = {s["Sid"]: s for s in iam_policy(monitor)["Statement"]}
    protect, tag = statements["SesMonitorProtectTenants"], statements["SesMonitorTagTenants"]
    allowed = {*protect["Action"], *tag["Action"]}
    tenant_calls = {"GetTenant", "GetReputationEntity", UPDATE, "TagResource", "ListTagsForResource"}
    called = {f"ses:{r.operation}" for r in ses.proxy.requests() if r.operation in tenant_calls}
    assert called == allowed
    assert protect["Resource"] == tag["Resource"]
    arns = [ses.proxy.tenants.tenant(name).arn for name in ("acme", "globex")]
    for arn in arns:  # the listed tenants' ARNs match the statements' resources
        assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in protect["Resource"])
    assert not any(
        fnmatch.fnmatchcase(ses.proxy.tenants.tenant("hooli").arn, pattern) for pattern in protect["Resource"]
    )
    (pattern,) = tag["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]
    written = [k for k in tags(ses, "acme") if k != "team"]
    assert len(written) >= 3
    assert all(fnmatch.fnmatchcase(k, pattern) for k in written), written
