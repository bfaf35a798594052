"""CloudWatch in the simulation: moto holds the AWS/SES datapoints; `seed_scenario` puts a scenario there.

moto 5.2.5 implements what the exporter and the SDKs call (PutMetricData, GetMetricData, ListMetrics),
so nothing is stood in. Two of its answers differ from CloudWatch's:
- ListMetrics repeats a metric once per datapoint; the fault proxy passes its answers through
  `unique_metrics`, since SDKs that list before they read would otherwise ask for hundreds of duplicates.
- A GetMetricData query without dimensions matches every datapoint of that metric name whatever its
  dimensions, so with configuration sets seeded, the account-wide values mix in the sets' datapoints
  (real CloudWatch keeps them apart). Configuration-set queries are exact. Left as it is; tests allow it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from support.simulated_aws.scenarios import MINUTE, SCENARIOS, Scenario

NAMESPACE = "AWS/SES"
CLOUDWATCH_TARGET_PREFIX = "GraniteServiceVersion20100801"  # awsJson1_0 X-Amz-Target, CBOR path
CONFIGURATION_SET_DIMENSION = "ses:configuration-set"
EVENTS_OF_RATE = {"Reputation.BounceRate": "Bounce", "Reputation.ComplaintRate": "Complaint"}


@dataclass
class SeededScenario:
    scenario: Scenario
    now: float
    start: float
    configuration_sets: tuple[str, ...]
    # (CloudWatch metric name, configuration set or "") -> [(minute start, value)], oldest first
    points: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)

    def series(self, metric: str, configuration_set: str = "") -> list[tuple[float, float]]:
        return self.points.get((metric, configuration_set), [])

    def newest(
        self, metric: str, configuration_set: str = "", at: float | None = None
    ) -> tuple[float, float] | None:
        """The newest datapoint of a whole minute that had ended by `at` (default: seeding time)."""
        at = self.now if at is None else at
        end = math.floor(at / MINUTE) * MINUTE
        eligible = [p for p in self.series(metric, configuration_set) if p[0] < end]
        return eligible[-1] if eligible else None

    def sent_last_24_hours(self) -> float:
        return sum(v for t, v in self.series("Send") if t >= self.now - 86400)


def scale_for(index: int) -> float:
    """Configuration set number `index` gets the scenario's rates times this (0.5, 1.0, 1.5, ...)."""
    return 0.5 * (index + 1)


def seed_scenario(
    cloudwatch: Any,
    scenario: str | Scenario,
    *,
    now: float | None = None,
    hours: float = 3.0,
    configuration_sets: Sequence[str] = (),
    reputation_disabled: Sequence[str] = (),
) -> SeededScenario:
    """Put a scenario's AWS/SES datapoints for the last `hours` into CloudWatch, one per minute.

    Per sending minute: Send, Delivery, and Bounce / Complaint when non-zero (SES publishes no zeros;
    Reject is never published), plus Reputation.BounceRate and Reputation.ComplaintRate. Minutes without
    mail get no datapoint at all, like SES. Like AWS, a reputation rate of 0 is not published while the
    scope has had no such event yet (a clean account has no complaint rate), and a configuration set in
    `reputation_disabled` gets no reputation rates at all.
    """
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    now = time.time() if now is None else now
    first = math.floor((now - hours * 3600) / MINUTE) * MINUTE
    seeded = SeededScenario(sc, now, first, tuple(configuration_sets))
    data: list[dict[str, Any]] = []
    for index, scope in enumerate(["", *configuration_sets]):
        factor = 1.0 if not scope else scale_for(index - 1)
        dims = [{"Name": CONFIGURATION_SET_DIMENSION, "Value": scope}] if scope else []
        t = first
        while t <= now - MINUTE:  # whole minutes only
            sent = sc.sends(t)
            if scope and sent:  # a configuration set carries part of the mail
                sent = max(1, sent // 2)
            if sent:
                bounce_rate = min(1.0, sc.bounce_rate(t, now, first) * factor)
                complaint_rate = min(1.0, sc.complaint_rate(t, now, first) * factor)
                if scope in sc.set_rates:
                    bounce_rate, complaint_rate = sc.set_rates[scope]
                bounces = round(sent * bounce_rate)
                delivered = sent - bounces
                complaints = round(delivered * complaint_rate)
                values = {
                    "Send": float(sent),
                    "Delivery": float(delivered),
                    "Bounce": float(bounces),
                    "Complaint": float(complaints),
                    "Reputation.BounceRate": bounce_rate,
                    "Reputation.ComplaintRate": complaint_rate,
                }
                for name, value in values.items():
                    if name in ("Bounce", "Complaint") and value == 0:
                        continue
                    if name.startswith("Reputation.") and (
                        scope in reputation_disabled
                        or (value == 0 and not seeded.series(EVENTS_OF_RATE[name], scope))
                    ):
                        continue
                    seeded.points.setdefault((name, scope), []).append((t, value))
                    data.append(
                        {
                            "MetricName": name,
                            "Dimensions": dims,
                            "Timestamp": dt.datetime.fromtimestamp(t, dt.UTC),
                            "Value": value,
                        }
                    )
            t += MINUTE
    for offset in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[offset : offset + 500])
    return seeded


def unique_metrics(doc: dict[str, Any]) -> dict[str, Any]:
    """moto 5.2.5 lists a metric once per datapoint; CloudWatch lists it once. Keep the first of each."""
    seen: set[str] = set()
    unique = []
    for metric in doc.get("Metrics", []):
        key = json.dumps(metric, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(metric)
    return dict(doc, Metrics=unique)
