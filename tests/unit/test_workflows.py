"""The GitHub workflows: actionlint (with shellcheck on their run: blocks) passes, and every action is
pinned by a full commit SHA with the version it stands for in a comment."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from support.tools import lint_tools_dir

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s*#\s*v\d+\.\d+\.\d+\s*$")


def test_the_workflows_exist() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "release.yml"} <= names, names


def test_actionlint() -> None:
    assert shutil.which("shellcheck"), "shellcheck is not on PATH (scripts/setup.sh installs it)"
    actionlint = lint_tools_dir() / "bin" / "actionlint"
    proc = subprocess.run(
        [str(actionlint), "-no-color", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"actionlint:\n{proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_sha(path: Path) -> None:
    wrong = []
    uses = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = USES.match(line)
        if not match:
            continue
        uses += 1
        ref, rest = match.groups()
        if ref.startswith("./"):
            continue  # an action of this repository, pinned by the checkout itself
        if not PINNED.match(ref):
            wrong.append(f"{path.name}:{number}: {ref} is not pinned by a 40-hex commit SHA")
        elif not VERSION_COMMENT.match(rest):
            wrong.append(f"{path.name}:{number}: {ref} has no '# vX.Y.Z' comment")
    assert uses, f"{path.name}: no uses: found (the pattern is stale)"
    # Every `uses:` the YAML holds was seen line by line (none hidden in a flow mapping).
    doc = yaml.safe_load(path.read_text())
    in_yaml = [
        step["uses"] for job in doc["jobs"].values() for step in job.get("steps", []) if "uses" in step
    ]
    assert len(in_yaml) == uses, f"{path.name}: {len(in_yaml)} uses: in the YAML, {uses} found by line"
    assert not wrong, "\n".join(wrong)


def test_workflows_run_what_the_readme_says() -> None:
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    triggers = ci[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers, "ci.yml: not run on pull requests"
    assert triggers["push"]["branches"] == ["main"], "ci.yml: not run on pushes to main"
    runs = {name: [step.get("run", "").strip() for step in job["steps"]] for name, job in ci["jobs"].items()}
    # Two jobs that together are README's `make test`: the fast tiers, and the cluster tiers.
    assert any(re.search(r"\bsudo\b.*\bmake test-fast$", run) for run in runs["fast"]), runs
    assert any(re.search(r"\bsudo\b.*\bmake test-cluster$", run) for run in runs["cluster"]), runs
    makefile = (ROOT / "Makefile").read_text()
    fast = re.search(r"^test-fast:.*\n(?:\t.*\n)+", makefile, re.M)
    cluster = re.search(r"^test-cluster:.*\n(?:\t.*\n)+", makefile, re.M)
    assert fast, "Makefile: no test-fast target"
    assert cluster, "Makefile: no test-cluster target"
    tiers = re.findall(r"tests/(\w+)", fast.group(0) + cluster.group(0))
    every_tier = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    assert set(tiers) == every_tier, f"the two jobs run {sorted(tiers)}, the tiers are {sorted(every_tier)}"
    assert "make test" in (ROOT / "README.md").read_text(), "README.md no longer says `make test`"
    release = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    assert release[True]["push"]["tags"] == ["v*"], "release.yml: not run on version tags"


def test_the_cluster_job_runs_on_cgroup_v2_and_keeps_its_cache_when_red() -> None:
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    for name, job in ci["jobs"].items():
        uses = [(step.get("uses", "").split("@")[0], step) for step in job["steps"]]
        restore = [step for action, step in uses if action == "actions/cache/restore"]
        save = [step for action, step in uses if action == "actions/cache/save"]
        assert len(restore) == 1, f"{name}: restores its tool cache once"
        assert len(save) == 1, f"{name}: saves its tool cache once"
        assert "always()" in save[0]["if"], f"{name}: the cache is saved only after a green run"
        assert save[0]["with"]["key"] == restore[0]["with"]["key"], f"{name}: saves under another key"
        assert "actions/cache" not in [action for action, _ in uses], (
            f"{name}: actions/cache saves on green only"
        )
    assert ci["jobs"]["cluster"]["runs-on"] == "ubuntu-24.04"  # cgroup v2 only, Docker's runc


def test_the_release_packages_the_chart_with_the_tests_helm() -> None:
    """release.yml's `helm package`/`helm push` run the Helm the tests build (tests/tools/helm.sh)."""
    pinned = re.search(r"^HELM_VERSION=(\S+)$", (ROOT / "tests" / "tools" / "helm.sh").read_text(), re.M)
    assert pinned, "tests/tools/helm.sh has no HELM_VERSION="
    release = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    setups = [
        step["with"]["version"]
        for job in release["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("azure/setup-helm@")
    ]
    assert setups == [pinned[1]]
