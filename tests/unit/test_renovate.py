"""renovate.json, checked by Renovate itself (the npm package tests/tools/renovate.sh installs):

- ``renovate-config-validator --strict`` accepts it (and refuses a misspelt option: the check is live);
- Renovate's own extraction (``--platform=local --dry-run=extract``: reads the work tree, asks no
  registry; it lists files with git, so a new file counts once it is staged) finds every pin: each
  SHA-pinned action with its version comment, each Go module version in the build scripts, each pin
  of the Python locks, the validator's own npm pins.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from support.tools import renovate_dir

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "renovate.json"
# NAME_VERSION=vX.Y.Z lines of the build scripts that are not Go modules (and why).
NOT_GO = {
    "PAUSE_VERSION",  # kubernetes' pause.c, built with the node; its tag follows containerd
    "ALERTMANAGER_VERSION",  # Debian bookworm's package, whatever upstream is at
    "PROMETHEUS_VERSION",  # a GitHub release, the same update as PROMETHEUS_MODULE_VERSION
    "MIN_VERSION",  # tests/node/runc.sh's oldest usable runc, not a pin
}
PIN_LINE = re.compile(r"^(?P<name>[A-Z0-9_]+_VERSION)=(?P<value>[^\s$]+)", re.M)


def build_scripts() -> list[str]:
    """Every tracked shell script that pins a version (a new build script's pins are checked too)."""
    listed = subprocess.run(["git", "ls-files", "*.sh"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [path for path in listed.stdout.split() if PIN_LINE.search((ROOT / path).read_text())]


def node_and(script: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Any:
    tools = renovate_dir() / "node_modules"
    return subprocess.run(
        [str(tools / ".bin" / "node"), str(tools / "renovate" / "dist" / script), *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_the_pinned_renovate_runs_on_its_own_node() -> None:
    package = json.loads((ROOT / "tests" / "tools" / "renovate" / "package.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["dependencies"]["renovate"]), "pin exact versions"
    proc = node_and("config-validator.js", "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == package["dependencies"]["renovate"]
    lock = json.loads((ROOT / "tests" / "tools" / "renovate" / "package-lock.json").read_text())
    assert all("integrity" in entry for name, entry in lock["packages"].items() if name), "npm ci checks each"


def test_renovate_config_validator_accepts_the_config(tmp_path: Path) -> None:
    proc = node_and("config-validator.js", "--strict", "--no-global", str(CONFIG))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Config validated successfully" in proc.stdout + proc.stderr
    # The same validator refuses a misspelt option and a regex JavaScript cannot compile.
    config = json.loads(CONFIG.read_text())
    bad = tmp_path / "renovate.json"
    bad.write_text(json.dumps({**config, "pinDigestz": True}))
    refused = node_and("config-validator.js", "--strict", "--no-global", str(bad))
    assert refused.returncode != 0
    assert "Invalid configuration option: pinDigestz" in refused.stdout + refused.stderr
    manager = {**config["customManagers"][0], "matchStrings": ["(?m)^K8S_VERSION=(?<currentValue>\\S+)"]}
    bad.write_text(json.dumps({**config, "customManagers": [manager]}))
    refused = node_and("config-validator.js", "--strict", "--no-global", str(bad))
    assert refused.returncode != 0
    assert "Invalid regExp" in refused.stdout + refused.stderr


@functools.cache
def extracted() -> dict[str, list[dict[str, Any]]]:
    """Renovate's ``Extracted dependencies`` for this work tree: {manager: [package files]}."""
    with tempfile.TemporaryDirectory() as base:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RENOVATE_", "GITHUB_", "GH_"))},
            "LOG_LEVEL": "debug",
            "LOG_FORMAT": "json",
            "RENOVATE_BASE_DIR": base,  # its caches, not the work tree's
        }
        status = ["git", "status", "--porcelain"]
        before = subprocess.run(status, cwd=ROOT, capture_output=True, text=True, check=True)
        proc = node_and(
            "renovate.js", "--platform=local", "--dry-run=extract", "--onboarding=false",
            "--require-config=required", env=env,
        )  # fmt: skip
        after = subprocess.run(status, cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert before.stdout == after.stdout, "Renovate's extraction changed the work tree"
    for line in proc.stdout.splitlines():
        if line.startswith("{") and json.loads(line).get("msg") == "Extracted dependencies":
            files: dict[str, list[dict[str, Any]]] = json.loads(line)["packageFiles"]
            return files
    raise AssertionError(f"no 'Extracted dependencies' in Renovate's log:\n{proc.stdout[-3000:]}")


def deps(manager: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f["packageFile"], dep) for f in extracted().get(manager, []) for dep in f["deps"]]


def test_every_sha_pinned_action_is_found_with_its_version() -> None:
    uses = re.compile(r"uses: ([\w./-]+)@([0-9a-f]{40}) # (v\S+)")
    expected = sorted(
        # Renovate names an action by its repository (actions/cache for actions/cache/restore).
        (path.relative_to(ROOT).as_posix(), "/".join(name.split("/")[:2]), digest, version)
        for path in (ROOT / ".github" / "workflows").glob("*.yml")
        for name, digest, version in uses.findall(path.read_text())
    )
    found = sorted(
        (file, dep["depName"], dep["currentDigest"], dep["currentValue"])
        for file, dep in deps("github-actions")
        if dep.get("currentDigest")
    )
    assert len(expected) > 10
    assert found == expected


def test_every_go_pin_of_the_build_scripts_is_found_as_a_go_module() -> None:
    scripts = build_scripts()
    assert {
        "tests/controlplane/build.sh",
        "tests/node/build.sh",
        "tests/tools/build.sh",
        "tests/tools/helm.sh",
    } <= set(scripts)
    expected = sorted(
        (script, match["value"])
        for script in scripts
        for match in PIN_LINE.finditer((ROOT / script).read_text())
        if match["name"] not in NOT_GO
    )
    found = sorted((file, dep["currentValue"]) for file, dep in deps("regex") if dep["datasource"] == "go")
    assert len(expected) >= 12, expected
    # A pin missing here wants a custom manager in renovate.json (or, if no Go module, NOT_GO above).
    assert found == expected
    releases = sorted(
        (file, dep["depName"]) for file, dep in deps("regex") if dep["datasource"] == "github-releases"
    )
    assert releases == [
        ("tests/node/build.sh", "prometheus/prometheus"),
        ("tests/node/images.sh", "prometheus/prometheus"),
    ]
    modules = {dep["depName"] for _, dep in deps("regex")}
    assert {
        "k8s.io/kubernetes",
        "helm.sh/helm/v4",
        "helm.sh/helm/v3",
        "github.com/prometheus/prometheus",
    } <= modules
    # The go.mod beside the build scripts move with them (one group per module: packageRules).
    assert {f["packageFile"] for f in extracted()["gomod"]} == {
        path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("go.mod")
    }


@pytest.mark.parametrize(
    "lock",
    ["requirements-build.lock", "requirements.lock", "requirements-dev.lock", "requirements-scan.lock"],
)
def test_every_pin_of_the_python_locks_is_found(lock: str) -> None:
    pins = re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", (ROOT / lock).read_text(), re.M)
    found = [(dep["depName"], dep["currentValue"]) for file, dep in deps("pip_requirements") if file == lock]
    assert sorted(found) == sorted((name, f"=={version}") for name, version in pins)
    assert len(found) >= 2


def test_the_validators_own_pins_are_found() -> None:
    found = {(dep["depName"], dep["currentValue"]) for _, dep in deps("npm")}
    package = json.loads((ROOT / "tests" / "tools" / "renovate" / "package.json").read_text())
    assert found >= set(package["dependencies"].items())
