"""Locate (building on first use) the control-plane binaries made by ``tests/controlplane/build.sh``."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "controlplane" / "build.sh"


@functools.cache
def tools_dir() -> Path:
    """The versioned cache dir holding ``bin/{kube-apiserver,kube-controller-manager,kubectl,etcd,helm}``
    and ``crds/``; ``${SESMONITOR_TOOLS:-~/.cache/sesmonitor-tools}/k8s-...-etcd-...-helm-.../``.

    build.sh returns at once when everything is there; otherwise it builds from Go modules
    (10-25 minutes on 2 cores), its progress going to this process's stderr.
    """
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit code {proc.returncode}: {proc.stdout[-2000:]}")
    path = Path(lines[-1])
    if not (path / "bin").is_dir():
        raise RuntimeError(f"{BUILD_SCRIPT} printed {path}, which has no bin/")
    return path


def bin_dir() -> Path:
    return tools_dir() / "bin"


def crds_dir() -> Path:
    return tools_dir() / "crds"
