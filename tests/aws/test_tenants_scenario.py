"""The demo's `tenants` scenario over HTTP: what its simulated account answers (the SESv2 stand-ins for the
tenant and recommendation calls moto lacks), and what the exporter and the operator's status make of it:
the same words `kubectl describe sesmon` and the alerts' labels show on the real node (tests/e2e)."""

from __future__ import annotations

from sesmonitor import contract, metrics
from sesmonitor.operator.status.tenants import findings_summary, tenants_summary
from support.exporter_checks import FakeClock, get, sample, scrape_metrics
from support.simulated_aws.scenarios import (
    FINDING,
    PAUSE_CAUSE,
    PAUSED_TENANT,
    SCENARIOS,
    SENDING_TENANTS,
    TENANT_PREFIX,
)

TENANTS = (PAUSED_TENANT, *SENDING_TENANTS)


def test_one_tenant_of_three_is_disabled_by_aws_with_one_open_finding(simulated_ses):
    ses = simulated_ses("tenants", hours=0.5)
    sesv2 = ses.client("sesv2")
    listed = sesv2.list_tenants()["Tenants"]
    assert sorted(t["TenantName"] for t in listed) == sorted(TENANTS)
    assert {t["TenantName"]: t["SendingStatus"] for t in listed} == {
        PAUSED_TENANT: "DISABLED",
        **dict.fromkeys(SENDING_TENANTS, "ENABLED"),
    }
    arns = {t["TenantName"]: t["TenantArn"] for t in listed}
    assert all(":us-east-1:" in arn for arn in arns.values())
    entities = {
        name: sesv2.get_reputation_entity(ReputationEntityType="RESOURCE", ReputationEntityReference=arn)[
            "ReputationEntity"
        ]
        for name, arn in arns.items()
    }
    paused = entities[PAUSED_TENANT]
    assert paused["AwsSesManagedStatus"]["Status"] == "DISABLED"
    assert paused["AwsSesManagedStatus"]["Cause"] == PAUSE_CAUSE
    assert paused["CustomerManagedStatus"]["Status"] == "ENABLED"  # AWS paused it, not the customer
    assert (paused["SendingStatusAggregate"], paused["ReputationImpact"]) == ("DISABLED", "HIGH")
    for name in SENDING_TENANTS:
        entity = entities[name]
        assert entity["AwsSesManagedStatus"]["Status"] == "ENABLED"
        assert (entity["SendingStatusAggregate"], entity["ReputationImpact"]) == ("ENABLED", "LOW")
    disabled = sesv2.list_tenants(Filter={"SENDING_STATUS": "DISABLED"})["Tenants"]
    assert [t["TenantName"] for t in disabled] == [PAUSED_TENANT]

    findings = sesv2.list_recommendations(Filter={"STATUS": "OPEN"})["Recommendations"]
    assert [(f["ResourceArn"], f["Type"], f["Impact"]) for f in findings] == [
        (arns[PAUSED_TENANT], "BOUNCE", "HIGH")
    ]
    assert findings[0]["Description"] == FINDING.description
    assert sesv2.get_account()["VdmAttributes"]["VdmEnabled"] == "ENABLED"  # findings need VDM


def test_the_other_scenarios_have_no_tenants_and_no_vdm(simulated_ses):
    """The e2e stack runs every story in one Prometheus: only `tenants` may raise the tenant alerts."""
    assert [name for name, s in SCENARIOS.items() if s.tenants or s.findings or s.vdm_enabled] == ["tenants"]
    sesv2 = simulated_ses("healthy", hours=0.5).client("sesv2")
    assert sesv2.list_tenants()["Tenants"] == []
    assert "VdmAttributes" not in sesv2.get_account()


def test_the_exporter_and_the_status_name_the_paused_tenant_and_the_finding(simulated_ses, make_exporter):
    ses = simulated_ses("tenants", hours=0.5)
    clock = FakeClock(ses.seeded.now)
    exporter = make_exporter(
        ses,
        clock=clock,
        tenants=contract.TenantsConfig(prefix=TENANT_PREFIX),
        findings=contract.FindingsConfig(),
    )
    exporter.refresher.refresh_once(clock.now)  # GetAccount: VDM is on
    assert exporter.tenants is not None
    assert exporter.findings is not None
    assert exporter.tenants.read_once()
    assert exporter.findings.read_once() is True

    samples = scrape_metrics(exporter)
    series = [dict(labels) for name, labels in samples if name == metrics.TENANT_STATUS]
    states = {labels["tenant"]: labels["state"] for labels in series}
    assert len(series) == 3  # one series per tenant
    assert states == {PAUSED_TENANT: "paused_by_aws", **dict.fromkeys(SENDING_TENANTS, "enabled")}
    assert (
        sample(
            samples, metrics.TENANT_STATUS, tenant=PAUSED_TENANT, paused_by="aws", cause=PAUSE_CAUSE,
            impact="HIGH", policy="standard",
        )
        == 1.0
    )  # fmt: skip
    assert sample(samples, metrics.TENANTS, state="paused_by_aws") == 1.0
    assert sample(samples, metrics.TENANTS, state="enabled") == 2.0
    assert sample(samples, metrics.TENANTS, state="at_risk") == 0.0  # paused is worse than at risk
    assert (
        sample(
            samples, metrics.REPUTATION_FINDING_OPEN, type="BOUNCE", impact="HIGH", resource_type="tenant",
            resource=PAUSED_TENANT,
        )
        == 1.0
    )  # fmt: skip
    assert sample(samples, metrics.REPUTATION_FINDINGS, impact="HIGH") == 1.0

    status = get(exporter, "/status").json()
    tenants = tenants_summary(status["tenants"])
    assert tenants["counts"] == {
        "pausedByAWS": 1, "pausedByCustomer": 0, "atRisk": 0, "unknown": 0, "reinstated": 0, "enabled": 2,
    }  # fmt: skip
    assert tenants["worst"] == [f"{PAUSED_TENANT}: paused by AWS ({PAUSE_CAUSE}), impact HIGH"]
    assert (tenants["selection"], tenants["watched"]) == (f"prefix {TENANT_PREFIX}", 3)
    assert "message" not in tenants
    findings = findings_summary(status["findings"])
    assert (findings["open"], findings["high"]) == (1, 1)
    assert findings["worst"] == [f"BOUNCE (HIGH) on tenant {PAUSED_TENANT}"]
