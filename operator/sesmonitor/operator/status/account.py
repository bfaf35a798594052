"""AccountHealthy (SES's enforcement status and sending switch) and ConfigurationSetCounts."""

from __future__ import annotations

from typing import Final

from sesmonitor.api import SesMonitorSpec
from sesmonitor.api.status import ACCOUNT_HEALTHY, CONFIGURATION_SET_COUNTS
from sesmonitor.metrics import APIS
from sesmonitor.operator.shapes import NO_DATA, Condition, ExporterReading

HEALTHY: Final = "Healthy"
UNDER_REVIEW: Final = "UnderReview"
SENDING_PAUSED: Final = "SendingPaused"
UNKNOWN_ENFORCEMENT: Final = "UnknownEnforcementStatus"
COUNTS_PUBLISHED: Final = "CountsPublished"
NO_COUNT_DATA: Final = "NoCountData"
# The counts every sent email produces, given an event destination with those event types; a set
# without Bounce, Complaint or Reject datapoints may simply have had none (SES publishes no zeros).
_JUDGED_COUNTS: Final = ("Send", "Delivery")


def account_condition(reading: ExporterReading, unavailable: Condition | None) -> Condition:
    if unavailable is not None:
        return Condition(
            ACCOUNT_HEALTHY, "Unknown", unavailable.reason, f"account status unknown: {unavailable.message}"
        )
    assert reading.status is not None
    account = reading.status.account
    enforcement = account.get("enforcement_status")
    sending = account.get("sending_enabled")
    if enforcement is None:
        return Condition(ACCOUNT_HEALTHY, "Unknown", NO_DATA, "the exporter has not read the SES account yet")
    if enforcement == "SHUTDOWN":
        return Condition(
            ACCOUNT_HEALTHY,
            "False",
            SENDING_PAUSED,
            "SES paused the account's sending (enforcement status SHUTDOWN)",
        )
    if enforcement == "PROBATION":
        return Condition(
            ACCOUNT_HEALTHY,
            "False",
            UNDER_REVIEW,
            "SES put the account under review (enforcement status PROBATION)",
        )
    if sending is False:
        return Condition(
            ACCOUNT_HEALTHY, "False", SENDING_PAUSED,
            f"sending is disabled for the account (enforcement status {enforcement})",
        )  # fmt: skip
    if enforcement == "HEALTHY":
        return Condition(
            ACCOUNT_HEALTHY, "True", HEALTHY, "the account is in good standing (enforcement status HEALTHY)"
        )
    return Condition(
        ACCOUNT_HEALTHY,
        "Unknown",
        UNKNOWN_ENFORCEMENT,
        f"unrecognised SES enforcement status {enforcement!r}",
    )


def counts_condition(
    spec: SesMonitorSpec, reading: ExporterReading, unavailable: Condition | None
) -> Condition | None:
    """ConfigurationSetCounts, only with spec.configurationSetCounts: False while an opted-in set's Send
    or Delivery count has had no datapoint since the exporter started (no event destination for it)."""
    sets = spec.configuration_set_counts
    if not sets:
        return None
    if unavailable is not None:
        return Condition(
            CONFIGURATION_SET_COUNTS, "Unknown", unavailable.reason,
            f"configuration set counts unknown: {unavailable.message}",
        )  # fmt: skip
    doc = reading.status
    assert doc is not None
    api = doc.apis.get(APIS[0])  # GetMetricData
    read = api.get("last_success_time") if api else None
    if read is None:
        return Condition(
            CONFIGURATION_SET_COUNTS, "Unknown", NO_DATA, "the exporter has not read CloudWatch yet"
        )
    missing = doc.counts_without_data or {}
    empty = {name: missing[name] for name in sets if set(_JUDGED_COUNTS) & set(missing.get(name, ()))}
    if empty:
        listed = "; ".join(f"{name}: {', '.join(metrics)}" for name, metrics in sorted(empty.items()))
        return Condition(
            CONFIGURATION_SET_COUNTS, "False", NO_COUNT_DATA,
            f"no datapoint since the exporter started (lookback included) for {listed}. CloudWatch has a"
            " configuration set's counts only through a CloudWatch event destination of the set with"
            " the dimension ses:configuration-set (and those event types): add one, or remove the set"
            " from spec.configurationSetCounts (its 5 count metrics are billed every minute either way)",
        )  # fmt: skip
    quiet = {name: missing[name] for name in sets if missing.get(name)}
    note = ""
    if quiet:
        listed = "; ".join(f"{name}: {', '.join(metrics)}" for name, metrics in sorted(quiet.items()))
        note = f" (none yet of {listed}: SES publishes no zeros)"
    return Condition(
        CONFIGURATION_SET_COUNTS, "True", COUNTS_PUBLISHED,
        f"CloudWatch has counts for {', '.join(sorted(sets))}{note}",
    )  # fmt: skip
