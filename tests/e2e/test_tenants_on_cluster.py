"""Issue 21's demo story on the e2e stack, staged with the other stories (conftest: TENANTS).

e2e-tenants/saas watches the `tenants` account (simulated_aws.scenarios: three SES tenants whose names
start with cust-; AWS paused cust-acme under its standard policy and VDM's advisor has a BOUNCE finding
of HIGH impact open on it) with spec.tenants and spec.findings, through the exporter Pod, the operator,
Prometheus and Alertmanager as a user runs them:

- SESTenantPaused and SESReputationFindingOpen reach the webhook naming the tenant, who paused it and
  why, and the finding's type, impact and resource; no other tenant is alerted on;
- `kubectl describe sesmon` names the paused tenant and counts the tenants by state (1 paused by AWS,
  2 enabled), and neither sending tenant is reported paused anywhere (status, series, alerts).
"""

from __future__ import annotations

import re
import time

import pytest
from e2e_helpers import E2E, REGION, TENANTS, key

from sesmonitor import metrics
from sesmonitor.api.alerts import REPUTATION_FINDING_OPEN, TENANT_PAUSED, TENANT_REPUTATION_IMPACT_HIGH
from support.kubectl_describe import status_fields
from support.simulated_aws.scenarios import FINDING, PAUSE_CAUSE, PAUSED_TENANT, SENDING_TENANTS
from support.waiting import wait_for

# The exporter reads the tenants and (2 s after its first GetAccount) the findings at its start; then
# `for` (30 s), a rule evaluation and Alertmanager's group_wait.
ALERTS_WITHIN_SECONDS = 240
PAUSED_LINE = f"{PAUSED_TENANT}: paused by AWS ({PAUSE_CAUSE}), impact HIGH"


@pytest.fixture(scope="module")
def staged(e2e: E2E) -> E2E:
    assert TENANTS in e2e.side_stories
    return e2e


def test_the_paused_tenant_and_the_open_finding_reach_the_webhook(staged: E2E) -> None:
    env = staged
    paused = env.wait_notification(TENANTS, TENANT_PAUSED, timeout=env.remaining(ALERTS_WITHIN_SECONDS))
    print(
        f"[e2e] {TENANT_PAUSED} at the webhook {time.time() - env.started:.0f}s after the exporters were up"
    )
    labels, annotations = paused["labels"], paused["annotations"]
    assert {k: labels.get(k) for k in ("tenant", "state", "paused_by", "cause", "policy", "severity")} == {
        "tenant": PAUSED_TENANT,
        "state": "paused_by_aws",
        "paused_by": "aws",
        "cause": PAUSE_CAUSE,
        "policy": "standard",
        "severity": "critical",
    }
    assert (labels["sesmonitor"], labels["region"], labels["team"]) == (key(TENANTS), REGION, "mail")
    description = annotations["description"]
    assert f"SES tenant {PAUSED_TENANT} ({key(TENANTS)}, {REGION}) may not send" in description
    assert "AWS paused it under its standard reputation policy" in description
    assert f"(cause: {PAUSE_CAUSE})" in description
    assert "customer-managed status" not in description  # AWS's pause, not the customer's
    assert "{{" not in description
    # The example routing: critical to Opsgenie and Slack.
    wait_for(
        lambda: (
            {a["_receiver"] for a in env.notifications(TENANTS, TENANT_PAUSED, "firing")}
            == {"opsgenie-mail", "slack-mail"}
        ),
        30,
        f"{TENANT_PAUSED} at both receivers",
    )

    finding = env.wait_notification(
        TENANTS, REPUTATION_FINDING_OPEN, timeout=env.remaining(ALERTS_WITHIN_SECONDS)
    )
    labels, description = finding["labels"], finding["annotations"]["description"]
    assert {k: labels.get(k) for k in ("type", "impact", "resource_type", "resource", "severity")} == {
        "type": FINDING.type,
        "impact": FINDING.impact,
        "resource_type": "tenant",
        "resource": PAUSED_TENANT,
        "severity": "warning",
    }
    assert f"a BOUNCE reputation finding of HIGH impact on tenant {PAUSED_TENANT}" in description
    assert {a["_receiver"] for a in env.notifications(TENANTS, REPUTATION_FINDING_OPEN, "firing")} == {
        "slack-mail"
    }
    # Only the paused tenant is alerted on: one tenant, one finding, and no tenant "at risk" (the paused
    # one is worse than that, the others are of LOW impact).
    assert {a["labels"]["tenant"] for a in env.notifications(TENANTS, TENANT_PAUSED)} == {PAUSED_TENANT}
    assert {a["labels"]["resource"] for a in env.notifications(TENANTS, REPUTATION_FINDING_OPEN)} == {
        PAUSED_TENANT
    }
    assert env.notifications(TENANTS, TENANT_REPUTATION_IMPACT_HIGH) == []
    assert env.prometheus_alerts(TENANTS, TENANT_REPUTATION_IMPACT_HIGH) == []
    firing = {a["labels"]["alertname"] for a in env.prometheus_alerts(TENANTS) if a["state"] == "firing"}
    assert firing == {TENANT_PAUSED, REPUTATION_FINDING_OPEN}  # the account itself is healthy


def test_describe_names_the_paused_tenant_and_counts_the_tenants_by_state(staged: E2E) -> None:
    env = staged
    status = wait_for(
        lambda: (
            (s := env.status(TENANTS)).get("tenants", {}).get("worst")
            and s.get("findings", {}).get("worst")
            and s
        ),
        env.remaining(120),
        "status.tenants and status.findings of e2e-tenants",
    )
    tenants = status["tenants"]
    assert tenants["counts"] == {
        "pausedByAWS": 1, "pausedByCustomer": 0, "atRisk": 0, "unknown": 0, "reinstated": 0, "enabled": 2,
    }  # fmt: skip
    assert tenants["worst"] == [PAUSED_LINE]  # the sending tenants are not among the worst
    assert (tenants["selection"], tenants["watched"]) == ("prefix cust-", 3)
    findings = status["findings"]
    assert (findings["open"], findings["high"]) == (1, 1)
    assert findings["worst"] == [f"BOUNCE (HIGH) on tenant {PAUSED_TENANT}"]
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"  # a paused tenant is the account's news, not the monitor's fault

    described = env.stack.kubectl_describe_sesmon(TENANTS)
    section = status_fields(described, ("Tenants",))
    shown = status_fields(described, ("Tenants", "Findings"))
    print(f"[e2e] kubectl describe sesmon -n {TENANTS[0]} {TENANTS[1]}:\n{shown}")
    assert PAUSED_LINE in section
    assert re.search(r"^\s+Paused By AWS:\s+1$", section, re.MULTILINE), section
    assert re.search(r"^\s+Enabled:\s+2$", section, re.MULTILINE), section
    assert not [name for name in SENDING_TENANTS if name in section], section
    assert f"BOUNCE (HIGH) on tenant {PAUSED_TENANT}" in status_fields(described, ("Findings",))


def test_the_sending_tenants_are_served_enabled_and_never_paused(staged: E2E) -> None:
    env = staged
    prometheus = env.stack.prometheus
    mine = f'sesmonitor="{key(TENANTS)}"'
    series = wait_for(
        lambda: (
            (found := prometheus.query(f"{metrics.TENANT_STATUS}{{{mine}}}")) and len(found) == 3 and found
        ),
        env.remaining(120),
        "one aws_ses_tenant_status series per tenant",
    )
    states = {s["metric"]["tenant"]: s["metric"]["state"] for s in series}
    assert states == {PAUSED_TENANT: "paused_by_aws", **dict.fromkeys(SENDING_TENANTS, "enabled")}
    for name in SENDING_TENANTS:
        paused = f'{metrics.TENANT_STATUS}{{{mine}, tenant="{name}", state=~"paused.*"}}'
        assert prometheus.query(f"{paused}[1h]") == []  # at no scrape since the exporter started
        assert prometheus.query(f'ALERTS{{{mine}, tenant="{name}"}}[1h]') == []
    assert prometheus.query_value(f'max({metrics.TENANTS}{{{mine}, state="paused_by_aws"}})') == 1
    assert prometheus.query_value(f'max({metrics.TENANTS}{{{mine}, state="enabled"}})') == 2
