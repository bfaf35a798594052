"""The chart with Helm 3 (tests/tools/helm.sh v3: HELM3_VERSION), which many users still run while the
tests and `make chart` use Helm 4:

- ``helm lint --strict`` passes and ``helm template`` renders the very objects Helm 4 renders (default
  and production values);
- on the real control plane, Helm 3's ``helm install`` creates the CRDs, the operator's objects and the
  release's SesMonitor, ``helm upgrade --reuse-values`` changes the Deployment, ``helm uninstall``
  removes the release and leaves the CRDs.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from typing import Any

import pytest
import yaml
from operator_helpers import CHART, ROOT, get_json

from support.controlplane import Cluster
from support.tools import helm3_path, helm_path

PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
DIGEST = "sha256:" + "cd" * 32


def run(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBECONFIG"))}
    return subprocess.run([helm, *args], capture_output=True, text=True, check=False, timeout=120, env=env)


def rendered(helm: str, *args: str) -> list[dict[str, Any]]:
    proc = run(helm, "template", "r", str(CHART), "--namespace", "ops", *args)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def test_helm3_is_the_pinned_helm3() -> None:
    pinned = re.search(r"^HELM3_VERSION=(v3\.\S+)$", (ROOT / "tests" / "tools" / "helm.sh").read_text(), re.M)
    assert pinned, "tests/tools/helm.sh has no HELM3_VERSION=v3..."
    proc = run(str(helm3_path()), "version", "--template", "{{ .Version }}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == pinned[1]


@pytest.mark.parametrize("values", [[], ["-f", str(PRODUCTION_VALUES)]], ids=["defaults", "production"])
def test_helm3_lints_and_renders_what_helm4_renders(values: list[str]) -> None:
    lint = run(str(helm3_path()), "lint", "--strict", str(CHART), *values)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "[WARNING]" not in lint.stdout, lint.stdout
    assert rendered(str(helm3_path()), *values) == rendered(str(helm_path()), *values)


def test_helm3_installs_upgrades_and_uninstalls_the_chart(control_plane: Cluster) -> None:
    helm = str(helm3_path())
    suffix = uuid.uuid4().hex[:6]
    release, release_ns, monitor_ns = "smon3", f"smon-helm3-{suffix}", f"smon-helm3-mail-{suffix}"
    control_plane.kubectl("create", "namespace", monitor_ns)
    target = ["--namespace", release_ns, "--kubeconfig", str(control_plane.kubeconfig_path)]
    fullname = f"{release}-sesmonitor-operator"
    try:
        proc = run(
            helm, "install", release, str(CHART), *target, "--create-namespace",
            "--set", f"image.digest={DIGEST}",
            "--set", "serviceMonitor.labels.release=kube-prometheus-stack",
            "--set", "monitors[0].name=ses", "--set", f"monitors[0].namespace={monitor_ns}",
            "--set", "monitors[0].spec.region=eu-west-1",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "STATUS: deployed" in proc.stdout
        for name in ("sesmonitors.sesmonitor.io", "clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"):
            crd = control_plane.kubectl_json("get", "customresourcedefinition", name)
            assert [c["status"] for c in crd["status"]["conditions"] if c["type"] == "Established"] == [
                "True"
            ]
        dep = control_plane.kubectl_json("get", "deployment", fullname, "-n", release_ns)
        (ctr,) = dep["spec"]["template"]["spec"]["containers"]
        assert ctr["image"] == f"ghcr.io/sesmonitor/sesmonitor@{DIGEST}"
        assert "--verbose" not in ctr["args"]
        binding = control_plane.kubectl_json("get", "clusterrolebinding", fullname)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": fullname, "namespace": release_ns}]
        monitor = get_json(control_plane, "sesmonitor", "ses", "-n", monitor_ns)
        assert monitor is not None, "the release's SesMonitor"
        assert monitor["metadata"]["annotations"]["meta.helm.sh/release-name"] == release
        assert monitor["spec"]["region"] == "eu-west-1"

        proc = run(
            helm, "upgrade", release, str(CHART), *target, "--reuse-values", "--set", "log.level=debug"
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        dep = control_plane.kubectl_json("get", "deployment", fullname, "-n", release_ns)
        assert "--verbose" in dep["spec"]["template"]["spec"]["containers"][0]["args"]
        assert dep["spec"]["template"]["spec"]["containers"][0]["image"].endswith(DIGEST)  # values reused

        proc = run(helm, "uninstall", release, *target)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert get_json(control_plane, "deployment", fullname, "-n", release_ns) is None
        assert get_json(control_plane, "customresourcedefinition", "sesmonitors.sesmonitor.io") is not None
    finally:
        run(helm, "uninstall", release, *target, "--ignore-not-found")
        for ns in (monitor_ns, release_ns):
            control_plane.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found")
