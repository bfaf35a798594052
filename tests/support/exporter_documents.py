"""One way to build the /status document an exporter serves, for tests of its readers (the operator).

exporter_status("mail/prod")                                  # healthy: bounce 1%, complaints 0.02%
exporter_status("mail/prod", bounce=0.07, enforcement="PROBATION", ready=False)
"""

from __future__ import annotations

from sesmonitor.contract import ExporterStatus, empty_account, empty_rate


def exporter_status(
    key: str,
    *,
    bounce: float | None = 0.01,
    complaint: float | None = 0.0002,
    enforcement: str | None = "HEALTHY",
    sending: bool | None = True,
    ready: bool = True,
    stale: bool = False,
    region: str = "eu-west-1",
) -> ExporterStatus:
    """An ExporterStatus as the exporter serves it (rates as fractions)."""
    bounce_rate, complaint_rate = empty_rate(), empty_rate()
    bounce_rate["current"] = bounce_rate["window_average"] = bounce
    complaint_rate["current"] = complaint_rate["window_average"] = complaint
    for rate in (bounce_rate, complaint_rate):
        if rate["current"] is not None:
            rate["timestamp"] = "2026-01-01T00:00:00Z"
            rate["age_seconds"] = 60.0
    account = empty_account()
    account["enforcement_status"] = enforcement
    account["sending_enabled"] = sending
    return ExporterStatus(
        monitor=key,
        region=region,
        ready=ready,
        stale=stale,
        bounce_rate=bounce_rate,
        complaint_rate=complaint_rate,
        account=account,
        last_refresh_time="2026-01-01T00:01:00Z" if ready else None,
        last_error=None,
    )
