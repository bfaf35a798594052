"""The operator's ``/metrics`` (``--metrics http://[::]:8081/metrics``): `telemetry`'s registry in
Prometheus' text format, on a port of its own, IPv6 and IPv4 alike (`sesmonitor.listen`, as
`liveness`).

Served from kopf's event loop, like liveness: an operator whose loop hangs stops answering scrapes,
and Prometheus' ``up`` goes to 0, which is what the chart's SesMonitorOperatorDown alert reads. The
answer holds counts, durations, condition reasons and SesMonitor names only: no spec, no credentials.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from sesmonitor.listen import bound_address, listen_socket
from sesmonitor.operator.settings import parse_endpoint


@contextlib.asynccontextmanager
async def serve_metrics(url: str, registry: CollectorRegistry) -> AsyncIterator[tuple[str, int]]:
    """Serve ``GET PATH`` -> the registry's metrics while the block runs; yields the bound (host, port)."""
    endpoint = parse_endpoint(url, "metrics endpoint")
    sock = listen_socket(endpoint.host, endpoint.port)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.add_routes([web.get(endpoint.path, metrics)])
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield bound_address(sock)
    finally:
        await runner.cleanup()
        sock.close()
