"""Locate (building on first use) what the cluster tests run, each cached by every version it holds:

- ``tools_dir()``: the control plane (``tests/controlplane/build.sh``): ``bin/{kube-apiserver,
  kube-controller-manager,kubectl,etcd}``;
- ``helm_path()``: the helm the tests and `make chart` use (``tests/tools/helm.sh``, Helm 4), in a
  directory of its own (a Helm update rebuilds helm only); ``helm3_path()``: the Helm 3 the chart
  still installs with (``tests/tools/helm.sh v3``, one test);
- ``node_tools_dir()``: the node (``tests/node/build.sh``): ``bin/{kubelet,kube-scheduler,kube-proxy,
  containerd,containerd-shim-runc-v2,ctr,coredns,prometheus-operator,prometheus-config-reloader,pause}``
  and prometheus-operator's CRDs and example RBAC (``prometheus-operator/{crds,rbac}/``, ``crds_dir()``);
- ``images_listing()``: the container images (``tests/node/images.sh``), as ``{ref: OCI archive}``;
- ``runc_path()``: the runc the node's containerd uses (``tests/node/runc.sh``);
- ``lint_tools_dir()``: the unit tier's linters (``tests/tools/build.sh``): ``bin/{actionlint,ct}`` and
  ct's default configuration (``etc/{chart_schema,lintconf}.yaml``);
- ``gitops_tools_dir()``: what Flux and Argo CD make of an object (``tests/tools/build.sh gitops``):
  ``bin/kstatus-check`` (cli-utils' kstatus) and ``bin/argocd-health`` (a health.lua on gopher-lua);
- ``renovate_dir()``: Renovate's validator and Node 24 from npm (``tests/tools/renovate.sh``):
  ``node_modules/.bin/{node,renovate-config-validator,renovate}``.

Each script returns at once when its outputs are there; otherwise it builds (progress on this process's
stderr): 10-25 minutes for the control plane, 5-10 for the node, a few for the images, 2-3 for a helm.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = TESTS / "controlplane" / "build.sh"
NODE_BUILD_SCRIPT = TESTS / "node" / "build.sh"
IMAGES_SCRIPT = TESTS / "node" / "images.sh"
LINT_TOOLS_SCRIPT = TESTS / "tools" / "build.sh"
RENOVATE_SCRIPT = TESTS / "tools" / "renovate.sh"
HELM_SCRIPT = TESTS / "tools" / "helm.sh"
RUNC_SCRIPT = TESTS / "node" / "runc.sh"


def _prebuilt(script: Path, *args: str) -> Path | None:
    """The output ``SESMONITOR_PREBUILT`` (a file of ``<script relative to tests/>[ <variant>] <dir>``
    lines, the variant being the script's first argument unless an option: ``tools/helm.sh v3``) names
    for ``script``: `make test-cgroup2`'s guest shares the host's cache but has no build tools."""
    listing = os.environ.get("SESMONITOR_PREBUILT")
    if not listing:
        return None
    name = str(script.relative_to(TESTS))
    if args and not args[0].startswith("-"):
        name += f" {args[0]}"
    for line in Path(listing).read_text().splitlines():
        if line.startswith(f"{name} /"):
            return Path(line[len(name) + 1 :])
    return None


def _run_build(script: Path, *args: str, holds: str = "bin/") -> Path:
    """The directory `script` prints last; it must hold `holds` (a directory with a trailing slash)."""
    path = _prebuilt(script, *args)
    if path is None:
        proc = subprocess.run(
            ["bash", str(script), *args], stdout=subprocess.PIPE, stderr=None, text=True, check=False
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{script} failed with exit code {proc.returncode}: {proc.stdout[-2000:]}")
        path = Path(lines[-1])
    found = (path / holds).is_dir() if holds.endswith("/") else (path / holds).is_file()
    if not found:
        raise RuntimeError(f"{script} printed {path}, which has no {holds}")
    return path


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created with its folder): one pytest worker fills a
    shared cache while the others wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@functools.cache
def tools_dir() -> Path:
    return _run_build(BUILD_SCRIPT)


@functools.cache
def node_tools_dir() -> Path:
    return _run_build(NODE_BUILD_SCRIPT)


@functools.cache
def images_dir() -> Path:
    return _run_build(IMAGES_SCRIPT, "--bin-dir", str(node_tools_dir() / "bin"), holds="images.txt")


@functools.cache
def lint_tools_dir() -> Path:
    return _run_build(LINT_TOOLS_SCRIPT)


@functools.cache
def helm_path() -> Path:
    return _run_build(HELM_SCRIPT) / "bin" / "helm"


@functools.cache
def helm3_path() -> Path:
    return _run_build(HELM_SCRIPT, "v3") / "bin" / "helm"


@functools.cache
def renovate_dir() -> Path:
    return _run_build(RENOVATE_SCRIPT, holds="node_modules/")


@functools.cache
def gitops_tools_dir() -> Path:
    return _run_build(LINT_TOOLS_SCRIPT, "gitops")


def images_listing() -> dict[str, Path]:
    """``images.txt``: ``<ref> <archive>`` per line, the archives beside it."""
    listing = images_dir() / "images.txt"
    images: dict[str, Path] = {}
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            ref, archive = line.split()[:2]
            images[ref] = listing.parent / archive
    return images


@functools.cache
def runc_path() -> str:
    """The host's runc when new enough, else Debian's (``tests/node/runc.sh``: one rule for this and
    scripts/setup.sh, which installs Debian's only when no runc fits)."""
    proc = subprocess.run(["bash", str(RUNC_SCRIPT)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{proc.stderr.strip()} (scripts/setup.sh installs Debian's runc)")
    return proc.stdout.strip()


def bin_dir() -> Path:
    return tools_dir() / "bin"


def crds_dir() -> Path:
    """prometheus-operator's CRDs, of the version the node runs."""
    return node_tools_dir() / "prometheus-operator" / "crds"
