"""The operator's liveness endpoint (``--liveness http://[::]:8080/healthz``), IPv6 and IPv4 alike.

kopf can serve liveness itself (``kopf.run(liveness_endpoint=...)``), but through aiohttp's TCPSite,
whose asyncio server sets ``IPV6_V6ONLY`` on a ``[::]`` socket (IPv4 kubelets could not probe it) and
binds ``0.0.0.0`` to IPv4 alone (IPv6-only clusters could not). So we serve the same answer on a socket
of our own (`sesmonitor.listen`): from kopf's event loop, so a hung loop fails the probe as kopf's
would. kopf's endpoint adds the results of ``@kopf.on.probe`` handlers; the operator has none, so
both answer ``{}``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from sesmonitor.listen import bound_address, listen_socket
from sesmonitor.operator.settings import parse_endpoint


@contextlib.asynccontextmanager
async def serve_liveness(url: str) -> AsyncIterator[tuple[str, int]]:
    """Serve ``GET PATH`` -> 200 ``{}`` while the block runs; yields the bound (host, port)."""
    endpoint = parse_endpoint(url)
    sock = listen_socket(endpoint.host, endpoint.port)

    async def healthy(_request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.add_routes([web.get(endpoint.path, healthy)])
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield bound_address(sock)
    finally:
        await runner.cleanup()
        sock.close()
