"""SES reputation findings (VDM's advisor) in the simulation: moto 5.2.5 has no ListRecommendations.

The fault proxy STANDS IN FOR ListRecommendations (POST /v2/email/vdm/recommendations): filters TYPE,
IMPACT, STATUS and RESOURCE_ARN (AWS allows one, or STATUS with IMPACT or TYPE), PageSize 1..100, each
answer built from botocore's sesv2 output shape (checked in `tests/aws/test_stand_in_shapes.py`). Tests
seed findings with `RecommendationsStandIn.add` (or the control endpoint `recommendations`) and fix them
with `fix`. Whether VDM is enabled is GetAccount's `VdmAttributes` (the account stand-in in `sesv2`);
the exporter reads that before it asks for findings, so this stand-in answers whatever it holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from support.simulated_aws.replies import Reply
from support.simulated_aws.tenants import IMPACTS, bad_request, body, page

TYPES = ("DKIM", "DMARC", "SPF", "BIMI", "COMPLAINT", "BOUNCE", "FEEDBACK_3P", "IP_LISTING")
STATUSES = ("OPEN", "FIXED")
FILTERS = ("TYPE", "IMPACT", "STATUS", "RESOURCE_ARN")
COMBINABLE = ({"STATUS", "IMPACT"}, {"STATUS", "TYPE"})  # botocore's Filter documentation


@dataclass
class Finding:
    resource_arn: str
    type: str
    impact: str
    description: str
    status: str = "OPEN"
    created: float = 0.0
    updated: float = 0.0

    def response(self) -> dict[str, Any]:
        return {
            "ResourceArn": self.resource_arn,
            "Type": self.type,
            "Description": self.description,
            "Status": self.status,
            "CreatedTimestamp": self.created,
            "LastUpdatedTimestamp": self.updated,
            "Impact": self.impact,
        }

    def matches(self, filters: dict[str, str]) -> bool:
        values = {
            "TYPE": self.type,
            "IMPACT": self.impact,
            "STATUS": self.status,
            "RESOURCE_ARN": self.resource_arn,
        }
        return all(values[key] == value for key, value in filters.items())


class RecommendationsStandIn:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._findings: list[Finding] = []
        self._lock = threading.Lock()

    def add(self, resource_arn: str, type: str, impact: str = "HIGH", description: str = "") -> Finding:
        if type not in TYPES or impact not in IMPACTS:
            raise ValueError(f"type must be one of {TYPES}, impact one of {IMPACTS}")
        now = self._clock()
        finding = Finding(
            resource_arn, type, impact, description or f"{type} finding for {resource_arn}", "OPEN", now, now
        )
        with self._lock:
            self._findings.append(finding)
        return finding

    def fix(self, resource_arn: str, type: str) -> None:
        with self._lock:
            for finding in self._findings:
                if finding.resource_arn == resource_arn and finding.type == type:
                    finding.status, finding.updated = "FIXED", self._clock()

    def clear(self) -> None:
        with self._lock:
            self._findings.clear()

    def findings(self) -> list[Finding]:
        with self._lock:
            return list(self._findings)

    def answer(self, raw: bytes) -> Reply:
        doc = body(raw)
        filters = doc.get("Filter") or {}
        unknown = set(filters) - set(FILTERS)
        if unknown:
            return bad_request(f"Unknown filter {sorted(unknown)}")
        if len(filters) > 1 and set(filters) not in COMBINABLE:
            return bad_request(f"Filters {sorted(filters)} cannot be combined")
        with self._lock:
            found = [f.response() for f in self._findings if f.matches(filters)]
        return page(found, doc, "Recommendations")
