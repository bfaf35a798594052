"""deploy/aws/ses-events.yaml: cfn-lint finds nothing, and it creates what the exporter reads.

cfn-lint is the exact version requirements-dev.lock pins (scripts/setup.sh installs it into .venv;
moto's server needs it too), with the resource specifications it ships: no download.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from sesmonitor.exporter.events.ses_events import COUNTED_TYPES
from sesmonitor.exporter.model.service_events import DETAIL_TYPES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "aws" / "ses-events.yaml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
# CloudFormation's MatchingEventTypes -> SES's eventType in the published event.
EVENT_TYPES = {"send": "Send", "reject": "Reject", "bounce": "Bounce", "complaint": "Complaint",
               "delivery": "Delivery", "deliveryDelay": "DeliveryDelay"}  # fmt: skip


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    assert CFN_LINT.is_file(), f"{CFN_LINT} is missing: run scripts/setup.sh (requirements-dev.lock)"
    return subprocess.run([str(CFN_LINT), "--format", "parseable", str(path)],
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip


def resources(kind: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load(TEMPLATE.read_text())
    return [r["Properties"] for r in doc["Resources"].values() if r["Type"] == kind]


def test_cfn_lint_finds_nothing() -> None:
    proc = lint(TEMPLATE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cfn_lint_does_catch_a_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    # (It does not check MatchingEventTypes' values: the test below does.)
    broken.write_text(TEMPLATE.read_text().replace("VisibilityTimeout: 60", "VisibilityTimeout: 99999"))
    proc = lint(broken)
    assert proc.returncode != 0
    assert "E3034" in proc.stdout


def test_the_destination_publishes_what_the_exporter_counts() -> None:
    (destination,) = resources("AWS::SES::ConfigurationSetEventDestination")
    matching = destination["EventDestination"]["MatchingEventTypes"]
    assert {EVENT_TYPES[t] for t in matching} == set(COUNTED_TYPES)  # Send included: the alerts' denominator
    assert "SnsDestination" in destination["EventDestination"]


def test_queue_has_a_dead_letter_queue_and_the_consumer_policy_is_the_documented_one() -> None:
    queue = next(q for q in resources("AWS::SQS::Queue") if "RedrivePolicy" in q)
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    (subscription,) = resources("AWS::SNS::Subscription")
    assert subscription["Protocol"] == "sqs"
    (policy,) = resources("AWS::IAM::ManagedPolicy")
    (statement,) = policy["PolicyDocument"]["Statement"]
    documented = json.loads((ROOT / "docs" / "iam-policy-events.json").read_text())["Statement"][0]
    assert set(statement["Action"]) == set(documented["Action"])
    assert statement["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}  # that queue only


def test_the_service_events_rule_routes_what_the_exporter_reads_and_only_it_may_send() -> None:
    doc = yaml.safe_load(TEMPLATE.read_text())
    rule = doc["Resources"]["ServiceEventsRule"]
    assert rule["Condition"] == "WithServiceEvents"  # only with ServiceEvents true
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.ses"]
    assert set(pattern["detail-type"]) == set(DETAIL_TYPES)
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    (queue_policy,) = resources("AWS::SQS::QueuePolicy")
    condition, statement, absent = queue_policy["PolicyDocument"]["Statement"][1]["Fn::If"]
    assert (condition, absent) == ("WithServiceEvents", {"Ref": "AWS::NoValue"})
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ServiceEventsRule", "Arn"]}}
    }
    # docs/tenants.md shows the same pattern to a person who adds the rule by hand
    tenants_doc = (ROOT / "docs" / "tenants.md").read_text()
    assert all(f'"{detail_type}"' in tenants_doc for detail_type in DETAIL_TYPES)


def test_the_linter_is_the_pinned_version() -> None:
    pinned = re.search(r"^cfn-lint==(\S+)", (ROOT / "requirements-dev.lock").read_text(), re.MULTILINE)
    assert pinned is not None
    proc = subprocess.run(
        [str(CFN_LINT), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.split() == ["cfn-lint", pinned.group(1)]
