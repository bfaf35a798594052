"""spec.tenants' pure parts: parsing AWS's answers, the selection and its message, each tenant's state,
the worst tenants, the config file."""

from __future__ import annotations

import json

import pytest

from sesmonitor import contract, metrics
from sesmonitor.exporter.model.tenants import (
    StatusRecord,
    Tenant,
    TenantsReading,
    counts,
    selection_message,
    tenant_state,
    worst,
)
from sesmonitor.exporter.serving.tenant_collector import tenant_labels
from sesmonitor.exporter.tenants.parse import listed_tenant, policy_name, tenant_arn_prefix, with_entity
from sesmonitor.exporter.tenants.selection import missing_names, select

ARN = "arn:aws:ses:us-east-1:123456789012:tenant/{}/tn-1"


def tenant(
    name="a", *, aws="ENABLED", customer="ENABLED", impact="LOW", aggregate=None, sending=None, cause=None
):
    if aggregate is None:
        aggregate = "DISABLED" if "DISABLED" in (aws, customer) else "ENABLED"
    return Tenant(
        name, ARN.format(name), sending or aggregate, aggregate,
        StatusRecord(aws, cause if aws == "DISABLED" else None),
        StatusRecord(customer, cause if customer == "DISABLED" else None), impact, "standard",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("one", "state", "paused_by"),
    [
        (tenant(), "enabled", None),
        (tenant(aws="DISABLED"), "paused_by_aws", metrics.PAUSED_BY_AWS),
        (tenant(customer="DISABLED"), "paused_by_customer", metrics.PAUSED_BY_CUSTOMER),
        (tenant(aws="DISABLED", customer="DISABLED"), "paused_by_aws", metrics.PAUSED_BY_BOTH),
        (tenant(impact="HIGH"), "at_risk", None),
        (tenant(customer="REINSTATED", aggregate="REINSTATED"), "reinstated", None),
        (tenant(customer="REINSTATED", aggregate="REINSTATED", impact="HIGH"), "at_risk", None),
        (tenant(aggregate="DISABLED"), "paused_by_aws", None),  # disabled, nobody named: AWS holds it
        (Tenant("b", ARN.format("b"), "ENABLED"), "unknown", None),  # no entity read
        (Tenant("b", ARN.format("b"), "DISABLED"), "paused_by_aws", None),
    ],
)
def test_tenant_state(one, state, paused_by):
    assert tenant_state(one) == state
    assert one.paused_by == paused_by


def test_cause_is_the_pausing_sides_aws_first():
    both = Tenant(
        "a",
        None,
        "DISABLED",
        "DISABLED",
        StatusRecord("DISABLED", "AWS: bounces"),
        StatusRecord("DISABLED", "ours"),
    )
    assert both.cause == "AWS: bounces"
    assert tenant(customer="DISABLED", cause="maintenance").cause == "maintenance"
    assert tenant(impact="HIGH").cause is None


def test_worst_and_counts():
    many = (
        tenant("e"), tenant("d", impact="HIGH"), tenant("c", customer="DISABLED"),
        tenant("b", aws="DISABLED"), tenant("a", aws="DISABLED"), Tenant("f", None, None),
    )  # fmt: skip
    assert [t.name for t in worst(many)] == ["a", "b", "c", "d", "f"]
    assert [t.name for t in worst(many, 2)] == ["a", "b"]
    assert counts(many) == {
        "paused_by_aws": 2, "paused_by_customer": 1, "at_risk": 1, "unknown": 1, "reinstated": 0,
        "enabled": 1,
    }  # fmt: skip
    assert set(counts(())) == set(contract.TENANT_STATES)


def test_parse_answers():
    info = {"TenantName": "a", "TenantId": "tn-1", "TenantArn": ARN.format("a"), "SendingStatus": "ENABLED"}
    listed = listed_tenant(info)
    assert listed == Tenant("a", ARN.format("a"), "ENABLED")
    assert listed_tenant({"TenantId": "x"}) is None
    entity = {
        "ReputationManagementPolicy": "arn:aws:ses:us-east-1:aws:reputation-policy/strict",
        "AwsSesManagedStatus": {"Status": "DISABLED", "Cause": "complaints", "LastUpdatedTimestamp": 1.0},
        "CustomerManagedStatus": {"Status": "ENABLED"},
        "SendingStatusAggregate": "DISABLED",
        "ReputationImpact": "HIGH",
    }
    full = with_entity(listed, entity)
    assert (full.policy, full.aggregate, full.impact, full.cause, full.state) == (
        "strict", "DISABLED", "HIGH", "complaints", "paused_by_aws",
    )  # fmt: skip
    assert with_entity(listed, {}).aggregate is None
    assert policy_name(None) is None
    assert policy_name("") is None


def test_arn_prefix_for_the_entity_listing():
    tenants = (Tenant("acme-1", ARN.format("acme-1"), None), Tenant("acme-2", ARN.format("acme-2"), None))
    head = "arn:aws:ses:us-east-1:123456789012:tenant/"
    assert tenant_arn_prefix(tenants, None) == head
    assert tenant_arn_prefix(tenants, "acme-") == head + "acme-"
    assert tenant_arn_prefix((Tenant("x", "arn:other/x", None),), None) is None
    assert tenant_arn_prefix((), None) is None
    odd = (Tenant("acme-1", head + "id-1", None),)  # a name not in the ARN: no name prefix
    assert tenant_arn_prefix(odd, "acme-") == head


def test_selection_limit_and_message():
    listed = [Tenant(n, None, None) for n in ("b", "a", "acme-2", "acme-1", "acme-1")]
    config = contract.TenantsConfig(prefix="acme-", limit=1)
    watched, matching = select(listed, config)
    assert ([t.name for t in watched], matching) == (["acme-1"], 2)
    message = selection_message(TenantsReading(watched, matching), config)
    assert message == (
        "2 tenants match (prefix acme-), more than spec.tenants.limit 1:"
        " watching the first 1 by name, 1 not watched"
    )
    assert selection_message(TenantsReading(watched, 1), config) is None
    named = contract.TenantsConfig(names=tuple(f"n{i}" for i in range(8)))
    missing = missing_names(["n0"], named)
    assert missing == ("n1", "n2", "n3", "n4", "n5", "n6", "n7")
    assert selection_message(TenantsReading((Tenant("n0", None, None),), 1, missing), named) == (
        "no tenant named n1, n2, n3, n4, n5 and 2 more in this account and region"
    )
    assert (named.selection, config.selection, contract.TenantsConfig().selection) == (
        "8 listed",
        "prefix acme-",
        "all",
    )


def test_labels_are_bounded_and_one_line():
    long_cause = "line one\nline two " + "x" * 500
    labels = tenant_labels(tenant(aws="DISABLED", cause=long_cause))
    assert len(labels[4]) == metrics.CAUSE_MAX_LENGTH
    assert "\n" not in labels[4]
    assert labels[:4] == ["a", "paused_by_aws", "DISABLED", "aws"]


def test_config_round_trip_and_errors():
    base = contract.ExporterConfig(
        monitor="m/n", region="us-east-1", tenants=contract.TenantsConfig(names=("a",))
    )
    assert contract.ExporterConfig.from_json(base.to_json()) == base
    assert "tenants" not in json.loads(contract.ExporterConfig(monitor="m/n", region="us-east-1").to_json())
    for bad, words in (
        ({"names": ["a"], "prefix": "b"}, "exclude"),
        ({"limit": 0}, "tenants.limit"),
        ({"read_interval_seconds": 60}, "read_interval_seconds"),
        ({"names": [""]}, "tenants.names"),
        ({"other": 1}, "tenants:"),
        ([], "object"),
    ):
        doc = json.loads(base.to_json())
        doc["tenants"] = bad
        with pytest.raises(contract.ConfigError, match=words):
            contract.ExporterConfig.from_json(json.dumps(doc))
