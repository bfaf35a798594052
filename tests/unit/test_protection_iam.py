"""spec.protection's IAM: the tag write is scoped to sesmonitor's own tag keys (aws:TagKeys), the other
calls to the protected sets, and docs/protection.md shows exactly what `sesmonitor iam-policy` renders
(parliament checks that block: tests/unit/test_security_scanners.py)."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sesmonitor.exporter.protection import protector
from sesmonitor.render.iam import TAG_KEY_PATTERN, iam_policy
from support.monitors import load_monitor

DOC = Path(__file__).resolve().parents[2] / "docs" / "protection.md"


def protected(mode: str, region: str = "us-east-1") -> dict[str, Any]:
    spec = {"region": region, "configurationSets": ["marketing"]}
    return iam_policy(
        load_monitor({**spec, "protection": {"mode": mode, "configurationSets": ["marketing"]}})
    )


def test_tag_resource_is_allowed_only_for_sesmonitor_keys() -> None:
    statements = protected("Enforce")["Statement"]
    tagging = [s for s in statements if "ses:TagResource" in s["Action"]]
    assert len(tagging) == 1
    (tag,) = tagging
    assert tag["Action"] == ["ses:TagResource"]  # the condition binds the tag write alone
    assert tag["Condition"] == {
        "ForAllValues:StringLike": {"aws:TagKeys": ["sesmonitor:*"]},
        "Null": {"aws:TagKeys": "false"},
    }
    assert tag["Resource"] == ["arn:aws:ses:us-east-1:*:configuration-set/marketing"]
    assert not any("UntagResource" in a for s in statements for a in s["Action"])  # never removes a tag


def test_every_key_the_protector_writes_passes_the_condition() -> None:
    keys = {
        value for name, value in vars(protector).items() if name.startswith("TAG_") and isinstance(value, str)
    }
    assert len(keys) >= 5
    assert all(fnmatch.fnmatchcase(key, TAG_KEY_PATTERN) for key in keys), keys
    assert not fnmatch.fnmatchcase("team:cost-center", TAG_KEY_PATTERN)


@pytest.mark.parametrize(("region", "partition"), [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_the_scoped_statements_name_the_regions_partition(region: str, partition: str) -> None:
    for statement in protected("Enforce", region)["Statement"][-2:]:
        assert statement["Resource"] == [f"arn:{partition}:ses:{region}:*:configuration-set/marketing"]


def test_dry_run_gets_no_tag_write() -> None:
    last = protected("DryRun")["Statement"][-1]
    assert last["Action"] == ["ses:ListTagsForResource"]
    assert "Condition" not in last


def test_the_documented_policy_is_the_rendered_one() -> None:
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)]
    documented, tenants = [b for b in blocks if isinstance(b, dict) and "Statement" in b]
    assert documented["Statement"] == protected("Enforce")["Statement"][-2:]
    monitor = load_monitor({"protection": {"mode": "Enforce", "tenants": ["acme", "globex"]}})
    assert tenants["Statement"] == iam_policy(monitor)["Statement"][-2:]  # docs/protection.md#tenants
