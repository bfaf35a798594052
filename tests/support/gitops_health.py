"""What Flux and Argo CD make of Kubernetes objects, from the real readers (``tests/tools/build.sh gitops``):

- ``kstatus(objects)``: ``sigs.k8s.io/cli-utils`` v0.37.2 ``status.Compute`` (Flux's health checks,
  ``kpt``), by tests/tools/kstatus-check;
- ``argocd_health(objects)``: deploy/gitops/argocd/health.lua run as Argo CD runs a health script,
  on gopher-lua, by tests/tools/argocd-health.

Each returns one ``{"status": ..., "message": ...}`` per object, in order. The tools are built on first
use like every other (``support.tools``); a missing Go toolchain fails the caller, never skips it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from support.tools import gitops_tools_dir

ROOT = Path(__file__).resolve().parents[2]
HEALTH_LUA = ROOT / "deploy" / "gitops" / "argocd" / "health.lua"


def _run(args: list[str], objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    stdin = "".join(json.dumps(obj) + "\n" for obj in objects)
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, f"{args[0]} exited {proc.returncode}: {proc.stderr}"
    results: list[dict[str, str]] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(objects), proc.stdout
    return results


def kstatus(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    return _run([str(gitops_tools_dir() / "bin" / "kstatus-check")], objects)


def argocd_health(objects: list[dict[str, Any]], script: Path = HEALTH_LUA) -> list[dict[str, str]]:
    return _run([str(gitops_tools_dir() / "bin" / "argocd-health"), str(script)], objects)
