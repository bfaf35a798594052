"""Manifests for kubectl and GitOps: deploy/kustomize/ and deploy/gitops/.

- the Kustomize base is exactly what ``make manifests`` renders from the chart today, builds with
  kubectl's kustomize, and applies (server-side dry run) into a namespace that enforces the
  ``restricted`` Pod Security level, also under another namespace through an overlay;
- the example overlay pins one image for the operator and its exporters, in arguments the operator's
  CLI parses;
- the Argo CD Application and the Flux OCIRepository + HelmRelease are well formed, their chart
  values pass the chart's schema, and the API server accepts them (server-side dry run) against the
  real Argo CD and Flux CRDs, taken from those projects' Go modules through the Go module proxy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from operator_helpers import CHART, ROOT, helm_template

from sesmonitor.cli.operator_main import build_parser, settings_from
from sesmonitor.operator.settings import from_environment
from support.controlplane import Cluster
from support.tools import bin_dir, helm_path, locked, tools_dir

BASE = ROOT / "deploy" / "kustomize" / "base"
OVERLAY = ROOT / "deploy" / "kustomize" / "overlays" / "example"
GITOPS = ROOT / "deploy" / "gitops"
ARGO_APPLICATION = GITOPS / "argocd" / "application.yaml"
FLUX_SOURCE = GITOPS / "flux" / "ocirepository.yaml"
FLUX_RELEASE = GITOPS / "flux" / "helmrelease.yaml"

# CRDs of the GitOps tools, from their Go modules (module@version: files in the module). Versions:
# the newest whose go.mod the Go toolchain here (1.26) can extract; for helm-controller the module
# proxy serves only some versions of the root module (v1.6.1 is served, v1.7.x answers 403), and its
# api/ module carries no CRD YAML. helm-controller v1.6.1 builds against source-controller api v1.9.
GITOPS_CRD_MODULES = {
    "github.com/argoproj/argo-cd/v3@v3.5.7": ["manifests/crds/application-crd.yaml"],
    "github.com/fluxcd/helm-controller@v1.6.1": ["config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml"],
    "github.com/fluxcd/source-controller@v1.9.6": [
        "config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml"
    ],
}


def manifests_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sesmonitor_manifests", ROOT / "scripts" / "manifests.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kubectl_bin() -> str:
    return str(bin_dir() / "kubectl")


def kustomize_build(path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [kubectl_bin(), "kustomize", str(path)], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def key(doc: dict[str, Any]) -> tuple[str, str, str]:
    return (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])


def operator_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def operator_settings(container: dict[str, Any]) -> Any:
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return settings_from(build_parser().parse_args(container["args"]), from_environment(env))


def server_dry_run(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(
        "apply", "--server-side", "--dry-run=server", "--force-conflicts", "--field-manager=gitops-test",
        *args, check=False,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Kustomize
# --------------------------------------------------------------------------------------------------


def test_the_kustomize_base_is_what_the_chart_renders_today() -> None:
    script = manifests_script()
    wanted = script.render(helm_path())
    current = script.on_disk()
    stale = sorted(n for n in wanted.keys() | current.keys() if wanted.get(n) != current.get(n))
    assert stale == [], f"deploy/kustomize/base is stale ({', '.join(stale)}): run `make manifests`"


def test_the_kustomize_base_builds_into_the_chart_objects() -> None:
    built = kustomize_build(BASE)
    rendered = helm_template("--include-crds")
    namespaces = [d for d in built if d["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == ["sesmonitor-system"]
    assert namespaces[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    objects = {key(d): d for d in built if d["kind"] != "Namespace"}
    assert sorted(objects) == sorted(key(d) for d in rendered)
    for doc in rendered:
        assert objects[key(doc)] == doc, key(doc)


def test_the_kustomize_base_applies_under_restricted_pod_security(
    control_plane: Cluster, tmp_path: Path
) -> None:
    """An overlay moves everything to a fresh namespace, labelled to warn on any pod spec that the
    restricted Pod Security level would refuse; the API server accepts every object, silently."""
    name = f"smon-kust-{uuid.uuid4().hex[:6]}"
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": name,
            "resources": [os.path.relpath(BASE, overlay)],
        })
    )  # fmt: skip
    built = kustomize_build(overlay)
    (binding,) = [d for d in built if d["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"][0]["namespace"] == name
    labels = {
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/enforce": "restricted",
    }
    with control_plane.temporary_namespace(name, labels):
        proc = server_dry_run(control_plane, "-k", str(overlay))
    assert proc.returncode == 0, proc.stderr
    assert "PodSecurity" not in proc.stderr, proc.stderr
    assert "deployment.apps/sesmonitor-operator serverside-applied (server dry run)" in proc.stdout


def test_the_example_overlay_pins_one_image_for_operator_and_exporters() -> None:
    built = kustomize_build(OVERLAY)
    assert {d["metadata"].get("namespace", "ses-monitoring") for d in built} == {"ses-monitoring"}
    container = operator_container(built)
    assert "@sha256:" in container["image"]
    settings = operator_settings(container)
    assert settings.render_defaults.exporter_image == container["image"]
    # The overlay restates the base's arguments; only the exporter image may differ.
    base_args = operator_container(kustomize_build(BASE))["args"]
    differing = [(a, b) for a, b in zip(base_args, container["args"], strict=True) if a != b]
    assert [a.split("=")[0] for a, _ in differing] == ["--exporter-image"]


# --------------------------------------------------------------------------------------------------
# Argo CD and Flux
# --------------------------------------------------------------------------------------------------


def load_one(path: Path) -> dict[str, Any]:
    (doc,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return dict(doc)


def test_the_argo_cd_application_is_well_formed() -> None:
    app = load_one(ARGO_APPLICATION)
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["kind"] == "Application"
    spec = app["spec"]
    assert spec["project"]
    source = spec["source"]
    assert source["repoURL"].startswith("https://")
    assert source["targetRevision"] == "v" + yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert (ROOT / source["path"]).resolve() == CHART.resolve()
    assert source["helm"]["releaseName"] == "sesmonitor-operator"
    assert spec["destination"]["namespace"] == "sesmonitor-system"
    assert spec["destination"]["server"] == "https://kubernetes.default.svc"
    options = spec["syncPolicy"]["syncOptions"]
    assert "CreateNamespace=true" in options
    assert "ServerSideApply=true" in options


def test_the_flux_helmrelease_and_its_source_are_well_formed() -> None:
    source = load_one(FLUX_SOURCE)
    release = load_one(FLUX_RELEASE)
    assert source["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert source["kind"] == "OCIRepository"
    assert source["spec"]["url"].startswith("oci://")
    assert source["spec"]["url"].endswith("/sesmonitor-operator")
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert release["kind"] == "HelmRelease"
    ref = release["spec"]["chartRef"]
    assert (ref["kind"], ref["name"]) == (source["kind"], source["metadata"]["name"])
    assert ref.get("namespace", release["metadata"]["namespace"]) == source["metadata"]["namespace"]
    # Flux, unlike `helm upgrade`, can keep the CRDs current.
    assert release["spec"]["install"]["crds"] == "Create"
    assert release["spec"]["upgrade"]["crds"] == "CreateReplace"
    assert release["spec"]["targetNamespace"] == "sesmonitor-system"
    kustomization = yaml.safe_load((GITOPS / "flux" / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == ["helmrelease.yaml", "ocirepository.yaml"]


@pytest.mark.parametrize(
    ("path", "values_of"),
    [
        (ARGO_APPLICATION, lambda doc: doc["spec"]["source"]["helm"]["valuesObject"]),
        (FLUX_RELEASE, lambda doc: doc["spec"]["values"]),
    ],
    ids=["argocd", "flux"],
)
def test_the_gitops_values_pass_the_chart_schema(path: Path, values_of: Any, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(values_of(load_one(path))))
    assert any(d["kind"] == "Deployment" for d in helm_template("-f", str(values)))


def gitops_crds() -> list[Path]:
    """The Argo CD and Flux CRD files, fetched once into the tools cache."""
    dest = tools_dir() / "crds" / "gitops"
    paths = []
    with locked(dest / ".lock"):
        for module, files in GITOPS_CRD_MODULES.items():
            wanted = [dest / module.replace("/", "_").replace("@", "-") / Path(f).name for f in files]
            paths += wanted
            if all(p.is_file() for p in wanted):
                continue
            work = Path(tempfile.mkdtemp(prefix="gitops-crds-"))
            try:
                proc = subprocess.run(
                    ["go", "mod", "download", "-json", module],
                    cwd=work, capture_output=True, text=True, check=False, timeout=600,
                    env={**os.environ, "GOFLAGS": "-mod=mod"},
                )  # fmt: skip
            finally:
                shutil.rmtree(work, ignore_errors=True)
            info = json.loads(proc.stdout or "{}")
            assert proc.returncode == 0, f"go mod download {module}: {info.get('Error') or proc.stderr}"
            for name, target in zip(files, wanted, strict=True):
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".tmp")
                shutil.copyfile(Path(info["Dir"]) / name, tmp)
                tmp.replace(target)
    return paths


@pytest.fixture(scope="module")
def gitops_crds_installed(control_plane: Cluster) -> list[str]:
    names = control_plane.apply_crds(gitops_crds(), timeout=90)
    for ns in ("argocd", "flux-system"):
        control_plane.kubectl("create", "namespace", ns, check=False)
    return names


def test_the_api_server_accepts_the_gitops_objects(
    control_plane: Cluster, gitops_crds_installed: list[str]
) -> None:
    assert sorted(gitops_crds_installed) == [
        "applications.argoproj.io",
        "helmreleases.helm.toolkit.fluxcd.io",
        "ocirepositories.source.toolkit.fluxcd.io",
    ]
    for path in (ARGO_APPLICATION, FLUX_SOURCE, FLUX_RELEASE):
        proc = control_plane.kubectl("apply", "--dry-run=server", "-f", str(path), check=False)
        assert proc.returncode == 0, f"{path.relative_to(ROOT)}:\n{proc.stderr}"
        assert "(server dry run)" in proc.stdout
    proc = control_plane.kubectl("apply", "--dry-run=server", "-k", str(GITOPS / "flux"), check=False)
    assert proc.returncode == 0, proc.stderr


BROKEN = [
    # (file, field, value, what the API server's refusal names)
    (FLUX_RELEASE, ("spec", "install", "crds"), "Sometimes", "spec.install.crds"),
    (FLUX_RELEASE, ("spec", "chartRef", "kind"), "GitRepository", "spec.chartRef.kind"),
    (FLUX_SOURCE, ("spec", "url"), "https://example.com/chart", "spec.url"),
    (ARGO_APPLICATION, ("spec", "destination"), "in-cluster", "spec.destination"),
]


@pytest.mark.parametrize(
    "case", BROKEN, ids=["flux-crds-policy", "flux-chartref-kind", "flux-oci-url", "argo-destination"]
)
def test_the_crd_schemas_are_live(
    control_plane: Cluster, gitops_crds_installed: list[str], tmp_path: Path, case: tuple[Any, ...]
) -> None:
    """A broken copy is refused: the dry run checks the objects against the tools' schemas."""
    path, field, value, complaint = case
    doc = load_one(path)
    parent = doc
    for name in field[:-1]:
        parent = parent[name]
    parent[field[-1]] = value
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc))
    proc = control_plane.kubectl("apply", "--dry-run=server", "-f", str(broken), check=False)
    assert proc.returncode != 0, f"accepted: {field} = {value!r}"
    assert complaint in proc.stderr, proc.stderr


def test_the_generator_check_mode_agrees() -> None:
    """`python scripts/manifests.py --check` (what a pre-commit hook would run) finds helm by itself
    and calls the base fresh."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "manifests.py"), "--check"],
        capture_output=True, text=True, check=False, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PATH"} | {"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
