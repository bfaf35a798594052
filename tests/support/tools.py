"""Locate (building on first use) what the cluster tests run, each cached by every version it holds:

- ``tools_dir()``: the control plane (``tests/controlplane/build.sh``): ``bin/{kube-apiserver,
  kube-controller-manager,kubectl,etcd,helm}``;
- ``node_tools_dir()``: the node (``tests/node/build.sh``): ``bin/{kubelet,kube-scheduler,kube-proxy,
  containerd,containerd-shim-runc-v2,ctr,coredns,prometheus-operator,prometheus-config-reloader,pause}``
  and prometheus-operator's CRDs and example RBAC (``prometheus-operator/{crds,rbac}/``, ``crds_dir()``);
- ``images_listing()``: the container images (``tests/node/images.sh``), as ``{ref: OCI archive}``;
- ``lint_tools_dir()``: the unit tier's linters (``tests/tools/build.sh``): ``bin/{actionlint,ct}`` and
  ct's default configuration (``etc/{chart_schema,lintconf}.yaml``).

Each script returns at once when its outputs are there; otherwise it builds (progress on this process's
stderr): 10-25 minutes for the control plane, 5-10 for the node, a few for the images.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = TESTS / "controlplane" / "build.sh"
NODE_BUILD_SCRIPT = TESTS / "node" / "build.sh"
IMAGES_SCRIPT = TESTS / "node" / "images.sh"
LINT_TOOLS_SCRIPT = TESTS / "tools" / "build.sh"


def _run_build(script: Path, *args: str) -> Path:
    proc = subprocess.run(
        ["bash", str(script), *args], stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{script} failed with exit code {proc.returncode}: {proc.stdout[-2000:]}")
    return Path(lines[-1])


@functools.cache
def tools_dir() -> Path:
    path = _run_build(BUILD_SCRIPT)
    if not (path / "bin").is_dir():
        raise RuntimeError(f"{BUILD_SCRIPT} printed {path}, which has no bin/")
    return path


@functools.cache
def node_tools_dir() -> Path:
    path = _run_build(NODE_BUILD_SCRIPT)
    if not (path / "bin").is_dir():
        raise RuntimeError(f"{NODE_BUILD_SCRIPT} printed {path}, which has no bin/")
    return path


@functools.cache
def images_dir() -> Path:
    path = _run_build(IMAGES_SCRIPT, "--bin-dir", str(node_tools_dir() / "bin"))
    if not (path / "images.txt").is_file():
        raise RuntimeError(f"{IMAGES_SCRIPT} printed {path}, which has no images.txt")
    return path


@functools.cache
def lint_tools_dir() -> Path:
    path = _run_build(LINT_TOOLS_SCRIPT)
    if not (path / "bin").is_dir():
        raise RuntimeError(f"{LINT_TOOLS_SCRIPT} printed {path}, which has no bin/")
    return path


def images_listing() -> dict[str, Path]:
    """``images.txt``: ``<ref> <archive>`` per line, the archives beside it."""
    listing = images_dir() / "images.txt"
    images: dict[str, Path] = {}
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            ref, archive = line.split()[:2]
            images[ref] = listing.parent / archive
    return images


def bin_dir() -> Path:
    return tools_dir() / "bin"


def crds_dir() -> Path:
    """prometheus-operator's CRDs, of the version the node runs."""
    return node_tools_dir() / "prometheus-operator" / "crds"
