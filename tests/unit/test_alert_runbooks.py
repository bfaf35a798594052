"""Alerts users can run: every rendered alert links its section of docs/alerts.md (which exists and says
what to do), the link's base comes from the spec, the operator or the release, a user's runbook_url wins,
single alerts can be disabled, and summaries are static (values in descriptions)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import sesmonitor
from sesmonitor.api import SpecError
from sesmonitor.api.alerts import ALERT_NAMES, runbook_anchor
from sesmonitor.operator.settings import SettingsError, from_environment, validate
from sesmonitor.render import RenderDefaults, render_all
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL
from sesmonitor.render.rules import BOUNCE_RATE_HIGH, EXPORTER_DOWN, SEND_QUOTA_NEARLY_USED, rule_groups
from support.monitors import load_monitor

ROOT = Path(__file__).resolve().parents[2]
ALERTS_MD = ROOT / "docs" / "alerts.md"
QUEUE = "https://sqs.us-east-1.amazonaws.com/111122223333/ses-events"
# Every alert there is: configuration sets, SES events and protection on.
EVERYTHING: dict[str, Any] = {
    "configurationSets": ["marketing"],
    "events": {"queueURL": QUEUE},
    "protection": {"mode": "Enforce", "configurationSets": ["marketing"]},
    "tenants": {},
    "findings": {},
}


def rules_of(
    spec: dict[str, Any] | None = None, base: str = DEFAULT_RUNBOOK_BASE_URL
) -> list[dict[str, Any]]:
    (group,) = rule_groups(load_monitor(spec), base)
    rules: list[dict[str, Any]] = group["rules"]
    return rules


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def sections() -> dict[str, str]:
    """docs/alerts.md's `###` sections by anchor: their text up to the next heading."""
    parts = re.split(r"^###? (.+)$", ALERTS_MD.read_text(), flags=re.MULTILINE)
    return {github_anchor(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_alert_name_is_rendered_by_some_spec() -> None:
    assert {rule["alert"] for rule in rules_of(EVERYTHING)} == set(ALERT_NAMES)


def test_every_rendered_alert_links_its_section_which_says_what_to_do() -> None:
    found = sections()
    for rule in rules_of(EVERYTHING):
        url = rule["annotations"]["runbook_url"]
        base, _, anchor = url.partition("#")
        assert base == DEFAULT_RUNBOOK_BASE_URL, url
        assert anchor == runbook_anchor(rule["alert"]), url
        assert anchor in found, f"{rule['alert']}: docs/alerts.md has no section #{anchor}"
        section = " ".join(found[anchor].split())
        assert "What to do" in section, f"{rule['alert']}: its section does not say what to do"
        first = section.split(".")[0].lower()  # "Warning and critical", "Critical"
        assert rule["labels"]["severity"] in first, (
            f"{rule['alert']}: its section starts without its severity"
        )


def test_the_default_base_is_alerts_md_at_the_release_tag_of_the_charts_repository() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert sesmonitor.__version__ == version
    home = re.search(
        r"^home: (\S+)$", (ROOT / "deploy/helm/sesmonitor-operator/Chart.yaml").read_text(), re.M
    )
    assert home
    assert f"{home.group(1)}/blob/v{version}/docs/alerts.md" == DEFAULT_RUNBOOK_BASE_URL


def test_base_url_from_the_operator_then_the_spec_and_a_users_runbook_url_wins() -> None:
    wiki, team = "https://wiki.example/ses", "https://team.example/runbooks.html"
    operator_wide = rules_of(None, wiki)
    assert {r["annotations"]["runbook_url"] for r in operator_wide if r["alert"] == EXPORTER_DOWN} == {
        f"{wiki}#sesmonitorexporterdown"
    }
    spec = rules_of({"alerting": {"runbookBaseURL": team}}, wiki)
    assert all(r["annotations"]["runbook_url"] == f"{team}#{r['alert'].lower()}" for r in spec)
    own = rules_of(
        {"alerting": {"runbookBaseURL": team, "annotations": {"runbook_url": "https://x.example"}}}
    )
    assert {r["annotations"]["runbook_url"] for r in own} == {"https://x.example"}


def test_the_prometheus_rule_carries_the_operators_base() -> None:
    defaults = RenderDefaults(runbook_base_url="https://wiki.example/ses")
    rule_object = render_all(load_monitor(), defaults)[-1]
    rules = rule_object["spec"]["groups"][0]["rules"]
    assert rules[0]["annotations"]["runbook_url"] == f"https://wiki.example/ses#{rules[0]['alert'].lower()}"


def test_the_chart_value_reaches_the_operator_through_its_environment() -> None:
    settings = from_environment({"SESMONITOR_RUNBOOK_BASE_URL": "https://wiki.example/ses"})
    assert settings.render_defaults.runbook_base_url == "https://wiki.example/ses"
    assert from_environment({}).render_defaults.runbook_base_url == DEFAULT_RUNBOOK_BASE_URL
    with pytest.raises(SettingsError, match="SESMONITOR_RUNBOOK_BASE_URL"):
        validate(from_environment({"SESMONITOR_RUNBOOK_BASE_URL": "wiki/ses"}))
    chart = ROOT / "deploy/helm/sesmonitor-operator"
    assert "SESMONITOR_RUNBOOK_BASE_URL" in (chart / "templates/deployment.yaml").read_text()
    assert "runbookBaseURL" in (chart / "values.yaml").read_text()


def test_single_alerts_can_be_disabled() -> None:
    every = [r["alert"] for r in rules_of(EVERYTHING)]
    off = [BOUNCE_RATE_HIGH, SEND_QUOTA_NEARLY_USED]
    kept = [r["alert"] for r in rules_of({**EVERYTHING, "alerting": {"disabled": off}})]
    assert kept == [name for name in every if name not in off]
    # Both severities of a rate alert go; nothing else does.
    assert every.count(BOUNCE_RATE_HIGH) == 2
    assert len(kept) == len(every) - 3


def test_an_unknown_alert_name_is_rejected_with_the_field_and_the_value() -> None:
    with pytest.raises(SpecError) as caught:
        load_monitor({"alerting": {"disabled": [BOUNCE_RATE_HIGH, "SESBounceRateHgh"]}})
    (problem,) = caught.value.problems
    assert problem.startswith(
        "spec.alerting.disabled[1]: 'SESBounceRateHgh' is not an alert sesmonitor renders"
    )
    assert BOUNCE_RATE_HIGH in problem


def test_the_crd_lists_the_alert_names_as_an_enum() -> None:
    from sesmonitor.api import custom_resource_definition

    schema = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    alerting = schema["properties"]["spec"]["properties"]["alerting"]["properties"]
    assert alerting["disabled"]["items"]["enum"] == list(ALERT_NAMES)
    assert alerting["disabled"]["x-kubernetes-list-type"] == "set"
    assert alerting["runbookBaseURL"]["pattern"].startswith("^https?://")


def test_summaries_are_static_and_values_are_in_descriptions() -> None:
    """The monitoring-mixins convention: no template in a summary; `$value` and labels in the description."""
    for rule in rules_of(EVERYTHING):
        annotations = rule["annotations"]
        assert "{{" not in annotations["summary"], f"{rule['alert']}: {annotations['summary']!r}"
    valued = [r for r in rules_of(EVERYTHING) if "$value" in r["annotations"]["description"]]
    # The rates, the trend, the quota and all five event alerts report the value they fired at.
    assert len({r["alert"] for r in valued}) >= 10
