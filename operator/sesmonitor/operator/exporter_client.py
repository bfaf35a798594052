"""Read one exporter's ``/status`` document (the `sesmonitor.contract.ExporterStatus` JSON).

By default through the exporter's Service, ``http://<service>.<namespace>.svc:9435/status``; the
settings may point elsewhere (tests, an operator running outside the cluster). Short timeouts: a slow
exporter must not hold up the reconcile of its SesMonitor for long.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Final

from sesmonitor.contract import ExporterStatus
from sesmonitor.operator.shapes import ExporterReading

MAX_BYTES: Final = 1 << 20


def fetch_status(url: str, timeout: float) -> ExporterReading:
    """GET ``url``; an ExporterReading with the parsed document or the reason it could not be had."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        # The URL comes from the operator's own settings, never from a SesMonitor.
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        return ExporterReading(error=f"HTTP {exc.code} {exc.reason}", url=url)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return ExporterReading(error=str(reason) or type(exc).__name__, url=url)
    if len(raw) > MAX_BYTES:
        return ExporterReading(error=f"status document larger than {MAX_BYTES} bytes", url=url)
    try:
        return ExporterReading(status=parse_status(raw.decode("utf-8")), url=url)
    except ValueError as exc:
        return ExporterReading(error=f"invalid status document: {exc}", url=url)


def parse_status(text: str) -> ExporterStatus:
    """Parse and shape-check an ExporterStatus; ValueError says what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    for key in ("bounce_rate", "complaint_rate", "account"):
        if not isinstance(doc.get(key), dict):
            raise ValueError(f"{key}: missing or not an object")
    if not isinstance(doc.get("monitor"), str):
        raise ValueError("monitor: missing or not a string")
    for rate in ("bounce_rate", "complaint_rate"):
        for key in ("current", "window_average"):
            value = doc[rate].get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"{rate}.{key}: not a number")
    known = set(ExporterStatus.__dataclass_fields__)
    try:
        return ExporterStatus(**{k: v for k, v in doc.items() if k in known})
    except TypeError as exc:
        raise ValueError(str(exc)) from None
