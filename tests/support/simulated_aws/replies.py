"""The shape of what the proxy sends back, shared by the stand-ins, the faults and the control endpoints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# (HTTP status, headers, body)
Reply = tuple[int, list[tuple[str, str]], bytes]


def json_reply(status: int, doc: Any, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return status, [("Content-Type", "application/json"), *headers], json.dumps(doc).encode()
