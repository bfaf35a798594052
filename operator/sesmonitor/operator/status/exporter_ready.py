"""ExporterReady: whether the exporter serves fresh data from AWS, from its /status (or why it has none)."""

from __future__ import annotations

from typing import Final

from sesmonitor.api.status import EXPORTER_READY
from sesmonitor.operator.shapes import Condition, ExporterReading
from sesmonitor.operator.status.aws_errors import aws_failure

# Reasons (one CamelCase word each).
SERVING: Final = "Serving"
NOT_READY: Final = "NotReady"
STALE: Final = "Stale"
EXPORTER_UNREACHABLE: Final = "ExporterUnreachable"
MONITOR_MISMATCH: Final = "MonitorMismatch"


def exporter_problem(monitor_key: str, reading: ExporterReading) -> Condition | None:
    """ExporterReady=False when the document is missing or belongs to another monitor, else None."""
    where = f" at {reading.url}" if reading.url else ""
    if reading.status is None:
        error = reading.error or "no status document"
        if reading.workload is not None:
            return Condition(
                EXPORTER_READY,
                "False",
                reading.workload.reason,
                f"{reading.workload.message} (its /status{where}: {error})",
            )
        return Condition(
            EXPORTER_READY,
            "False",
            EXPORTER_UNREACHABLE,
            f"cannot read the exporter's /status{where}: {error}",
        )
    if reading.status.monitor != monitor_key:
        return Condition(
            EXPORTER_READY,
            "False",
            MONITOR_MISMATCH,
            f"the exporter{where} serves monitor {reading.status.monitor!r}, not {monitor_key!r}",
        )
    return None


def exporter_condition(monitor_key: str, reading: ExporterReading) -> Condition:
    problem = exporter_problem(monitor_key, reading)
    if problem is not None:
        return problem
    doc = reading.status
    assert doc is not None
    failure = aws_failure(doc)
    if not doc.ready or doc.stale:
        if doc.last_refresh_time is None:
            situation = "the exporter has no complete read of AWS yet"
        else:
            situation = f"the exporter serves data last read from AWS at {doc.last_refresh_time}"
        if failure is not None:
            return Condition(EXPORTER_READY, "False", failure.reason, f"{situation}: {failure.message}")
        if not doc.ready:
            return Condition(EXPORTER_READY, "False", NOT_READY, f"{situation}; waiting for its reads")
        return Condition(EXPORTER_READY, "False", STALE, situation)
    return Condition(EXPORTER_READY, "True", SERVING, "the exporter serves fresh data from AWS")
