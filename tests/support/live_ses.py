"""A simulated SES account that keeps sending mail: `SimulatedSes` plus a feeder for the minutes to come.

`SimulatedSes` seeds the last few hours of a scenario once. An account watched for longer needs the
minutes after that too, or its newest datapoint just ages: `LiveFeeder` writes, at the start of every
minute, that minute's datapoints (only while the scenario sends mail, like SES), continuing the scenario's
rates from where the seeding left them (the seed story's bounce rate keeps rising about 4% a day).

`compressed()` shrinks a scenario's sending rhythm (the seed story's 5-minute bursts every 20 minutes)
to, say, 1-minute bursts every 2 minutes, so a test sees several gaps between bursts in a few minutes.

The demo and the e2e tests run each account as its own process (`SesAccountProcess`): moto keeps its
state per process, so two accounts need two processes, and killing one is "AWS is unreachable".

    python tests/support/live_ses.py --scenario seed --port 4566 [--burst-every 2 --burst-minutes 1]

prints ``{"endpoint_url": ..., "scenario": ...}`` once seeded and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.controlplane import free_port
from support.moto_ses import (
    MINUTE,
    SCENARIOS,
    Scenario,
    SimulatedSes,
    account_arguments,
    account_options,
    seed_scenario,
    stop_on_signal,
)
from support.processes import ManagedProcess
from support.simulated_aws.sqs_sns import event_pipeline

__all__ = ["LiveFeeder", "SesAccountProcess", "compressed"]

DAY = 86400


def compressed(scenario: Scenario, every_minutes: int, burst_minutes: int, per_minute: int = 40) -> Scenario:
    """`scenario` with mail (and so datapoints) only in `burst_minutes` of every `every_minutes`."""
    if not 0 < burst_minutes < every_minutes:
        raise ValueError("need 0 < burst_minutes < every_minutes")

    def sends(t: float) -> int:
        return per_minute if int(t // MINUTE) % every_minutes < burst_minutes else 0

    return dataclasses.replace(
        scenario,
        description=f"{scenario.description} Compressed: {burst_minutes}-minute bursts every"
        f" {every_minutes} minutes.",
        sends=sends,
    )


def _anchored(scenario: Scenario, now: float, start: float) -> Scenario:
    """The scenario's rates as the original seeding defined them, whatever `now` later calls pass."""
    bounce, complaint = scenario.bounce_rate, scenario.complaint_rate
    return dataclasses.replace(
        scenario,
        bounce_rate=lambda t, _now, _start: bounce(t, now, start),
        complaint_rate=lambda t, _now, _start: complaint(t, now, start),
    )


class LiveFeeder:
    """Writes each minute's datapoints into the account's CloudWatch as the minute starts."""

    def __init__(self, ses: SimulatedSes, clock: Callable[[], float] = time.time) -> None:
        self.ses = ses
        self.clock = clock
        seeded = ses.seeded
        self.scenario = _anchored(ses.scenario, seeded.now, seeded.start)
        self.cloudwatch = ses.client("cloudwatch", direct=True)
        # seed_scenario wrote every whole minute before the one `now` falls in.
        self.next_minute = math.floor(seeded.now / MINUTE) * MINUTE
        self.sent: list[tuple[float, float]] = list(seeded.series("Send"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def feed_due(self) -> int:
        """Write every minute that has started and is not written yet; returns how many."""
        written = 0
        while self.next_minute <= self.clock():
            minute = self.next_minute
            seeded = seed_scenario(
                self.cloudwatch,
                self.scenario,
                now=minute + MINUTE,
                hours=MINUTE / 3600,
                configuration_sets=self.ses.configuration_sets,
            )
            self.sent += seeded.series("Send")
            for key, points in seeded.points.items():
                self.ses.seeded.points.setdefault(key, []).extend(points)
            self.next_minute += MINUTE
            written += 1
        if written:
            horizon = self.clock() - DAY
            self.sent = [(t, v) for t, v in self.sent if t >= horizon]
            self.ses.proxy.set_account(SentLast24Hours=sum(v for _, v in self.sent))
        return written

    def run(self) -> None:
        while not self._stop.is_set():
            self.feed_due()
            self._stop.wait(max(0.05, self.next_minute + 0.2 - self.clock()))

    def start(self) -> LiveFeeder:
        self.feed_due()
        self._thread = threading.Thread(target=self.run, name="live-feeder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


class EventFeeder:
    """Publishes each minute's SES events (`Scenario.events`) to the account's SNS topic as it starts,
    from the seeding on; SNS delivers them to the queue (support.simulated_aws.sqs_sns)."""

    def __init__(self, ses: SimulatedSes, clock: Callable[[], float] = time.time) -> None:
        assert ses.scenario.events is not None
        self.events = ses.scenario.events
        self.pipeline = event_pipeline(ses)
        self.clock = clock
        self.next_minute = math.floor(ses.seeded.now / MINUTE) * MINUTE
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="event-feeder", daemon=True)

    def run(self) -> None:
        while not self._stop.is_set():
            while self.next_minute <= self.clock():
                for one in self.events(self.next_minute):
                    self.pipeline.publish(one)
                self.next_minute += MINUTE
            self._stop.wait(max(0.05, self.next_minute + 0.2 - self.clock()))

    def start(self) -> EventFeeder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def start_account(
    scenario: str, *, burst_every: int = 0, burst_minutes: int = 0, live: bool = True, **account: Any
) -> tuple[SimulatedSes, LiveFeeder | None]:
    """`account`: SimulatedSes's keyword arguments (region, configuration_sets, hours, host, proxy_port)."""
    ses = SimulatedSes(scenario, **account)
    if burst_every:
        ses.scenario = compressed(ses.scenario, burst_every, burst_minutes or 1)
    ses.start()
    feeder = LiveFeeder(ses).start() if live else None
    if live and ses.scenario.events is not None:
        events = EventFeeder(ses).start()
        ses.events_queue_url = events.pipeline.queue_url  # type: ignore[attr-defined]
    return ses, feeder


# --------------------------------------------------------------------------------------------------
# As a child process


class SesAccountProcess:
    """This module run as a child process: one simulated account, reachable at `endpoint_url`."""

    def __init__(
        self,
        scenario: str,
        workdir: Path,
        *,
        name: str = "ses",
        port: int = 0,
        burst_every: int = 0,
        burst_minutes: int = 0,
        region: str = "us-east-1",
        python: str = sys.executable,
        host: str = "127.0.0.1",
        configuration_sets: Sequence[str] = (),
        quiet_queue: bool = False,
    ) -> None:
        """``host``: the address to serve on; a real node's pods reach the host end of its veth.
        ``quiet_queue``: an SES event queue (spec.events) that nothing ever publishes to."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(sorted(SCENARIOS))}")
        self.scenario = scenario
        self.workdir = Path(workdir)
        self.name = name
        self.host = host
        self.port = port or free_port()
        self.ready_file = self.workdir / f"{name}.ready.json"
        args = [
            python, str(Path(__file__).resolve()), "--scenario", scenario, "--port", str(self.port),
            "--region", region, "--ready-file", str(self.ready_file), "--host", host,
        ]  # fmt: skip
        if burst_every:
            args += ["--burst-every", str(burst_every), "--burst-minutes", str(burst_minutes or 1)]
        for name_of_set in configuration_sets:  # created in SESv2, with their own datapoints
            args += ["--configuration-set", name_of_set]
        if quiet_queue:
            args.append("--quiet-queue")
        self.process = ManagedProcess(name, args, self.workdir / f"{name}.log")

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def events_queue_url(self) -> str | None:
        """The SQS queue of the scenario's SES events (spec.events), once seeded; None without events."""
        url: str | None = json.loads(self.ready_file.read_text()).get("events_queue_url")
        return url

    def start(self, timeout: float = 120, *, wait: bool = True) -> SesAccountProcess:
        """Start the process; with `wait`, return once the account is seeded (see `wait_ready`)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        self.process.start()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 120) -> SesAccountProcess:
        self.process.wait_ready(self.ready_file.is_file, timeout, "seeded")
        return self

    def control(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        """Call a control endpoint of the fault proxy (see support.moto_ses)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.endpoint_url}/__sesmonitor/{what}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def set_account(self, **fields: Any) -> Any:
        """E.g. ``set_account(EnforcementStatus="PROBATION")``: what GetAccount answers from now on."""
        return self.control("PUT", "account", fields)

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a simulated SES account that keeps sending mail.")
    account_arguments(parser)
    parser.add_argument("--burst-every", type=int, default=0, help="minutes between bursts (compress)")
    parser.add_argument("--burst-minutes", type=int, default=1, help="minutes of mail per burst")
    parser.add_argument("--no-live", action="store_true", help="seed only; write no new minutes")
    parser.add_argument("--ready-file", type=Path, help="write the JSON line here too, once seeded")
    parser.add_argument("--quiet-queue", action="store_true", help="an SES event queue nothing feeds")
    args = parser.parse_args(argv)
    ses, feeder = start_account(
        args.scenario,
        burst_every=args.burst_every,
        burst_minutes=args.burst_minutes,
        live=not args.no_live,
        **account_options(args),
    )
    if args.quiet_queue:  # SNS topic and queue (with its dead-letter queue), and never a message
        ses.events_queue_url = event_pipeline(ses, "ses-quiet").queue_url  # type: ignore[attr-defined]
    stop = stop_on_signal()
    doc = {"endpoint_url": ses.endpoint_url, "scenario": args.scenario}
    if getattr(ses, "events_queue_url", None):
        doc["events_queue_url"] = ses.events_queue_url  # type: ignore[attr-defined]
    line = json.dumps(doc)
    print(line, flush=True)
    if args.ready_file:
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(line + "\n")
        tmp.replace(args.ready_file)
    stop.wait()
    if feeder is not None:
        feeder.stop()
    ses.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
