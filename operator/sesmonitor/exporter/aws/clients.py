"""boto3 clients for CloudWatch and SESv2, built from the exporter's configuration.

Each service's endpoint is its own (`cloudwatch_endpoint_url`, ...: VPC interface endpoints are per
service), else the shared `endpoint_url` (an emulator answering every service), else AWS's default.

Credentials come from the standard chain (IRSA web identity, EKS Pod Identity, environment, shared
config, instance metadata). With `role_arn` set, the chain's identity assumes that role through STS and
botocore refreshes the temporary credentials by itself before they expire: nothing is fetched until the
first AWS call, so a missing permission shows up as a counted refresh failure, never as a crash at start.

botocore alone, not boto3: the exporter makes clients, never resources, and boto3's import alone costs
3 MiB of resident memory. Its session reads botocore's data files through `slim_data` (4 MiB less).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials

from sesmonitor.contract import ExporterConfig
from sesmonitor.exporter.aws.slim_data import slim_loader

USER_AGENT = "sesmonitor-exporter"
ASSUMED_ROLE_SECONDS = 3600


@dataclass(frozen=True)
class AwsClients:
    """The two clients the exporter needs; tests may hand in their own (a Stubber-wrapped SESv2 client)."""

    cloudwatch: Any
    sesv2: Any
    sqs: Any = None  # only with spec.events
    sts: Any = None  # spec.protection only: GetCallerIdentity, for the configuration sets' ARNs


def botocore_config(config: ExporterConfig) -> Config:
    """Bounded timeouts and botocore's standard (or adaptive) retries.

    `max_attempts` counts every attempt, the first included: botocore's `total_max_attempts` (its
    `max_attempts` client option counts retries only).
    """
    return Config(
        region_name=config.region,
        connect_timeout=config.connect_timeout_seconds,
        read_timeout=config.read_timeout_seconds,
        retries={"mode": config.retry_mode, "total_max_attempts": config.max_attempts},
        user_agent_extra=USER_AGENT,
        max_pool_connections=4,
    )


def sqs_config(config: ExporterConfig) -> Config:
    """The SQS client's: its read timeout is the long poll plus the ordinary read timeout.

    An empty ReceiveMessage is held `events_wait_seconds` by SQS before it answers; AWS's ReceiveMessage
    reference asks for an HTTP response timeout longer than WaitTimeSeconds, else every idle poll
    times out at the client and a quiet queue reads as failing.
    """
    return botocore_config(config).merge(
        Config(read_timeout=config.events_wait_seconds + config.read_timeout_seconds)
    )


def new_session(region: str) -> botocore.session.Session:
    """A botocore session on the standard chain, in `region`, reading the slimmed data files."""
    session = botocore.session.Session()
    session.set_config_variable("region", region)
    session.register_component("data_loader", slim_loader(session.get_config_variable("data_path")))
    return session


def make_session(config: ExporterConfig) -> botocore.session.Session:
    """A session on the standard chain, or one whose credentials come from assuming `role_arn`."""
    if not config.role_arn:
        return new_session(config.region)
    base = new_session(config.region)
    sts = base.create_client("sts", endpoint_url=config.endpoint("sts"), config=botocore_config(config))
    role_arn = config.role_arn
    external_id = config.external_id

    def assume() -> dict[str, str]:
        kwargs: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": config.role_session_name,
            "DurationSeconds": ASSUMED_ROLE_SECONDS,
        }
        if external_id:
            kwargs["ExternalId"] = external_id
        creds = sts.assume_role(**kwargs)["Credentials"]
        expiration = creds["Expiration"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiration.isoformat() if isinstance(expiration, datetime) else str(expiration),
        }

    core = new_session(config.region)
    # botocore has no public setter; this is how its own assume-role provider installs credentials.
    core._credentials = DeferredRefreshableCredentials(refresh_using=assume, method="sts-assume-role")
    return core


def make_clients(config: ExporterConfig, session: botocore.session.Session | None = None) -> AwsClients:
    session = session or make_session(config)
    client_config = botocore_config(config)
    return AwsClients(
        cloudwatch=session.create_client(
            "cloudwatch", endpoint_url=config.endpoint("cloudwatch"), config=client_config
        ),
        sesv2=session.create_client("sesv2", endpoint_url=config.endpoint("sesv2"), config=client_config),
        sqs=session.create_client(
            "sqs",
            endpoint_url=config.endpoint("sqs"),
            region_name=config.events_region or config.region,
            config=sqs_config(config),
        )
        if config.events_queue_url
        else None,
        sts=(
            session.create_client("sts", endpoint_url=config.endpoint("sts"), config=client_config)
            if config.protection is not None and not config.role_arn
            else None
        ),
    )
