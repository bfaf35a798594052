"""The Helm chart (deploy/helm/sesmonitor-operator), with the helm binary built for the tests.

- ``helm lint --strict`` with the default values and with ci/production-values.yaml;
- ``helm template``: what the Deployment looks like (security context, strategy, probes), and that
  its arguments are ones the operator's own CLI parses into the intended settings;
- values.schema.json and the templates' checks reject bad values, naming the value and the problem;
- the chart's crds/ is a byte-for-byte copy of the generated crds/;
- ``helm install`` on the real control plane, then ``sesmonitor-operator`` run with the installed
  Deployment's arguments and environment, under the installed ServiceAccount's identity, reconciles
  the SesMonitor the release created.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from operator_helpers import (
    CHART,
    CHILD_KINDS,
    OPERATOR_BIN,
    ROOT,
    children,
    condition,
    get_json,
    helm_template,
)

from sesmonitor.api import load
from sesmonitor.cli.operator_main import build_parser, settings_from
from sesmonitor.operator.policy import ExporterPolicy
from sesmonitor.operator.settings import from_environment
from support.controlplane import CAN_WATCH_MONITORS, AuditUnavailableError, Cluster, free_port
from support.tools import helm_path

PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
DIGEST = "sha256:" + "ab" * 32
APP_VERSION = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
DEFAULT_IMAGE = f"ghcr.io/sesmonitor/sesmonitor:{APP_VERSION}"
DEFAULT_VALUES = yaml.safe_load((CHART / "values.yaml").read_text())


def helm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBECONFIG"))}
    return subprocess.run(
        [str(helm_path()), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=env,
    )


def render(*args: str, namespace: str = "sesmonitor-system") -> dict[str, list[dict[str, Any]]]:
    """The chart rendered, by kind."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in helm_template(*args, namespace=namespace):
        by_kind.setdefault(doc["kind"], []).append(doc)
    return by_kind


def deployment(*args: str) -> dict[str, Any]:
    (only,) = render(*args)["Deployment"]
    return only


def container(dep: dict[str, Any]) -> dict[str, Any]:
    (only,) = dep["spec"]["template"]["spec"]["containers"]
    return only


def env_of(ctr: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in ctr.get("env", [])}


def operator_settings(ctr: dict[str, Any]) -> Any:
    """What sesmonitor-operator makes of the container's command line and environment."""
    assert ctr["command"] == ["sesmonitor-operator"]
    env = {k: v for k, v in env_of(ctr).items() if isinstance(v, str)}
    return settings_from(build_parser().parse_args(ctr["args"]), from_environment(env))


# --------------------------------------------------------------------------------------------------
# Files and lint
# --------------------------------------------------------------------------------------------------


def test_the_chart_crds_are_the_generated_ones() -> None:
    """Helm installs crds/ from inside the chart; they must be the files `make crd` generates."""
    chart_crds = sorted(p.name for p in (CHART / "crds").iterdir())
    assert chart_crds == sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))
    stale = [
        name
        for name in chart_crds
        if (CHART / "crds" / name).read_bytes() != (ROOT / "crds" / name).read_bytes()
    ]
    assert stale == [], f"copy crds/{{{','.join(stale)}}} to {CHART.relative_to(ROOT)}/crds/"


def test_the_tests_helm_is_the_pinned_helm4() -> None:
    """tests/tools/helm.sh's HELM_VERSION; without a cluster it says Kubernetes is its client-go's
    minor, as a release binary does (Chart.yaml's kubeVersion refuses Helm's v1.20 fallback)."""
    pinned = re.search(r"^HELM_VERSION=(v4\.\S+)$", (ROOT / "tests" / "tools" / "helm.sh").read_text(), re.M)
    assert pinned, "tests/tools/helm.sh has no HELM_VERSION=v4..."
    proc = helm("version", "--template", "{{ .Version }} {{ .KubeClientVersion }}")
    assert proc.returncode == 0, proc.stderr
    version, kube_client = proc.stdout.split()
    assert version == pinned[1]
    assert (helm_path().parent.parent / "kube-version").read_text().strip() == f"{kube_client}.0"


@pytest.mark.parametrize("values", [None, PRODUCTION_VALUES], ids=["defaults", "production"])
def test_helm_lint_strict(values: Path | None) -> None:
    proc = helm("lint", "--strict", str(CHART), *(["-f", str(values)] if values else []))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout, proc.stdout
    assert "[ERROR]" not in proc.stdout, proc.stdout


# --------------------------------------------------------------------------------------------------
# helm template
# --------------------------------------------------------------------------------------------------


def test_default_render_is_one_locked_down_replica() -> None:
    objects = render()
    assert sorted(objects) == [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
        "ServiceAccount",
    ]
    (dep,) = objects["Deployment"]
    spec = dep["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}  # never two standalone operators at once
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == objects["ServiceAccount"][0]["metadata"]["name"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    ctr = container(dep)
    assert ctr["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert ctr["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    assert ctr["image"] == DEFAULT_IMAGE
    assert ctr["resources"] == DEFAULT_VALUES["resources"]
    selector = spec["selector"]["matchLabels"]
    assert selector.items() <= spec["template"]["metadata"]["labels"].items()
    # The probe asks kopf's liveness endpoint, which --liveness serves on the probed port and path.
    probe = ctr["livenessProbe"]["httpGet"]
    port, metrics = ctr["ports"]
    assert probe == {"path": "/healthz", "port": port["name"]}
    settings = operator_settings(ctr)
    # [::]: IPv6 and IPv4 alike (sesmonitor.listen), not forced to one family.
    assert settings.liveness_endpoint == f"http://[::]:{port['containerPort']}/healthz"
    # The operator's own /metrics on a port of its own, behind the one Service of the chart.
    assert settings.metrics_endpoint == f"http://[::]:{metrics['containerPort']}/metrics"
    (service,) = objects["Service"]
    assert service["spec"]["ports"][0]["targetPort"] == metrics["name"]
    assert settings.clusterwide
    assert settings.standalone
    exporter_resources = DEFAULT_VALUES["exporter"]["resources"]
    assert settings.render_defaults.exporter_requests == exporter_resources["requests"]
    assert settings.render_defaults.exporter_limits == exporter_resources["limits"]
    assert settings.log_format == "json"
    assert not settings.verbose
    assert settings.reconcile_interval == 60
    # One image for both: exporters run the operator's image unless told otherwise.
    assert settings.render_defaults.exporter_image == DEFAULT_IMAGE
    assert settings.render_defaults.exporter_image_pull_policy == "IfNotPresent"
    env = env_of(ctr)
    assert env["POD_ID"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert json.loads(env["SESMONITOR_EXPORTER_RESOURCES"]) == DEFAULT_VALUES["exporter"]["resources"]


def test_the_runbook_base_url_reaches_the_operator() -> None:
    """alerting.runbookBaseURL: the base of every alert's runbook_url, for the operator; unset, none."""
    ctr = container(deployment("--set", "alerting.runbookBaseURL=https://wiki.example/ses"))
    assert env_of(ctr)["SESMONITOR_RUNBOOK_BASE_URL"] == "https://wiki.example/ses"
    assert operator_settings(ctr).render_defaults.runbook_base_url == "https://wiki.example/ses"
    assert "SESMONITOR_RUNBOOK_BASE_URL" not in env_of(container(deployment()))


def test_watch_namespaces_scope_the_arguments_and_the_rbac() -> None:
    objects = render("--set", "watchNamespaces={mail,billing}")
    assert "ClusterRole" not in objects
    assert "ClusterRoleBinding" not in objects
    assert sorted(r["metadata"]["namespace"] for r in objects["Role"]) == ["billing", "mail"]
    assert sorted(r["metadata"]["namespace"] for r in objects["RoleBinding"]) == ["billing", "mail"]
    ctr = container(objects["Deployment"][0])
    assert [a for a in ctr["args"] if a.startswith("--namespace")] == [
        "--namespace=mail",
        "--namespace=billing",
    ]
    assert "--all-namespaces" not in ctr["args"]
    assert operator_settings(ctr).namespaces == ("mail", "billing")


def test_digest_wins_over_tag_for_the_operator_and_its_exporters() -> None:
    ctr = container(deployment("--set", "image.tag=9.9.9", "--set", f"image.digest={DIGEST}"))
    assert ctr["image"] == f"ghcr.io/sesmonitor/sesmonitor@{DIGEST}"
    assert operator_settings(ctr).render_defaults.exporter_image == f"ghcr.io/sesmonitor/sesmonitor@{DIGEST}"
    # A tag alone: used for both.
    ctr = container(deployment("--set", "image.tag=9.9.9"))
    assert ctr["image"] == "ghcr.io/sesmonitor/sesmonitor:9.9.9"
    assert operator_settings(ctr).render_defaults.exporter_image == "ghcr.io/sesmonitor/sesmonitor:9.9.9"
    # An exporter image of its own, with its own digest winning over its tag.
    ctr = container(
        deployment(
            "--set", f"image.digest={DIGEST}",
            "--set", "exporter.image.repository=registry.example.com/ses/exporter",
            "--set", "exporter.image.tag=1.2.3",
            "--set", "exporter.pullPolicy=Always",
        )
    )  # fmt: skip
    settings = operator_settings(ctr)
    assert settings.render_defaults.exporter_image == "registry.example.com/ses/exporter:1.2.3"
    assert settings.render_defaults.exporter_image_pull_policy == "Always"
    ctr = container(
        deployment(
            "--set", "exporter.image.repository=registry.example.com/ses/exporter",
            "--set", "exporter.image.tag=1.2.3",
            "--set", f"exporter.image.digest={DIGEST}",
        )
    )  # fmt: skip
    assert (
        operator_settings(ctr).render_defaults.exporter_image == f"registry.example.com/ses/exporter@{DIGEST}"
    )
    assert ctr["image"] == DEFAULT_IMAGE


def test_exporter_policy_defaults_and_values_reach_the_operator() -> None:
    """exporter.policy (issue 11, item 3): by default only the chart's exporter image, no custom
    ServiceAccounts, no tolerations, Secrets allowed; each value reaches the operator's settings."""
    default = operator_settings(container(deployment())).exporter_policy
    assert default == ExporterPolicy()
    assert (default.allowed_images, default.allowed_service_accounts) == ((), ())
    assert not default.allow_tolerations
    assert default.allow_credentials_secrets
    ctr = container(
        deployment(
            "--set", "exporter.policy.allowedImages={registry.example/ses:*,registry.example/ses@sha256:*}",
            "--set", "exporter.policy.allowedServiceAccounts={ses-monitor,mail/ses-*}",
            "--set", "exporter.policy.allowTolerations=true",
            "--set", "exporter.policy.allowCredentialsSecrets=false",
        )
    )  # fmt: skip
    assert operator_settings(ctr).exporter_policy == ExporterPolicy(
        ("registry.example/ses:*", "registry.example/ses@sha256:*"),
        ("ses-monitor", "mail/ses-*"),
        True,
        False,
    )
    production = operator_settings(container(deployment("-f", str(PRODUCTION_VALUES)))).exporter_policy
    assert production.allowed_service_accounts == ("ses-monitor",)
    proc = helm("template", "x", str(CHART), "--set", "exporter.policy.allowTolerations=yes")
    assert proc.returncode != 0
    assert "/exporter/policy/allowTolerations" in proc.stderr, proc.stderr


def test_peering_rolls_replicas_instead_of_recreating() -> None:
    objects = render(
        "--set", "peering.enabled=true", "--set", "replicaCount=2", "--set", "peering.priority=5"
    )
    dep = objects["Deployment"][0]
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    settings = operator_settings(container(dep))
    assert settings.peering_name == "sesmonitor"
    assert settings.peering_priority == 5
    assert [p["metadata"]["name"] for p in objects["ClusterKopfPeering"]] == ["sesmonitor"]


def test_production_values() -> None:
    values = yaml.safe_load(PRODUCTION_VALUES.read_text())
    objects = render("-f", str(PRODUCTION_VALUES))
    dep = objects["Deployment"][0]
    pod = dep["spec"]["template"]["spec"]
    ctr = container(dep)
    assert ctr["image"] == f"{values['image']['repository']}@{values['image']['digest']}"
    assert pod["nodeSelector"] == values["nodeSelector"]
    assert pod["tolerations"] == values["tolerations"]
    assert pod["affinity"] == values["affinity"]
    assert pod["priorityClassName"] == values["priorityClassName"]
    assert ctr["resources"] == values["resources"]
    assert dep["spec"]["template"]["metadata"]["annotations"] == values["podAnnotations"]
    assert json.loads(env_of(ctr)["SESMONITOR_EXPORTER_RESOURCES"]) == values["exporter"]["resources"]
    settings = operator_settings(ctr)
    assert settings.namespaces == tuple(values["watchNamespaces"])
    assert settings.reconcile_interval == 120
    assert settings.exporter_timeout == 5
    assert settings.peering_name == "sesmonitor"
    # commonLabels on every object, never replacing the standard ones.
    for docs in objects.values():
        for doc in docs:
            labels = doc["metadata"]["labels"]
            assert labels["team"] in {"platform", "mail"}, doc["kind"]
            assert labels["app.kubernetes.io/instance"] == "sesmonitor-operator"
    (monitor,) = objects["SesMonitor"]
    assert monitor["metadata"]["namespace"] == "mail"
    assert monitor["metadata"]["labels"]["team"] == "mail"  # the monitor's own labels win over commonLabels
    assert load(monitor).spec.aws.service_account_name == "ses-monitor"


def test_log_level_debug_and_text_format() -> None:
    settings = operator_settings(
        container(deployment("--set", "log.level=debug", "--set", "log.format=text"))
    )
    assert settings.verbose
    assert settings.log_format == "text"


def test_extra_args_env_labels_and_annotations() -> None:
    dep = deployment(
        "--set", "extraArgs={--exporter-timeout=7}",
        "--set", "extraEnv[0].name=HTTPS_PROXY", "--set", "extraEnv[0].value=http://proxy:3128",
        "--set-string", "podLabels.sidecar\\.istio\\.io/inject=false",
        "--set", "deploymentAnnotations.owner=platform",
        "--set", "imagePullSecrets[0].name=regcred",
    )  # fmt: skip
    ctr = container(dep)
    assert operator_settings(ctr).exporter_timeout == 7
    assert env_of(ctr)["HTTPS_PROXY"] == "http://proxy:3128"
    assert dep["spec"]["template"]["metadata"]["labels"]["sidecar.istio.io/inject"] == "false"
    assert dep["metadata"]["annotations"] == {"owner": "platform"}
    assert dep["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "regcred"}]


def test_openshift_can_leave_the_uid_to_the_platform() -> None:
    pod = deployment(
        "--set", "podSecurityContext.runAsUser=null", "--set", "podSecurityContext.runAsGroup=null"
    )
    security = pod["spec"]["template"]["spec"]["securityContext"]
    assert security == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def test_monitors_from_values_default_to_the_release_namespace() -> None:
    objects = render(
        "--set", "monitors[0].name=ses", "--set", "monitors[0].spec.region=us-east-1",
        "--set", "monitors[1].name=eu", "--set", "monitors[1].namespace=mail",
        "--set", "monitors[1].spec.region=eu-west-1", "--set", "monitors[1].spec.window=2h",
        namespace="ops",
    )  # fmt: skip
    monitors = {(m["metadata"]["namespace"], m["metadata"]["name"]): m for m in objects["SesMonitor"]}
    assert sorted(monitors) == [("mail", "eu"), ("ops", "ses")]
    assert load(monitors["mail", "eu"]).spec.window == "2h"
    assert "monitors" not in render()  # none by default


def test_the_chart_ships_the_dashboard_for_grafanas_sidecar() -> None:
    (dashboard,) = [m for m in render(namespace="monitoring")["ConfigMap"] if "sesmonitor.json" in m["data"]]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["namespace"] == "monitoring"
    shipped = json.loads(dashboard["data"]["sesmonitor.json"])
    assert shipped == json.loads((CHART / "dashboards" / "sesmonitor.json").read_text())
    # Into Grafana's namespace, with the folder annotation of the sidecar.
    (moved,) = render(
        "--set", "dashboard.namespace=grafana", "--set", "dashboard.annotations.grafana_folder=SES"
    )["ConfigMap"]
    assert moved["metadata"]["namespace"] == "grafana"
    assert moved["metadata"]["annotations"] == {"grafana_folder": "SES"}


def test_the_dashboard_can_be_turned_off() -> None:
    assert "ConfigMap" not in render("--set", "dashboard.enabled=false")


# --------------------------------------------------------------------------------------------------
# Bad values
# --------------------------------------------------------------------------------------------------

BAD_VALUES = [
    # (values, what the error must say)
    (["--set", "watchNamespace=mail"], "additional properties 'watchNamespace' not allowed"),
    (["--set", "replicaCount=2"], "replicaCount is 2 but peering.enabled is false"),
    (["--set", "replicaCount=two"], "at '/replicaCount': got string, want integer"),
    (["--set", "image.digest=sha256:abc"], "at '/image/digest': 'sha256:abc' does not match pattern"),
    (["--set", "image.repository=ghcr.io/sesmonitor/sesmonitor:0.1.0"],
     'image.repository "ghcr.io/sesmonitor/sesmonitor:0.1.0" carries a tag or digest'),
    (["--set", "exporter.image.repository=example.com/x@" + DIGEST], "exporter.image.repository"),
    (["--set", "image.pullPolicy=Sometimes"],
     "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'"),
    (["--set", "log.format=yaml"], "at '/log/format': value must be one of 'json', 'text'"),
    (["--set", "log.level=trace"], "at '/log/level': value must be one of 'info', 'debug'"),
    (["--set", "podSecurityContext.runAsUser=0"],
     "at '/podSecurityContext/runAsUser': minimum: got 0, want 1"),
    (["--set", "podSecurityContext.runAsNonRoot=false"],
     "at '/podSecurityContext/runAsNonRoot': value must be true"),
    (["--set", "securityContext.allowPrivilegeEscalation=true"],
     "at '/securityContext/allowPrivilegeEscalation': value must be false"),
    (["--set", "securityContext.capabilities.add={NET_ADMIN}"], "at '/securityContext/capabilities/add'"),
    (["--set", "commonLabels.team=true"], "at '/commonLabels/team': got boolean, want string"),
    (["--set", "watchNamespaces={Mail}"], "at '/watchNamespaces/0': 'Mail' does not match pattern"),
    (["--set", "reconcileInterval=soon"], "at '/reconcileInterval': 'soon' does not match pattern"),
    (["--set", "liveness.port=70000"], "at '/liveness/port': maximum: got 70,000, want 65,535"),
    (["--set", "exporter.resources.requests.cpu=lots"], "at '/exporter/resources/requests/cpu'"),
    (["--set", "exporter.urlTemplate=exporter:9435"], "at '/exporter/urlTemplate'"),
    (["--set", "monitors[0].name=ses"], "at '/monitors/0': missing property 'spec'"),
    (["--set", "monitors[0].name=ses", "--set", "monitors[0].spec.window=1h"],
     "at '/monitors/0/spec': missing property 'region'"),
    (["--set", "monitors[0].name=ses", "--set", "monitors[0].metadata.name=ses",
      "--set", "monitors[0].spec.region=eu-west-1"],
     "at '/monitors/0': additional properties 'metadata' not allowed"),
    (["--set", "watchNamespaces={billing}", "--set", "monitors[0].name=ses",
      "--set", "monitors[0].namespace=mail", "--set", "monitors[0].spec.region=eu-west-1"],
     'monitors[0] (ses) is in namespace "mail", which watchNamespaces (billing) does not list'),
    (["--set", "dashboard.enabled=yes"], "at '/dashboard/enabled': got string, want boolean"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD_VALUES, ids=[m[:48] for _, m in BAD_VALUES])
def test_bad_values_are_rejected_with_a_clear_message(args: list[str], message: str) -> None:
    proc = helm("template", "r", str(CHART), *args)
    assert proc.returncode != 0, f"accepted: {args}"
    assert message in proc.stderr, proc.stderr
    # One problem, one line: no template stack traces or YAML parse errors instead of the reason.
    assert "error converting YAML" not in proc.stderr
    assert "nil pointer" not in proc.stderr


# --------------------------------------------------------------------------------------------------
# helm install, and the operator under the installed identity
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def local_operator(
    args: list[str], env: dict[str, str], kubeconfig: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("SESMONITOR_", "KOPF_"))}
    run_env.update(env, KUBECONFIG=str(kubeconfig))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(OPERATOR_BIN), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=run_env,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def operator_metrics(url: str) -> dict[tuple[str, str], float]:
    """{(sample name, result or code label): value summed} of the operator's sesmonitor_operator_* series."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("sesmonitor_operator_"):
                key = (sample.name, sample.labels.get("result") or sample.labels.get("code") or "")
                out[key] = out.get(key, 0.0) + sample.value
    return out


def live(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def test_helm_install_then_the_operator_reconciles_under_the_chart_identity(
    control_plane: Cluster, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    release, release_ns, monitor_ns = "smon", f"smon-helm-{suffix}", f"smon-mail-{suffix}"
    control_plane.kubectl("create", "namespace", monitor_ns)
    chart_crds = [
        doc["metadata"]["name"]
        for path in sorted((CHART / "crds").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    existing = {
        item["metadata"]["name"]
        for item in control_plane.kubectl_json("get", "customresourcedefinitions")["items"]
    }
    port, metrics_port = free_port(), free_port()
    values = tmp_path / "values.yaml"
    values.write_text(
        yaml.safe_dump(
            {
                "image": {"digest": DIGEST},
                "liveness": {"port": port},
                "metrics": {"port": metrics_port},
                "reconcileInterval": "2s",
                # kube-prometheus-stack's selection label, once for every monitor (the monitor sets none).
                "serviceMonitor": {"labels": {"release": "kube-prometheus-stack"}},
                "prometheusRule": {"labels": {"release": "kube-prometheus-stack"}, "annotations": {"a": "1"}},
                "monitors": [{"name": "ses", "namespace": monitor_ns, "spec": {"region": "eu-west-1"}}],
            }
        )
    )
    kubeconfig = str(control_plane.kubeconfig_path)
    started = time.monotonic()
    proc = helm(
        "install", release, str(CHART), "--namespace", release_ns, "--create-namespace",
        "--kubeconfig", kubeconfig, "-f", str(values),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        # NOTES.txt: how to check the install, and the CRD upgrade rule.
        assert f"kubectl -n {release_ns} rollout status deployment/smon-sesmonitor-operator" in proc.stdout
        assert "kubectl apply --server-side --force-conflicts -f" in proc.stdout
        print(f"\nhelm install took {time.monotonic() - started:.1f}s")
        fullname = "smon-sesmonitor-operator"
        # The operator's objects exist, and the CRDs from the chart's crds/ (Helm creates the ones
        # that are missing and leaves existing ones alone).
        sa = control_plane.kubectl_json("get", "serviceaccount", fullname, "-n", release_ns)
        control_plane.kubectl_json("get", "clusterrole", fullname)
        binding = control_plane.kubectl_json("get", "clusterrolebinding", fullname)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": fullname, "namespace": release_ns}]
        dep = control_plane.kubectl_json("get", "deployment", fullname, "-n", release_ns)
        assert dep["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
        for name in chart_crds:
            crd = control_plane.kubectl_json("get", "customresourcedefinition", name, "--show-managed-fields")
            established = [c["status"] for c in crd["status"]["conditions"] if c["type"] == "Established"]
            assert established == ["True"], name
            if name not in existing:
                managers = {m["manager"] for m in crd["metadata"]["managedFields"]}
                assert "helm" in managers, (name, managers)
        monitor = get_json(control_plane, "sesmonitor", "ses", "-n", monitor_ns)
        assert monitor is not None, "the release's SesMonitor"
        assert monitor["metadata"]["annotations"]["meta.helm.sh/release-name"] == release
        # Nobody else reconciles it (no other operator is running): no children yet.
        time.sleep(1.5)
        assert children(control_plane, monitor_ns, "ses") == {}, "another operator reconciled the monitor"

        # The Deployment cannot run without a kubelet: run its container's command here, with its
        # arguments and environment, as the ServiceAccount's user.
        user = f"system:serviceaccount:{release_ns}:{fullname}"
        identity = control_plane.user_kubeconfig(
            user, ("system:serviceaccounts", f"system:serviceaccounts:{release_ns}", "system:authenticated")
        )
        control_plane.wait_allowed(
            identity, *CAN_WATCH_MONITORS, timeout=20, what="the release's ClusterRoleBinding to take effect"
        )
        ctr = container(dep)
        env: dict[str, str] = {}
        for item in ctr["env"]:
            if "value" in item:
                env[item["name"]] = item["value"]
            elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
                env[item["name"]] = f"{fullname}-test-pod"
        since = 0
        with contextlib.suppress(AuditUnavailableError):
            since = control_plane.audit_offset()
        log = tmp_path / "operator.log"
        liveness = f"http://127.0.0.1:{port}{ctr['livenessProbe']['httpGet']['path']}"
        with local_operator(ctr["args"], env, identity, log) as operator:
            control_plane.wait_for(
                lambda: live(liveness) or operator.poll() is not None,
                timeout=60,
                what="the operator's liveness",
            )
            assert operator.poll() is None, log.read_text()

            def reconciled() -> bool:
                return sorted(children(control_plane, monitor_ns, "ses")) == sorted(CHILD_KINDS)

            try:
                control_plane.wait_for(reconciled, timeout=60, what="the monitor's children")
                control_plane.wait_for(
                    lambda: bool(
                        condition(get_json(control_plane, "sesmonitor", "ses", "-n", monitor_ns), "Ready")
                    ),
                    timeout=30,
                    what="the monitor's Ready condition",
                )
            except Exception:
                print(log.read_text()[-5000:])
                raise
            # Its own /metrics, as the chart's command line serves it: the passes counted, and no
            # API call of theirs refused (the metrics asked for no rights of their own).
            samples = operator_metrics(f"http://127.0.0.1:{metrics_port}/metrics")
            assert samples.get(("sesmonitor_operator_reconciles_total", "success"), 0) > 0, samples
            assert not [key for key in samples if key[0].startswith("sesmonitor_operator_kubernetes_api")]
        found = children(control_plane, monitor_ns, "ses")
        (exporter,) = found["deployment"]["spec"]["template"]["spec"]["containers"]
        assert exporter["image"] == f"ghcr.io/sesmonitor/sesmonitor@{DIGEST}"  # the chart's image, by digest
        for kind in ("servicemonitor", "prometheusrule"):
            assert found[kind]["metadata"]["labels"]["release"] == "kube-prometheus-stack", kind
        assert found["prometheusrule"]["metadata"]["annotations"]["a"] == "1"
        assert "release" not in found["deployment"]["metadata"]["labels"]
        status = get_json(control_plane, "sesmonitor", "ses", "-n", monitor_ns)
        assert status is not None
        assert status["status"]["observedGeneration"] == status["metadata"]["generation"]
        with contextlib.suppress(AuditUnavailableError):
            events = control_plane.audit_events(since=since, user=user)
            # The children were written (server-side apply: a patch) by this identity.
            written = {
                e["objectRef"]["resource"]
                for e in events
                if e["verb"] in {"create", "patch"} and e["objectRef"].get("namespace") == monitor_ns
            }
            assert {"deployments", "services", "configmaps", "servicemonitors"} <= written, written
            denied = [e for e in events if (e.get("responseStatus") or {}).get("code") in (401, 403)]
            assert denied == [], [f"{e['verb']} {e['requestURI']}" for e in denied]
        # The upgrade as the chart's README says it: CRDs first (server-side, taking the fields over
        # from Helm), then helm upgrade.
        (crd_command,) = [
            line.split()
            for line in (CHART / "README.md").read_text().splitlines()
            if line.startswith("kubectl apply --server-side") and "-f deploy/helm/" in line
        ]
        applied = control_plane.kubectl(*crd_command[1:-1], str(ROOT / crd_command[-1]))
        assert applied.stdout.count("serverside-applied") == len(chart_crds)
        proc = helm(
            "upgrade", release, str(CHART), "--namespace", release_ns, "--kubeconfig", kubeconfig,
            "--reuse-values", "--set", "log.level=debug",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        upgraded = control_plane.kubectl_json("get", "deployment", fullname, "-n", release_ns)
        assert "--verbose" in container(upgraded)["args"]
    finally:
        helm("uninstall", release, "--namespace", release_ns, "--kubeconfig", kubeconfig)
        for ns in (monitor_ns, release_ns):
            control_plane.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found")
