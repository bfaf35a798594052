"""docs/iam-policy.json lists exactly the AWS operations the exporter calls, and nothing more."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.credentials import DeferredRefreshableCredentials

from sesmonitor.exporter.aws.clients import make_session
from support.exporter_checks import get

POLICY = Path(__file__).resolve().parents[2] / "docs" / "iam-policy.json"
# botocore service id -> IAM action prefix (CloudWatch signs as "monitoring" but its IAM prefix differs)
IAM_PREFIX = {"cloudwatch": "cloudwatch", "sesv2": "ses", "sts": "sts"}


def policy_actions() -> set[str]:
    doc = json.loads(POLICY.read_text())
    actions: set[str] = set()
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        # GetMetricData and GetAccount support no resource-level permissions; GetConfigurationSet is
        # limited to configuration sets (the exporter reads only those listed in the spec).
        resource = "arn:aws:ses:*:*:configuration-set/*" if listed == ["ses:GetConfigurationSet"] else "*"
        assert statement["Resource"] == resource
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def record_calls(clients: Any) -> set[str]:
    called: set[str] = set()

    def on_call(model: Any, **_: Any) -> None:
        service = model.service_model.service_id.hyphenize()
        called.add(f"{IAM_PREFIX[service]}:{model.name}")

    for client in (clients.cloudwatch, clients.sesv2):
        client.meta.events.register("before-call.*.*", on_call)
    return called


def test_policy_lists_exactly_the_operations_a_full_refresh_calls(simulated_ses, make_exporter):
    ses = simulated_ses("seed", configuration_sets=["marketing"])
    exporter = make_exporter(ses)
    called = record_calls(exporter.clients)
    for _ in range(2):
        assert exporter.refresher.refresh_once() == {
            "GetConfigurationSet": True,
            "GetMetricData": True,
            "GetAccount": True,
        }
        for path in ("/metrics", "/status", "/readyz", "/healthz"):
            get(exporter, path)
    assert (
        called
        == policy_actions()
        == {"cloudwatch:GetMetricData", "ses:GetAccount", "ses:GetConfigurationSet"}
    )
    # The same, seen on the wire.
    assert {(r.service, r.operation) for r in ses.proxy.requests()} == {
        ("monitoring", "GetMetricData"),
        ("ses", "GetAccount"),
        ("ses", "GetConfigurationSet"),
    }


def test_assumed_role_adds_only_sts_assume_role_and_refreshes_itself(simulated_ses, make_exporter):
    ses = simulated_ses("healthy")
    role = "arn:aws:iam::123456789012:role/sesmonitor-reader"
    exporter = make_exporter(ses, role_arn=role, external_id="ext-123")
    assert exporter.refresher.refresh_once() == {"GetMetricData": True, "GetAccount": True}
    wire = ses.proxy.requests()
    assert [r.operation for r in wire] == ["AssumeRole", "GetMetricData", "GetAccount"]
    assume = wire[0]
    assert assume.access_key == "testing"  # the base identity from the standard chain
    # The data calls are signed with the role's temporary credentials, not the base identity's.
    assert {r.access_key for r in wire[1:]} != {"testing"}
    assert all(r.access_key.startswith("ASIA") for r in wire[1:])
    assert {r.status for r in wire} == {200}
    # Credentials refresh by themselves before they expire.
    session = make_session(exporter.config)
    assert isinstance(session.get_credentials(), DeferredRefreshableCredentials)
