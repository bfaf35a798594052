"""The SesMonitor model: defaults, every validation path, and the generated CRD."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor.api import (
    SpecError,
    custom_resource_definition,
    format_duration,
    format_percent,
    load,
    parse_duration,
    parse_percent,
    parse_spec,
)
from sesmonitor.api.crd import openapi_schema
from sesmonitor.api.spec import SesMonitorSpec
from support.monitors import load_monitor, monitor_document

ROOT = Path(__file__).resolve().parents[2]
CRD_FILE = ROOT / "crds" / "sesmonitor.io_sesmonitors.yaml"


def test_defaults_are_awss_review_and_pause_levels() -> None:
    spec = parse_spec({"region": "us-east-1"})
    assert spec.window == "1h"
    assert (spec.thresholds.bounce_rate.warning, spec.thresholds.bounce_rate.critical) == ("5%", "10%")
    assert (spec.thresholds.complaint_rate.warning, spec.thresholds.complaint_rate.critical) == (
        "0.1%",
        "0.5%",
    )
    assert spec.exporter.refresh_interval == "60s"
    assert spec.exporter.lookback == "2h"
    assert spec.alerting.for_ == "5m"
    assert spec.configuration_sets == []
    assert spec.aws.role_arn is None


def test_camel_case_round_trip() -> None:
    doc = {
        "region": "eu-west-1",
        "window": "30m",
        "thresholds": {"bounceRate": {"warning": "2%", "critical": "4%"}},
        "alerting": {"for": "10m", "keepFiringFor": "0s", "labels": {"team": "mail"}},
        "configurationSets": ["marketing", "transactional"],
        "aws": {"roleArn": "arn:aws:iam::123456789012:role/ses-read", "externalId": "xyz123"},
        "exporter": {"refreshInterval": "2m", "lookback": "3h"},
        "prometheus": {"scrapeInterval": "30s", "ruleLabels": {"release": "kps"}},
    }
    spec = parse_spec(doc)
    dumped = spec.model_dump(exclude_none=True)
    assert dumped["alerting"]["for"] == "10m"
    assert dumped["exporter"]["refreshInterval"] == "2m"
    assert parse_spec(dumped) == spec


@pytest.mark.parametrize(
    ("text", "value"), [("5%", 5.0), ("0.1%", 0.1), ("100%", 100.0), ("14.32%", 14.32), ("0.0001%", 0.0001)]
)
def test_parse_percent(text: str, value: float) -> None:
    assert parse_percent(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["5", "0%", "100.5%", "101%", "-1%", "5 %", "1e2%", "05%", "", "abc%", ".5%"]
)
def test_parse_percent_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"percent|%"):
        parse_percent(text)


@pytest.mark.parametrize(
    ("fraction", "text"), [(0.1432, "14.32%"), (0.05, "5%"), (0.001, "0.1%"), (0.0, "0%")]
)
def test_format_percent(fraction: float, text: str) -> None:
    assert format_percent(fraction) == text


@pytest.mark.parametrize(
    ("text", "seconds"), [("60s", 60), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("0s", 0)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1d", "1m1h", "h", "1.5h", "10", "1h 30m", "1w"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (90, 3600, 5400, 86400)] == ["1m30s", "1h", "1h30m", "24h"]
    with pytest.raises(ValueError, match="positive"):
        format_duration(0)


BASE: dict[str, Any] = {"region": "us-east-1"}

# (patch applied to BASE, field path the error must name)
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"region": None}, "spec.region"),
    ({"region": "us-east"}, "spec.region"),
    ({"region": "US-EAST-1"}, "spec.region"),
    ({"window": "1m"}, "spec.window"),
    ({"window": "25h"}, "spec.window"),
    ({"window": "1d"}, "spec.window"),
    ({"window": "2m", "exporter": {"refreshInterval": "60s"}}, "spec.window"),
    ({"window": "5m", "exporter": {"refreshInterval": "3m", "lookback": "1h"}}, "spec"),
    ({"thresholds": {"bounceRate": {"warning": "5"}}}, "spec.thresholds.bounceRate.warning"),
    ({"thresholds": {"bounceRate": {"warning": "0%"}}}, "spec.thresholds.bounceRate.warning"),
    ({"thresholds": {"bounceRate": {"critical": "101%"}}}, "spec.thresholds.bounceRate.critical"),
    ({"thresholds": {"bounceRate": {"warning": "10%", "critical": "10%"}}}, "spec.thresholds.bounceRate"),
    ({"thresholds": {"complaintRate": {"warning": "1%"}}}, "spec.thresholds.complaintRate"),
    ({"thresholds": {"sendQuota": "0%"}}, "spec.thresholds.sendQuota"),
    ({"thresholds": {"bounce": {"warning": "1%"}}}, "spec.thresholds.bounce"),
    ({"alerting": {"for": "5 minutes"}}, "spec.alerting.for"),
    ({"alerting": {"keepFiringFor": "48h"}}, "spec.alerting.keepFiringFor"),
    ({"alerting": {"severities": {"critical": "page me"}}}, "spec.alerting.severities.critical"),
    ({"configurationSets": ["ok", "not ok"]}, "spec.configurationSets[1]"),
    ({"aws": {"roleArn": "arn:aws:iam::123:role/x"}}, "spec.aws.roleArn"),
    ({"aws": {"externalId": "abc"}}, "spec.aws"),
    ({"aws": {"serviceAccountName": "sa", "credentialsSecretRef": {"name": "keys"}}}, "spec.aws"),
    ({"aws": {"accessKeyId": "AKIA..."}}, "spec.aws.accessKeyId"),
    ({"aws": {"endpointURL": "localhost:5000"}}, "spec.aws.endpointURL"),
    ({"aws": {"endpoints": {"cloudWatch": "localhost:5000"}}}, "spec.aws.endpoints.cloudWatch"),
    ({"aws": {"endpoints": {"sns": "https://sns.local"}}}, "spec.aws.endpoints.sns"),
    ({"aws": {"endpoints": {"sqs": "sqs.local"}}}, "spec.aws.endpoints.sqs"),
    ({"events": {}}, "spec.events.queueURL"),
    ({"events": {"queueURL": "https://sqs.us-east-1.amazonaws.com/ses-events"}}, "spec.events.queueURL"),
    ({"events": {"queueURL": "arn:aws:sqs:us-east-1:111122223333:ses-events"}}, "spec.events.queueURL"),
    (
        {"events": {"queueURL": "https://sqs.eu-west-1.amazonaws.com/111122223333/q", "region": "us-east-1"}},
        "spec.events",
    ),
    (
        {"events": {"queueURL": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "topDomains": 101}},
        "spec.events.topDomains",
    ),
    ({"exporter": {"refreshInterval": "30s"}}, "spec.exporter.refreshInterval"),
    ({"exporter": {"lookback": "30s"}}, "spec.exporter.lookback"),
    ({"exporter": {"tolerations": [{"operator": "Maybe"}]}}, "spec.exporter.tolerations[0].operator"),
    ({"prometheus": {"scrapeInterval": "1s"}}, "spec.prometheus.scrapeInterval"),
    ({"unknownField": True}, "spec.unknownField"),
]


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(("patch", "path"), INVALID, ids=[str(p) for p, _ in INVALID])
def test_invalid_specs_name_the_field(patch: dict[str, Any], path: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_merge(BASE, patch))
    assert any(problem.startswith(path) for problem in caught.value.problems), caught.value.problems


# Each field kind's own words (sesmonitor.api.fields), whole: the bound in seconds, the percent range,
# the format parse_percent names where an optional percent has no pattern in Python.
MESSAGES: list[tuple[dict[str, Any], str]] = [
    ({"window": "1m"}, "spec.window: '1m' must be between 300s and 86400s"),
    ({"alerting": {"for": "25h"}}, "spec.alerting.for: '25h' must be between 0s and 86400s"),
    ({"protection": {"holdFor": "30s"}}, "spec.protection.holdFor: '30s' must be between 60s and 21600s"),
    (
        {"prometheus": {"scrapeInterval": ""}},
        "spec.prometheus.scrapeInterval: String should have at least 2 characters",
    ),
    (
        {"thresholds": {"sendQuota": "0%"}},
        "spec.thresholds.sendQuota: '0%' must be greater than 0% and at most 100%",
    ),
    (
        {"protection": {"complaintRate": "x"}},
        "spec.protection.complaintRate: 'x' is not a percentage such as '5%' or '0.1%'",
    ),
    (
        {"alerting": {"severities": {"warning": "x" * 64}}},
        "spec.alerting.severities.warning: String should have at most 63 characters",
    ),
]


@pytest.mark.parametrize(("patch", "message"), MESSAGES, ids=[m for _, m in MESSAGES])
def test_field_kinds_say_what_is_wrong(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_merge(BASE, patch))
    assert caught.value.problems == [message]


def test_load_checks_the_envelope() -> None:
    with pytest.raises(SpecError) as caught:
        load({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}, "extra": 1})
    text = str(caught.value)
    for fragment in ("apiVersion", "kind", "metadata.name", "extra: unknown field", "spec.region"):
        assert fragment in text
    monitor = load_monitor(BASE)
    assert monitor.key == "mail/prod"


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (monitor_document(name="a", namespace=None) | {"spec": 3}, "spec:"),
        (monitor_document(BASE) | {"metadata": "a"}, "metadata:"),
        ([1, 2], "document:"),
    ],
)
def test_load_rejects_wrong_shapes(doc: Any, fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        load(doc)


def _walk(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    out = [(path, schema)]
    for name, prop in schema.get("properties", {}).items():
        out.extend(_walk(prop, f"{path}.{name}"))
    if "items" in schema:
        out.extend(_walk(schema["items"], f"{path}[]"))
    if isinstance(schema.get("additionalProperties"), dict):
        out.extend(_walk(schema["additionalProperties"], f"{path}{{}}"))
    return out


def test_crd_schema_is_structural_and_described() -> None:
    schema = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema["properties"]["spec"], "spec") + _walk(
        schema["properties"]["status"], "status"
    ):
        assert "type" in node or node.get("x-kubernetes-int-or-string"), path
        for forbidden in ("$ref", "anyOf", "allOf", "title", "$defs"):
            assert forbidden not in node, (path, forbidden)
        if "[]" not in path.rsplit(".", 1)[-1] and "{}" not in path:
            assert node.get("description"), f"{path} has no description for kubectl explain"


def test_crd_defaults_match_the_model() -> None:
    """Every default the API server applies is the default the Python model applies."""
    schema = openapi_schema(SesMonitorSpec)
    model_defaults = parse_spec(BASE).model_dump(exclude_none=True)

    def check(node: dict[str, Any], value: Any, path: str) -> None:
        if isinstance(node.get("default"), dict):
            # Object defaults carry their nested defaults (the API server checks CEL rules on them as is).
            assert parse_spec({**BASE, **_nest(path, node["default"])}) == parse_spec(BASE), path
        elif "default" in node:
            assert node["default"] == value, path
        for name, prop in node.get("properties", {}).items():
            if isinstance(value, dict) and name in value:
                check(prop, value[name], f"{path}.{name}")
            else:
                assert "default" not in prop, f"{path}.{name}: CRD default without model default"

    check(schema, model_defaults, "spec")


def _nest(path: str, value: Any) -> dict[str, Any]:
    for part in reversed(path.split(".")[1:]):
        value = {part: value}
    return dict(value)


def test_crd_bounds_match_the_model() -> None:
    """Patterns and length bounds in the CRD are the ones pydantic enforces."""
    schema = openapi_schema(SesMonitorSpec)
    region = schema["properties"]["region"]
    with pytest.raises(SpecError):
        parse_spec({"region": "x" * (region["maxLength"] + 1)})
    window = schema["properties"]["window"]
    assert window["x-kubernetes-validations"][0]["rule"].count("duration(") == 4
    sets = schema["properties"]["configurationSets"]
    assert sets["x-kubernetes-list-type"] == "set"
    with pytest.raises(SpecError):
        parse_spec(
            {"region": "us-east-1", "configurationSets": [f"s{i}" for i in range(sets["maxItems"] + 1)]}
        )


def test_committed_crd_is_generated() -> None:
    committed = yaml.safe_load(CRD_FILE.read_text())
    assert committed == custom_resource_definition(), "run `make crd` to regenerate crds/"


def test_printer_columns() -> None:
    columns = custom_resource_definition()["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [c["name"] for c in columns] == [
        "Region", "Bounce", "Complaint", "Account", "Ready", "Reason", "Message", "Age",
    ]  # fmt: skip
    by_name = {c["name"]: c for c in columns}
    # Why a monitor is not Ready (the AWS error, the pod's state) shows in `kubectl get sesmon`.
    assert by_name["Reason"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].reason'
    assert by_name["Message"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].message'
    assert by_name["Message"]["priority"] == 1


def test_configuration_reference_is_current() -> None:
    from sesmonitor.api.docs import configuration_reference

    text = (ROOT / "docs" / "configuration.md").read_text()
    assert text == configuration_reference(), "run `make docs` to regenerate docs/configuration.md"
    for field in (
        "spec.thresholds.bounceRate.warning",
        "spec.aws.credentialsSecretRef.name",
        "status.conditions",
    ):
        assert f"`{field}`" in text
