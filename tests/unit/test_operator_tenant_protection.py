"""spec.protection's tenants on the Kubernetes side: status.protectionTenants, the Protection condition
naming a paused or would-be paused tenant, one Event per tenant transition (`protection_events` over
`TENANT`), the resume annotation naming a tenant refused with an Event, and the generated CRD's status
schema accepting the entries the operator writes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator
from test_operator_apply import MONITOR, FakeApi
from test_operator_protection import PAUSED, WATCHING, ProtectedWorld

from sesmonitor.contract import RESUME_FILE_NAME, ProtectedSetStatus
from sesmonitor.operator.protection import SET, TENANT, protection_events, resume_refusal
from sesmonitor.operator.status.protection import protection_condition
from support.monitors import load_monitor

CRD = Path(__file__).resolve().parents[2] / "crds" / "sesmonitor.io_sesmonitors.yaml"
SPEC = {
    "region": "eu-west-1",
    "configurationSets": ["marketing", "transactional"],
    "protection": {
        "mode": "Enforce",
        "configurationSets": ["marketing", "transactional"],
        "tenants": ["acme", "globex"],
    },
}
TENANT_PAUSED = ProtectedSetStatus(**{**PAUSED, "reason": "reputation impact HIGH for 10m or more"})
REENABLED = ProtectedSetStatus(
    **{
        **WATCHING,
        "state": "cooldown",
        "resumed_at": "2026-01-01T02:00:00Z",
        "cooldown_until": "2026-01-01T03:00:00Z",
        "resumed_by": "outside sesmonitor",
    }
)


class TenantWorld(ProtectedWorld):
    def __init__(self, spec: dict[str, Any] = SPEC) -> None:
        super().__init__()
        monitor = copy.deepcopy(MONITOR)
        monitor["spec"] = copy.deepcopy(spec)
        self.api.objects[FakeApi.key(MONITOR)] = monitor
        self.set_targets(acme=WATCHING, globex=WATCHING)

    def set_targets(self, **tenants: ProtectedSetStatus) -> None:
        self.set_sets(marketing=WATCHING, transactional=WATCHING)
        assert self.doc is not None
        self.doc.protection_tenants = dict(tenants)


def test_a_paused_tenant_shows_in_its_own_list_the_condition_and_one_event() -> None:
    world = TenantWorld()
    world.reconciler.reconcile("mail", "prod")
    assert world.condition()["reason"] == "Watching"
    assert world.condition()["message"] == (
        "Enforce: watching marketing, transactional, tenant acme, tenant globex; nothing paused"
    )
    assert [t["tenant"] for t in world.status["protectionTenants"]] == ["acme", "globex"]
    assert world.events == []
    world.set_targets(acme=TENANT_PAUSED, globex=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    condition = world.condition()
    assert (condition["status"], condition["reason"]) == ("False", "Paused")
    assert condition["message"] == (
        "Enforce: tenant acme paused by sesmonitor at 2026-01-01T00:00:00Z (reputation impact HIGH for"
        " 10m or more); sesmonitor never resumes a tenant: re-enable it by hand"
        " (docs/protection.md#tenants)"
    )
    assert world.status["protectionTenants"][0] == {
        "tenant": "acme",
        "state": "paused",
        "pausedAt": "2026-01-01T00:00:00Z",
        "reason": "reputation impact HIGH for 10m or more",
    }
    # status.protection keeps its sets only, each with its configurationSet: its readers are unchanged.
    assert [s["configurationSet"] for s in world.status["protection"]] == ["marketing", "transactional"]
    assert world.events == [
        (
            "Warning",
            "TenantPaused",
            "tenant acme: paused at 2026-01-01T00:00:00Z: reputation impact HIGH for 10m or more",
        )
    ]
    world.reconciler.reconcile("mail", "prod")  # steady: no second Event
    assert len(world.events) == 1
    world.set_targets(acme=REENABLED, globex=WATCHING)  # a person re-enabled it
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1] == (
        "Normal",
        "TenantReenabled",
        "tenant acme sends again (re-enabled at 2026-01-01T02:00:00Z; the cooldown holds)",
    )
    assert world.condition()["message"] == (
        "Enforce: watching marketing, transactional, tenant acme, tenant globex; nothing paused (tenant"
        " acme in cooldown until 2026-01-01T03:00:00Z (resumed by outside sesmonitor))"
    )


def test_tenants_alone_and_an_older_exporter() -> None:
    world = TenantWorld({"region": "eu-west-1", "protection": {"mode": "Enforce", "tenants": ["acme"]}})
    world.set_targets(acme=ProtectedSetStatus(**{**WATCHING, "state": "unknown"}))
    assert world.doc is not None
    world.doc.protection = {}
    world.reconciler.reconcile("mail", "prod")
    assert (world.condition()["status"], world.condition()["reason"]) == ("Unknown", "NoData")
    assert world.condition()["message"] == "Enforce: the exporter has not read the tenants yet"
    assert "protection" not in world.status
    world.doc.protection_tenants = {}  # as an exporter from before tenant protection serves it
    world.reconciler.reconcile("mail", "prod")
    assert "protectionTenants" not in world.status  # removed, not left stale


def test_the_tenant_events_are_the_set_ones_over_another_target() -> None:
    acme = {"tenant": "acme", "state": "watching"}
    would = {**acme, "state": "would_pause", "pausedAt": "t", "reason": "reputation impact HIGH"}
    elsewhere = {**acme, "state": "paused_elsewhere"}
    failed = {**acme, "lastError": "AccessDeniedException: not authorized"}
    shared = {**acme, "alsoProtectedBy": "uid-b/mail/p"}
    cases = [
        ([acme], [would], ("Warning", "WouldPauseTenant", "tenant acme: DryRun: would have paused it")),
        ([acme], [elsewhere], ("Warning", "TenantPausedElsewhere", "tenant acme: paused outside sesmonitor")),
        ([elsewhere], [acme], ("Normal", "TenantReenabled", "tenant acme sends again")),
        ([acme], [failed], ("Warning", "ProtectionFailed", "tenant acme: AccessDeniedException")),
        ([acme], [shared], ("Warning", "ProtectedByAnotherMonitor", "tenant acme is also protected by")),
    ]
    for before, after, (kind, reason, words) in cases:
        (event,) = protection_events(before, after, TENANT)
        assert (event.type, event.reason) == (kind, reason), after
        assert event.message.startswith(words), event.message
        assert protection_events(after, after, TENANT) == []  # steady: nothing again
    # The same entry read as a set names no tenant: the target decides key, words and reasons.
    as_set = {"configurationSet": "acme", "state": "would_pause", "reason": "bounce rate 9%"}
    (event,) = protection_events([], [as_set], SET)
    assert (event.reason, event.message) == (
        "WouldPauseConfigurationSet",
        "configuration set acme: DryRun: would have paused it: bounce rate 9%",
    )
    assert protection_events([], [would], SET)[0].message.startswith("configuration set None")


def test_the_condition_names_would_pause_failed_missing_and_dry_run_tenants() -> None:
    spec = load_monitor(SPEC, name="p", namespace=None).spec
    dry = load_monitor({**SPEC, "protection": {**SPEC["protection"], "mode": "DryRun"}}, name="p").spec
    sets = [{"configurationSet": "marketing", "state": "watching"}]
    would = {"tenant": "acme", "state": "would_pause", "pausedAt": "t", "reason": "reputation impact HIGH"}
    condition = protection_condition(dry, "mail", "p", sets, None, tenants=[would])
    assert condition is not None
    assert (condition.status, condition.reason) == ("False", "WouldPause")
    assert condition.message.startswith("DryRun: would have paused tenant acme at t (reputation impact HIGH)")
    failed = {"tenant": "globex", "state": "watching", "lastError": "AccessDeniedException: no"}
    condition = protection_condition(spec, "mail", "p", sets, None, tenants=[would, failed])
    assert condition is not None
    assert condition.reason == "ActionFailed"
    assert "(tenant globex: AccessDeniedException: no)" in condition.message
    real = {"tenant": "acme", "state": "paused", "pausedAt": "t", "reason": "reputation impact HIGH"}
    gone = {"tenant": "globex", "state": "missing"}
    condition = protection_condition(dry, "mail", "p", sets, None, tenants=[real, gone])
    assert condition is not None
    assert condition.reason == "Paused"
    assert (
        "tenant acme paused by sesmonitor at t (reputation impact HIGH) while in Enforce: a real pause;"
        in (condition.message)
    )
    assert "switch back to Enforce" not in condition.message  # that resumes a set, never a tenant
    assert condition.message.endswith("; not found in SES, so not protected: tenant globex")
    by_aws = {"tenant": "acme", "state": "paused_elsewhere"}
    condition = protection_condition(spec, "mail", "p", sets, None, tenants=[by_aws])
    assert condition is not None
    assert "tenant acme paused by AWS or a person (never resumed by sesmonitor)" in condition.message


def test_an_annotation_naming_a_tenant_is_refused_with_an_event_the_set_beside_it_passed() -> None:
    world = TenantWorld()
    world.set_targets(acme=TENANT_PAUSED, globex=WATCHING)
    world.reconciler.reconcile("mail", "prod")
    world.annotate("tenant:acme, marketing, globex")
    world.reconciler.reconcile("mail", "prod")
    refused = [e for e in world.events if e[1] == "ResumeRefused"]
    assert [e[2].split(":", 1)[0] for e in refused] == ["tenant acme", "tenant globex"]
    assert all("sesmonitor never resumes a tenant; re-enable it by hand" in e[2] for e in refused)
    assert "update-reputation-entity-customer-managed-status" in refused[0][2]
    assert [e[1] for e in world.events if e[1] == "ResumeRequested"] == ["ResumeRequested"]
    assert list(world.requests()) == ["marketing"]  # the exporter never hears of a tenant
    assert world.annotations() == {}  # answered, so removed
    world.annotate("tenant:acme")  # nothing passed: nothing written, still an Event
    world.reconciler.reconcile("mail", "prod")
    assert world.events[-1][:2] == ("Warning", "ResumeRefused")
    assert list(json.loads(world.config_map()["data"][RESUME_FILE_NAME])["requests"]) == ["marketing"]


def test_resume_refusal() -> None:
    protection = load_monitor(SPEC).spec.protection
    assert resume_refusal("marketing", protection) is None
    assert resume_refusal("promo", protection) == (
        "promo is not a protected configuration set (not in spec.protection)"
    )
    unlisted = resume_refusal("tenant:initech", protection)
    assert unlisted is not None
    assert unlisted.startswith("tenant initech: sesmonitor never resumes a tenant (nor is it a protected")
    # A name that is a protected set and a protected tenant is the set's, as it was before tenants.
    both = load_monitor(
        {**SPEC, "protection": {**SPEC["protection"], "tenants": ["marketing"]}}
    ).spec.protection
    assert resume_refusal("marketing", both) is None
    assert resume_refusal("tenant:marketing", both) is not None
    off = load_monitor({"region": "eu-west-1"}).spec.protection
    assert resume_refusal("marketing", off) == (
        "marketing is not a protected configuration set (spec.protection is Off)"
    )


def _status_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    return schema


def test_the_generated_crd_accepts_the_status_the_operator_writes() -> None:
    """The API server's part, offline: the schema validates the status, keeps every field (none pruned),
    and each list's map key is required in its items (the API server needs it in every entry)."""
    world = TenantWorld()
    world.set_targets(acme=TENANT_PAUSED, globex=ProtectedSetStatus(**{**REENABLED, "last_error": "x"}))
    world.reconciler.reconcile("mail", "prod")
    schema = _status_schema()
    Draft4Validator(schema).validate(world.status)
    for key, map_key in (("protection", "configurationSet"), ("protectionTenants", "tenant")):
        lists = schema["properties"][key]
        assert (lists["x-kubernetes-list-type"], lists["x-kubernetes-list-map-keys"]) == ("map", [map_key])
        assert map_key in lists["items"]["required"]
        for entry in world.status[key]:
            assert set(entry) <= set(lists["items"]["properties"]), entry
    tenants = world.status["protectionTenants"]
    assert [t["tenant"] for t in tenants] == ["acme", "globex"]
    assert tenants[1]["lastError"] == "x"
    # A tenant entry is no set entry: status.protection's schema refuses it (its key is required).
    assert not Draft4Validator(schema).is_valid({"protection": tenants})
    assert not Draft4Validator(schema).is_valid({"protectionTenants": [{"state": "paused"}]})
