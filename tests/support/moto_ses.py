"""A simulated SES account over real HTTP: moto's server behind a counting, fault-injecting proxy.

Used by the AWS test tier, the exporter benchmark and the end-to-end demo.

    with SimulatedSes(scenario="seed", configuration_sets=["marketing"]) as ses:
        ses.endpoint_url        # point the exporter (or any SDK) here
        ses.proxy.count("GetMetricData")
        ses.proxy.inject("GetMetricData", "throttle", times=2)
        ses.proxy.set_account(EnforcementStatus="SHUTDOWN")

`SimulatedSes` starts moto (`ThreadedMotoServer`), puts the `FaultProxy` in front of it, creates the
configuration sets in SESv2 and seeds a scenario's CloudWatch datapoints. The pieces, one module per
service, each naming what moto 5.2.5 lacks and what is stood in for it, are in `support.simulated_aws`:
scenarios (with the tenants and findings a scenario seeds into the tenants and recommendations stand-ins),
cloudwatch, sesv2 (GetAccount and PutConfigurationSetSendingOptions stand-ins), sts, sqs_sns,
wire, faults, cbor_bridge (the CBOR translation for YACE), fault_proxy and control. The names tests use
are imported here too, so `from support.moto_ses import ...` keeps working.

Run it on its own: ``python tests/support/moto_ses.py --scenario seed --port 4566`` prints the endpoint
URL and serves until SIGTERM/SIGINT; drive it through the control endpoints (`simulated_aws.control`).
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import sys
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto.server import ThreadedMotoServer

from support.simulated_aws.cloudwatch import SeededScenario, seed_scenario
from support.simulated_aws.fault_proxy import FaultProxy, RecordedRequest
from support.simulated_aws.faults import FAULTS
from support.simulated_aws.scenarios import BAD_LIST_DOMAIN, MINUTE, SCENARIOS, Scenario

__all__ = [
    "BAD_LIST_DOMAIN",
    "FAULTS",
    "MINUTE",
    "SCENARIOS",
    "FaultProxy",
    "RecordedRequest",
    "Scenario",
    "SeededScenario",
    "SimulatedSes",
    "seed_scenario",
]

TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class SimulatedSes:
    """moto + FaultProxy + a seeded scenario. Resets moto's (process-wide) state when it starts."""

    def __init__(
        self,
        scenario: str | Scenario = "seed",
        *,
        region: str = "us-east-1",
        configuration_sets: Sequence[str] = (),
        reputation_disabled: Sequence[str] = (),
        hours: float = 3.0,
        now: float | None = None,
        host: str = "127.0.0.1",
        proxy_port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.scenario = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
        self.tls = tls
        self.region = region
        self.configuration_sets = tuple(configuration_sets)
        self.reputation_disabled = tuple(reputation_disabled)
        self.hours = hours
        self.now = now
        self.host = host
        self.proxy_port = proxy_port
        self.moto: ThreadedMotoServer | None = None
        self.proxy: FaultProxy
        self.seeded: SeededScenario

    @property
    def moto_url(self) -> str:
        assert self.moto is not None
        host, port = self.moto.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def endpoint_url(self) -> str:
        return self.proxy.url

    def client(self, service: str, *, direct: bool = False, **kwargs: Any) -> Any:
        """A boto3 client with test credentials, through the proxy (or straight to moto: not counted)."""
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.moto_url if direct else self.endpoint_url,
            **TEST_CREDENTIALS,
            **kwargs,
        )

    def start(self) -> SimulatedSes:
        self.moto = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self.moto.start()
        urllib.request.urlopen(
            urllib.request.Request(self.moto_url + "/moto-api/reset", method="POST")
        ).read()
        self.proxy = FaultProxy(self.moto_url, host=self.host, port=self.proxy_port, tls=self.tls).start()
        # The configuration sets exist in SESv2 (moto implements GetConfigurationSet with its
        # ReputationOptions), reputation metrics enabled unless listed in `reputation_disabled`.
        sesv2 = self.client("sesv2", direct=True)
        for name in self.configuration_sets:
            enabled = name not in self.reputation_disabled
            sesv2.create_configuration_set(
                ConfigurationSetName=name, ReputationOptions={"ReputationMetricsEnabled": enabled}
            )
        self.seeded = seed_scenario(
            self.client("cloudwatch", direct=True),
            self.scenario,
            now=self.now,
            hours=self.hours,
            configuration_sets=self.configuration_sets,
            reputation_disabled=self.reputation_disabled,
        )
        self.proxy.set_account(
            EnforcementStatus=self.scenario.enforcement_status,
            SendingEnabled=self.scenario.sending_enabled,
            SentLast24Hours=self.seeded.sent_last_24_hours(),
            VdmEnabled="ENABLED" if self.scenario.vdm_enabled else None,
        )
        self._seed_tenants()
        return self

    def _seed_tenants(self) -> None:
        """The scenario's tenants and open findings, into the stand-ins (moto has neither)."""
        tenants = self.proxy.tenants
        tenants.region = self.region  # the tenants' ARNs name the account's region
        for seed in self.scenario.tenants:
            tenants.add_tenant(
                seed.name,
                policy=seed.policy,
                impact=seed.impact,
                aws_status=seed.aws_status,
                aws_cause=seed.aws_cause,
            )
        for finding in self.scenario.findings:
            self.proxy.recommendations.add(
                tenants.tenant(finding.tenant).arn, finding.type, finding.impact, finding.description
            )

    def stop(self) -> None:
        self.proxy.stop()
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def __enter__(self) -> SimulatedSes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def account_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of an account served on its own (this module's CLI and support.live_ses's)."""
    parser.add_argument("--scenario", default="seed", choices=sorted(SCENARIOS))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--configuration-set", action="append", default=[])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--port", type=int, default=0, help="proxy port (0: any free port)")


def account_options(args: argparse.Namespace) -> dict[str, Any]:
    """`SimulatedSes` keyword arguments from `account_arguments`' options (all but the scenario)."""
    return {
        "region": args.region,
        "configuration_sets": args.configuration_set,
        "hours": args.hours,
        "host": args.host,
        "proxy_port": args.port,
    }


def stop_on_signal() -> threading.Event:
    """An event SIGTERM and SIGINT set, installed before the endpoint is announced: a caller that
    stops the process as soon as it read the line gets a clean exit."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a simulated SES account (moto + fault proxy).")
    account_arguments(parser)
    args = parser.parse_args(argv)
    ses = SimulatedSes(args.scenario, **account_options(args)).start()
    stop = stop_on_signal()
    print(json.dumps({"endpoint_url": ses.endpoint_url, "scenario": args.scenario}), flush=True)
    stop.wait()
    ses.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
