"""`sesmonitor render | validate | rules | crd`: output, one clear line per bad input, no traceback."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sesmonitor.api import custom_resource_definition
from sesmonitor.cli.main import main
from sesmonitor.render import RenderDefaults

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KINDS = ["ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"]
HEADER = "apiVersion: sesmonitor.io/v1alpha1\nkind: SesMonitor\nmetadata:\n  name: {name}\n"


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def monitor_file(tmp_path: Path, spec: str, name: str = "example") -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(HEADER.format(name=name) + "spec:\n" + spec)
    return path


def test_render_basic_example_yields_the_five_objects() -> None:
    code, out, err = run("render", "-f", str(EXAMPLES / "basic.yaml"))
    assert (code, err) == (0, "")
    docs = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in docs] == KINDS
    assert all(d["metadata"]["namespace"] == "default" for d in docs)


def test_console_script_renders_from_stdin() -> None:
    text = (EXAMPLES / "basic.yaml").read_text()
    proc = subprocess.run(
        [sys.executable, "-m", "sesmonitor.cli.main", "render", "-f", "-", "-n", "mail"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    assert [d["kind"] for d in docs] == KINDS
    assert {d["metadata"]["namespace"] for d in docs} == {"mail"}


def test_render_production_example_and_multi_document_files(tmp_path: Path) -> None:
    both = tmp_path / "both.yaml"
    both.write_text(
        (EXAMPLES / "basic.yaml").read_text() + "---\n" + (EXAMPLES / "production.yaml").read_text()
    )
    code, out, _ = run("render", "-f", str(both))
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in docs] == KINDS * 2
    sm, rule = docs[8], docs[9]
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert docs[6]["spec"]["template"]["spec"]["serviceAccountName"] == "ses-monitor"
    alerts = rule["spec"]["groups"][0]["rules"]
    assert all(a["labels"]["team"] == "mail" for a in alerts)
    assert all(a["annotations"]["runbook_url"].startswith("https://") for a in alerts)
    assert any(a["alert"] == "SESConfigurationSetBounceRateHigh" for a in alerts)


def test_render_exporter_image_flag(tmp_path: Path) -> None:
    code, out, _ = run("render", "-f", str(EXAMPLES / "basic.yaml"), "--exporter-image", "reg.local/e:9")
    assert code == 0
    deployment = list(yaml.safe_load_all(out))[1]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "reg.local/e:9"
    code, out, _ = run("render", "-f", str(EXAMPLES / "basic.yaml"))
    deployment = list(yaml.safe_load_all(out))[1]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == RenderDefaults().exporter_image


def test_validate_ok() -> None:
    assert run("validate", "-f", str(EXAMPLES / "basic.yaml")) == (0, "ok: default/ses\n", "")
    assert run("validate", "-f", str(EXAMPLES / "production.yaml")) == (0, "ok: mail/prod\n", "")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("  region: us-east-1\n  colour: blue\n", "spec.colour: unknown field"),
        (
            "  region: us-east-1\n  thresholds: {bounceRate: {warning: '5'}}\n",
            "spec.thresholds.bounceRate.warning:",
        ),
        (
            "  region: us-east-1\n  thresholds: {bounceRate: {warning: '150%'}}\n",
            "spec.thresholds.bounceRate.warning:",
        ),
        (
            "  region: us-east-1\n  thresholds: {complaintRate: {warning: '0.5%', critical: '0.5%'}}\n",
            "spec.thresholds.complaintRate: warning (0.5%) must be lower than critical (0.5%)",
        ),
        ("  region: us-east-1\n  window: 1d\n", "spec.window:"),
        ("  region: us-east-1\n  window: 1m\n", "spec.window:"),
        ("  region: us-east-1\n  alerting: {for: soon}\n", "spec.alerting.for:"),
        ("  region: mars-1\n", "spec.region:"),
        ("  window: 1h\n", "spec.region: required field is missing"),
    ],
)
def test_bad_specs_name_the_field(tmp_path: Path, spec: str, expected: str) -> None:
    path = monitor_file(tmp_path, spec)
    code, out, err = run("validate", "-f", str(path))
    assert code == 1
    assert expected in out
    assert err == ""
    code, out, err = run("render", "-f", str(path))
    assert code == 1
    assert out == ""
    assert expected in err
    code, out, err = run("rules", "-f", str(path))
    assert (code, out) == (1, "")
    assert expected in err


def test_validate_reports_every_problem_one_per_line(tmp_path: Path) -> None:
    path = monitor_file(tmp_path, "  region: us-east-1\n  window: 1d\n  colour: blue\n")
    code, out, _ = run("validate", "-f", str(path))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(line.split(": ", 1)[0].startswith("spec.") for line in lines)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a: [\n", "not valid YAML (line 2"),
        ("", "no SesMonitor found"),
        ("- 1\n- 2\n", "(top level): must be a mapping"),
        ("metadata: x\nspec: 3\n", "metadata: must be a mapping"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "kind: must be SesMonitor"),
        (
            HEADER.format(name="x")
            + "spec: {region: us-east-1}\n---\n"
            + HEADER.format(name="x")
            + "spec: {}\n",
            "default/x: ",
        ),
        ("a: \x07\n", "not valid YAML"),
    ],
)
def test_bad_files_fail_with_one_message(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(content)
    for command in ("render", "validate", "rules"):
        code, out, err = run(command, "-f", str(path))
        assert code == 1, command
        assert expected in out + err, (command, out, err)
        assert "Traceback" not in out + err


def test_duplicate_monitors_are_reported(tmp_path: Path) -> None:
    one = HEADER.format(name="x") + "spec: {region: us-east-1}\n"
    path = tmp_path / "dup.yaml"
    path.write_text(one + "---\n" + one)
    code, out, _ = run("validate", "-f", str(path))
    assert code == 1
    assert out.splitlines() == ["ok: default/x", "default/x: metadata.name: default/x appears more than once"]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    code, out, err = run("render", "-f", str(tmp_path / "nope.yaml"))
    assert (code, out) == (1, "")
    assert err == f"error: {tmp_path / 'nope.yaml'}: no such file\n"
    code, _, err = run("validate", "-f", str(tmp_path))
    assert code == 1
    assert "is a directory" in err


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"metadata: {name: caf\xe9}\n")
    code, _, err = run("render", "-f", str(path))
    assert code == 1
    assert "not UTF-8" in err


def test_usage_errors_exit_2() -> None:
    assert run()[0] == 2
    assert run("render")[0] == 2
    assert run("explode")[0] == 2


def test_crd_command_reproduces_the_committed_crd() -> None:
    code, out, _ = run("crd")
    assert code == 0
    assert yaml.safe_load(out) == custom_resource_definition()
    assert out == (ROOT / "crds" / "sesmonitor.io_sesmonitors.yaml").read_text()


def test_docs_command_reproduces_the_committed_reference() -> None:
    code, out, _ = run("docs")
    assert code == 0
    assert out == (ROOT / "docs" / "configuration.md").read_text()


def test_rules_command_prints_a_rule_file() -> None:
    code, out, _ = run("rules", "-f", str(EXAMPLES / "production.yaml"))
    assert code == 0
    doc = yaml.safe_load(out)
    assert [g["name"] for g in doc["groups"]] == ["sesmonitor/mail/prod"]


def test_subprocess_never_prints_a_traceback(tmp_path: Path) -> None:
    path = monitor_file(tmp_path, "  region: us-east-1\n  thresholds: {bounceRate: {warning: '12%'}}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sesmonitor.cli.main", "render", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == "spec.thresholds.bounceRate: warning (12%) must be lower than critical (10%)\n"


def test_iam_policy_adds_protection_only_for_protected_sets(tmp_path: Path) -> None:
    import json

    path = monitor_file(
        tmp_path,
        "  region: eu-west-1\n  configurationSets: [marketing, transactional]\n"
        "  protection: {mode: Enforce, configurationSets: [marketing]}\n",
    )
    code, out, err = run("iam-policy", "-f", str(path))
    assert (code, err) == (0, "")
    protect, tag = json.loads(out)["Statement"][-2:]
    for statement in (protect, tag):
        assert statement["Resource"] == ["arn:aws:ses:eu-west-1:*:configuration-set/marketing"]
    assert "ses:PutConfigurationSetSendingOptions" in protect["Action"]
    assert tag["Action"] == ["ses:TagResource"]
    code, out, _ = run("iam-policy", "-f", str(EXAMPLES / "basic.yaml"))
    assert code == 0
    assert "PutConfigurationSetSendingOptions" not in out
