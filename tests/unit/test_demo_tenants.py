"""scripts/demo.py's `tenants` scenario, its pure parts: what it expects, the SesMonitor it applies, and
how it judges `kubectl describe sesmon` (kubectl's layout of a custom resource's status, as on the node;
support.kubectl_describe, which the e2e tier reads it with too)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sesmonitor.api import load
from sesmonitor.render.rules import rule_file
from support.kubectl_describe import status_fields
from support.simulated_aws.scenarios import PAUSE_CAUSE, PAUSED_TENANT, SCENARIOS, SENDING_TENANTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("demo", module)
    spec.loader.exec_module(module)
    return module


# `kubectl describe sesmonitor` of a monitor with spec.tenants and spec.findings (kubectl's describe of
# an unstructured object: camelCase fields as words, list items one per line under their field).
DESCRIBED = f"""Name:         prod
Namespace:    mail
API Version:  sesmonitor.io/v1alpha1
Kind:         SesMonitor
Spec:
  Tenants:
    Prefix:  cust-
Status:
  Account Status:  HEALTHY
  Findings:
    High:  1
    Open:  1
    Worst:
      BOUNCE (HIGH) on tenant {PAUSED_TENANT}
  Observed Generation:  1
  Tenants:
    Counts:
      At Risk:             0
      Enabled:             2
      Paused By AWS:       1
      Paused By Customer:  0
      Reinstated:          0
      Unknown:             0
    Matching:              3
    Selection:             prefix cust-
    Watched:               3
    Worst:
      {PAUSED_TENANT}: paused by AWS ({PAUSE_CAUSE}), impact HIGH
Events:  <none>
"""
STATUS = {"tenants": {"counts": {"pausedByAWS": 1, "enabled": 2}}}


def test_the_scenario_expects_the_tenant_alerts_and_applies_tenants_and_findings(demo):
    assert demo.EXPECTED["tenants"] == ("SESTenantPaused", "SESReputationFindingOpen")
    assert "tenants" in SCENARIOS
    manifest = demo.load_manifest(demo.EXAMPLE, "http://192.0.2.1:4566")
    manifest["spec"].update(demo.SCENARIO_SPEC["tenants"])
    monitor = load(manifest)
    assert monitor.spec.tenants is not None
    assert monitor.spec.tenants.prefix == "cust-"
    assert monitor.spec.findings is not None
    alerts = {r.get("alert") for g in rule_file([monitor])["groups"] for r in g["rules"]}
    assert set(demo.EXPECTED["tenants"]) <= alerts  # the rules the demo waits for are rendered


def test_the_excerpt_is_the_status_fields_only():
    excerpt = status_fields(DESCRIBED, ("Tenants", "Findings"))
    lines = excerpt.splitlines()
    assert lines[0] == "  Findings:"
    assert "  Tenants:" in lines
    assert f"      {PAUSED_TENANT}: paused by AWS ({PAUSE_CAUSE}), impact HIGH" in lines
    assert "    Prefix:  cust-" not in lines  # spec.tenants is not the status' Tenants
    assert not any(line.startswith(("  Observed", "Events", "Status", "  Account")) for line in lines)


def test_the_paused_tenant_named_and_counted_passes(demo):
    assert demo.tenants_problem(STATUS, DESCRIBED, "tenants") == ""
    assert demo.tenants_problem({}, "", "seed") == ""  # other scenarios are not judged


def test_a_missing_name_a_sending_tenant_named_or_wrong_counts_fail(demo):
    unnamed = DESCRIBED.replace(f"{PAUSED_TENANT}: paused by AWS", "someone: paused by AWS")
    assert "lack 'cust-acme: paused by AWS'" in demo.tenants_problem(STATUS, unnamed, "tenants")
    sending = SENDING_TENANTS[0]
    extra = DESCRIBED.replace("Events:", f"      {sending}: paused by the customer\nEvents:")
    assert demo.tenants_problem(STATUS, extra, "tenants") == f"kubectl describe's Tenants name {sending}"
    wrong = {"tenants": {"counts": {"pausedByAWS": 2, "enabled": 1}}}
    assert demo.tenants_problem(wrong, DESCRIBED, "tenants") == (
        "status.tenants.counts.pausedByAWS is 2, not 1; status.tenants.counts.enabled is 1, not 2"
    )
    assert "counts.pausedByAWS is None" in demo.tenants_problem({}, DESCRIBED, "tenants")


def test_the_report_shows_counts_worst_and_findings(demo):
    status = {
        "tenants": {
            "selection": "prefix cust-",
            "counts": {"pausedByAWS": 1, "enabled": 2, "atRisk": 0},
            "worst": [f"{PAUSED_TENANT}: paused by AWS ({PAUSE_CAUSE}), impact HIGH"],
        },
        "findings": {"open": 1, "high": 1, "worst": [f"BOUNCE (HIGH) on tenant {PAUSED_TENANT}"]},
    }
    assert demo.tenant_lines(status) == [
        "Tenants (status.tenants, prefix cust-): 2 enabled, 1 pausedByAWS",
        f"  {PAUSED_TENANT}: paused by AWS ({PAUSE_CAUSE}), impact HIGH",
        "Findings (status.findings): 1 open, 1 of HIGH impact",
        f"  BOUNCE (HIGH) on tenant {PAUSED_TENANT}",
        "",
    ]
    assert demo.tenant_lines({}) == []
