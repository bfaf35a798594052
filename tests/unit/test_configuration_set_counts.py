"""Per-configuration-set counts are opt-in (spec.configurationSetCounts), and the status says when an
opted-in set's counts never have data (issue 11: 11)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor.api import parse_spec
from sesmonitor.contract import (
    ApiHealth,
    ConfigError,
    ExporterConfig,
    ExporterStatus,
    empty_account,
    empty_rate,
)
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import compute_status
from sesmonitor.render.workload import exporter_config
from support.monitors import load_monitor

CRD = Path(__file__).resolve().parents[2] / "crds" / "sesmonitor.io_sesmonitors.yaml"
KEY = "mail/prod"
T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def monitor(spec: dict[str, Any]) -> Any:
    return load_monitor(spec)


def test_counts_are_opt_in_and_reach_the_exporter_config() -> None:
    plain = exporter_config(monitor({"configurationSets": ["marketing", "transactional"]}))
    assert plain.count_configuration_sets == ()
    opted = exporter_config(
        monitor(
            {"configurationSets": ["marketing", "transactional"], "configurationSetCounts": ["marketing"]}
        )
    )
    assert opted.count_configuration_sets == ("marketing",)
    assert ExporterConfig.from_json(opted.to_json()) == opted


def test_a_count_set_must_be_a_listed_set() -> None:
    with pytest.raises(ValueError, match="configurationSetCounts: ghost not in configurationSets"):
        parse_spec({"region": "us-east-1", "configurationSets": ["a"], "configurationSetCounts": ["ghost"]})
    doc = {"monitor": "a/b", "region": "us-east-1", "configuration_sets": ["a"]}
    with pytest.raises(ConfigError, match="count_configuration_sets"):
        ExporterConfig.from_json(json.dumps({**doc, "count_configuration_sets": ["ghost"]}))
    # The API server checks the same with a CEL rule.
    schema = yaml.safe_load(CRD.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    rules = [r["rule"] for r in schema["properties"]["spec"]["x-kubernetes-validations"]]
    assert any("self.configurationSetCounts.all(s" in r and "in self.configurationSets" in r for r in rules)


def reading(counts_without_data: dict[str, list[str]], read: bool = True) -> ExporterReading:
    api = ApiHealth(
        last_success_time="2026-01-02T03:04:00Z" if read else None,
        consecutive_failures=0,
        stale=False,
        last_error=None,
        last_error_time=None,
        last_error_code=None,
        last_error_kind=None,
    )
    rate = empty_rate()
    rate["current"] = rate["window_average"] = 0.01
    doc = ExporterStatus(
        monitor=KEY,
        region="us-east-1",
        ready=True,
        stale=False,
        bounce_rate=rate,
        complaint_rate=rate,
        account=empty_account(),
        last_refresh_time="2026-01-02T03:04:00Z",
        last_error=None,
        apis={"GetMetricData": api, "GetAccount": api},
        counts_without_data=counts_without_data,
    )
    return ExporterReading(status=doc, url="http://exporter:9435/status")


def counts_condition(spec: dict[str, Any], read: ExporterReading) -> dict[str, Any] | None:
    status = compute_status(
        monitor_key=KEY,
        spec=parse_spec({"region": "us-east-1", **spec}),
        generation=1,
        outcome=ReconcileOutcome(True),
        reading=read,
        previous=None,
        now=T0,
    )
    found = [c for c in status["conditions"] if c["type"] == "ConfigurationSetCounts"]
    return found[0] if found else None


SETS = {"configurationSets": ["marketing", "transactional"], "configurationSetCounts": ["marketing"]}
NOTHING = ["Send", "Delivery", "Bounce", "Complaint", "Reject"]


def test_an_opted_in_set_whose_counts_never_had_data_is_named_in_the_status() -> None:
    condition = counts_condition(SETS, reading({"marketing": NOTHING}))
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "NoCountData")
    assert "marketing: Send, Delivery, Bounce, Complaint, Reject" in condition["message"]
    assert "event destination" in condition["message"]
    assert "ses:configuration-set" in condition["message"]


def test_an_opted_in_set_with_counts_is_true_and_missing_events_are_only_noted() -> None:
    condition = counts_condition(SETS, reading({"marketing": ["Complaint", "Reject"]}))
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("True", "CountsPublished")
    assert "Complaint, Reject" in condition["message"]
    healthy = counts_condition(SETS, reading({}))
    assert healthy is not None
    assert healthy["status"] == "True"


def test_before_the_first_read_unknown_and_without_opt_in_no_condition() -> None:
    condition = counts_condition(SETS, reading({}, read=False))
    assert condition is not None
    assert condition["status"] == "Unknown"
    assert counts_condition({"configurationSets": ["marketing"]}, reading({})) is None
    assert counts_condition(SETS, ExporterReading(status=None, error="connection refused"))["status"] == (
        "Unknown"
    )
