"""Every file in examples/ is accepted by a real API server (``kubectl apply --dry-run=server``, so
the CRD's OpenAPI schema, its CEL rules and its defaults all apply) and by the model the operator
reads it with; and the dry run is a real check: a broken copy is refused with the CRD's message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from operator_helpers import ROOT

from sesmonitor.api import load
from support.controlplane import Cluster

pytest_plugins = ["fixtures_operator"]

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def example_namespaces(control_plane: Cluster, sesmonitor_crd: dict[str, Any]) -> Iterator[set[str]]:
    """The namespaces the examples name, created when missing (and deleted afterwards)."""
    wanted = {doc["metadata"].get("namespace", "default") for path in EXAMPLES for doc in documents(path)}
    created = []
    for namespace in sorted(wanted):
        if control_plane.kubectl("get", "namespace", namespace, check=False).returncode != 0:
            control_plane.kubectl("create", "namespace", namespace)
            created.append(namespace)
    yield wanted
    for namespace in created:
        control_plane.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found")


def test_the_examples_are_there() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"basic.yaml", "production.yaml", "static-credentials.yaml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_accepted_by_the_api_server(
    control_plane: Cluster, example_namespaces: set[str], path: Path
) -> None:
    docs = documents(path)
    assert docs, f"{path.name} is empty"
    for doc in docs:
        if doc.get("kind") == "SesMonitor":
            load(doc)  # the operator's model agrees with the API server
    proc = control_plane.kubectl("apply", "--dry-run=server", "-f", str(path), "-o", "yaml", check=False)
    assert proc.returncode == 0, f"{path.name}:\n{proc.stderr}"
    accepted = yaml.safe_load(proc.stdout)
    items = accepted.get("items", [accepted]) if accepted.get("kind") == "List" else [accepted]
    assert len(items) == len(docs)
    for item in items:
        if item["kind"] == "SesMonitor":
            # The CRD's defaults were applied: the server knows the whole spec.
            assert item["spec"]["window"]
            assert item["spec"]["thresholds"]["bounceRate"]["critical"]
    # Nothing was created.
    for doc in docs:
        namespace = doc["metadata"].get("namespace", "default")
        got = control_plane.kubectl(
            "get", doc["kind"].lower(), doc["metadata"]["name"], "-n", namespace, check=False
        )
        assert got.returncode != 0


def test_the_minimal_example_gets_aws_review_and_pause_levels(
    control_plane: Cluster, example_namespaces: set[str]
) -> None:
    proc = control_plane.kubectl(
        "apply", "--dry-run=server", "-f", str(ROOT / "examples" / "basic.yaml"), "-o", "yaml"
    )
    spec = yaml.safe_load(proc.stdout)["spec"]
    assert spec["window"] == "1h"
    assert spec["thresholds"]["bounceRate"] == {"warning": "5%", "critical": "10%"}
    assert spec["thresholds"]["complaintRate"] == {"warning": "0.1%", "critical": "0.5%"}


def test_the_dry_run_refuses_a_broken_example(
    control_plane: Cluster, example_namespaces: set[str], tmp_path: Path
) -> None:
    (doc,) = documents(ROOT / "examples" / "production.yaml")
    doc["spec"]["thresholds"]["bounceRate"] = {"warning": "8%", "critical": "4%"}
    doc["spec"]["region"] = "mars-1"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc))
    proc = control_plane.kubectl("apply", "--dry-run=server", "-f", str(broken), check=False)
    assert proc.returncode != 0
    assert "spec.region" in proc.stderr
    assert "warning must be lower than critical" in proc.stderr
