"""spec.tenants end to end without AWS: validation, the exporter's config, the IAM policy, and the
SesMonitor status the operator writes from the exporter's /status `tenants` (pure)."""

from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path

import pytest

from sesmonitor import contract
from sesmonitor.api import SesMonitorStatus, SpecError, load, parse_spec
from sesmonitor.api import spec as api_spec
from sesmonitor.contract import ExporterStatus, TenantsStatus, TenantStatus, empty_account, empty_rate
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import compute_status, status_patch
from sesmonitor.operator.status.tenants import tenant_line, tenants_summary
from sesmonitor.render.iam import iam_policy
from sesmonitor.render.workload import exporter_config

T0 = datetime.datetime(2026, 12, 4, 22, 0, tzinfo=datetime.UTC)


def monitor(tenants: dict | None):
    spec = {"region": "eu-west-1"}
    if tenants is not None:
        spec["tenants"] = tenants
    return load({"apiVersion": "sesmonitor.io/v1alpha1", "kind": "SesMonitor",
                 "metadata": {"name": "prod", "namespace": "mail"}, "spec": spec})  # fmt: skip


def test_bounds_match_the_exporters_config_file():
    assert api_spec.TENANT_NAMES_MAX == contract.TENANT_NAMES_MAX
    assert api_spec.TENANTS_LIMIT_DEFAULT == contract.TENANTS_LIMIT_DEFAULT
    assert api_spec.TENANTS_LIMIT_MAX == contract.TENANTS_LIMIT_MAX
    assert parse_spec({"region": "eu-west-1", "tenants": {}}).tenants.read_interval == "20m"


@pytest.mark.parametrize(
    ("tenants", "words"),
    [
        ({"names": ["a"], "prefix": "b"}, "either names or prefix"),
        ({"readInterval": "10m"}, "between"),
        ({"limit": 0}, "greater than or equal"),
        ({"limit": 10_001}, "less than or equal"),
        ({"names": ["has space"]}, "pattern"),
        ({"names": ["a", "a"]}, None),  # a set: no repeats (the API server's list-type)
    ],
)
def test_invalid_tenants(tenants, words):
    if words is None:
        schema = json.dumps(api_spec.Tenants.model_json_schema())
        assert '"x-kubernetes-list-type": "set"' in schema
        return
    with pytest.raises(SpecError, match=words):
        parse_spec({"region": "eu-west-1", "tenants": tenants})


def test_exporter_config_and_iam_follow_the_selection():
    assert exporter_config(monitor(None)).tenants is None
    assert "SesMonitorReadTenants" not in json.dumps(iam_policy(monitor(None)))
    config = exporter_config(monitor({"prefix": "acme-", "limit": 50, "readInterval": "1h"})).tenants
    assert config == contract.TenantsConfig(prefix="acme-", limit=50, read_interval_seconds=3600)
    listed = exporter_config(monitor({"names": ["acme", "globex"]})).tenants
    assert listed is not None
    assert listed.names == ("acme", "globex")

    def tenant_actions(tenants):
        (statement,) = [
            s for s in iam_policy(monitor(tenants))["Statement"] if s["Sid"] == "SesMonitorReadTenants"
        ]
        return statement["Action"]

    # exactly the reads each selection makes (sesmonitor.exporter.tenants.reader)
    assert tenant_actions({"names": ["acme"]}) == ["ses:GetTenant", "ses:GetReputationEntity"]
    assert tenant_actions({}) == ["ses:ListTenants", "ses:ListReputationEntities", "ses:GetReputationEntity"]
    assert tenant_actions({"prefix": "a"}) == tenant_actions({})


def one(name, state, paused_by=None, cause=None, impact=None) -> TenantStatus:
    return TenantStatus(name=name, state=state, sending_status="DISABLED" if paused_by else "ENABLED",
                        paused_by=paused_by, cause=cause, impact=impact, policy="standard")  # fmt: skip


def tenants_doc(**overrides) -> TenantsStatus:
    doc = TenantsStatus(
        selection="all", matching=1200, watched=1000, limit=1000,
        counts={"paused_by_aws": 1, "paused_by_customer": 1, "at_risk": 0, "unknown": 0, "reinstated": 0,
                "enabled": 998},
        worst=[one("acme", "paused_by_aws", "aws", "Bounce rate above the standard policy's level", "HIGH"),
               one("globex", "paused_by_customer", "customer")],
        missing=[], message="1200 tenants match (all), more than spec.tenants.limit 1000: ...",
        last_read_time="2026-12-04T21:59:00Z", last_error=None, last_error_code=None, requests_last_read=24,
    )  # fmt: skip
    doc.update(overrides)  # type: ignore[typeddict-item]
    return doc


def test_tenant_lines_name_who_paused_and_why():
    assert tenant_line(tenants_doc()["worst"][0]) == (
        "acme: paused by AWS (Bounce rate above the standard policy's level), impact HIGH"
    )
    assert tenant_line(tenants_doc()["worst"][1]) == "globex: paused by the customer"
    assert tenant_line(one("x", "at_risk", impact="HIGH")) == "x: at risk, impact HIGH"
    long = tenant_line(one("y", "paused_by_aws", "aws", "word " * 60))
    assert long.endswith("…)")
    assert len(long) < 120


def test_summary_counts_message_and_failures():
    summary = tenants_summary(tenants_doc())
    assert summary["counts"]["pausedByAWS"] == 1
    assert summary["counts"]["enabled"] == 998
    assert summary["worst"][0].startswith("acme: paused by AWS")
    assert summary["message"].startswith("1200 tenants match")
    failed = tenants_summary(
        tenants_doc(message=None, last_error="denied", last_error_code="AccessDeniedException")
    )
    assert failed["message"] == "the last read failed (AccessDeniedException): denied"
    assert "matching" not in tenants_summary(tenants_doc(matching=None))


def reading(tenants: TenantsStatus | None) -> ExporterReading:
    doc = ExporterStatus(monitor="mail/prod", region="eu-west-1", ready=True, stale=False,
                         bounce_rate=empty_rate(), complaint_rate=empty_rate(), account=empty_account(),
                         last_refresh_time=None, last_error=None, tenants=tenants)  # fmt: skip
    return ExporterReading(status=doc, url="http://exporter:9435/status")


def status_of(spec_tenants, exporter: ExporterReading, previous=None):
    return compute_status(monitor_key="mail/prod", spec=monitor(spec_tenants).spec, generation=1,
                          outcome=ReconcileOutcome(True), reading=exporter, previous=previous,
                          now=T0)  # fmt: skip


def test_the_status_carries_tenants_only_with_spec_tenants():
    status = status_of({}, reading(tenants_doc()))
    assert status["tenants"]["watched"] == 1000
    SesMonitorStatus.model_validate(status)  # fits the CRD's status schema
    assert "tenants" not in status_of(None, reading(tenants_doc()))
    # the exporter unreachable: the last summary stays
    kept = status_of({}, ExporterReading(error="refused"), previous=status)
    assert kept["tenants"] == status["tenants"]
    # a new read that changes nothing a person sees writes nothing
    again = status_of(
        {}, reading(tenants_doc(last_read_time="2026-12-04T22:19:00Z", requests_last_read=25)), status
    )
    patch = status_patch(status, again)
    assert patch is None or "tenants" not in patch
    assert replace(reading(None).status, tenants=None).tenants is None


def test_the_documented_tenants_policy_is_what_iam_policy_renders():
    documented = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "iam-policy-tenants.json").read_text()
    )
    (rendered,) = [s for s in iam_policy(monitor({}))["Statement"] if s["Sid"] == "SesMonitorReadTenants"]
    assert documented["Statement"] == [rendered]
