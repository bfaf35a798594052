"""The path a user takes, on the real node: `helm install` as README says, the operator Pod under its
ServiceAccount, a SesMonitor, the exporter Pod from our image reading (simulated) SES, and
`kubectl get sesmon` showing the rates the operator read through the exporter's Service DNS name.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.kube_cluster import NodeCluster
from support.live_ses import SesAccountProcess
from support.tools import crds_dir, tools_dir

ROOT = Path(__file__).resolve().parents[2]
RELEASE_NAMESPACE = "sesmonitor-system"
PROMETHEUS_OPERATOR_CRDS = (
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
)


def readme_helm_install() -> list[str]:
    """README's install command, word for word."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("helm install "):
            return shlex.split(line)
    raise AssertionError("README.md has no `helm install` line")


def wait_for(probe: Any, timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll ``probe()`` (a value, or None/False with ``probe.last`` telling why) until truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def pods(cluster: NodeCluster, namespace: str, selector: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.kubectl_json("-n", namespace, "get", "pods", "-l", selector)[
        "items"
    ]
    return items


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", [])
    )


@pytest.fixture(scope="module")
def installed(kube_cluster: NodeCluster) -> Iterator[NodeCluster]:
    kube_cluster.apply_crds([crds_dir() / name for name in PROMETHEUS_OPERATOR_CRDS])
    helm = [str(tools_dir() / "bin" / "helm"), *readme_helm_install()[1:]]
    proc = kube_cluster.run_with_kubeconfig(helm, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    kube_cluster.kubectl(
        "-n", RELEASE_NAMESPACE, "rollout", "status", "deployment/sesmonitor-operator", "--timeout=180s",
        timeout=200,
    )  # fmt: skip
    yield kube_cluster
    kube_cluster.run_with_kubeconfig(
        [
            str(tools_dir() / "bin" / "helm"),
            "uninstall",
            "sesmonitor-operator",
            "-n",
            RELEASE_NAMESPACE,
            "--wait",
        ]
    )


@pytest.fixture(scope="module")
def ses(kube_cluster: NodeCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SesAccountProcess]:
    account = SesAccountProcess(
        "seed", tmp_path_factory.mktemp("ses"), name="ses-seed", host=kube_cluster.net.host_ip
    ).start()
    yield account
    account.stop()


def test_operator_pod_runs_under_its_service_account(installed: NodeCluster) -> None:
    (pod,) = pods(installed, RELEASE_NAMESPACE, "app.kubernetes.io/name=sesmonitor-operator")
    assert pod["spec"]["serviceAccountName"] == "sesmonitor-operator"
    assert ready(pod), pod["status"]
    (status,) = pod["status"]["containerStatuses"]
    assert status["restartCount"] == 0, status
    assert pod["spec"]["nodeName"] == "sesmonitor-node"


def test_exporter_pod_serves_and_status_shows_rates(installed: NodeCluster, ses: SesAccountProcess) -> None:
    ns = "mail"
    installed.kubectl("create", "namespace", ns)
    installed.kubectl(
        "-n", ns, "create", "secret", "generic", "ses-monitor-aws",
        "--from-literal=AWS_ACCESS_KEY_ID=AKIDTEST", "--from-literal=AWS_SECRET_ACCESS_KEY=test",
    )  # fmt: skip
    installed.apply(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "ses", "namespace": ns},
            "spec": {
                "region": "us-east-1",
                "aws": {"endpointURL": ses.endpoint_url, "credentialsSecretRef": {"name": "ses-monitor-aws"}},
            },
        }
    )

    def exporter_ready() -> dict[str, Any] | None:
        found = pods(installed, ns, "app.kubernetes.io/component=exporter")
        return found[0] if len(found) == 1 and ready(found[0]) else None

    pod = wait_for(exporter_ready, 180, "the exporter pod Ready")
    security = pod["spec"]["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert pod["spec"]["containers"][0]["image"].startswith("ghcr.io/sesmonitor/sesmonitor:")

    def bounce_column() -> str | None:
        out = installed.kubectl("-n", ns, "get", "sesmon", "ses").stdout
        match = re.search(r"\s(\d+\.\d+)%\s", out)
        return out if match and float(match.group(1)) > 10 else None

    table = wait_for(bounce_column, 240, "kubectl get sesmon to show the seed's bounce rate")
    assert "us-east-1" in table
