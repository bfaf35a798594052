"""The promtool fixture for every rules test module."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (scripts/setup.sh does)")
    return path
