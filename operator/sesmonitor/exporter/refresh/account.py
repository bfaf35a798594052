"""SESv2 GetAccount: the account's enforcement status, sending switches and quota, its suppression list,
the review's appeal case and whether VDM is on, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sesmonitor.exporter.model.account import AccountSnapshot


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _reasons(response: Mapping[str, Any]) -> tuple[str, ...] | None:
    attributes = response.get("SuppressionAttributes")
    if not isinstance(attributes, Mapping) or not isinstance(attributes.get("SuppressedReasons"), list):
        return None
    return tuple(str(r) for r in attributes["SuppressedReasons"])


def parse_account(response: Mapping[str, Any]) -> AccountSnapshot:
    """Fields AWS leaves out stay None: the exporter then writes no series rather than a made-up value.
    Except VDM: AWS leaves VdmAttributes out where VDM was never set up, which is VDM off."""
    quota = response.get("SendQuota") or {}
    status = response.get("EnforcementStatus")
    details = _mapping(response.get("Details"))
    review = _mapping(details.get("ReviewDetails"))
    vdm = _mapping(response.get("VdmAttributes"))
    return AccountSnapshot(
        enforcement_status=status.upper() if isinstance(status, str) and status else None,
        sending_enabled=_bool(response.get("SendingEnabled")),
        production_access_enabled=_bool(response.get("ProductionAccessEnabled")),
        max_24_hour_send=_float(quota.get("Max24HourSend")),
        max_send_rate=_float(quota.get("MaxSendRate")),
        sent_last_24_hours=_float(quota.get("SentLast24Hours")),
        suppressed_reasons=_reasons(response),
        review_status=_text(review.get("Status")),
        review_case_id=_text(review.get("CaseId")),
        vdm_enabled=vdm.get("VdmEnabled") == "ENABLED",
    )


class AccountReader:
    def __init__(self, client: Any) -> None:
        self._client = client

    def read(self) -> AccountSnapshot:
        return parse_account(self._client.get_account())
