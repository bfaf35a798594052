"""spec.protection's tenants: the decision (decide with `tenant_target`), what reads as a pause, the
spec and exporter config, and the IAM statements they render."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sesmonitor.api import SpecError
from sesmonitor.contract import ConfigError, ExporterConfig, ProtectionConfig
from sesmonitor.exporter.model import record as r
from sesmonitor.exporter.model.series import Series
from sesmonitor.exporter.protection import decide as p
from sesmonitor.exporter.protection.tenant_target import TenantProtector, entity_sending
from sesmonitor.render.iam import iam_policy
from sesmonitor.render.workload import exporter_config
from support.monitors import load_monitor

MONITOR = "mail/prod"
OWNER = r.owner_id("cluster-uid", MONITOR)
NOW = 1_800_000_000.0
CONFIG = ProtectionConfig(
    "Enforce", (), 0.10, 0.005, hold_seconds=600, cooldown_seconds=3600, tenants=("acme",)
)
TARGET = p.tenant_target(CONFIG)


def impact(values: list[float | None], *, newest_age: float = 60.0, step: float = 60.0) -> Series:
    """Newest first, one read every `step`; 1.0 is HIGH, 0.0 LOW, None a read that failed."""
    points = [(NOW - newest_age - i * step, v) for i, v in enumerate(values) if v is not None]
    return Series(tuple(t for t, _ in points), tuple(float(v) for _, v in points))


def facts(**changes: Any) -> p.SetFacts:
    base = p.SetFacts("acme", True, True, None, {r.IMPACT: impact([1.0] * 12)})
    return replace(base, **changes)


def decide(the_facts: p.SetFacts, config: ProtectionConfig = CONFIG) -> p.Decision:
    return p.decide(config, OWNER, MONITOR, the_facts, NOW, target=p.tenant_target(config))


@pytest.mark.parametrize(
    ("case", "the_facts", "action"),
    [
        ("HIGH on every read for 11 minutes pauses", facts(), p.PAUSE),
        ("LOW is left alone", facts(rates={r.IMPACT: impact([0.0] * 12)}), p.NONE),
        ("an unlisted tenant", facts(name="globex"), p.NONE),
        ("HIGH for 9 minutes of 10", facts(rates={r.IMPACT: impact([1.0] * 10)}), p.NONE),
        (
            "a LOW read breaks the streak",
            facts(rates={r.IMPACT: impact([1.0] * 5 + [0.0] + [1.0] * 6)}),
            p.NONE,
        ),
        # a read that failed is a gap, not a break: the reads either side still span the hold
        ("a failed read is a gap", facts(rates={r.IMPACT: impact([1.0] * 5 + [None] + [1.0] * 6)}), p.PAUSE),
        ("the newest read is stale", facts(rates={r.IMPACT: impact([1.0] * 12, newest_age=16 * 60)}), p.NONE),
        ("the reputation entity unread", facts(sending_enabled=None), p.NONE),
        ("the record unread", facts(record_known=False), p.NONE),
        ("no read in this pass", facts(rates=None), p.NONE),
        # Once, whoever paused it; never a resume without a person.
        ("paused outside sesmonitor", facts(sending_enabled=False), p.NONE),
        (
            "paused by this monitor",
            facts(sending_enabled=False, record=r.Record(r.PAUSED, NOW - 300, OWNER, r.IMPACT, 1.0)),
            p.NONE,
        ),
        (
            "a re-enable of this monitor's pause starts the cooldown",
            facts(record=r.Record(r.PAUSED, NOW - 3000, OWNER, r.IMPACT, 1.0), pause_confirmed=True),
            p.NOTE_RESUMED,
        ),
        ("in the cooldown", facts(record=r.Record(r.REENABLED, NOW - 600, OWNER)), p.NONE),
        ("after the cooldown", facts(record=r.Record(r.REENABLED, NOW - 3700, OWNER)), p.PAUSE),
        (
            "another monitor is pausing it",
            facts(record=r.Record(r.PAUSING, NOW - 30, "other-cluster/mail/prod")),
            p.NONE,
        ),
    ],
)
def test_the_tenant_decision(case: str, the_facts: p.SetFacts, action: str) -> None:
    assert decide(the_facts).action == action, case


def test_a_pause_names_the_signal_and_dry_run_only_reports_it() -> None:
    decision = decide(facts())
    assert decision.reason == "reputation impact HIGH on every read for 10m or more"
    assert (decision.metric, decision.rate, decision.level) == (r.IMPACT, 1.0, 1.0)
    assert decide(facts(), replace(CONFIG, mode="DryRun")).action == p.WOULD_PAUSE
    assert r.describe_record(r.Record(r.PAUSED, NOW, OWNER, decision.metric, decision.rate)) == (
        "reputation impact HIGH"
    )


def test_the_set_target_judges_sets_and_the_tenant_target_tenants_only() -> None:
    config = replace(CONFIG, configuration_sets=("marketing",))
    as_set = p.decide(config, OWNER, MONITOR, facts(name="acme"), NOW)
    assert as_set.reason == "not a protected configuration set"
    assert decide(facts(name="marketing"), config).reason == "not a protected tenant"
    assert p.set_target(config).kind == p.CONFIGURATION_SET
    assert p.tenant_target(config).kind == p.TENANT


@pytest.mark.parametrize(
    ("entity", "sending"),
    [
        (
            {"CustomerManagedStatus": {"Status": "ENABLED"}, "AwsSesManagedStatus": {"Status": "ENABLED"}},
            True,
        ),
        (
            {"CustomerManagedStatus": {"Status": "DISABLED"}, "AwsSesManagedStatus": {"Status": "ENABLED"}},
            False,
        ),
        (
            {"CustomerManagedStatus": {"Status": "ENABLED"}, "AwsSesManagedStatus": {"Status": "DISABLED"}},
            False,
        ),
        ({"CustomerManagedStatus": {"Status": "REINSTATED"}, "SendingStatusAggregate": "REINSTATED"}, True),
        ({"SendingStatusAggregate": "DISABLED"}, False),
    ],
)
def test_what_reads_as_a_tenant_that_may_send(entity: dict[str, Any], sending: bool) -> None:
    assert entity_sending(entity) is sending


def test_the_exporter_config_carries_the_tenants_and_leaves_them_out_otherwise() -> None:
    monitor = load_monitor({"protection": {"mode": "Enforce", "tenants": ["acme", "globex"]}})
    config = exporter_config(monitor)
    assert config.protection is not None
    assert config.protection.tenants == ("acme", "globex")
    assert config.protection.configuration_sets == ()
    assert ExporterConfig.from_json(config.to_json()) == config
    sets_only = exporter_config(
        load_monitor(
            {"configurationSets": ["m"], "protection": {"mode": "Enforce", "configurationSets": ["m"]}}
        )
    )
    assert "tenants" not in json.loads(sets_only.to_json())["protection"]  # its file (and hash) unchanged


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (
            {"mode": "Enforce", "configuration_sets": [], "bounce_rate": 0.1, "complaint_rate": 0.005},
            "tenants",
        ),
        (
            {
                "mode": "Enforce",
                "configuration_sets": [],
                "tenants": [""],
                "bounce_rate": 0.1,
                "complaint_rate": 0.1,
            },
            "protection.tenants",
        ),
    ],
)
def test_a_bad_exporter_config_names_the_field(doc: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        ProtectionConfig.from_doc(doc)


@pytest.mark.parametrize(
    ("protection", "words"),
    [
        ({"mode": "Enforce"}, "configurationSets or tenants"),
        ({"mode": "Enforce", "tenants": ["not a name"]}, "tenants"),
        ({"mode": "DryRun", "tenants": [f"t{i}" for i in range(21)]}, "tenants"),
    ],
)
def test_a_bad_spec_names_the_field(protection: dict[str, Any], words: str) -> None:
    with pytest.raises(SpecError, match=words):
        load_monitor({"protection": protection})


def statements(mode: str) -> dict[str, dict[str, Any]]:
    monitor = load_monitor({"protection": {"mode": mode, "tenants": ["acme"]}})
    return {s["Sid"]: s for s in iam_policy(monitor)["Statement"]}


def test_iam_enforce_pauses_and_tags_the_listed_tenants_only() -> None:
    found = statements("Enforce")
    protect, tag = found["SesMonitorProtectTenants"], found["SesMonitorTagTenants"]
    assert protect["Action"] == [
        "ses:GetTenant",
        "ses:GetReputationEntity",
        "ses:ListTagsForResource",
        "ses:UpdateReputationEntityCustomerManagedStatus",
    ]
    assert protect["Resource"] == tag["Resource"] == ["arn:aws:ses:us-east-1:*:tenant/acme/*"]
    assert tag["Action"] == ["ses:TagResource"]
    assert tag["Condition"]["Null"] == {"aws:TagKeys": "false"}
    assert "SesMonitorProtectConfigurationSets" not in found


def test_iam_dry_run_reads_the_tenants_and_writes_nothing() -> None:
    found = statements("DryRun")
    assert found["SesMonitorProtectTenants"]["Action"] == [
        "ses:GetTenant",
        "ses:GetReputationEntity",
        "ses:ListTagsForResource",
    ]
    assert "SesMonitorTagTenants" not in found


class FakeSesV2:
    """Just enough SESv2 for the protector's tenant step: one known tenant, every call recorded (the
    arguments keep boto3's names)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.tags: list[dict[str, str]] = []

    def get_tenant(self, TenantName: str) -> dict[str, Any]:
        self.calls.append(f"GetTenant {TenantName}")
        if TenantName != "acme":
            error = {"Error": {"Code": "NotFoundException", "Message": "no such tenant"}}
            raise ClientError(error, "GetTenant")
        return {"Tenant": {"TenantName": "acme", "TenantArn": ARN}}

    def get_reputation_entity(self, **kwargs: str) -> dict[str, Any]:
        self.calls.append(f"GetReputationEntity {kwargs['ReputationEntityType']}")
        status = {"Status": "ENABLED"}
        entity = {"CustomerManagedStatus": status, "AwsSesManagedStatus": status, "ReputationImpact": "HIGH"}
        return {"ReputationEntity": entity}

    def list_tags_for_resource(self, ResourceArn: str) -> dict[str, Any]:
        self.calls.append("ListTagsForResource")
        return {"Tags": list(self.tags)}

    def tag_resource(self, ResourceArn: str, Tags: list[dict[str, str]]) -> None:
        self.calls.append("TagResource")
        # another monitor's intent lands right after ours: the read-back shows theirs
        self.tags = [*Tags[:2], {"Key": "sesmonitor:monitor", "Value": "other-cluster/mail/prod"}, *Tags[3:]]


ARN = "arn:aws:ses:us-east-1:123456789012:tenant/acme/tn-1"


def test_an_unknown_tenant_is_missing_and_a_lost_race_pauses_nothing() -> None:
    config = ExporterConfig(
        monitor=MONITOR, region="us-east-1", protection=replace(CONFIG, tenants=("acme", "nobody"))
    )
    client = FakeSesV2()
    step = TenantProtector(config, client, OWNER, settle_seconds=0.5, sleep=lambda _: None)
    for minute in range(12):
        step.run(NOW + 60 * minute)
    acme, nobody = step.view()
    assert nobody.missing
    assert nobody.reason == "no such tenant (GetTenant: NotFoundException)"
    assert "UpdateReputationEntityCustomerManagedStatus" not in " ".join(client.calls)  # never paused
    assert step.actions()[("acme", "pause", "lost_race")] >= 1
    assert acme.record is not None
    assert acme.record.monitor == "other-cluster/mail/prod"
    assert client.calls.count("GetTenant acme") == 1  # the ARN is read once
    assert {c for c in client.calls if c.startswith("GetReputationEntity")} == {
        "GetReputationEntity RESOURCE"
    }
