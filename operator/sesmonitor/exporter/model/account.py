"""The SES account as SESv2 GetAccount last described it (`refresh.account` reads it; `serving` shows it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountSnapshot:
    enforcement_status: str | None  # HEALTHY | PROBATION | SHUTDOWN (AWS may add others)
    sending_enabled: bool | None
    production_access_enabled: bool | None
    max_24_hour_send: float | None
    max_send_rate: float | None
    sent_last_24_hours: float | None
    # SuppressionAttributes.SuppressedReasons: () is the account-level suppression list off; None unknown
    suppressed_reasons: tuple[str, ...] | None = None
    review_status: str | None = None  # Details.ReviewDetails.Status: PENDING | FAILED | GRANTED | DENIED
    review_case_id: str | None = None  # Details.ReviewDetails.CaseId: the appeal's support case
    # VdmAttributes.VdmEnabled == ENABLED; False also when AWS leaves VdmAttributes out (never set up)
    vdm_enabled: bool | None = None
