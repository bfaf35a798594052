"""Fixtures for the AWS tier: a simulated SES account (moto + fault proxy) and exporters pointed at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sesmonitor.contract import ExporterConfig
from sesmonitor.exporter import AwsClients, Exporter
from support.exporter_checks import MONITOR, REGION
from support.moto_ses import SimulatedSes


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Test credentials through the standard chain; nothing from the machine's own AWS setup."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def simulated_ses() -> Iterator[Callable[..., SimulatedSes]]:
    started: list[SimulatedSes] = []

    def start(scenario: str = "seed", **kwargs: Any) -> SimulatedSes:
        ses = SimulatedSes(scenario, **kwargs).start()
        started.append(ses)
        return ses

    yield start
    for ses in started:
        ses.stop()


@pytest.fixture
def make_exporter() -> Iterator[Callable[..., Exporter]]:
    started: list[Exporter] = []

    def make(
        ses: SimulatedSes | None = None,
        *,
        clients: AwsClients | None = None,
        clock: Callable[[], float] | None = None,
        refresh_loop: bool = False,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        control_dir: str | Path | None = None,
        pace_seconds: float = 0.0,
        **config: Any,
    ) -> Exporter:
        settings: dict[str, Any] = {"monitor": MONITOR, "region": REGION, "max_attempts": 1}
        if ses is not None:
            settings["endpoint_url"] = ses.endpoint_url
            settings["configuration_sets"] = ses.configuration_sets
        settings.update(config)
        exporter = Exporter(
            ExporterConfig(**settings),
            listen=listen,
            clients=clients,
            clock=clock or time.time,
            control_dir=control_dir,
            pace_seconds=pace_seconds,
        )
        exporter.start(refresh_loop=refresh_loop)
        started.append(exporter)
        return exporter

    yield make
    for exporter in started:
        exporter.stop()
