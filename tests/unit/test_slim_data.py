"""The exporter's botocore data files (issue 21: 6, resident memory): plain dicts without documentation
strings and an endpoints.json of the services it calls, and clients that behave as botocore's own."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import botocore.session
import pytest

from sesmonitor.exporter.aws.clients import new_session
from sesmonitor.exporter.aws.slim_data import (
    DOCUMENTATION_KEYS as DOCS,
)
from sesmonitor.exporter.aws.slim_data import (
    ENDPOINT_PREFIXES,
    trim_endpoints,
    without_documentation,
)

SERVICES = ("cloudwatch", "sesv2", "sqs", "sts")


def client(session: Any, service: str) -> Any:
    return session.create_client(
        service, region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
    )


def undocumented(node: Any) -> Any:
    """botocore's own parse with the documentation strings taken out, as plain data."""
    if isinstance(node, dict):
        return {k: undocumented(v) for k, v in node.items() if not (k in DOCS and isinstance(v, str))}
    if isinstance(node, list):
        return [undocumented(v) for v in node]
    return node


@pytest.mark.parametrize("service", SERVICES)
def test_each_model_is_botocores_less_its_documentation_strings(service: str) -> None:
    ours = new_session("eu-west-1").get_component("data_loader").load_service_model(service, "service-2")
    theirs = botocore.session.Session().get_component("data_loader").load_service_model(service, "service-2")
    assert ours == undocumented(theirs)
    assert ours != theirs  # there were strings to take out
    model = client(new_session("eu-west-1"), service).meta.service_model
    assert model.operation_names == sorted(theirs["operations"])


def test_endpoints_resolve_as_before_for_the_services_called() -> None:
    ours, theirs = new_session("us-east-1"), botocore.session.Session()
    for service in SERVICES:
        for region in ("us-east-1", "cn-north-1", "us-gov-west-1"):
            made = [
                session.create_client(
                    service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s"
                )
                for session in (ours, theirs)
            ]
            assert made[0].meta.endpoint_url == made[1].meta.endpoint_url, (service, region)


def test_plain_dicts_and_only_documentation_strings_go() -> None:
    loader = new_session("us-east-1").get_component("data_loader")
    model = loader.load_service_model("sesv2", "service-2")
    assert type(model) is dict
    assert type(model["shapes"]) is dict
    assert not isinstance(model["shapes"], OrderedDict)
    # A member named "documentation" (an object, not a string) stays.
    node = {"documentation": "words", "members": {"documentation": {"shape": "String"}}}
    assert without_documentation(node) == {"members": {"documentation": {"shape": "String"}}}
    assert without_documentation(node["members"]) == {"documentation": {"shape": "String"}}


def test_endpoints_keep_the_partitions_and_the_services_called() -> None:
    data = {"partitions": [{"partition": "aws", "regions": {"r": {}}, "services": {"email": {}, "s3": {}}}]}
    assert trim_endpoints(data, ENDPOINT_PREFIXES) == {
        "partitions": [{"partition": "aws", "regions": {"r": {}}, "services": {"email": {}}}]
    }
    loader = new_session("us-east-1").get_component("data_loader")
    partitions = loader.load_data("endpoints")["partitions"]
    assert {p["partition"] for p in partitions} >= {"aws", "aws-cn", "aws-us-gov"}
    assert all(set(p["services"]) <= ENDPOINT_PREFIXES for p in partitions)
    assert any("email" in p["services"] for p in partitions)
