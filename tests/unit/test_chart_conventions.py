"""The chart as chart users and Artifact Hub expect it: Chart.yaml's metadata, and a PodDisruptionBudget
and topology spread for the operator only when it runs more than one replica (``helm template`` with
the helm binary the tests build, as tests/cluster/test_helm_chart.py calls it)."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor.api import load
from sesmonitor.operator.settings import CHILD_METADATA_ENV, from_environment
from sesmonitor.render import render_all
from support.tools import helm_path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"
METADATA = yaml.safe_load((CHART / "Chart.yaml").read_text())
REPOSITORY = "https://github.com/sesmonitor/sesmonitor"
# Artifact Hub's kinds of change (https://artifacthub.io/docs/topics/annotations/helm/).
CHANGE_KINDS = {"added", "changed", "deprecated", "removed", "fixed", "security"}
HA = ("--set", "replicaCount=2", "--set", "peering.enabled=true")


def annotation(name: str) -> Any:
    """An ``artifacthub.io/`` annotation, which holds YAML in a string when it is a list."""
    return yaml.safe_load(METADATA["annotations"][f"artifacthub.io/{name}"])


# --------------------------------------------------------------------------------------------------
# Chart.yaml
# --------------------------------------------------------------------------------------------------


def test_kube_version_is_the_minimum_the_docs_state() -> None:
    assert METADATA["kubeVersion"] == ">=1.28.0-0"  # -0: EKS's and GKE's v1.30.4-eks-... too
    for doc in ("docs/install.md", "deploy/helm/sesmonitor-operator/README.md"):
        assert "Kubernetes 1.28 or newer" in (ROOT / doc).read_text(), doc


def test_home_sources_and_maintainers_point_at_the_project() -> None:
    assert METADATA["home"] == REPOSITORY
    assert METADATA["sources"] == [REPOSITORY]
    assert METADATA["maintainers"], "Artifact Hub lists the maintainers"
    for maintainer in METADATA["maintainers"]:
        assert maintainer["name"]
        assert maintainer["url"].startswith("https://github.com/")
    # No icon exists in the repository; one that pointed nowhere would show broken on Artifact Hub.
    assert "icon" not in METADATA


def test_artifacthub_license_is_the_packages() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert METADATA["annotations"]["artifacthub.io/license"] == pyproject["project"]["license"]["text"]
    assert (ROOT / "LICENSE").read_text().split()[:3] == ["Apache", "License", "Version"]


def test_artifacthub_changes_are_well_formed() -> None:
    changes = annotation("changes")
    assert isinstance(changes, list)
    assert changes
    for change in changes:
        assert set(change) == {"kind", "description"}, change
        assert change["kind"] in CHANGE_KINDS, change
        assert change["description"].strip(), change


def test_artifacthub_links_images_and_crds_name_this_release() -> None:
    version = METADATA["appVersion"]
    links = annotation("links")
    assert {link["name"] for link in links} >= {"Documentation", "Changelog"}
    for link in links:
        assert link["url"].startswith(f"{REPOSITORY}/"), link
        assert f"/v{version}/" in link["url"], link
        path = re.sub(rf"^{re.escape(REPOSITORY)}/(?:tree|blob)/v[^/]+/", "", link["url"])
        assert (ROOT / path).exists(), f"{link['url']}: no {path} in the repository"
    (image,) = annotation("images")
    assert image["image"] == f"ghcr.io/sesmonitor/sesmonitor:{version}"
    crd = yaml.safe_load((ROOT / "crds" / "sesmonitor.io_sesmonitors.yaml").read_text())
    versions = [v["name"] for v in crd["spec"]["versions"] if v["served"]]
    assert [(c["kind"], c["version"], c["name"]) for c in annotation("crds")] == [
        (crd["spec"]["names"]["kind"], version_, crd["metadata"]["name"]) for version_ in versions
    ]


# --------------------------------------------------------------------------------------------------
# helm template: availability of the operator
# --------------------------------------------------------------------------------------------------


def helm_template(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBECONFIG"))}
    proc = subprocess.run(
        [str(helm_path()), "template", "r", str(CHART), "--namespace", "ops", *args],
        capture_output=True, text=True, check=False, timeout=60, env=env,
    )  # fmt: skip
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def rendered(*args: str) -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in yaml.safe_load_all(helm_template(*args).stdout):
        if doc:
            by_kind.setdefault(doc["kind"], []).append(doc)
    return by_kind


def pod_spec(objects: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    (deployment,) = objects["Deployment"]
    return dict(deployment["spec"]["template"]["spec"])


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def test_one_replica_has_no_budget_and_no_spread() -> None:
    """A budget for one standalone replica blocks every drain (or allows all): none is rendered."""
    objects = rendered()
    assert "PodDisruptionBudget" not in objects
    assert "topologySpreadConstraints" not in pod_spec(objects)


def test_two_replicas_get_a_budget_that_keeps_one_operator_up() -> None:
    objects = rendered(*HA)
    (deployment,) = objects["Deployment"]
    (budget,) = objects["PodDisruptionBudget"]
    assert budget["apiVersion"] == "policy/v1"
    assert budget["metadata"]["namespace"] == "ops"
    assert budget["spec"]["minAvailable"] == 1
    assert "maxUnavailable" not in budget["spec"]
    # It selects the operator's pods, and exactly the Deployment's.
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]
    assert selects(budget["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])


def test_the_budget_takes_max_unavailable_and_can_be_turned_off() -> None:
    (budget,) = rendered(*HA, "--set", "podDisruptionBudget.maxUnavailable=1")["PodDisruptionBudget"]
    assert budget["spec"] == {"maxUnavailable": 1, "selector": budget["spec"]["selector"]}
    assert "PodDisruptionBudget" not in rendered(*HA, "--set", "podDisruptionBudget.enabled=false")


def test_two_replicas_spread_over_nodes_and_zones_without_blocking_a_small_cluster() -> None:
    objects = rendered(*HA)
    (deployment,) = objects["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    constraints = pod_spec(objects)["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in constraints] == [
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    ]
    for constraint in constraints:
        assert constraint["maxSkew"] == 1
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"  # one node still runs both
        assert selects(constraint["labelSelector"], pod_labels)
        assert constraint["labelSelector"] == deployment["spec"]["selector"]


def test_a_constraint_of_ones_own_keeps_its_selector() -> None:
    own = [
        "--set", "topologySpreadConstraints[0].maxSkew=2",
        "--set", "topologySpreadConstraints[0].topologyKey=zone",
        "--set", "topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule",
        "--set", "topologySpreadConstraints[0].labelSelector.matchLabels.team=mail",
    ]  # fmt: skip
    (constraint,) = pod_spec(rendered(*HA, *own))["topologySpreadConstraints"]
    assert constraint == {
        "maxSkew": 2,
        "topologyKey": "zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"team": "mail"}},
    }
    assert "topologySpreadConstraints" not in pod_spec(rendered(*own))  # still one replica


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "podDisruptionBudget.minAvailable=-1"], "minAvailable"),
        (["--set", "topologySpreadConstraints[0].maxSkew=1"], "topologyKey"),
    ],
)
def test_bad_availability_values_are_refused(args: list[str], message: str) -> None:
    proc = helm_template(*args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


def test_kubernetes_older_than_the_minimum_is_refused() -> None:
    proc = helm_template("--kube-version", "1.27.9", check=False)
    assert proc.returncode != 0
    assert "kubeVersion: >=1.28.0-0" in proc.stderr, proc.stderr
    assert helm_template("--kube-version", "1.28.0").returncode == 0


# --------------------------------------------------------------------------------------------------
# helm template: serviceMonitor.* and prometheusRule.* reach every monitor's children
# --------------------------------------------------------------------------------------------------


def operator_environment(objects: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    (ctr,) = pod_spec(objects)["containers"]
    return {e["name"]: e["value"] for e in ctr.get("env", []) if "value" in e}


def test_chart_wide_selection_labels_reach_every_monitors_children() -> None:
    """`release` set once in values, as kube-prometheus-stack users do, lands on the ServiceMonitor and
    the PrometheusRule the operator renders from the Deployment's environment."""
    objects = rendered(
        "--set", "serviceMonitor.labels.release=kps",
        "--set", "serviceMonitor.annotations.owner=platform",
        "--set", "prometheusRule.labels.release=kps",
        "--set", "prometheusRule.labels.role=alert-rules",
    )  # fmt: skip
    defaults = from_environment(operator_environment(objects)).render_defaults
    monitor = load(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "prod", "namespace": "mail"},
            "spec": {"region": "eu-west-1"},
        }
    )
    children = {obj["kind"]: obj["metadata"] for obj in render_all(monitor, defaults)}
    assert children["ServiceMonitor"]["labels"]["release"] == "kps"
    assert children["ServiceMonitor"]["annotations"] == {"owner": "platform"}
    assert children["PrometheusRule"]["labels"]["release"] == "kps"
    assert children["PrometheusRule"]["labels"]["role"] == "alert-rules"
    assert "annotations" not in children["PrometheusRule"]


def test_unset_child_metadata_adds_no_environment() -> None:
    assert set(CHILD_METADATA_ENV) & set(operator_environment(rendered())) == set()
    assert len(CHILD_METADATA_ENV) == 4


def test_child_metadata_values_are_label_shaped() -> None:
    proc = helm_template("--set", "serviceMonitor.labels.bad/key/x=1", check=False)
    assert proc.returncode != 0
    assert "bad/key/x" in proc.stderr, proc.stderr
