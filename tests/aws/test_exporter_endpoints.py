"""Per-service endpoints (VPC interface endpoints are one per service), against moto over HTTP.

Three counting proxies in front of one moto stand for the CloudWatch, SESv2 and STS VPC endpoints: each
sees its own service's calls and nothing else. The single `endpoint_url` (an emulator) still serves all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sesmonitor.render.workload import exporter_config
from support.monitors import load_monitor
from support.moto_ses import FaultProxy, SimulatedSes


@pytest.fixture
def vpc_endpoints(simulated_ses) -> Iterator[tuple[SimulatedSes, dict[str, FaultProxy]]]:
    ses = simulated_ses("healthy", configuration_sets=["marketing"])
    proxies = {name: FaultProxy(ses.moto_url).start() for name in ("cloudwatch", "sesv2", "sts")}
    yield ses, proxies
    for proxy in proxies.values():
        proxy.stop()


def test_each_service_calls_its_own_endpoint(vpc_endpoints, make_exporter):
    ses, proxies = vpc_endpoints
    exporter = make_exporter(
        endpoint_url=None,
        configuration_sets=("marketing",),
        cloudwatch_endpoint_url=proxies["cloudwatch"].url,
        sesv2_endpoint_url=proxies["sesv2"].url,
        sts_endpoint_url=proxies["sts"].url,
        role_arn="arn:aws:iam::123456789012:role/sesmonitor-reader",
    )
    assert all(exporter.refresher.refresh_once().values())
    seen = {name: {(r.service, r.operation) for r in p.requests()} for name, p in proxies.items()}
    assert seen == {
        "cloudwatch": {("monitoring", "GetMetricData")},
        "sesv2": {("ses", "GetAccount"), ("ses", "GetConfigurationSet")},
        "sts": {("sts", "AssumeRole")},
    }
    assert ses.proxy.requests() == []  # nothing went to the shared endpoint


def test_a_service_without_its_own_endpoint_uses_the_shared_one(vpc_endpoints, make_exporter):
    ses, proxies = vpc_endpoints
    exporter = make_exporter(ses, cloudwatch_endpoint_url=proxies["cloudwatch"].url)
    assert all(exporter.refresher.refresh_once().values())
    assert {r.operation for r in proxies["cloudwatch"].requests()} == {"GetMetricData"}
    assert {r.operation for r in ses.proxy.requests()} == {"GetAccount", "GetConfigurationSet"}


def test_spec_endpoints_reach_the_exporter_config():
    monitor = load_monitor(
        {
            "aws": {
                "endpointURL": "http://emulator:4566",
                "endpoints": {
                    "cloudWatch": "https://vpce-1.monitoring.eu-west-1.vpce.amazonaws.com",
                    "sesv2": "https://vpce-2.email.eu-west-1.vpce.amazonaws.com",
                },
            },
        },
        region="eu-west-1",
    )
    config = exporter_config(monitor)
    assert config.endpoint("cloudwatch") == "https://vpce-1.monitoring.eu-west-1.vpce.amazonaws.com"
    assert config.endpoint("sesv2") == "https://vpce-2.email.eu-west-1.vpce.amazonaws.com"
    assert config.endpoint("sts") == "http://emulator:4566"
    assert type(config).from_json(config.to_json()) == config
