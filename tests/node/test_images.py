"""The image scripts without building anything (the cluster tier imports what they build):
``make image`` (scripts/build-image.sh) tags what the chart deploys, and both scripts pass shellcheck."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD_IMAGE = ROOT / "scripts" / "build-image.sh"
IMAGES = ROOT / "tests" / "node" / "images.sh"


def _print_image(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("IMAGE", "ENGINE")}
    proc = subprocess.run(
        ["bash", str(BUILD_IMAGE), "--print-image"],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_make_image_tags_what_the_chart_deploys() -> None:
    chart = ROOT / "deploy" / "helm" / "sesmonitor-operator"
    app_version = yaml.safe_load((chart / "Chart.yaml").read_text())["appVersion"]
    image = yaml.safe_load((chart / "values.yaml").read_text())["image"]
    assert _print_image() == f"{image['repository']}:{image.get('tag') or app_version}"


def test_make_image_override() -> None:
    ref = "registry.example/team/sesmonitor:dev"
    assert _print_image(IMAGE=ref) == ref


def test_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck not found (scripts/setup.sh installs it)"
    subprocess.run([shellcheck, str(BUILD_IMAGE), str(IMAGES)], check=True)
