"""spec.tenants through the stand-in over HTTP: selection, the state of each tenant, the cost of a read,
the limit's message, a failed read, and what /metrics and /status serve."""

from __future__ import annotations

import itertools
import math
import threading
import time

import pytest

from sesmonitor import contract, metrics
from support.exporter_checks import get, sample, scrape_metrics

TENANT_CALLS = ("ListTenants", "GetTenant", "ListReputationEntities", "GetReputationEntity")


def seed(ses, count: int, prefix: str = "t") -> None:
    for i in range(count):
        ses.proxy.tenants.add_tenant(f"{prefix}{i:04d}")


def tenant_requests(ses) -> dict[str, int]:
    return {op: ses.proxy.count(op) for op in TENANT_CALLS}


def test_paused_tenants_are_named_with_who_paused_them(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 4)
    tenants = ses.proxy.tenants
    tenants.set_aws_status("t0001", "DISABLED", "Bounce rate 12% above the standard policy", "HIGH")
    tenants.set_aws_status("t0002", "ENABLED", None, "HIGH")
    client = ses.client("sesv2", direct=False)
    client.update_reputation_entity_customer_managed_status(
        ReputationEntityType="RESOURCE",
        ReputationEntityReference=tenants.tenant("t0003").arn,
        SendingStatus="DISABLED",
    )
    ses.proxy.reset()
    exporter = make_exporter(ses, tenants=contract.TenantsConfig())
    assert exporter.tenants is not None
    assert exporter.tenants.read_once()
    samples = scrape_metrics(exporter)
    paused = sample(
        samples, metrics.TENANT_STATUS, tenant="t0001", state="paused_by_aws", status="DISABLED",
        paused_by="aws", cause="Bounce rate 12% above the standard policy", impact="HIGH", policy="standard",
    )  # fmt: skip
    assert paused == 1.0
    assert (
        sample(
            samples, metrics.TENANT_STATUS, tenant="t0003", state="paused_by_customer", paused_by="customer"
        )
        == 1.0
    )
    assert sample(samples, metrics.TENANT_STATUS, tenant="t0002", state="at_risk", impact="HIGH") == 1.0
    assert sample(samples, metrics.TENANTS, state="enabled") == 1.0
    assert sample(samples, metrics.TENANTS, state="paused_by_aws") == 1.0
    assert sample(samples, metrics.TENANTS_UNWATCHED) == 0.0
    assert sample(samples, metrics.TENANTS_READ_FAILED) == 0.0
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="ListTenants", outcome="success") == 1.0
    status = get(exporter, "/status").json()["tenants"]
    assert status["counts"] == {
        "paused_by_aws": 1, "paused_by_customer": 1, "at_risk": 1, "unknown": 0, "reinstated": 0,
        "enabled": 1,
    }  # fmt: skip
    assert [t["name"] for t in status["worst"]] == ["t0001", "t0003", "t0002"]
    assert status["worst"][0]["cause"].startswith("Bounce rate")
    assert status["message"] is None
    # 4 tenants: one page of ListTenants, then each entity on its own (fewer than the listing would cost)
    assert tenant_requests(ses) == {
        "ListTenants": 1,
        "GetTenant": 0,
        "ListReputationEntities": 0,
        "GetReputationEntity": 4,
    }
    assert status["requests_last_read"] == 5


def test_many_tenants_cost_two_pages_per_hundred_and_the_limit_says_so(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 250)
    seed(ses, 3, prefix="other-")
    ses.proxy.reset()
    exporter = make_exporter(ses, tenants=contract.TenantsConfig(prefix="t", limit=200))
    assert exporter.tenants.read_once()
    status = get(exporter, "/status").json()["tenants"]
    assert (status["matching"], status["watched"], status["selection"]) == (250, 200, "prefix t")
    assert "250 tenants match (prefix t), more than spec.tenants.limit 200" in status["message"]
    assert "50 not watched" in status["message"]
    requests = tenant_requests(ses)
    # ListTenants' 3 pages, then the entities of tenants named t... through the ARN prefix: the 200
    # watched ones are on the first 2 pages, where the listing stops
    assert requests == {
        "ListTenants": 3,
        "GetTenant": 0,
        "ListReputationEntities": 2,
        "GetReputationEntity": 0,
    }
    per_tenant_per_10_minutes = sum(requests.values()) / 200 * 600 / contract.TENANTS_READ_INTERVAL_DEFAULT
    assert per_tenant_per_10_minutes <= 1.0
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.TENANTS_MATCHING) == 250.0
    assert sample(samples, metrics.TENANTS_UNWATCHED) == 50.0
    assert len([k for k in samples if k[0] == metrics.TENANT_STATUS]) == 200  # one series per watched tenant


def test_many_listed_names_on_a_large_account_are_read_one_by_one(simulated_ses, make_exporter):
    """Listed names never list the account's entities: the listing would page through all 2,500 tenants
    (25 pages for 30 names), and their IAM policy grants GetTenant and GetReputationEntity only."""
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 2500)
    ses.proxy.reset()
    names = tuple(f"t{i:04d}" for i in range(2470, 2500))
    exporter = make_exporter(ses, tenants=contract.TenantsConfig(names=names))
    assert exporter.tenants.read_once()
    assert tenant_requests(ses) == {
        "ListTenants": 0,
        "GetTenant": 30,
        "ListReputationEntities": 0,
        "GetReputationEntity": 30,
    }
    assert {r.operation for r in ses.proxy.requests()} <= {"GetTenant", "GetReputationEntity"}
    assert get(exporter, "/status").json()["tenants"]["counts"]["enabled"] == 30


def test_listed_names_and_a_missing_one(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 3)
    ses.proxy.tenants.set_aws_status("t0002", "REINSTATED")
    ses.proxy.reset()
    exporter = make_exporter(ses, tenants=contract.TenantsConfig(names=("t0002", "t0000", "gone")))
    assert exporter.tenants.read_once()
    status = get(exporter, "/status").json()["tenants"]
    assert status["missing"] == ["gone"]
    assert status["message"] == "no tenant named gone in this account and region"
    assert (status["matching"], status["watched"]) == (2, 2)
    assert status["counts"]["reinstated"] == 1
    assert status["counts"]["enabled"] == 1
    # Per listed name: GetTenant and GetReputationEntity, 1 request per tenant per 10 minutes at most
    assert tenant_requests(ses) == {
        "ListTenants": 0,
        "GetTenant": 3,
        "ListReputationEntities": 0,
        "GetReputationEntity": 2,
    }


def test_a_failed_read_keeps_the_last_tenants_and_says_why(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 2)
    exporter = make_exporter(ses, tenants=contract.TenantsConfig())
    assert exporter.tenants.read_once()
    ses.proxy.inject("ListTenants", "access_denied")
    assert not exporter.tenants.read_once()
    samples = scrape_metrics(exporter)
    assert sample(samples, metrics.TENANTS_READ_FAILED) == 1.0
    assert sample(samples, metrics.TENANTS, state="enabled") == 2.0
    status = get(exporter, "/status").json()
    assert status["tenants"]["last_error_code"] == "AccessDeniedException"
    assert status["tenants"]["watched"] == 2
    assert "ListTenants" not in status["apis"]  # a failing tenants read never takes readiness away
    assert sample(samples, metrics.AWS_REQUESTS_TOTAL, api="ListTenants", outcome="denied") == 1.0


def test_without_spec_tenants_nothing_is_read_or_served(simulated_ses, make_exporter):
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 2)
    exporter = make_exporter(ses)
    exporter.refresher.refresh_once()
    assert exporter.tenants is None
    assert get(exporter, "/status").json()["tenants"] is None
    assert not any(k[0].startswith("aws_ses_tenant") for k in scrape_metrics(exporter))
    assert sum(tenant_requests(ses).values()) == 0


@pytest.mark.parametrize("pace", [0.05])
def test_requests_are_paced(simulated_ses, make_exporter, pace):
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 3)
    exporter = make_exporter(ses, tenants=contract.TenantsConfig(), pace_seconds=pace)
    ses.proxy.reset()
    assert exporter.tenants.read_once()
    times = sorted(r.at for r in ses.proxy.requests() if r.operation in TENANT_CALLS)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 4
    assert min(gaps) >= pace * 0.9
    assert math.isfinite(sum(gaps))


def test_the_exporters_own_threads_read_tenants_and_findings(simulated_ses, make_exporter):
    """start(): the sesmonitor-tenants and sesmonitor-findings threads, beside the refresh loop, over HTTP."""
    ses = simulated_ses("healthy", hours=0.5)
    seed(ses, 3)
    ses.proxy.tenants.set_aws_status("t0000", "DISABLED", "complaints", "HIGH")
    ses.proxy.set_account(VdmEnabled="ENABLED")
    ses.proxy.recommendations.add(ses.proxy.tenants.tenant("t0000").arn, "COMPLAINT", "HIGH")
    exporter = make_exporter(
        ses, refresh_loop=True, tenants=contract.TenantsConfig(), findings=contract.FindingsConfig()
    )
    deadline = time.monotonic() + 30
    status = get(exporter, "/status").json()
    while time.monotonic() < deadline and (
        status["tenants"]["matching"] is None or status["findings"]["open"] is None
    ):
        time.sleep(0.2)
        status = get(exporter, "/status").json()
    assert status["tenants"]["counts"]["paused_by_aws"] == 1
    assert status["findings"]["open"] == 1
    assert status["findings"]["worst"][0]["resource"] == "t0000"
    names = {t.name for t in threading.enumerate()}
    assert {"sesmonitor-tenants", "sesmonitor-findings", "sesmonitor-refresh"} <= names
    # one read each, then nothing until the next read interval (20 and 30 minutes)
    time.sleep(1.5)
    assert ses.proxy.count("ListTenants") == 1
    assert ses.proxy.count("ListRecommendations") == 1
