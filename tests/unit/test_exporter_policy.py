"""The operator's exporter policy (issue 11, item 3): the pure decision, its settings, the reconcile
that creates nothing for a refused SesMonitor, and the rendered pod that never gets an API token."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_operator_apply import MONITOR, FakeApi, World

from sesmonitor.cli.operator_main import build_parser, settings_from
from sesmonitor.operator.policy import (
    POLICY_DENIED,
    ExporterPolicy,
    check,
    image_allowed,
    matches,
    service_account_allowed,
)
from sesmonitor.operator.reconcile import ReconcileFailed
from sesmonitor.operator.settings import OperatorSettings, SettingsError, from_environment, validate
from sesmonitor.render import RenderDefaults, render_all
from support.monitors import load_monitor

DEFAULT = "ghcr.io/sesmonitor/sesmonitor:0.1.0"


def monitor(spec: dict[str, Any], namespace: str = "mail") -> Any:
    return load_monitor(spec, namespace=namespace, region="eu-west-1")


@pytest.mark.parametrize(
    ("entry", "value", "expected"),
    [
        ("reg.example/sesmonitor:1.0", "reg.example/sesmonitor:1.0", True),
        ("reg.example/sesmonitor:1.0", "reg.example/sesmonitor:1.0.1", False),
        ("reg.example/sesmonitor:*", "reg.example/sesmonitor:2.0", True),
        ("reg.example/sesmonitor:*", "reg.example/sesmonitor-evil:2.0", False),
        ("reg.example/sesmonitor@sha256:*", "reg.example/sesmonitor@sha256:" + "a" * 64, True),
        ("reg.example/team/*", "reg.example/team/exporter:1", True),
        ("reg.example/team/*", "reg.example/team/sub/exporter:1", False),  # * stops at /
        ("reg.example/team/*", "evil.example/reg.example/team/x:1", False),  # anchored
        ("a.b/c:1", "aXb/c:1", False),  # dots are literal
    ],
)
def test_image_patterns(entry: str, value: str, expected: bool) -> None:
    assert matches(entry, value) is expected


def test_default_policy_allows_the_default_image_only() -> None:
    policy = ExporterPolicy()
    assert image_allowed(DEFAULT, DEFAULT, policy)
    assert not image_allowed("ghcr.io/sesmonitor/sesmonitor:0.1.1", DEFAULT, policy)
    assert check(monitor({}), policy, DEFAULT) == ()
    assert check(monitor({"exporter": {"image": DEFAULT}}), policy, DEFAULT) == ()
    (violation,) = check(monitor({"exporter": {"image": "evil.example/miner:1"}}), policy, DEFAULT)
    assert violation.field == "spec.exporter.image"
    assert "'evil.example/miner:1' is not an image this operator runs" in violation.message
    assert DEFAULT in violation.message
    assert "allowedImages" in violation.message


def test_default_policy_refuses_service_accounts_and_tolerations_but_not_secrets() -> None:
    spec = {
        "aws": {"serviceAccountName": "ci-deployer"},
        "exporter": {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]},
    }
    fields = [v.field for v in check(monitor(spec), ExporterPolicy(), DEFAULT)]
    assert fields == ["spec.aws.serviceAccountName", "spec.exporter.tolerations"]
    secrets = monitor({"aws": {"credentialsSecretRef": {"name": "keys"}}})
    assert check(secrets, ExporterPolicy(), DEFAULT) == ()
    (refused,) = check(secrets, ExporterPolicy(allow_credentials_secrets=False), DEFAULT)
    assert refused.field == "spec.aws.credentialsSecretRef"
    # The namespace's default ServiceAccount is what the pod runs under anyway.
    assert check(monitor({"aws": {"serviceAccountName": "default"}}), ExporterPolicy(), DEFAULT) == ()


def test_service_account_entries() -> None:
    policy = ExporterPolicy(allowed_service_accounts=("ses-monitor", "mail/ses-*"))
    assert service_account_allowed("team", "ses-monitor", policy)
    assert service_account_allowed("mail", "ses-reader", policy)
    assert not service_account_allowed("team", "ses-reader", policy)
    assert service_account_allowed("any", "thing", ExporterPolicy(allowed_service_accounts=("*",)))
    allowed = ExporterPolicy(allowed_service_accounts=("*",), allow_tolerations=True)
    spec = {"aws": {"serviceAccountName": "x"}, "exporter": {"tolerations": [{"operator": "Exists"}]}}
    assert check(monitor(spec), allowed, DEFAULT) == ()


def test_confinement_annotations_are_always_refused() -> None:
    spec = {
        "exporter": {
            "podAnnotations": {"container.apparmor.security.beta.kubernetes.io/exporter": "unconfined"}
        }
    }
    (violation,) = check(monitor(spec), ExporterPolicy(allowed_images=("*",)), DEFAULT)
    assert "apparmor" in violation.field


def test_policy_from_environment_and_flags() -> None:
    env = {
        "SESMONITOR_ALLOWED_IMAGES": "reg.example/a:*, reg.example/b:1",
        "SESMONITOR_ALLOWED_SERVICE_ACCOUNTS": "ses-monitor",
        "SESMONITOR_ALLOW_TOLERATIONS": "true",
        "SESMONITOR_ALLOW_CREDENTIALS_SECRETS": "false",
    }
    policy = from_environment(env).exporter_policy
    assert policy == ExporterPolicy(("reg.example/a:*", "reg.example/b:1"), ("ses-monitor",), True, False)
    assert from_environment({}).exporter_policy == ExporterPolicy()
    with pytest.raises(SettingsError, match="SESMONITOR_ALLOW_TOLERATIONS"):
        from_environment({"SESMONITOR_ALLOW_TOLERATIONS": "maybe"})
    args = build_parser().parse_args(
        ["--allowed-image=reg.example/c:*", "--allowed-service-account=mail/ses", "--no-allow-tolerations",
         "--allow-credentials-secrets"]
    )  # fmt: skip
    flagged = settings_from(args, from_environment(env)).exporter_policy
    assert flagged == ExporterPolicy(("reg.example/c:*",), ("mail/ses",), False, True)
    with pytest.raises(SettingsError, match="NAMESPACE/NAME"):
        validate(OperatorSettings(exporter_policy=ExporterPolicy(allowed_service_accounts=("a/b/c",))))


def test_a_refused_monitor_gets_nothing_a_stalled_condition_and_a_warning_event() -> None:
    world = World()
    obj = world.api.objects[FakeApi.key(MONITOR)]
    obj["spec"] = {**copy.deepcopy(obj["spec"]), "exporter": {"image": "evil.example/miner:1"}}
    with pytest.raises(ReconcileFailed) as failure:
        world.reconciler.reconcile("mail", "prod")
    assert failure.value.reason == POLICY_DENIED
    assert failure.value.permanent
    assert world.api.writes == [("status", "SesMonitor", "prod")]  # no child, only the status
    assert world.fetched == []
    conditions = {c["type"]: c for c in world.status["conditions"]}
    assert conditions["Reconciled"]["reason"] == POLICY_DENIED
    assert "evil.example/miner:1" in conditions["Reconciled"]["message"]
    assert conditions["Stalled"]["status"] == "True"
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == POLICY_DENIED
    ((kind, _reason, message),) = world.events
    assert kind == "Warning"
    assert POLICY_DENIED in message
    assert "spec.exporter.image" in message


@pytest.mark.parametrize(
    "aws", [{}, {"serviceAccountName": "ses-monitor"}, {"credentialsSecretRef": {"name": "keys"}}]
)
def test_exporter_pods_never_automount_an_api_token(aws: dict[str, Any]) -> None:
    children = render_all(monitor({"aws": aws}), RenderDefaults())
    (deployment,) = [c for c in children if c["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
