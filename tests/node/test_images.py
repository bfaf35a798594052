"""The image and node scripts without building anything (the cluster tier imports what they build):
``make image`` (scripts/build-image.sh) tags what the chart deploys; the base is Debian bookworm
whatever the host runs; the node takes the host's runc when it is new enough; every shell script in
the repository passes shellcheck."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD_IMAGE = ROOT / "scripts" / "build-image.sh"
IMAGES = ROOT / "tests" / "node" / "images.sh"
RUNC = ROOT / "tests" / "node" / "runc.sh"


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
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.sh", ".ci/run"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    scripts = [ROOT / f for f in listed if (ROOT / f).is_file()]
    assert BUILD_IMAGE in scripts
    assert IMAGES in scripts
    assert RUNC in scripts
    subprocess.run([shellcheck, "-x", *map(str, scripts)], cwd=ROOT, check=True)


def _print_sources(tmp_path: Path, os_release: str, **env: str) -> list[str]:
    release = tmp_path / "os-release"
    release.write_text(os_release)
    base = {k: v for k, v in os.environ.items() if not k.startswith("IMAGES_")}
    proc = subprocess.run(
        ["bash", str(IMAGES), "--print-sources"],
        env={**base, "IMAGES_OS_RELEASE": str(release), **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout.splitlines()


def test_the_base_is_bookworm_on_ubuntu_from_debians_archive_and_keys(tmp_path: Path) -> None:
    sources = _print_sources(tmp_path, "ID=ubuntu\nVERSION_CODENAME=noble\n")
    # Not the host's (Ubuntu) sources: mmdebstrap's own Debian bookworm, updates and security.
    assert sources[0] == "mmdebstrap's default for bookworm"
    assert sources[1:] == ["--keyring=/usr/share/keyrings/debian-archive-keyring.gpg"]


def test_the_base_on_a_debian_host_of_another_release_is_still_bookworm(tmp_path: Path) -> None:
    sources = _print_sources(tmp_path, "ID=debian\nVERSION_CODENAME=trixie\n")
    assert sources[0] == "mmdebstrap's default for bookworm"


def test_the_base_archive_is_a_setting(tmp_path: Path) -> None:
    sources = _print_sources(
        tmp_path, "ID=ubuntu\nVERSION_CODENAME=noble\n", IMAGES_DEBIAN_MIRROR="http://mirror.test/debian"
    )
    assert sources[:2] == [
        "deb http://mirror.test/debian bookworm main",
        "deb http://mirror.test/debian bookworm-updates main",
    ]


def test_a_bookworm_host_uses_its_own_sources(tmp_path: Path) -> None:
    sources = _print_sources(tmp_path, "ID=debian\nVERSION_CODENAME=bookworm\n")
    assert sources, "a Debian bookworm host has apt sources"
    assert all(Path(s).is_file() for s in sources), sources


def _fake_runc(tmp_path: Path, version_line: str) -> Path:
    runc = tmp_path / "runc"
    runc.write_text(f"#!/bin/sh\necho '{version_line}'\necho 'spec: 1.2.0'\n")
    runc.chmod(0o755)
    return runc


def _runc(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(RUNC)], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )


def test_runc_the_hosts_when_new_enough(tmp_path: Path) -> None:
    # Docker's containerd.io prints "runc version 1.2.5"; the GitHub runner's "runc version v1.3.0".
    for line in ("runc version 1.2.5", "runc version v1.3.0", "runc version 1.1.5+ds1"):
        runc = _fake_runc(tmp_path, line)
        proc = _runc(SESMONITOR_RUNC=str(runc))
        assert (proc.returncode, proc.stdout.strip()) == (0, str(runc)), line


def test_runc_too_old_is_refused_with_its_version(tmp_path: Path) -> None:
    runc = _fake_runc(tmp_path, "runc version 1.0.3")
    proc = _runc(SESMONITOR_RUNC=str(runc))
    assert proc.returncode == 1
    assert "no runc >= 1.1.5" in proc.stderr
    assert "1.0.3" in proc.stderr
