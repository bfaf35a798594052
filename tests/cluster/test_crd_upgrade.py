"""The CRD upgrade docs/install.md "Upgrading" documents, from 0.1.0's CRD to today's, on a control
plane of its own (a cluster that has only ever seen 0.1.0):

- ``helm install`` of a chart carrying 0.1.0's CRD (tests/cluster/fixtures/sesmonitors-crd-0.1.0.yaml,
  from git history) creates it, as a 0.1.0 install did; 0.1.0's production example is stored under it,
  and a field 0.1.0 did not know is refused;
- ``helm upgrade`` alone leaves that CRD as it was (Helm never upgrades crds/), and a server-side
  apply without ``--force-conflicts`` stops on the fields Helm owns;
- install.md's commands, word for word: ``kubectl apply --server-side --force-conflicts`` of the
  chart's crds/, then ``helm upgrade``;
- the stored object is the same object (uid, spec, no write on the way), read through today's schema
  (its new defaults appear), valid as a new object today, and today's validation applies to writes.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from operator_helpers import CHART, ROOT

from support.controlplane import ControlPlane
from support.tools import helm_path, tools_dir

FIXTURES = Path(__file__).parent / "fixtures"
OLD_CRD = FIXTURES / "sesmonitors-crd-0.1.0.yaml"
OLD_MONITOR = FIXTURES / "sesmonitor-0.1.0-production.yaml"
CRD_NAME = "sesmonitors.sesmonitor.io"
RELEASE, RELEASE_NS = "sesmonitor-operator", "sesmonitor-system"


def upgrading_commands() -> list[list[str]]:
    """The shell block under docs/install.md's "## Upgrading", one command per line."""
    section = (ROOT / "docs" / "install.md").read_text().split("\n## Upgrading\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[ControlPlane]:
    """A new API server: the SesMonitor CRD only ever comes from the releases below."""
    plane = ControlPlane(tools_dir() / "bin", start_controller_manager=False)
    try:
        yield plane
    finally:
        plane.stop()


def crd_schema(cluster: ControlPlane) -> dict[str, Any]:
    crd = cluster.kubectl_json("get", "customresourcedefinition", CRD_NAME)
    (version,) = crd["spec"]["versions"]
    spec: dict[str, Any] = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return spec


def monitor_with(spec: dict[str, Any], name: str = "prod") -> str:
    monitor = yaml.safe_load(OLD_MONITOR.read_text())
    monitor["metadata"]["name"] = name
    monitor["spec"].update(spec)
    return yaml.safe_dump(monitor)


def test_crd_upgrade_from_0_1_0_keeps_the_stored_monitor_and_applies_todays_validation(
    cluster: ControlPlane, tmp_path: Path
) -> None:
    helm = str(helm_path())
    old_chart = tmp_path / "sesmonitor-operator"
    shutil.copytree(CHART, old_chart)
    shutil.copy(OLD_CRD, old_chart / "crds" / "sesmonitor.io_sesmonitors.yaml")
    install = [helm, "install", RELEASE, str(old_chart), "-n", RELEASE_NS, "--create-namespace"]
    proc = cluster.run_with_kubeconfig(install)
    assert proc.returncode == 0, proc.stderr
    assert "disabled" not in crd_schema(cluster)["properties"]["alerting"]["properties"]

    cluster.kubectl("create", "namespace", "mail")
    cluster.kubectl("apply", "-n", "mail", "-f", str(OLD_MONITOR))
    before = cluster.kubectl_json("get", "sesmonitor", "prod", "-n", "mail")
    assert "protection" not in before["spec"]  # 0.1.0 had no spec.protection (nor its default)
    # kubectl's strict field validation: 0.1.0 refuses what it does not know (today's alerting.disabled).
    newer = monitor_with({"alerting": {**before["spec"]["alerting"], "disabled": ["SESBounceRateRising"]}})
    refused = cluster.kubectl("apply", "-n", "mail", "-f", "-", input=newer, check=False)
    assert refused.returncode != 0
    assert 'unknown field "spec.alerting.disabled"' in refused.stderr, refused.stderr

    # helm upgrade without the CRD step: the release moves on, the CRD stays 0.1.0's.
    upgrade = [helm, "upgrade", RELEASE, str(CHART), "-n", RELEASE_NS]
    proc = cluster.run_with_kubeconfig(upgrade)
    assert proc.returncode == 0, proc.stderr
    assert "disabled" not in crd_schema(cluster)["properties"]["alerting"]["properties"]

    # Helm owns the CRD's fields: a server-side apply without --force-conflicts stops on them.
    unforced = cluster.kubectl(
        "apply", "--server-side", "--dry-run=server", "-f", str(CHART / "crds"), check=False
    )
    assert unforced.returncode != 0
    assert 'conflict with "helm"' in unforced.stderr, unforced.stderr

    # docs/install.md's commands, word for word, with the tests' kubectl and helm.
    commands = upgrading_commands()
    assert [c[:2] for c in commands] == [["kubectl", "apply"], ["helm", "upgrade"]], commands
    tools = {"kubectl": str(cluster.kubectl_bin), "helm": helm}
    for command in commands:
        proc = cluster.run_with_kubeconfig([tools[command[0]], *command[1:]], cwd=ROOT)
        assert proc.returncode == 0, f"{shlex.join(command)}:\n{proc.stdout}\n{proc.stderr}"
        if command[0] == "kubectl":
            assert (
                f"customresourcedefinition.apiextensions.k8s.io/{CRD_NAME} serverside-applied" in proc.stdout
            )
    cluster.kubectl("wait", "--for=condition=Established", f"customresourcedefinition/{CRD_NAME}")
    today = yaml.safe_load((ROOT / "crds" / "sesmonitor.io_sesmonitors.yaml").read_text())
    assert (
        crd_schema(cluster) == today["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    )
    crd = cluster.kubectl_json("get", "customresourcedefinition", CRD_NAME)
    assert crd["status"]["storedVersions"] == ["v1alpha1"]

    # The stored monitor: the same object, unwritten, its 0.1.0 spec intact, read through today's
    # schema (the API server applies today's defaults on read: spec.protection).
    after = cluster.kubectl_json("get", "sesmonitor", "prod", "-n", "mail")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert {k: v for k, v in after["spec"].items() if k != "protection"} == before["spec"]
    assert after["spec"]["protection"] == {"mode": "Off", "holdFor": "10m", "cooldown": "1h"}
    # ... and valid under today's CRD as a new object, not only through validation ratcheting.
    again = monitor_with({}, name="prod-again")
    cluster.kubectl("create", "-n", "mail", "--dry-run=server", "-f", "-", input=again)

    # Today's validation applies: what 0.1.0 refused is stored, a misspelt alert name and an
    # Enforce protection without sets are refused with today's messages.
    cluster.kubectl("apply", "-n", "mail", "-f", "-", input=newer)
    stored = cluster.kubectl_json("get", "sesmonitor", "prod", "-n", "mail")
    assert stored["spec"]["alerting"]["disabled"] == ["SESBounceRateRising"]
    assert stored["metadata"]["uid"] == before["metadata"]["uid"]
    misspelt = monitor_with({"alerting": {**before["spec"]["alerting"], "disabled": ["SESBounceRateRisen"]}})
    refused = cluster.kubectl("apply", "-n", "mail", "-f", "-", input=misspelt, check=False)
    assert refused.returncode != 0
    assert 'spec.alerting.disabled[0]: Unsupported value: "SESBounceRateRisen"' in refused.stderr, (
        refused.stderr
    )
    enforce = monitor_with({"protection": {"mode": "Enforce"}})
    refused = cluster.kubectl("apply", "-n", "mail", "-f", "-", input=enforce, check=False)
    assert refused.returncode != 0
    assert "spec.protection.configurationSets" in refused.stderr, refused.stderr
