"""SESConfigurationSetPaused, SESConfigurationSetMissing and SESMonitorProtectionFailed through promtool,
on the series the exporter writes for the listed sets and spec.protection (serving.collector)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from test_promtool import (
    ACCOUNT,
    check,
    constant,
    monitor,
    rules_for,
    run_promtool,
    scenario,
    series,
)

from sesmonitor import metrics
from sesmonitor.render.rules import CONFIGURATION_SET_MISSING, CONFIGURATION_SET_PAUSED, PROTECTION_FAILED

SETS = ["marketing", "transactional"]
SPEC = {"configurationSets": SETS, "protection": {"mode": "Enforce", "configurationSets": ["marketing"]}}
PAUSED_AT = "2026-12-01T12:00:00Z"


def at(configuration_set: str, **extra: str) -> dict[str, str]:
    return {**ACCOUNT, "configuration_set": configuration_set, **extra}


def expand(template: str, labels: dict[str, str]) -> str:
    """The rule's `{{ if eq $labels.X "V" }}A{{ else }}B{{ end }}` branches and label references."""
    text = re.sub(
        r"\{\{ if eq \$labels\.(\w+) \"([^\"]*)\" \}\}(.*?)\{\{ else \}\}(.*?)\{\{ end \}\}",
        lambda m: m.group(3) if labels.get(m.group(1)) == m.group(2) else m.group(4),
        template,
        flags=re.DOTALL,
    )
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), text)
    assert "{{" not in text, text
    return text


def alert(rules: list[dict[str, Any]], name: str, labels: dict[str, str]) -> dict[str, Any]:
    (rule,) = [r for r in rules if r["alert"] == name]
    every = {**labels, **rule["labels"]}
    return {
        "exp_labels": every,
        "exp_annotations": {k: expand(v, every) for k, v in rule["annotations"].items()},
    }


def test_a_paused_set_alerts_saying_who_when_why_and_what_next(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor(SPEC))
    minutes = 60
    sesmonitor_paused = at(
        "marketing", paused_by="sesmonitor", paused_at=PAUSED_AT, reason="bounce rate 12.00%"
    )
    by_hand = at("transactional", paused_by="unknown")  # paused_at="", reason="": no label in Prometheus
    input_series = [
        # marketing: paused by sesmonitor at minute 10; transactional: paused by someone at minute 30.
        series(metrics.CONFIGURATION_SET_SENDING_ENABLED, [1.0] * 10 + [0.0] * 51, **at("marketing")),
        series(metrics.CONFIGURATION_SET_PAUSED_INFO, [None] * 10 + [1.0] * 51, **sesmonitor_paused),
        series(metrics.CONFIGURATION_SET_SENDING_ENABLED, [1.0] * 30 + [0.0] * 31, **at("transactional")),
        series(
            metrics.CONFIGURATION_SET_PAUSED_INFO,
            [None] * 30 + [1.0] * 31,
            **by_hand,
            paused_at="",
            reason="",
        ),
        # a set this monitor does not list: never its alert
        series(metrics.CONFIGURATION_SET_SENDING_ENABLED, constant(0, minutes), **at("promo")),
    ]
    marketing = alert(rules, CONFIGURATION_SET_PAUSED, sesmonitor_paused)
    transactional = alert(rules, CONFIGURATION_SET_PAUSED, by_hand)
    assert "sesmonitor resume -n mail example marketing" in marketing["exp_annotations"]["description"]
    assert "never resumes it" in transactional["exp_annotations"]["description"]
    checks = [
        check(12, CONFIGURATION_SET_PAUSED, []),  # pending for `for` (5m)
        check(16, CONFIGURATION_SET_PAUSED, [marketing]),
        check(40, CONFIGURATION_SET_PAUSED, [marketing, transactional]),
    ]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])


def test_a_paused_set_alerts_without_the_info_series_too(promtool: str, tmp_path: Path) -> None:
    rules = [{k: v for k, v in r.items() if k != "annotations"} for r in rules_for(monitor(SPEC))]
    input_series = [series(metrics.CONFIGURATION_SET_SENDING_ENABLED, constant(0, 20), **at("marketing"))]
    (rule,) = [r for r in rules if r["alert"] == CONFIGURATION_SET_PAUSED]
    firing = [{"exp_labels": {**at("marketing"), **rule["labels"]}}]
    run_promtool(
        promtool, tmp_path, rules, [scenario(input_series, [check(10, CONFIGURATION_SET_PAUSED, firing)])]
    )


def test_a_failed_protection_call_alerts(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor(SPEC))
    denied = at("marketing", action="pause", code="AccessDeniedException")
    input_series = [series(metrics.PROTECTION_ACTION_FAILED, [None] * 5 + [1.0] * 20, **denied)]
    firing = [alert(rules, PROTECTION_FAILED, denied)]
    assert "sesmonitor iam-policy" in firing[0]["exp_annotations"]["description"]
    checks = [check(4, PROTECTION_FAILED, []), check(12, PROTECTION_FAILED, firing)]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])
    assert PROTECTION_FAILED not in {r["alert"] for r in rules_for(monitor({"configurationSets": SETS}))}


def test_a_failed_call_on_a_protected_tenant_alerts_naming_the_tenant(promtool: str, tmp_path: Path) -> None:
    """The exporter writes a tenant's failures with target_kind="tenant", its name in `tenant` and an empty
    configuration_set (no label in Prometheus); a tenant another monitor protects is never this alert."""
    rules = rules_for(monitor({"protection": {"mode": "Enforce", "tenants": ["acme"]}}))
    denied = {
        **ACCOUNT,
        "tenant": "acme",
        "target_kind": "tenant",
        "action": "pause",
        "code": "AccessDeniedException",
    }
    other = {**denied, "tenant": "globex"}
    input_series = [
        series(metrics.PROTECTION_ACTION_FAILED, [None] * 5 + [1.0] * 20, **denied),
        series(metrics.PROTECTION_ACTION_FAILED, [1.0] * 25, **other),
    ]
    firing = [alert(rules, PROTECTION_FAILED, denied)]
    description = firing[0]["exp_annotations"]["description"]
    assert "tried to pause tenant acme and AWS answered AccessDeniedException" in description
    assert "update-reputation-entity-customer-managed-status" in description
    assert "put-configuration-set-sending-options" not in description
    checks = [check(4, PROTECTION_FAILED, []), check(12, PROTECTION_FAILED, firing)]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])
    # Sets and tenants protected together: a set's failure still names the set.
    both = rules_for(
        monitor(
            {
                "configurationSets": SETS,
                "protection": {"mode": "Enforce", "configurationSets": ["marketing"], "tenants": ["acme"]},
            }
        )
    )
    on_set = at("marketing", target_kind="configuration_set", action="tag", code="BadRequestException")
    set_description = alert(both, PROTECTION_FAILED, on_set)["exp_annotations"]["description"]
    assert "tried to tag configuration set marketing" in set_description
    run_promtool(
        promtool,
        tmp_path,
        both,
        [
            scenario(
                [
                    series(metrics.PROTECTION_ACTION_FAILED, [1.0] * 20, **on_set),
                    series(metrics.PROTECTION_ACTION_FAILED, [1.0] * 20, **denied),
                ],
                [check(12, PROTECTION_FAILED, [alert(both, PROTECTION_FAILED, on_set), firing[0]])],
            )
        ],
    )


def test_a_pause_that_could_not_write_its_record_alerts_with_the_reason(
    promtool: str, tmp_path: Path
) -> None:
    """SES's 50-tag limit answers BadRequestException to the intent record: nothing was paused, and the
    alert says where to look."""
    rules = rules_for(monitor(SPEC))
    full = at("marketing", action="pause", code="BadRequestException")
    input_series = [series(metrics.PROTECTION_ACTION_FAILED, [1.0] * 20, **full)]
    firing = [alert(rules, PROTECTION_FAILED, full)]
    description = firing[0]["exp_annotations"]["description"]
    assert "A failed pause paused nothing" in description
    assert "SES's limit of 50 tags" in description
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, [check(12, PROTECTION_FAILED, firing)])])


def test_a_missing_set_alerts_naming_it_and_the_found_ones_do_not(promtool: str, tmp_path: Path) -> None:
    """sesmonitor_configuration_set_missing: 1 for a set SES answers NotFoundException for, 0 for one it
    found; a set another monitor lists is never this one's alert."""
    rules = rules_for(monitor(SPEC))
    input_series = [
        series(metrics.CONFIGURATION_SET_MISSING, [0.0] * 10 + [1.0] * 20, **at("marketing")),
        series(metrics.CONFIGURATION_SET_MISSING, constant(0, 30), **at("transactional")),
        series(metrics.CONFIGURATION_SET_MISSING, constant(1, 30), **at("promo")),
    ]
    firing = [alert(rules, CONFIGURATION_SET_MISSING, at("marketing"))]
    description = firing[0]["exp_annotations"]["description"]
    assert "NotFoundException for configuration set marketing" in description
    assert "no protection acts on it while it is missing" in description  # marketing is protected
    checks = [
        check(8, CONFIGURATION_SET_MISSING, []),
        check(12, CONFIGURATION_SET_MISSING, []),  # pending for `for` (5m)
        check(16, CONFIGURATION_SET_MISSING, firing),
    ]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])
    unprotected = rules_for(monitor({"configurationSets": SETS}))
    (rule,) = [r for r in unprotected if r["alert"] == CONFIGURATION_SET_MISSING]
    assert "protection" not in rule["annotations"]["description"]
