"""The field's own scanners on what we ship (issue 11, item 3): checkov's Kubernetes checks on the Helm
chart rendered several ways, the Kustomize base and every exporter the operator renders; parliament
on every IAM policy the docs tell users to create. Every finding must be in a skip list below, each
entry with the reason it is deliberate; anything else fails the test.

Both tools live in ``.venv-scan`` (scripts/setup.sh, requirements-scan.lock): checkov pins boto3 and
others to versions that conflict with requirements.lock. They run offline (``--skip-download``; no
policy or guideline download, no API key).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from sesmonitor.api import load
from sesmonitor.render import RenderDefaults, render_all
from support.tools import helm_path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"
SCAN_BIN = ROOT / ".venv-scan" / "bin"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
DIGEST = "sha256:" + "ab" * 32

Finding = dict[str, Any]


def _operator(finding: Finding) -> bool:
    return str(finding["resource"]).startswith("Deployment.") and "sesmonitor-operator" in finding["resource"]


def _exporter(finding: Finding) -> bool:
    return "sesmon-" in str(finding["resource"])


def _any(finding: Finding) -> bool:
    return True


# check id -> (which resources it is accepted for, why). Nothing else may fail.
CHECKOV_ACCEPTED: dict[str, tuple[Callable[[Finding], bool], str]] = {
    "CKV_K8S_11": (
        _any,
        "no CPU limits, deliberately: a limit throttles the process by CFS quota even on an idle node"
        " (the operator's bursts after a restart, an exporter's refresh); CPU requests and memory"
        " limits are set",
    ),
    "CKV_K8S_43": (
        _any,
        "the defaults name the release's tag (the chart cannot know a digest before the image is"
        " built); image.digest / exporter.image.digest pin it, and the production values do",
    ),
    "CKV_K8S_15": (
        _any,
        "IfNotPresent on purpose: with a pinned tag or digest Always only makes every restart depend on"
        " the registry; image.pullPolicy / exporter.pullPolicy set Always where wanted",
    ),
    "CKV2_K8S_6": (
        _any,
        "no NetworkPolicy shipped: the exporter's egress is AWS's public or VPC endpoints (addresses"
        " AWS changes) and its ingress is whichever Prometheus the cluster runs (namespace and labels"
        " are the cluster's); the operator needs the API server. A policy we guessed would break"
        " installs; clusters that default-deny write theirs",
    ),
    "CKV_K8S_9": (
        _operator,
        "the operator serves no traffic (no Service): readiness would gate nothing; liveness is set",
    ),
    "CKV_K8S_38": (
        _operator,
        "the operator talks to the API server: its token is the point. Exporters must pass this check",
    ),
    "CKV_K8S_35": (
        _exporter,
        "static keys (the documented last resort) reach the AWS SDK's environment credential provider;"
        " only for SesMonitors with credentialsSecretRef, which the policy can refuse",
    ),
}

# (issue, which statements) -> why; parliament's own false positives on trust policies.
PARLIAMENT_ACCEPTED: dict[str, tuple[Callable[[dict[str, Any]], bool], str]] = {
    "MALFORMED": (
        lambda policy: all("Principal" in s for s in policy["Statement"]),
        "a role's trust policy is a resource-based policy attached to the role itself: AWS refuses a"
        " Resource element there; parliament reads every policy as an identity policy",
    ),
    "CREDENTIALS_EXPOSURE": (
        lambda policy: all(
            s.get("Action") == "sts:AssumeRole" and ":role/" in s.get("Resource", "*")
            for s in policy["Statement"]
        ),
        "returning credentials is the point of the cross-account policy: sts:AssumeRole on the one"
        " named read-only role in the sending account, never on *",
    ),
    "UNKNOWN_FEDERATION_SOURCE": (
        lambda policy: all("Federated" in s.get("Principal", {}) for s in policy["Statement"]),
        "an EKS cluster's IAM OIDC provider (arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks...) is per"
        " cluster; parliament knows only a fixed list of public identity providers",
    ),
}

# Actions AWS added after parliament 1.6.4's IAM database (SES tenants, 2025): parliament reports them as
# UNKNOWN_ACTION. Accepted by name only, so a typo in any other action (or in these) still fails.
PARLIAMENT_UNKNOWN_ACTIONS: Final = frozenset(
    {
        "ses:ListTenants",
        "ses:GetTenant",
        "ses:ListReputationEntities",
        "ses:GetReputationEntity",
        "ses:UpdateReputationEntityCustomerManagedStatus",  # spec.protection's tenants
    }
)


def _parliament_accepts(policy: dict[str, Any], finding: dict[str, str]) -> bool:
    if finding["issue"] == "UNKNOWN_ACTION":
        return finding["detail"].removeprefix("Unknown action ") in PARLIAMENT_UNKNOWN_ACTIONS
    accepted = PARLIAMENT_ACCEPTED.get(finding["issue"])
    return accepted is not None and accepted[0](policy)


def scanner(name: str) -> Path:
    path = SCAN_BIN / name
    assert path.is_file(), f"{path} is missing: run scripts/setup.sh (it installs requirements-scan.lock)"
    return path


def helm_template(*args: str, namespace: str = "sesmonitor-system") -> str:
    proc = subprocess.run(
        [str(helm_path()), "template", "sesmonitor-operator", str(CHART), "--namespace", namespace,
         "--include-crds", *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def exporter_manifests() -> dict[str, str]:
    """Every example SesMonitor rendered as the operator would, with the default and a pinned image."""
    out = {}
    for path in EXAMPLES:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "SesMonitor":
                continue
            doc.setdefault("metadata", {}).setdefault("namespace", "mail")  # the operator's is the CR's
            monitor = load(doc)
            for label, defaults in (
                ("default", RenderDefaults()),
                ("pinned", RenderDefaults(exporter_image=f"ghcr.io/sesmonitor/sesmonitor@{DIGEST}")),
            ):
                children = render_all(monitor, defaults)
                out[f"exporter-{path.stem}-{monitor.name}-{label}.yaml"] = yaml.safe_dump_all(children)
    return out


def checkov(directory: Path) -> list[Finding]:
    proc = subprocess.run(
        [str(scanner("checkov")), "--framework", "kubernetes", "--skip-download", "--quiet", "--compact",
         "--output", "json", "--directory", str(directory)],
        capture_output=True, text=True, check=False, timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(directory), "LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    assert proc.returncode in {0, 1}, proc.stdout[-2000:] + proc.stderr[-4000:]
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert reports, proc.stdout[:2000]
    assert all(r.get("check_type") == "kubernetes" for r in reports), proc.stdout[:2000]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed > 100, f"checkov passed only {passed} checks: did it read the manifests?"
    return [f for r in reports for f in r["results"]["failed_checks"]]


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("scan")
    renders = {
        "chart-defaults.yaml": helm_template(),
        "chart-production.yaml": helm_template("-f", str(CHART / "ci" / "production-values.yaml")),
        "chart-watch-namespaces.yaml": helm_template("--set", "watchNamespaces={mail,billing}"),
        "chart-pinned.yaml": helm_template("--set", f"image.digest={DIGEST}"),
        **exporter_manifests(),
    }
    for name, text in renders.items():
        (directory / name).write_text(text)
    for path in (ROOT / "deploy" / "kustomize" / "base").rglob("*.yaml"):
        if path.name != "kustomization.yaml":  # checkov would build it and scan the same files twice
            (directory / f"kustomize-{path.name}").write_text(path.read_text())
    return directory


def test_checkov_finds_nothing_we_did_not_accept_with_a_reason(manifests: Path) -> None:
    findings = checkov(manifests)
    unexplained = [
        f"{f['check_id']} {f['check_name']}: {f['resource']} ({f['file_path']})"
        for f in findings
        if f["check_id"] not in CHECKOV_ACCEPTED or not CHECKOV_ACCEPTED[f["check_id"]][0](f)
    ]
    assert unexplained == [], "\n".join(unexplained)
    # The exporter must pass the token check (issue 11, item 3), whatever ServiceAccount it uses.
    exporters = [f for f in findings if _exporter(f)]
    assert exporters, "no exporter findings at all: were the exporter manifests scanned?"
    assert not [f for f in exporters if f["check_id"] == "CKV_K8S_38"]


def documented_policies() -> dict[str, dict[str, Any]]:
    policies = {
        f"docs/{name}": json.loads((ROOT / "docs" / name).read_text())
        # the read policy; with spec.events; with spec.tenants
        for name in ("iam-policy.json", "iam-policy-events.json", "iam-policy-tenants.json")
    }
    for doc in sorted((ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"```json\n(.*?)```", doc.read_text(), re.DOTALL)
        for index, block in enumerate(blocks):
            policy = json.loads(block)
            if isinstance(policy, dict) and "Statement" in policy:
                policies[f"docs/{doc.name}#{index}"] = policy
    return policies


PARLIAMENT_SCRIPT = """
import json, sys
from parliament import analyze_policy_string
out = {}
for name, text in json.load(sys.stdin).items():
    policy = analyze_policy_string(text, include_community_auditors=True)
    out[name] = [{"issue": f.issue, "detail": str(f.detail)} for f in policy.findings]
print(json.dumps(out))
"""


def test_parliament_finds_nothing_we_did_not_accept_with_a_reason() -> None:
    policies = documented_policies()
    assert len(policies) >= 5, sorted(policies)  # the read policy, IRSA, Pod Identity, cross-account
    proc = subprocess.run(
        [str(scanner("python")), "-c", PARLIAMENT_SCRIPT],
        input=json.dumps({name: json.dumps(p) for name, p in policies.items()}),
        capture_output=True, text=True, check=False, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)
    unexplained = [
        f"{name}: {f['issue']} {f['detail']}"
        for name, found in findings.items()
        for f in found
        if not _parliament_accepts(policies[name], f)
    ]
    assert unexplained == [], "\n".join(unexplained)
    # The read policy itself is clean, and parliament does catch a typo in it.
    assert findings["docs/iam-policy.json"] == []
    assert findings["docs/iam-policy-events.json"] == []
    assert {f["detail"] for f in findings["docs/iam-policy-tenants.json"]} <= {
        f"Unknown action {a}" for a in PARLIAMENT_UNKNOWN_ACTIONS
    }
    # spec.protection's statements (the tag write scoped by aws:TagKeys) are clean too, and parliament
    # knows which condition keys ses:TagResource takes: a wrong one is found.
    protect, tenants = [name for name in policies if name.startswith("docs/protection.md#")]
    assert findings[protect] == []
    # The tenants' statements: only the tenant actions parliament does not know yet.
    assert "SesMonitorProtectTenants" in json.dumps(policies[tenants])
    assert {f["detail"] for f in findings[tenants]} <= {
        f"Unknown action {a}" for a in PARLIAMENT_UNKNOWN_ACTIONS
    }
    wrong_key = json.dumps(policies[protect]).replace("aws:TagKeys", "ses:TagKeys")
    proc = subprocess.run(
        [str(scanner("python")), "-c", PARLIAMENT_SCRIPT], input=json.dumps({"wrong_key": wrong_key}),
        capture_output=True, text=True, check=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert {f["issue"] for f in json.loads(proc.stdout)["wrong_key"]} == {"UNKNOWN_CONDITION_FOR_ACTION"}
    broken = json.dumps(policies["docs/iam-policy.json"]).replace("GetMetricData", "GetMetricDate")
    proc = subprocess.run(
        [str(scanner("python")), "-c", PARLIAMENT_SCRIPT], input=json.dumps({"broken": broken}),
        capture_output=True, text=True, check=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert [f["issue"] for f in json.loads(proc.stdout)["broken"]] == ["UNKNOWN_ACTION"]
