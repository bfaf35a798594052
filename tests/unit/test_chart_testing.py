"""chart-testing's `ct lint` of the chart, as the Helm community's CI runs it: Chart.yaml against ct's
schema (yamale), Chart.yaml and values.yaml through yamllint with ct's rules, and `helm lint` with the
default values and with every file in the chart's ci/ directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.tools import helm_path, lint_tools_dir

ROOT = Path(__file__).resolve().parents[2]
CHART = "deploy/helm/sesmonitor-operator"


def test_ct_lint() -> None:
    tools = lint_tools_dir()
    venv_bin = Path(sys.executable).parent  # yamllint and yamale (requirements-dev.lock)
    assert (venv_bin / "yamllint").exists(), "yamllint is missing: run scripts/setup.sh"
    path = [str(helm_path().parent), str(venv_bin), os.environ["PATH"]]  # ct runs `helm` from PATH
    env = {**os.environ, "PATH": os.pathsep.join(path)}
    proc = subprocess.run(
        [
            str(tools / "bin" / "ct"),
            "lint",
            "--charts",
            CHART,
            "--chart-yaml-schema",
            str(tools / "etc" / "chart_schema.yaml"),
            "--lint-conf",
            str(tools / "etc" / "lintconf.yaml"),
            # ct would look the maintainers' names up as GitHub accounts (the project's is an
            # organization, and the tests stay offline); versions: test_versions.py.
            "--validate-maintainers=false",
            "--check-version-increment=false",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"ct lint:\n{output}"
    assert "All charts linted successfully" in output, output
    assert "ci/production-values.yaml" in output, "ct lint did not lint with ci/production-values.yaml"
