"""Invalid SesMonitors are rejected by the API server (CRD schema and CEL rules) with a message that
names the field, and the Python validator (`sesmonitor.api.load`) rejects exactly the same objects.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from operator_helpers import sesmonitor

from sesmonitor.api import SpecError, load
from support.controlplane import Cluster

pytest_plugins = ["fixtures_operator"]

BASE: dict[str, Any] = {"region": "eu-west-1"}

# (id, spec (or a whole object for top-level cases), text the API server's error must contain,
#  text the Python validator's error must contain)
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("percent-without-sign", {"thresholds": {"bounceRate": {"warning": "5", "critical": "10%"}}},
     "spec.thresholds.bounceRate.warning", "spec.thresholds.bounceRate.warning"),
    ("percent-zero", {"thresholds": {"bounceRate": {"warning": "0%", "critical": "10%"}}},
     "spec.thresholds.bounceRate.warning", "spec.thresholds.bounceRate.warning"),
    ("percent-above-100", {"thresholds": {"bounceRate": {"warning": "5%", "critical": "101%"}}},
     "spec.thresholds.bounceRate.critical", "spec.thresholds.bounceRate.critical"),
    ("percent-negative", {"thresholds": {"complaintRate": {"warning": "-0.1%", "critical": "0.5%"}}},
     "spec.thresholds.complaintRate.warning", "spec.thresholds.complaintRate.warning"),
    ("percent-too-precise",
     {"thresholds": {"complaintRate": {"warning": "0.00001%", "critical": "0.5%"}}},
     "spec.thresholds.complaintRate.warning", "spec.thresholds.complaintRate.warning"),
    ("percent-as-number", {"thresholds": {"bounceRate": {"warning": 5, "critical": "10%"}}},
     "spec.thresholds.bounceRate.warning", "spec.thresholds.bounceRate.warning"),
    ("warning-equals-critical",
     {"thresholds": {"bounceRate": {"warning": "10%", "critical": "10%"}}},
     "spec.thresholds.bounceRate", "warning (10%) must be lower than critical (10%)"),
    ("warning-above-critical",
     {"thresholds": {"complaintRate": {"warning": "1%", "critical": "0.5%"}}},
     "spec.thresholds.complaintRate", "warning (1%) must be lower than critical (0.5%)"),
    ("send-quota-zero", {"thresholds": {"sendQuota": "0%"}},
     "spec.thresholds.sendQuota", "spec.thresholds.sendQuota"),
    ("window-too-short", {"window": "1m"}, "spec.window", "spec.window"),
    ("window-too-long", {"window": "25h"}, "spec.window", "spec.window"),
    ("window-bad-format", {"window": "1 hour"}, "spec.window", "spec.window"),
    ("window-days", {"window": "1d"}, "spec.window", "spec.window"),
    ("window-under-two-refreshes", {"window": "10m", "exporter": {"refreshInterval": "6m"}},
     "spec.window", "window (10m) must be at least twice exporter.refreshInterval"),
    ("refresh-under-60s", {"exporter": {"refreshInterval": "30s"}},
     "spec.exporter.refreshInterval", "spec.exporter.refreshInterval"),
    ("lookback-under-refresh", {"window": "1h", "exporter": {"refreshInterval": "10m", "lookback": "5m"}},
     "spec.exporter", "lookback (5m) must be at least refreshInterval (10m)"),
    ("alert-for-too-long", {"alerting": {"for": "25h"}}, "spec.alerting.for", "spec.alerting.for"),
    ("scrape-interval-too-short", {"prometheus": {"scrapeInterval": "1s"}},
     "spec.prometheus.scrapeInterval", "spec.prometheus.scrapeInterval"),
    ("unknown-spec-field", {"bounceThreshold": "5%"}, "spec.bounceThreshold", "spec.bounceThreshold"),
    ("unknown-nested-field",
     {"thresholds": {"bounceRate": {"warning": "5%", "critical": "10%", "page": "20%"}}},
     "spec.thresholds.bounceRate.page", "spec.thresholds.bounceRate.page"),
    ("missing-region", {"region": None}, "spec.region", "spec.region"),
    ("bad-region", {"region": "mars-north-1"}, "spec.region", "spec.region"),
    ("region-upper-case", {"region": "EU-WEST-1"}, "spec.region", "spec.region"),
    ("bad-role-arn", {"aws": {"roleArn": "arn:aws:iam::1234:role/ses"}},
     "spec.aws.roleArn", "spec.aws.roleArn"),
    ("external-id-without-role", {"aws": {"externalId": "abc123"}}, "spec.aws", "externalId needs roleArn"),
    ("service-account-and-secret",
     {"aws": {"serviceAccountName": "ses", "credentialsSecretRef": {"name": "keys"}}},
     "spec.aws", "use either serviceAccountName"),
    ("secret-ref-without-name", {"aws": {"credentialsSecretRef": {}}},
     "spec.aws.credentialsSecretRef.name", "spec.aws.credentialsSecretRef.name"),
    ("endpoint-not-http", {"aws": {"endpointURL": "ftp://ses.local"}},
     "spec.aws.endpointURL", "spec.aws.endpointURL"),
    ("service-endpoint-not-http", {"aws": {"endpoints": {"sesv2": "vpce-1.email.eu-west-1"}}},
     "spec.aws.endpoints.sesv2", "spec.aws.endpoints.sesv2"),
    ("unknown-service-endpoint", {"aws": {"endpoints": {"sns": "https://sns.local"}}},
     "spec.aws.endpoints", "spec.aws.endpoints.sns"),
    ("events-without-queue", {"events": {}}, "spec.events.queueURL", "spec.events.queueURL"),
    ("events-queue-arn", {"events": {"queueURL": "arn:aws:sqs:eu-west-1:111122223333:ses-events"}},
     "spec.events.queueURL", "spec.events.queueURL"),
    ("events-region-not-the-urls",
     {"events": {"queueURL": "https://sqs.eu-west-1.amazonaws.com/111122223333/q", "region": "us-east-1"}},
     "spec.events.region", "region must be the region in queueURL"),
    ("events-too-many-domains",
     {"events": {"queueURL": "https://sqs.eu-west-1.amazonaws.com/111122223333/q", "topDomains": 101}},
     "spec.events.topDomains", "spec.events.topDomains"),
    ("bad-configuration-set", {"configurationSets": ["bad name!"]},
     "spec.configurationSets[0]", "spec.configurationSets[0]"),
    ("bad-toleration-operator", {"exporter": {"tolerations": [{"key": "a", "operator": "Maybe"}]}},
     "spec.exporter.tolerations[0].operator", "spec.exporter.tolerations[0].operator"),
    ("bad-severity-label", {"alerting": {"severities": {"warning": "not valid!"}}},
     "spec.alerting.severities.warning", "spec.alerting.severities.warning"),
    ("unknown-alert-disabled", {"alerting": {"disabled": ["SESBounceRateHigh", "SESBounceRateHgh"]}},
     'spec.alerting.disabled[1]: Unsupported value: "SESBounceRateHgh"',
     "spec.alerting.disabled[1]: 'SESBounceRateHgh' is not an alert sesmonitor renders"),
    ("runbook-base-not-a-url", {"alerting": {"runbookBaseURL": "wiki/ses"}},
     "spec.alerting.runbookBaseURL", "spec.alerting.runbookBaseURL"),
    ("protection-set-not-listed",
     {"configurationSets": ["marketing"],
      "protection": {"mode": "Enforce", "configurationSets": ["promo"]}},
     "spec.protection.configurationSets", "protection.configurationSets: promo not in configurationSets"),
    ("protection-without-sets", {"protection": {"mode": "Enforce"}},
     "spec.protection.configurationSets", "DryRun and Enforce need configurationSets"),
    ("protection-level-not-percent",
     {"configurationSets": ["m"],
      "protection": {"mode": "DryRun", "configurationSets": ["m"], "bounceRate": "12"}},
     "spec.protection.bounceRate", "spec.protection.bounceRate"),
    ("protection-bad-mode", {"protection": {"mode": "Always"}},
     "spec.protection.mode", "spec.protection.mode"),
    ("tenants-names-and-prefix", {"tenants": {"names": ["acme"], "prefix": "cust-"}},
     "spec.tenants.prefix", "use either names or prefix"),
    ("tenants-read-too-often", {"tenants": {"readInterval": "10m"}},
     "spec.tenants.readInterval", "spec.tenants.readInterval"),
    ("tenants-limit-too-high", {"tenants": {"limit": 10001}}, "spec.tenants.limit", "spec.tenants.limit"),
    ("findings-read-too-often", {"findings": {"readInterval": "5m"}},
     "spec.findings.readInterval", "spec.findings.readInterval"),
]  # fmt: skip


def manifest(case_spec: dict[str, Any], name: str, namespace: str) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    for key, value in case_spec.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return sesmonitor(name, namespace, spec)


@pytest.fixture(scope="module")
def validation_namespace(control_plane: Cluster, sesmonitor_crd: dict[str, Any]) -> Iterator[str]:
    with control_plane.temporary_namespace(f"sesmon-invalid-{uuid.uuid4().hex[:6]}") as name:
        yield name


def kubectl_apply(cluster: Cluster, obj: dict[str, Any]) -> tuple[int, str]:
    """``kubectl apply`` (strict field validation, kubectl's default), as a server-side dry run."""
    proc = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(obj), check=False)
    return proc.returncode, proc.stderr + proc.stdout


def test_at_least_twenty_distinct_bad_inputs() -> None:
    assert len({case[0] for case in BAD}) == len(BAD) >= 20


def test_the_valid_baseline_is_accepted(control_plane: Cluster, validation_namespace: str) -> None:
    obj = manifest({}, "valid", validation_namespace)
    code, output = kubectl_apply(control_plane, obj)
    assert code == 0, output
    load(obj)


@pytest.mark.parametrize(("spec", "api_field", "python_text"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_rejected_by_the_api_server_and_the_python_validator(
    control_plane: Cluster, validation_namespace: str, spec: dict[str, Any], api_field: str, python_text: str
) -> None:
    obj = manifest(spec, "bad", validation_namespace)
    code, output = kubectl_apply(control_plane, obj)
    assert code != 0, f"the API server accepted {spec}: {output}"
    assert api_field in output, output
    with pytest.raises(SpecError) as error:
        load(obj)
    assert python_text in str(error.value)


def test_unknown_top_level_field_is_rejected(control_plane: Cluster, validation_namespace: str) -> None:
    obj = manifest({}, "bad", validation_namespace)
    obj["extra"] = {"x": 1}
    code, output = kubectl_apply(control_plane, obj)
    assert code != 0
    assert 'unknown field "extra"' in output
    with pytest.raises(SpecError, match="extra: unknown field"):
        load(obj)


# What the operator writes for a paused tenant and a failing one (tests/unit/test_operator_tenant_protection).
TENANT_ENTRIES: list[dict[str, Any]] = [
    {"tenant": "acme", "state": "paused", "pausedAt": "2026-01-01T00:00:00Z",
     "reason": "reputation impact HIGH for 10m or more"},
    {"tenant": "globex", "state": "cooldown", "resumedAt": "2026-01-01T02:00:00Z",
     "cooldownUntil": "2026-01-01T03:00:00Z", "resumedBy": "outside sesmonitor",
     "lastError": "AccessDeniedException: not authorized", "nextAttemptAt": "2026-01-01T02:05:00Z"},
]  # fmt: skip


def test_the_status_subresource_takes_protected_tenants_and_keeps_sets_apart(control_plane: Cluster) -> None:
    """status.protectionTenants is stored as written (nothing pruned); a tenant entry in
    status.protection, whose map key configurationSet it lacks, is refused."""
    with control_plane.temporary_namespace(f"sesmon-status-{uuid.uuid4().hex[:6]}") as namespace:
        obj = manifest({}, "tenants", namespace)
        control_plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(obj))
        sets = [{"configurationSet": "marketing", "state": "watching"}]
        status = {"status": {"protection": sets, "protectionTenants": TENANT_ENTRIES}}
        patch = ("patch", "sesmonitor", "tenants", "-n", namespace, "--subresource=status", "--type=merge")
        control_plane.kubectl(*patch, "-p", json.dumps(status))
        stored = control_plane.kubectl_json("get", "sesmonitor", "tenants", "-n", namespace)["status"]
        assert stored["protectionTenants"] == TENANT_ENTRIES
        assert stored["protection"] == sets
        refused = control_plane.kubectl(
            *patch, "-p", json.dumps({"status": {"protection": TENANT_ENTRIES}}), check=False
        )
        assert refused.returncode != 0
        assert "status.protection[0].configurationSet" in refused.stderr, refused.stderr
        control_plane.kubectl("delete", "sesmonitor", "tenants", "-n", namespace)


def test_none_was_accepted(control_plane: Cluster, validation_namespace: str) -> None:
    listed = control_plane.kubectl_json("get", "sesmonitors", "-n", validation_namespace)
    assert listed["items"] == []
