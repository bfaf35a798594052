"""spec.findings' pure parts: a finding's resource, parsing, the worst first, /status and its messages,
the SesMonitor status, the config file, the spec's bounds and the IAM policy."""

from __future__ import annotations

import datetime
import json

import pytest

from sesmonitor import contract
from sesmonitor.api import SesMonitorStatus, SpecError, load, parse_spec
from sesmonitor.api import spec as api_spec
from sesmonitor.exporter.findings.reader import parse_finding
from sesmonitor.exporter.model.findings import Finding, FindingsReading, FindingsView, resource_of, worst
from sesmonitor.exporter.serving.finding_status import VDM_OFF, findings_status
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import compute_status
from sesmonitor.operator.status.tenants import finding_line, findings_summary
from sesmonitor.render.iam import iam_policy
from sesmonitor.render.workload import exporter_config

HEAD = "arn:aws:ses:us-east-1:123456789012:"
CONFIG = contract.FindingsConfig()


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (HEAD + "identity/example.com", ("identity", "example.com")),
        (HEAD + "configuration-set/marketing", ("configuration-set", "marketing")),
        (HEAD + "tenant/acme/tn-1", ("tenant", "acme")),
        ("arn:aws:ses:us-east-1:123456789012", ("account", "arn:aws:ses:us-east-1:123456789012")),
        ("not an arn", ("account", "not an arn")),
    ],
)
def test_resource_of(arn, expected):
    assert resource_of(arn) == expected


def test_parse_only_open_findings():
    created = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    doc = {"ResourceArn": HEAD + "identity/a", "Type": "DKIM", "Status": "OPEN", "Impact": "HIGH",
           "CreatedTimestamp": created, "Description": "d"}  # fmt: skip
    finding = parse_finding(doc)
    assert finding == Finding(HEAD + "identity/a", "DKIM", "HIGH", "d", 1796083200.0)
    assert parse_finding({**doc, "Status": "FIXED"}) is None
    assert parse_finding({**doc, "Type": None}) is None


def test_worst_is_high_first_then_oldest():
    findings = (
        Finding("a", "SPF", "LOW", None, 1.0),
        Finding("b", "DKIM", "HIGH", None, 5.0),
        Finding("c", "BOUNCE", "HIGH", None, 2.0),
        Finding("d", "BIMI", None, None, None),
    )
    assert [f.type for f in worst(findings, 3)] == ["BOUNCE", "DKIM", "SPF"]


def test_status_messages():
    off = findings_status(FindingsView(vdm_enabled=False), CONFIG)
    assert off["message"] == VDM_OFF
    assert off["open"] is None
    assert "waiting for GetAccount" in findings_status(FindingsView(), CONFIG)["message"]
    reading = FindingsReading((Finding(HEAD + "identity/a", "DKIM", "HIGH", None, 1.0),), 5)
    over = findings_status(FindingsView(reading, True, 10.0, 10.0, True), contract.FindingsConfig(limit=1))
    assert over["message"] == "5 findings are open, more than spec.findings.limit 1: 1 served"
    assert over["high"] == 1
    assert over["worst"][0]["resource"] == "a"


def test_operator_summary():
    doc = contract.FindingsStatus(
        vdm_enabled=True, open=2, high=1,
        worst=[contract.FindingStatus(type="DKIM", impact="HIGH", resource_type="identity",
                                      resource="example.com", resource_arn="x", description=None)],
        message=None, last_read_time=None, last_error="Rate exceeded",
        last_error_code="TooManyRequestsException",
    )  # fmt: skip
    summary = findings_summary(doc)
    assert summary == {
        "open": 2,
        "high": 1,
        "worst": ["DKIM (HIGH) on identity example.com"],
        "message": "the last read failed (TooManyRequestsException): Rate exceeded",
    }
    assert finding_line({**doc["worst"][0], "impact": None}) == "DKIM on identity example.com"


def test_config_spec_and_iam():
    assert (api_spec.FINDINGS_LIMIT_DEFAULT, api_spec.FINDINGS_LIMIT_MAX) == (
        contract.FINDINGS_LIMIT_DEFAULT, contract.FINDINGS_LIMIT_MAX,
    )  # fmt: skip
    base = contract.ExporterConfig(
        monitor="m/n", region="us-east-1", findings=contract.FindingsConfig(limit=5)
    )
    assert contract.ExporterConfig.from_json(base.to_json()) == base
    for bad in ({"limit": 0}, {"read_interval_seconds": 60}, {"x": 1}):
        doc = json.loads(base.to_json())
        doc["findings"] = bad
        with pytest.raises(contract.ConfigError, match="findings"):
            contract.ExporterConfig.from_json(json.dumps(doc))
    with pytest.raises(SpecError, match="between"):
        parse_spec({"region": "us-east-1", "findings": {"readInterval": "5m"}})
    monitor = load({"apiVersion": "sesmonitor.io/v1alpha1", "kind": "SesMonitor",
                    "metadata": {"name": "prod", "namespace": "mail"},
                    "spec": {"region": "us-east-1", "findings": {}}})  # fmt: skip
    assert exporter_config(monitor).findings == contract.FindingsConfig(read_interval_seconds=1800, limit=200)
    (statement,) = [s for s in iam_policy(monitor)["Statement"] if s["Sid"] == "SesMonitorReadFindings"]
    assert statement["Action"] == ["ses:ListRecommendations"]


def test_the_sesmonitor_status_carries_findings_only_with_spec_findings():
    doc = findings_status(FindingsView(vdm_enabled=False), CONFIG)
    exporter = contract.ExporterStatus(
        monitor="mail/prod", region="us-east-1", ready=True, stale=False, bounce_rate=contract.empty_rate(),
        complaint_rate=contract.empty_rate(), account=contract.empty_account(), last_refresh_time=None,
        last_error=None, findings=doc,
    )  # fmt: skip

    def status(spec):
        monitor = load({"apiVersion": "sesmonitor.io/v1alpha1", "kind": "SesMonitor",
                        "metadata": {"name": "prod", "namespace": "mail"}, "spec": spec})  # fmt: skip
        return compute_status(
            monitor_key="mail/prod", spec=monitor.spec, generation=1, outcome=ReconcileOutcome(True),
            reading=ExporterReading(status=exporter, url="http://x/status"), previous=None,
            now=datetime.datetime(2026, 12, 4, tzinfo=datetime.UTC),
        )  # fmt: skip

    with_findings = status({"region": "us-east-1", "findings": {}})
    assert with_findings["findings"]["message"].startswith("Virtual Deliverability Manager is not enabled")
    SesMonitorStatus.model_validate(with_findings)
    assert "findings" not in status({"region": "us-east-1"})
