"""The SQS client's read timeout outlasts the long poll (issue 20 item 10). Pure: no client is built."""

from __future__ import annotations

import pytest

from sesmonitor.contract import ExporterConfig
from sesmonitor.exporter.aws.clients import botocore_config, sqs_config


@pytest.mark.parametrize(("wait", "read_timeout"), [(20, 20.0), (20, 5.0), (0, 20.0), (2, 2.0)])
def test_the_read_timeout_is_the_long_poll_plus_the_ordinary_one(wait: int, read_timeout: float) -> None:
    config = ExporterConfig(
        monitor="m", region="us-east-1", events_wait_seconds=wait, read_timeout_seconds=read_timeout
    )
    sqs = sqs_config(config)
    assert sqs.read_timeout == wait + read_timeout
    assert sqs.read_timeout > wait  # AWS: the response timeout must be longer than WaitTimeSeconds
    other = botocore_config(config)
    assert (sqs.connect_timeout, sqs.retries, sqs.region_name) == (
        other.connect_timeout, other.retries, other.region_name,
    )  # fmt: skip
