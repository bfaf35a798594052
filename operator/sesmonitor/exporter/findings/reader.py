"""One read of the open findings: ListRecommendations with STATUS=OPEN, 100 a page, one page a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sesmonitor.exporter.model.findings import Finding, FindingsReading

PAGE_SIZE = 100  # the most ListRecommendations gives a page


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _epoch(value: Any) -> float | None:
    """boto3 parses timestamps to datetimes; a stubbed answer may hold a number."""
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_finding(doc: Mapping[str, Any]) -> Finding | None:
    """A Recommendation; None when it is not OPEN or lacks its resource or type."""
    arn, kind = _text(doc.get("ResourceArn")), _text(doc.get("Type"))
    if arn is None or kind is None or doc.get("Status") != "OPEN":
        return None
    return Finding(
        arn,
        kind,
        _text(doc.get("Impact")),
        _text(doc.get("Description")),
        _epoch(doc.get("CreatedTimestamp")),
    )


class FindingsReader:
    def __init__(
        self,
        client: Any,
        limit: int,
        *,
        pace_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._limit = limit
        self._pace = pace_seconds
        self._sleep = sleep

    def read(self) -> FindingsReading:
        """Raises what AWS raises (the loop keeps the last reading)."""
        found: list[Finding] = []
        total = requests = 0
        token: str | None = None
        while True:
            if requests and self._pace > 0:
                self._sleep(self._pace)
            requests += 1
            page = self._client.list_recommendations(
                Filter={"STATUS": "OPEN"}, PageSize=PAGE_SIZE, **({"NextToken": token} if token else {})
            )
            for doc in page.get("Recommendations") or []:
                finding = parse_finding(doc)
                if finding is None:
                    continue
                total += 1
                if len(found) < self._limit:
                    found.append(finding)
            token = page.get("NextToken")
            if not token:
                return FindingsReading(tuple(found), total, requests)
