"""SESAccountSuppressionListOff, the under-review alert's appeal case, SESTenantPaused,
SESTenantReputationImpactHigh and SESReputationFindingOpen through promtool, on the series the exporter
writes (serving.collector, serving.tenant_collector, serving.finding_collector)."""

from __future__ import annotations

from pathlib import Path

from test_promtool import (
    ACCOUNT,
    check,
    constant,
    expected,
    monitor,
    rules_for,
    run_promtool,
    scenario,
    series,
)

from sesmonitor import metrics
from sesmonitor.api.alerts import (
    ACCOUNT_UNDER_REVIEW,
    REPUTATION_FINDING_OPEN,
    SUPPRESSION_LIST_OFF,
    TENANT_PAUSED,
    TENANT_REPUTATION_IMPACT_HIGH,
)

TENANTS = {"tenants": {}}


def tenant(name: str, state: str, **labels: str) -> dict[str, str]:
    base = {"status": "ENABLED", "paused_by": "", "cause": "", "impact": "LOW", "policy": "standard"}
    return {**ACCOUNT, "tenant": name, "state": state, **base, **labels}


def in_prometheus(labels: dict[str, str]) -> dict[str, str]:
    """Prometheus drops empty labels."""
    return {k: v for k, v in labels.items() if v != ""}


def test_the_suppression_list_off_alerts_on_then_resolves(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    # on for 10 minutes, off for 20, on again
    values = [1.0] * 10 + [0.0] * 20 + [1.0] * 11
    firing = [expected(rules, SUPPRESSION_LIST_OFF, ACCOUNT)]
    assert "put-account-suppression-attributes" in firing[0]["exp_annotations"]["description"]
    checks = [
        check(9, SUPPRESSION_LIST_OFF, []),
        check(13, SUPPRESSION_LIST_OFF, []),  # pending for `for` (5m)
        check(16, SUPPRESSION_LIST_OFF, firing),
        check(29, SUPPRESSION_LIST_OFF, firing),
        check(32, SUPPRESSION_LIST_OFF, []),
    ]
    other = {**ACCOUNT, metrics.LABEL_MONITOR: "billing/other"}  # another monitor's account: never ours
    input_series = [
        series(metrics.SUPPRESSION_LIST_ENABLED, values, **ACCOUNT),
        series(metrics.SUPPRESSION_LIST_ENABLED, constant(0, 40), **other),
    ]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])


def test_under_review_names_the_appeal_case(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    minutes = 20
    probation = [
        series(metrics.ENFORCEMENT_STATUS, constant(int(s == "PROBATION"), minutes), **ACCOUNT, status=s)
        for s in metrics.ENFORCEMENT_STATUSES
    ]
    case = {**ACCOUNT, "review_status": "PENDING", "case_id": "1234567890"}
    input_series = [*probation, series(metrics.REVIEW_INFO, constant(1, minutes), **case)]
    firing = [expected(rules, ACCOUNT_UNDER_REVIEW, case)]
    description = firing[0]["exp_annotations"]["description"]
    assert "appeal case is 1234567890 (status PENDING)" in description
    without_case = [expected(rules, ACCOUNT_UNDER_REVIEW, ACCOUNT)]
    assert "appeal case" not in without_case[0]["exp_annotations"]["description"]
    run_promtool(
        promtool,
        tmp_path,
        rules,
        [
            scenario(input_series, [check(10, ACCOUNT_UNDER_REVIEW, firing)]),
            scenario(probation, [check(10, ACCOUNT_UNDER_REVIEW, without_case)]),  # no review details
        ],
    )


def test_paused_tenants_name_who_and_why_and_high_impact_warns(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor(TENANTS))
    minutes = 30
    by_aws = tenant(
        "acme", "paused_by_aws", status="DISABLED", paused_by="aws", cause="Bounce rate 12%", impact="HIGH"
    )
    by_customer = tenant("globex", "paused_by_customer", status="DISABLED", paused_by="customer")
    at_risk = tenant("initech", "at_risk", impact="HIGH")
    fine = tenant("umbrella", "enabled")
    input_series = [
        # acme: enabled for 10 minutes, then AWS pauses it (its series' labels change)
        series(metrics.TENANT_STATUS, [1.0] * 10 + [None] * 21, **in_prometheus(tenant("acme", "enabled"))),
        series(metrics.TENANT_STATUS, [None] * 10 + [1.0] * 21, **in_prometheus(by_aws)),
        series(metrics.TENANT_STATUS, constant(1, minutes), **in_prometheus(by_customer)),
        series(metrics.TENANT_STATUS, constant(1, minutes), **in_prometheus(at_risk)),
        series(metrics.TENANT_STATUS, constant(1, minutes), **in_prometheus(fine)),
    ]
    why = ("state", "paused_by", "cause", "policy")

    def labels_of(one: dict[str, str], keep: tuple[str, ...]) -> dict[str, str]:
        return in_prometheus({k: one[k] for k in (*ACCOUNT, "tenant", *keep)})

    aws_alert = expected(rules, TENANT_PAUSED, labels_of(by_aws, why))
    customer_alert = expected(rules, TENANT_PAUSED, labels_of(by_customer, why))
    risk_alert = expected(rules, TENANT_REPUTATION_IMPACT_HIGH, labels_of(at_risk, ("impact", "policy")))
    aws_text = aws_alert["exp_annotations"]["description"]
    assert "AWS paused it under its standard reputation policy (cause: Bounce rate 12%)" in aws_text
    customer_text = customer_alert["exp_annotations"]["description"]
    assert "customer-managed status is DISABLED" in customer_text
    assert "cause" not in customer_text
    checks = [
        check(8, TENANT_PAUSED, [customer_alert]),
        check(12, TENANT_PAUSED, [customer_alert]),  # acme pending for `for`
        check(20, TENANT_PAUSED, [aws_alert, customer_alert]),
        check(20, TENANT_REPUTATION_IMPACT_HIGH, [risk_alert]),  # a paused tenant is not "at risk" too
    ]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])


def test_tenant_alerts_only_with_spec_tenants() -> None:
    names = {r["alert"] for r in rules_for(monitor())}
    assert TENANT_PAUSED not in names
    assert TENANT_REPUTATION_IMPACT_HIGH not in names
    assert SUPPRESSION_LIST_OFF in names
    with_tenants = {r["alert"] for r in rules_for(monitor(TENANTS))}
    assert {TENANT_PAUSED, TENANT_REPUTATION_IMPACT_HIGH} <= with_tenants
    disabled = monitor({**TENANTS, "alerting": {"disabled": [TENANT_REPUTATION_IMPACT_HIGH]}})
    assert TENANT_REPUTATION_IMPACT_HIGH not in {r["alert"] for r in rules_for(disabled)}


def test_an_open_finding_alerts_with_type_impact_and_resource(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor({"findings": {}}))
    dkim = {
        **ACCOUNT,
        "type": "DKIM",
        "impact": "HIGH",
        "resource_type": "identity",
        "resource": "acme.example",
    }
    input_series = [series(metrics.REPUTATION_FINDING_OPEN, [None] * 5 + [1.0] * 10 + [None] * 6, **dkim)]
    firing = [expected(rules, REPUTATION_FINDING_OPEN, dkim)]
    assert (
        "a DKIM reputation finding of HIGH impact on identity acme.example"
        in (firing[0]["exp_annotations"]["description"])
    )
    checks = [
        check(4, REPUTATION_FINDING_OPEN, []),
        check(8, REPUTATION_FINDING_OPEN, []),  # pending for `for`
        check(12, REPUTATION_FINDING_OPEN, firing),
        check(20, REPUTATION_FINDING_OPEN, []),  # fixed: the series is gone
    ]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])
    assert REPUTATION_FINDING_OPEN not in {r["alert"] for r in rules_for(monitor())}
