"""SESv2 GetAccount: the account's enforcement status, sending switches and quota, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sesmonitor.exporter.model.account import AccountSnapshot


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def parse_account(response: Mapping[str, Any]) -> AccountSnapshot:
    """Fields AWS leaves out stay None: the exporter then writes no series rather than a made-up value."""
    quota = response.get("SendQuota") or {}
    status = response.get("EnforcementStatus")
    return AccountSnapshot(
        enforcement_status=status.upper() if isinstance(status, str) and status else None,
        sending_enabled=_bool(response.get("SendingEnabled")),
        production_access_enabled=_bool(response.get("ProductionAccessEnabled")),
        max_24_hour_send=_float(quota.get("Max24HourSend")),
        max_send_rate=_float(quota.get("MaxSendRate")),
        sent_last_24_hours=_float(quota.get("SentLast24Hours")),
    )


class AccountReader:
    def __init__(self, client: Any) -> None:
        self._client = client

    def read(self) -> AccountSnapshot:
        return parse_account(self._client.get_account())
