"""The SESv2 stand-ins (calls moto 5.2.5 lacks) answer in AWS's shapes: each answer as it came over HTTP,
before botocore parses it, checked against botocore's sesv2 service model (members, types, enums,
bounds, recursively), and each error against the operation's modeled errors as botocore parses them."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support.botocore_shapes import error_problems, problems, service_model
from support.simulated_aws import sesv2
from support.simulated_aws.tenants import MAX_TAGS, TAG_OPERATIONS

MODEL = service_model("sesv2")
# The tagging calls are the stand-in's on a tenant's ARN (moto keeps tags of its own resources only).
STAND_INS = sorted({*sesv2.TENANT_OPERATIONS, *TAG_OPERATIONS, "ListRecommendations", "GetAccount"})


class Wire:
    """Every raw answer the client received, by operation (botocore's before-parse event)."""

    def __init__(self, client: Any) -> None:
        self.answers: dict[str, list[tuple[int, dict[str, str], Any]]] = {}
        client.meta.events.register("before-parse.sesv2.*", self._seen)

    def _seen(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        raw = response_dict["body"]
        doc = json.loads(raw) if raw else {}
        self.answers.setdefault(operation_model.name, []).append(
            (response_dict["status_code"], dict(response_dict["headers"]), doc)
        )


@pytest.fixture
def seeded(simulated_ses):
    ses = simulated_ses("healthy", hours=0.5)
    proxy = ses.proxy
    identity = "arn:aws:ses:us-east-1:123456789012:identity/acme.example"
    for i in range(5):
        proxy.tenants.add_tenant(
            f"tenant-{i}",
            resources=[
                ("EMAIL_IDENTITY", identity),
                ("CONFIGURATION_SET", f"arn:aws:ses:us-east-1:123456789012:configuration-set/cs{i}"),
            ],
            tags={"team": "mail"},
        )
    proxy.tenants.set_aws_status(
        "tenant-1", "DISABLED", "Bounce rate above the standard policy's pause level", "HIGH"
    )
    proxy.recommendations.add(identity, "DKIM", "HIGH", "DKIM signing is not configured")
    proxy.recommendations.add(proxy.tenants.tenant("tenant-1").arn, "BOUNCE", "HIGH")
    proxy.set_account(
        SuppressedReasons=[], ReviewStatus="PENDING", ReviewCaseId="case-1234567890", VdmEnabled="ENABLED"
    )
    client = ses.client("sesv2")
    return ses, client, Wire(client)


def exercise(ses: Any, client: Any) -> None:
    """One call of every stand-in operation, answered and failing, the list calls over several pages."""
    arn = ses.proxy.tenants.tenant("tenant-1").arn
    client.get_account()
    for paginator, args in (
        ("list_tenants", {}),
        ("list_reputation_entities", {"Filter": {"REPUTATION_IMPACT": "HIGH"}}),
        ("list_tenant_resources", {"TenantName": "tenant-0"}),
    ):
        for _ in client.get_paginator(paginator).paginate(**args, PaginationConfig={"PageSize": 2}):
            pass
    client.list_tenants(Filter={"SENDING_STATUS": "DISABLED"})
    client.list_recommendations(Filter={"STATUS": "OPEN"}, PageSize=1)
    client.get_tenant(TenantName="tenant-1")
    client.get_reputation_entity(ReputationEntityType="RESOURCE", ReputationEntityReference=arn)
    client.update_reputation_entity_customer_managed_status(
        ReputationEntityType="RESOURCE", ReputationEntityReference=arn, SendingStatus="REINSTATED"
    )
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "sesmonitor:state", "Value": "paused"}])
    client.list_tags_for_resource(ResourceArn=arn)
    client.untag_resource(ResourceArn=arn, TagKeys=["sesmonitor:state"])
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(MAX_TAGS)]
    for failing in (
        lambda: client.list_tags_for_resource(ResourceArn=arn + "x"),
        lambda: client.tag_resource(ResourceArn=arn + "x", Tags=[{"Key": "a", "Value": "b"}]),
        lambda: client.untag_resource(ResourceArn=arn + "x", TagKeys=["a"]),
        lambda: client.tag_resource(ResourceArn=arn, Tags=too_many),
        lambda: client.get_tenant(TenantName="nobody"),
        lambda: client.get_reputation_entity(
            ReputationEntityType="RESOURCE", ReputationEntityReference=arn + "x"
        ),
        lambda: client.list_tenant_resources(TenantName="nobody"),
        lambda: client.list_tenants(NextToken="not-a-token"),
        lambda: client.list_reputation_entities(NextToken="not-a-token"),
        lambda: client.list_recommendations(Filter={"TYPE": "DKIM", "IMPACT": "HIGH"}),
        lambda: client.update_reputation_entity_customer_managed_status(
            ReputationEntityType="RESOURCE", ReputationEntityReference=arn + "x", SendingStatus="DISABLED"
        ),
    ):
        with pytest.raises(ClientError):
            failing()


def test_every_stand_in_answer_fits_botocores_output_shape(seeded):
    ses, client, wire = seeded
    exercise(ses, client)
    assert sorted(wire.answers) == STAND_INS  # every stand-in operation was called and checked
    checked = 0
    for name, answers in wire.answers.items():
        operation = MODEL.operation_model(name)
        for status, headers, doc in answers:
            found = (
                problems(doc, operation.output_shape)
                if status < 300
                else error_problems(operation, status, headers, doc)
            )
            assert found == [], (name, status, doc)
            checked += 1
    assert checked >= 18


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        (lambda c, arn: c.get_tenant(TenantName="nobody"), "NotFoundException", 404),
        (lambda c, arn: c.list_tenant_resources(TenantName="nobody"), "NotFoundException", 404),
        (
            lambda c, arn: c.get_reputation_entity(
                ReputationEntityType="RESOURCE", ReputationEntityReference=arn + "x"
            ),
            "NotFoundException",
            404,
        ),
        (lambda c, arn: c.list_tenants(NextToken="x"), "BadRequestException", 400),
        (lambda c, arn: c.list_tags_for_resource(ResourceArn=arn + "x"), "NotFoundException", 404),
        (
            lambda c, arn: c.tag_resource(
                ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)]
            ),
            "BadRequestException",
            400,
        ),
        (
            lambda c, arn: c.list_recommendations(Filter={"TYPE": "DKIM", "IMPACT": "HIGH"}),
            "BadRequestException",
            400,
        ),
    ],
)
def test_errors_parse_as_the_modeled_exceptions(seeded, call, code, status):
    ses, client, _ = seeded
    with pytest.raises(ClientError) as caught:
        call(client, ses.proxy.tenants.tenant("tenant-1").arn)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert isinstance(caught.value, getattr(client.exceptions, code))  # botocore's modeled exception class


def test_tenants_page_filter_and_pause(seeded):
    ses, client, _ = seeded
    names = [
        t["TenantName"]
        for page in client.get_paginator("list_tenants").paginate(PaginationConfig={"PageSize": 2})
        for t in page["Tenants"]
    ]
    assert names == [f"tenant-{i}" for i in range(5)]
    assert [
        t["TenantName"] for t in client.list_tenants(Filter={"SENDING_STATUS": "DISABLED"})["Tenants"]
    ] == ["tenant-1"]
    assert [
        t["TenantName"] for t in client.list_tenants(Filter={"TENANT_NAME_CONTAINS": "-3"})["Tenants"]
    ] == ["tenant-3"]
    arn = client.get_tenant(TenantName="tenant-2")["Tenant"]["TenantArn"]
    client.update_reputation_entity_customer_managed_status(
        ReputationEntityType="RESOURCE", ReputationEntityReference=arn, SendingStatus="DISABLED"
    )
    entity = client.get_reputation_entity(ReputationEntityType="RESOURCE", ReputationEntityReference=arn)[
        "ReputationEntity"
    ]
    assert entity["CustomerManagedStatus"]["Status"] == "DISABLED"
    assert entity["AwsSesManagedStatus"]["Status"] == "ENABLED"
    assert entity["SendingStatusAggregate"] == "DISABLED"
    assert entity["ReputationManagementPolicy"] == "arn:aws:ses:us-east-1:aws:reputation-policy/standard"
    paused = client.get_reputation_entity(
        ReputationEntityType="RESOURCE", ReputationEntityReference=ses.proxy.tenants.tenant("tenant-1").arn
    )["ReputationEntity"]
    assert paused["AwsSesManagedStatus"]["Cause"].startswith("Bounce rate")
    assert paused["ReputationImpact"] == "HIGH"
    assert client.get_tenant(TenantName="tenant-1")["Tenant"]["SendingStatus"] == "DISABLED"


def test_a_tenants_tags_are_kept_merged_and_removed(seeded):
    ses, client, _ = seeded
    arn = ses.proxy.tenants.tenant("tenant-2").arn
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "sesmonitor:state", "Value": "pausing"}])
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "sesmonitor:state", "Value": "paused"}])
    listed = client.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert listed == [{"Key": "sesmonitor:state", "Value": "paused"}, {"Key": "team", "Value": "mail"}]
    assert client.get_tenant(TenantName="tenant-2")["Tenant"]["Tags"] == listed  # one set of tags
    client.untag_resource(ResourceArn=arn, TagKeys=["sesmonitor:state"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "mail"}]
    assert ses.proxy.tenants.tenant("tenant-2").tags == {"team": "mail"}


def test_recommendations_filter_and_fix(seeded):
    ses, client, _ = seeded
    identity = "arn:aws:ses:us-east-1:123456789012:identity/acme.example"
    assert {r["Type"] for r in client.list_recommendations(Filter={"STATUS": "OPEN"})["Recommendations"]} == {
        "DKIM",
        "BOUNCE",
    }
    ses.proxy.recommendations.fix(identity, "DKIM")
    open_now = client.list_recommendations(Filter={"STATUS": "OPEN"})["Recommendations"]
    assert [r["Type"] for r in open_now] == ["BOUNCE"]
    assert [
        r["Status"] for r in client.list_recommendations(Filter={"RESOURCE_ARN": identity})["Recommendations"]
    ] == ["FIXED"]


def test_account_stand_in_carries_suppression_review_and_vdm(seeded):
    _, client, _ = seeded
    account = client.get_account()
    assert account["SuppressionAttributes"]["SuppressedReasons"] == []
    assert account["Details"]["ReviewDetails"] == {"Status": "PENDING", "CaseId": "case-1234567890"}
    assert account["VdmAttributes"]["VdmEnabled"] == "ENABLED"


def test_the_control_endpoint_seeds_tenants_and_findings(seeded):
    ses, client, _ = seeded

    def control(method: str, what: str, doc: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{ses.endpoint_url}/__sesmonitor/{what}", data=json.dumps(doc).encode(), method=method
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    control("POST", "tenants", {"name": "zeta", "policy": "strict"})
    control("PUT", "tenants/status", {"name": "zeta", "status": "DISABLED", "cause": "complaints"})
    control("POST", "recommendations", {"resource_arn": "arn:x", "type": "COMPLAINT", "impact": "LOW"})
    assert client.get_tenant(TenantName="zeta")["Tenant"]["SendingStatus"] == "DISABLED"
    assert any(r["ResourceArn"] == "arn:x" for r in client.list_recommendations()["Recommendations"])
