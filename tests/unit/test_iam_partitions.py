"""IAM for every AWS partition: the policies `sesmonitor iam-policy` renders name the partition of the
monitor's region (GovCloud's aws-us-gov, China's aws-cn), the API takes their role ARNs, and no code
hard-codes the commercial `arn:aws:`. The docs' VPC endpoint list covers every spec.aws.endpoints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sesmonitor.api import SesMonitor, load
from sesmonitor.api.spec import Endpoints
from sesmonitor.render.iam import iam_policy, partition, queue_arn

ROOT = Path(__file__).resolve().parents[2]


def monitor(region: str, queue_url: str) -> SesMonitor:
    return load(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "prod", "namespace": "mail"},
            "spec": {
                "region": region,
                "configurationSets": ["marketing"],
                "protection": {"mode": "Enforce", "configurationSets": ["marketing"]},
                "events": {"queueURL": queue_url},
            },
        }
    )


def resources(policy: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for statement in policy["Statement"]:
        value = statement["Resource"]
        found += value if isinstance(value, list) else [value]
    return [r for r in found if r != "*"]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_partition_of_a_region(region: str, expected: str) -> None:
    assert partition(region) == expected


@pytest.mark.parametrize(
    ("region", "queue_url", "expected"),
    [
        ("cn-north-1", "https://sqs.cn-north-1.amazonaws.com.cn/111122223333/ses-events", "aws-cn"),
        ("us-gov-west-1", "https://sqs.us-gov-west-1.amazonaws.com/111122223333/ses-events", "aws-us-gov"),
        ("eu-west-1", "https://sqs.eu-west-1.amazonaws.com/111122223333/ses-events", "aws"),
    ],
)
def test_every_arn_of_the_policy_is_in_the_regions_partition(
    region: str, queue_url: str, expected: str
) -> None:
    policy = iam_policy(monitor(region, queue_url))
    arns = resources(policy)
    assert len(arns) == 4  # configuration sets (read), the protected set (protect, tag), the queue
    assert all(arn.startswith(f"arn:{expected}:") for arn in arns), arns
    assert f"arn:{expected}:sqs:{region}:111122223333:ses-events" in arns
    assert f"arn:{expected}:ses:{region}:*:configuration-set/marketing" in arns


def test_a_queue_in_another_region_keeps_its_own_partition() -> None:
    assert queue_arn(
        "https://vpce-0abc.sqs.cn-north-1.vpce.amazonaws.com.cn/111122223333/q", "cn-north-1"
    ) == ("arn:aws-cn:sqs:cn-north-1:111122223333:q")


@pytest.mark.parametrize("prefix", ["arn:aws", "arn:aws-us-gov", "arn:aws-cn"])
def test_role_arns_of_every_partition_are_accepted(prefix: str) -> None:
    monitor = load(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "prod"},
            "spec": {"region": "us-east-1", "aws": {"roleArn": f"{prefix}:iam::123456789012:role/ses-read"}},
        }
    )
    assert monitor.spec.aws.role_arn == f"{prefix}:iam::123456789012:role/ses-read"


def test_no_code_hard_codes_the_commercial_partition() -> None:
    sources = sorted((ROOT / "operator" / "sesmonitor").rglob("*.py"))
    assert sources
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"arn:aws:", line)
    ]
    assert found == []


def test_the_docs_vpc_endpoint_list_names_every_service_the_exporter_calls() -> None:
    install = (ROOT / "docs" / "install.md").read_text()
    section = install.split("### VPC endpoints", 1)[1].split("\n### ", 1)[0]
    for name, field in Endpoints.model_fields.items():
        assert f"      {field.alias or name}: https://vpce-" in section, name
    # The endpoint services to create, sqs (spec.events) among them.
    for service in ("monitoring", "email", "sts", "sqs"):
        assert f"com.amazonaws.<region>.{service}`" in section, service
    assert json.loads((ROOT / "docs" / "iam-policy.json").read_text())["Version"] == "2012-10-17"
