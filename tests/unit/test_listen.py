"""Dual-stack listening (`sesmonitor.listen`) and the operator's liveness endpoint on it: one server
reached by a real IPv4 and a real IPv6 loopback client, and IPv4 alone where the kernel has no IPv6."""

from __future__ import annotations

import asyncio
import errno
import socket
import urllib.request
from typing import Any

import pytest

from sesmonitor import listen
from sesmonitor.operator.liveness import serve_liveness
from sesmonitor.operator.settings import OperatorSettings, SettingsError, parse_endpoint, validate


def echo_once(server: socket.socket, client_host: str) -> bytes:
    """Connect from ``client_host`` (its own family), send a line and read it back through ``server``."""
    port = server.getsockname()[1]
    with socket.create_connection((client_host, port), timeout=5) as client:
        conn, _ = server.accept()
        with conn:
            client.sendall(b"ping\n")
            conn.sendall(conn.recv(16))
            return client.recv(16)


def test_all_interfaces_is_one_socket_for_ipv4_and_ipv6_clients() -> None:
    with listen.listen_socket("::", 0) as server:
        assert server.family == socket.AF_INET6
        assert server.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
        assert echo_once(server, "127.0.0.1") == b"ping\n"
        assert echo_once(server, "::1") == b"ping\n"


def test_an_empty_host_and_brackets_mean_all_interfaces_too() -> None:
    for host in ("", "[::]"):
        with listen.listen_socket(host, 0) as server:
            assert server.family == socket.AF_INET6
            assert echo_once(server, "127.0.0.1") == b"ping\n"


def test_without_ipv6_in_the_kernel_it_listens_on_ipv4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "has_ipv6", False)
    with listen.listen_socket("::", 0) as server:
        assert server.family == socket.AF_INET
        assert server.getsockname()[0] == "0.0.0.0"
        assert echo_once(server, "127.0.0.1") == b"ping\n"


def test_an_ipv6_bind_the_kernel_refuses_falls_back_to_ipv4(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.create_server

    def no_ipv6(address: Any, *, family: int = socket.AF_INET, **kwargs: Any) -> socket.socket:
        if family == socket.AF_INET6:
            raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
        return real(address, family=family, **kwargs)

    monkeypatch.setattr(socket, "create_server", no_ipv6)
    with listen.listen_socket("::", 0) as server:
        assert server.family == socket.AF_INET
        assert echo_once(server, "127.0.0.1") == b"ping\n"


def test_a_taken_port_is_an_error_not_a_fallback() -> None:
    with listen.listen_socket("::", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use") as raised:
            listen.listen_socket("::", port)
        assert raised.value.errno == errno.EADDRINUSE


def test_an_explicit_address_binds_that_family_only() -> None:
    with listen.listen_socket("127.0.0.1", 0) as v4, listen.listen_socket("::1", 0) as v6:
        assert (v4.family, v6.family) == (socket.AF_INET, socket.AF_INET6)
        assert v6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_the_operator_liveness_endpoint_answers_ipv4_and_ipv6_clients() -> None:
    async def probe() -> list[tuple[int, bytes]]:
        async with serve_liveness("http://[::]:0/healthz") as (host, port):
            assert host == "::"
            urls = [f"http://127.0.0.1:{port}/healthz", f"http://[::1]:{port}/healthz"]
            return [await asyncio.to_thread(fetch, url) for url in urls]

    assert asyncio.run(probe()) == [(200, b"{}"), (200, b"{}")]


def test_liveness_endpoints_are_checked_at_startup() -> None:
    assert parse_endpoint("http://[::]:8080/healthz") == parse_endpoint("http://:8080/healthz")
    assert parse_endpoint("http://127.0.0.1:8080/healthz").host == "127.0.0.1"
    for bad in ("https://[::]:8080/healthz", "http://[::]/healthz", "http://[::]:x/healthz"):
        with pytest.raises(SettingsError, match="liveness endpoint"):
            validate(OperatorSettings(liveness_endpoint=bad))
