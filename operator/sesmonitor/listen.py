"""Listening sockets that serve IPv4 and IPv6 clients alike: the exporter's and the operator's liveness.

``[::]`` (or an empty host) means every interface of every family the kernel has: one IPv6 socket with
``IPV6_V6ONLY=0``, so IPv4 clients arrive as ``::ffff:a.b.c.d`` and IPv6-only clusters (EKS supports
them) reach it too. Where the kernel has no IPv6 (built without it, ``ipv6.disable=1``), ``0.0.0.0``.
Any other host binds that one address. Why not asyncio's own ``create_server(host="::")``: it sets
``IPV6_V6ONLY=1``, which takes IPv4 away.
"""

from __future__ import annotations

import errno
import socket
from typing import Final

ALL_INTERFACES: Final = "::"
IPV4_ANY: Final = "0.0.0.0"
# What binding an IPv6 socket fails with where the kernel has no usable IPv6.
_NO_IPV6: Final = frozenset({errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL, errno.EPROTONOSUPPORT})


def all_interfaces(host: str) -> bool:
    return host.strip("[]") in ("", ALL_INTERFACES)


def listen_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A bound, listening TCP socket (OSError when the address is taken or not ours)."""
    host = host.strip("[]")
    if all_interfaces(host):
        if socket.has_dualstack_ipv6():
            try:
                return socket.create_server(
                    (ALL_INTERFACES, port), family=socket.AF_INET6, backlog=backlog, dualstack_ipv6=True
                )
            except OSError as exc:
                if exc.errno not in _NO_IPV6:
                    raise
        return socket.create_server((IPV4_ANY, port), family=socket.AF_INET, backlog=backlog)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=backlog)


def bound_address(sock: socket.socket) -> tuple[str, int]:
    host, port = sock.getsockname()[:2]
    return str(host), int(port)
