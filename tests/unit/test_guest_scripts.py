"""The cgroup2 guest's scripts (tests/guest/, `make test-cgroup2`) pass shellcheck; the guest run itself
is `make test-cgroup2` (docs/testing.md, "cgroup v2")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

GUEST = Path(__file__).resolve().parents[1] / "guest"


def test_guest_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck not found (scripts/setup.sh installs it)"
    scripts = [GUEST / n for n in ("run.sh", "build-rootfs.sh", "guest-run.sh", "init")]
    subprocess.run([shellcheck, *map(str, scripts)], check=True)
