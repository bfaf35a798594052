"""Wires the exporter together: clients, state, refresh loop, collector, HTTP server.

    exporter = Exporter(config, listen=("::", 9435))   # "::": IPv6 and IPv4 (sesmonitor.listen)
    exporter.start()          # binds the port, starts the refresh loop and the server threads
    ...
    exporter.stop()

Tests hand in their own `AwsClients` (say, a Stubber-wrapped SESv2 client) and clock, start without the
loop (`start(refresh_loop=False)`) and drive `exporter.refresher.refresh_once(now)` themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from sesmonitor import contract, metrics
from sesmonitor.exporter.aws.clients import AwsClients, make_clients
from sesmonitor.exporter.aws.request_counting import instrument
from sesmonitor.exporter.model.state import API_ACCOUNT, API_CLOUDWATCH, API_CONFIGURATION_SET, ExporterState
from sesmonitor.exporter.refresh.account import AccountReader
from sesmonitor.exporter.refresh.cloudwatch import CloudWatchReader
from sesmonitor.exporter.refresh.refresher import Refresher
from sesmonitor.exporter.refresh.reputation import ConfigurationSetReader
from sesmonitor.exporter.serving.collector import ExporterCollector
from sesmonitor.exporter.serving.http_server import ExporterHTTPServer
from sesmonitor.exporter.serving.metrics_text import MetricsRenderer, RenderPart
from sesmonitor.exporter.serving.status import build_status
from sesmonitor.listen import ALL_INTERFACES

# spec.events, spec.tenants, spec.findings and spec.protection are imported when configured, in the
# methods that build them: a monitor without them does not carry their code (resident memory).
if TYPE_CHECKING:
    from sesmonitor.exporter.events.sqs_consumer import EventConsumer
    from sesmonitor.exporter.findings.loop import FindingsLoop
    from sesmonitor.exporter.model.service_events import ServiceEvent
    from sesmonitor.exporter.protection.control import ControlFile
    from sesmonitor.exporter.protection.protector import Protector
    from sesmonitor.exporter.tenants.loop import TenantsLoop

log = logging.getLogger(__name__)


def contract_apis(config: contract.ExporterConfig) -> tuple[str, ...]:
    """The AWS APIs this exporter reads (the `api` label's values, /status `apis`' keys)."""
    apis = (*metrics.APIS, metrics.API_CONFIGURATION_SET) if config.configuration_sets else metrics.APIS
    return (*apis, *metrics.EVENTS_APIS) if config.events_queue_url else apis


def read_intervals(config: contract.ExporterConfig) -> dict[str, float]:
    """The APIs read less often than every refresh (`model.cadence`), so that their staleness counts in
    their own interval: GetConfigurationSet, unless every listed set is protected (read every pass)."""
    protected = set(config.protection.configuration_sets) if config.protection is not None else set()
    if set(config.configuration_sets) - protected:
        return {API_CONFIGURATION_SET: config.settings_read_interval_seconds}
    return {}


def count_reach(config: contract.ExporterConfig) -> int:
    """How far back a read must reach for the counters: to the periods that settled since the last count
    read (at most counts_read_interval_seconds and a refresh interval ago), with a period to spare. A
    longer outage loses what settled before that."""
    last_read = config.counts_read_interval_seconds + config.refresh_interval_seconds
    return config.count_settle_seconds + last_read + 2 * config.period_seconds


def protection_reach(config: contract.ExporterConfig) -> int:
    """spec.protection judges a rate over its hold time back from a datapoint at most FRESH_SECONDS old."""
    if config.protection is None:
        return 0
    from sesmonitor.exporter.protection.decide import FRESH_SECONDS

    return config.protection.hold_seconds + FRESH_SECONDS + config.period_seconds


class Exporter:
    def __init__(
        self,
        config: contract.ExporterConfig,
        *,
        listen: tuple[str, int] = (ALL_INTERFACES, contract.EXPORTER_PORT),
        clients: AwsClients | None = None,
        clock: Callable[[], float] = time.time,
        render_cache_seconds: float = 1.0,
        control_dir: str | Path | None = None,
        pace_seconds: float = 1.0,
    ) -> None:
        self.config = config
        self.pace_seconds = pace_seconds  # between two SESv2 requests of a tenants or findings read
        self.listen = listen
        self.clock = clock
        self.clients = clients or make_clients(config)
        self.state = ExporterState(
            config.refresh_interval_seconds, contract_apis(config), read_intervals(config)
        )
        instrument(self.clients.cloudwatch, API_CLOUDWATCH, self.state.record_request)
        instrument(self.clients.sesv2, API_ACCOUNT, self.state.record_request)
        configuration_sets = None
        if config.configuration_sets:
            instrument(self.clients.sesv2, API_CONFIGURATION_SET, self.state.record_request)
            configuration_sets = ConfigurationSetReader(self.clients.sesv2, config.configuration_sets)
        cloudwatch = CloudWatchReader(
            self.clients.cloudwatch,
            config.configuration_sets,
            # One query covers the lookback (newest value), the window (its average) and the periods the
            # count counters add once settled (see counting.py).
            max(
                config.lookback_seconds, config.window_seconds, count_reach(config), protection_reach(config)
            ),
            config.period_seconds,
            on_metrics_requested=self.state.add_metrics_requested,
            count_sets=config.count_configuration_sets,
        )
        self.control: ControlFile | None = None
        self.protector: Protector | None = None
        if config.protection is not None:
            self.control, self.protector = self._protection(control_dir)
        self.refresher = Refresher(
            config,
            self.state,
            cloudwatch,
            AccountReader(self.clients.sesv2),
            clock,
            configuration_sets=configuration_sets,
            protector=self.protector,
        )
        # /metrics' collectors in the page's order; `registry` holds the same ones, for a fresh rendering
        self.parts: list[RenderPart] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self._serve(
            ExporterCollector(
                self.state,
                config.monitor,
                config.region,
                [q.key for q in cloudwatch.queries],
                clock,
                protector=self.protector,
                request_apis=(
                    *(metrics.TENANT_APIS if config.tenants is not None else ()),
                    *((metrics.API_LIST_RECOMMENDATIONS,) if config.findings is not None else ()),
                ),
            )
        )
        self.tenants: TenantsLoop | None = None
        if config.tenants is not None:
            self.tenants = self._tenants(config.tenants)
        self.findings: FindingsLoop | None = None
        if config.findings is not None:
            self.findings = self._findings(config.findings)
        self.events: EventConsumer | None = None
        if config.events_queue_url:
            self.events = self._events(config.events_queue_url)
        self.renderer = MetricsRenderer(self.parts, self.state, clock, render_cache_seconds)
        self.server: ExporterHTTPServer | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _protection(self, control_dir: str | Path | None) -> tuple[ControlFile | None, Protector]:
        from sesmonitor.exporter.protection.control import ControlFile
        from sesmonitor.exporter.protection.protector import Protector

        # The resume requests the operator writes (contract.RESUME_FILE_NAME); none without a directory.
        control = ControlFile(Path(control_dir) / contract.RESUME_FILE_NAME) if control_dir else None
        reads = control.read if control is not None else None
        tenants = None
        if self.config.protection is not None and self.config.protection.tenants:
            from sesmonitor.exporter.protection.tenant_target import TenantProtector

            config, sesv2 = self.config, self.clients.sesv2
            tenants = lambda owner: TenantProtector(config, sesv2, owner)  # noqa: E731
        return control, Protector(
            self.config, self.clients.sesv2, self.clients.sts, control=reads, tenants=tenants
        )

    def _serve(self, collector: Collector, reading: Callable[[], object] | None = None) -> None:
        """Serve the collector's families on /metrics, after those served so far."""
        self.registry.register(collector)
        self.parts.append(RenderPart(collector, reading))

    def _events(self, queue_url: str) -> EventConsumer:
        from sesmonitor.exporter.events.event_counts import EventCounts
        from sesmonitor.exporter.events.sqs_consumer import EventConsumer
        from sesmonitor.exporter.serving.event_collector import EventsCollector

        instrument(self.clients.sqs, metrics.API_RECEIVE_MESSAGE, self.state.record_request)
        instrument(self.clients.sqs, "DeleteMessageBatch", self.state.record_request)
        instrument(self.clients.sqs, metrics.API_QUEUE_ATTRIBUTES, self.state.record_request)
        self._serve(EventsCollector(self.state, self.config.monitor, self.config.region))
        return EventConsumer(
            self.clients.sqs,
            queue_url,
            self.state,
            EventCounts(self.config.events_top_domains, self.config.events_dedupe_entries),
            wait_seconds=self.config.events_wait_seconds,
            refresh_interval=self.config.refresh_interval_seconds,
            clock=self.clock,
            on_service_event=self.service_event,
        )

    def service_event(self, event: ServiceEvent, now: float) -> str:
        """An SES service event from the queue: the loops it concerns read sooner (each rate-limits its
        own early reads); its outcome, counted by the consumer."""
        from sesmonitor.exporter.model.service_events import RECOMMENDATION, best_outcome

        outcomes = []
        if event.kind == RECOMMENDATION and self.findings is not None:
            outcomes.append(self.findings.request_early(now))
        if self.tenants is not None:  # a sending status, or a finding on a tenant (its impact)
            outcomes.append(self.tenants.request_early(event, now))
        return best_outcome(outcomes)

    def _tenants(self, config: contract.TenantsConfig) -> TenantsLoop:
        from sesmonitor.exporter.serving.tenant_collector import TenantsCollector
        from sesmonitor.exporter.tenants.loop import TenantsLoop
        from sesmonitor.exporter.tenants.reader import TenantsReader

        for api in metrics.TENANT_APIS:
            instrument(self.clients.sesv2, api, self.state.record_request)
        collector = TenantsCollector(self.state, self.config.monitor, self.config.region)
        self._serve(collector, collector.reading)
        reader = TenantsReader(self.clients.sesv2, config, pace_seconds=self.pace_seconds)
        return TenantsLoop(reader, self.state, config.read_interval_seconds, self.clock)

    def _findings(self, config: contract.FindingsConfig) -> FindingsLoop:
        from sesmonitor.exporter.findings.loop import FindingsLoop
        from sesmonitor.exporter.findings.reader import FindingsReader
        from sesmonitor.exporter.serving.finding_collector import FindingsCollector

        instrument(self.clients.sesv2, metrics.API_LIST_RECOMMENDATIONS, self.state.record_request)
        collector = FindingsCollector(self.state, self.config.monitor, self.config.region)
        self._serve(collector, collector.reading)
        # ListRecommendations allows 1 request a second: never faster than that, whatever the tests ask
        pace = max(self.pace_seconds, 1.0) if self.pace_seconds else 0.0
        reader = FindingsReader(self.clients.sesv2, config.limit, pace_seconds=pace)
        return FindingsLoop(reader, self.state, config.read_interval_seconds, self.clock)

    def status(self, now: float) -> contract.ExporterStatus:
        return build_status(
            self.state.view(),
            self.config.monitor,
            self.config.region,
            self.config.configuration_sets,
            now,
            count_sets=self.config.count_configuration_sets,
            events_queue_url=self.config.events_queue_url,
            protection=self.protector.view() if self.protector is not None else None,
            tenants=self.config.tenants,
            findings=self.config.findings,
        )

    def watch_control(self, stop: threading.Event, interval: float | None = None) -> None:
        """Wake the refresh loop as soon as the control file holds a new resume request: kubelet's
        ConfigMap refresh is latency enough without waiting for the next refresh interval too."""
        from sesmonitor.exporter.protection.control import POLL_SECONDS

        assert self.protector is not None
        while not stop.wait(POLL_SECONDS if interval is None else interval):
            try:
                if self.protector.poll_control():
                    self.protector.wake.set()
            except Exception:  # never let a bad file or a bug end the watching
                log.exception("reading the resume requests failed")

    @property
    def address(self) -> tuple[str, int]:
        if self.server is None:
            raise RuntimeError("not started")
        host, port = self.server.server_address
        return str(host), int(port)

    def start(self, *, refresh_loop: bool = True) -> None:
        """Bind the port (OSError if taken), then serve and refresh in daemon threads."""
        self.server = ExporterHTTPServer(self.listen, self.renderer, self.status, self.clock)
        self.server.start()
        if refresh_loop:
            loop = threading.Thread(
                target=self.refresher.run, args=(self._stop,), name="sesmonitor-refresh", daemon=True
            )
            loop.start()
            self._threads.append(loop)
        if refresh_loop and self.protector is not None and self.control is not None:
            watcher = threading.Thread(
                target=self.watch_control, args=(self._stop,), name="sesmonitor-control", daemon=True
            )
            watcher.start()
            self._threads.append(watcher)
        if refresh_loop and self.tenants is not None:
            thread = threading.Thread(
                target=self.tenants.run, args=(self._stop,), name="sesmonitor-tenants", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if refresh_loop and self.findings is not None:
            thread = threading.Thread(
                target=self.findings.run, args=(self._stop,), name="sesmonitor-findings", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if refresh_loop and self.events is not None:
            for name, target in (("events", self.events.run), ("queue", self.events.run_attributes)):
                thread = threading.Thread(
                    target=target, args=(self._stop,), name=f"sesmonitor-{name}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        host, port = self.address
        log.info(
            "serving %s on %s:%d, refreshing every %ds",
            self.config.monitor,
            f"[{host}]" if ":" in host else host,
            port,
            self.config.refresh_interval_seconds,
        )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self.protector is not None:
            self.protector.wake.set()  # the loop waits on it
        for loop in (self.tenants, self.findings):
            if loop is not None:
                loop.early.wake.set()  # so do these
        if self.server is not None:
            self.server.stop(timeout)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
