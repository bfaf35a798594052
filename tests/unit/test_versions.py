"""Versions in one place: the package, the chart, the image it deploys and the docs' examples agree.

The source of truth is pyproject.toml's `version`. A release bumps it, the chart's `version` and
`appVersion`, CHANGELOG.md and every example below; this test names the file that was forgotten.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"

# Files whose examples name a release, and what a version looks like in each kind of example.
DOCS = [
    "README.md",
    "docs/install.md",
    "deploy/helm/sesmonitor-operator/README.md",
    "deploy/helm/sesmonitor-operator/Chart.yaml",  # Artifact Hub's images and links
    "deploy/gitops/argocd/application.yaml",
    "deploy/gitops/flux/ocirepository.yaml",
    "deploy/kustomize/overlays/example/kustomization.yaml",
]
EXAMPLES = {
    "helm --version": re.compile(r"--version[ =]+v?(\d+\.\d+\.\d+[\w.+-]*)"),
    "image tag": re.compile(r"/sesmonitor:v?(\d+\.\d+\.\d+[\w.+-]*)"),
    "chart archive": re.compile(r"sesmonitor-operator-(\d+\.\d+\.\d+[\w.+-]*?)\.tgz"),
    "Git ref": re.compile(r"(?:\?ref=|targetRevision: |tag: )v(\d+\.\d+\.\d+[\w.+-]*)"),
    "GitHub link": re.compile(r"/(?:tree|blob)/v(\d+\.\d+\.\d+[\w.+-]*)/"),
}
VERSION = re.compile(r"^\d+\.\d+\.\d+(?:[-+][\w.+-]+)?$")


def package_version() -> str:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert VERSION.match(version), f"pyproject.toml: version {version!r} is not semver"
    return str(version)


def test_chart_version_and_app_version_are_the_package_version() -> None:
    version = package_version()
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    where = f"{CHART.relative_to(ROOT)}/Chart.yaml"
    for key in ("version", "appVersion"):
        assert str(chart[key]) == version, f"{where}: {key} {chart[key]} != pyproject.toml's {version}"


def test_chart_deploys_the_image_of_this_version() -> None:
    """values.yaml's image.tag is empty (the appVersion) or the version itself, for the exporters too."""
    version = package_version()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    where = f"{CHART.relative_to(ROOT)}/values.yaml"
    assert values["image"]["tag"] in ("", version), (
        f"{where}: image.tag {values['image']['tag']!r} is neither empty (appVersion) nor {version}"
    )
    assert values["image"]["repository"] == "ghcr.io/sesmonitor/sesmonitor", where
    exporter_tag = values["exporter"]["image"].get("tag", "")
    assert exporter_tag in ("", version), f"{where}: exporter.image.tag {exporter_tag!r} is not {version}"


@pytest.mark.parametrize("path", DOCS)
def test_docs_examples_name_this_version(path: str) -> None:
    version = package_version()
    text = (ROOT / path).read_text()
    wrong = []
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in EXAMPLES.items():
            wrong += [
                f"{path}:{number}: {kind} {found} (expected {version}): {line.strip()}"
                for found in pattern.findall(line)
                if found != version
            ]
    assert not wrong, "examples that disagree with pyproject.toml's version:\n" + "\n".join(wrong)


def test_docs_examples_are_found() -> None:
    """The patterns above still match the docs (else the test above would pass vacuously)."""
    found = {
        kind
        for path in DOCS
        for kind, pattern in EXAMPLES.items()
        if pattern.search((ROOT / path).read_text())
    }
    expected = set(EXAMPLES)
    assert expected <= found, f"no example of {expected - found} left in {DOCS}"


def _triple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.split(r"[-+]", version)[0].split("."))


def test_flux_semver_range_contains_this_version() -> None:
    version = _triple(package_version())
    path = "deploy/gitops/flux/ocirepository.yaml"
    ref = yaml.safe_load((ROOT / path).read_text())["spec"]["ref"]["semver"]
    low, high = re.fullmatch(r">=(\d+\.\d+\.\d+) <(\d+\.\d+\.\d+)", ref).groups()  # type: ignore[union-attr]
    assert _triple(low) <= version < _triple(high), f"{path}: semver {ref!r} excludes {version}"


def test_changelog_has_this_version() -> None:
    version = package_version()
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text, "CHANGELOG.md: no [Unreleased] section"
    assert re.search(rf"^## \[{re.escape(version)}\]", text, re.M), (
        f"CHANGELOG.md: no section ## [{version}] for pyproject.toml's version"
    )
