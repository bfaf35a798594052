"""Every metric in sesmonitor.metrics is documented and really served; nothing undocumented is served."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sesmonitor import metrics
from support.exporter_checks import FakeClock, names, scrape_metrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def documented_names() -> set[str]:
    return set(re.findall(r"`([a-z_][a-z0-9_]*)`", DOC.read_text()))


def test_every_metric_name_is_documented():
    missing = {
        *metrics.all_metric_names(),
        *metrics.EVENT_METRIC_NAMES,
        *metrics.TENANT_METRIC_NAMES,
    } - documented_names()
    assert not missing, f"not in docs/metrics.md: {sorted(missing)}"
    for reason in metrics.NO_DATA_REASONS:
        assert f"`{reason}`" in DOC.read_text()
    for outcome in metrics.OUTCOMES:
        assert f"`{outcome}`" in DOC.read_text()


def test_every_metric_name_appears_in_a_real_scrape(simulated_ses, make_exporter):
    ses = simulated_ses("seed")
    # The seed never has a Reject or Complaint datapoint: add one each so that every family has a sample.
    stamp = dt.datetime.fromtimestamp(ses.seeded.now - 600, dt.UTC)
    ses.client("cloudwatch", direct=True).put_metric_data(
        Namespace="AWS/SES",
        MetricData=[
            {"MetricName": name, "Value": 1.0, "Timestamp": stamp} for name in ("Reject", "Complaint")
        ],
    )
    ses.proxy.set_account(ReviewStatus="PENDING", ReviewCaseId="1234567890")  # the seed is under review
    clock = FakeClock(ses.seeded.now)
    # A configuration set without any data feeds sesmonitor_no_data.
    exporter = make_exporter(ses, clock=clock, configuration_sets=("unused",))
    exporter.refresher.refresh_once(clock.now)
    served = names(scrape_metrics(exporter))
    # `up` is Prometheus' own; the sending and protection series need configuration sets that exist and
    # spec.protection: tests/aws/test_exporter_protection.py finds each in its scrapes.
    protection = {
        metrics.CONFIGURATION_SET_SENDING_ENABLED,
        metrics.CONFIGURATION_SET_PAUSED_INFO,
        metrics.PROTECTION_ACTIONS_TOTAL,
        metrics.PROTECTION_ACTION_FAILED,
    }
    expected = set(metrics.all_metric_names()) - {metrics.UP} - protection
    assert expected - served == set(), "declared but never served"
    assert served - expected == set(), "served but not declared in sesmonitor.metrics"
