"""Give every pin of the requirements*.lock files its ``--hash`` lines, so pip installs them with
``--require-hashes`` (the image's build) or in hash-checking mode (any ``-r`` of a hashed file): a
wheel that is not byte-for-byte the one locked is refused.

    .venv/bin/python scripts/lock.py            # after editing a pin (`make locks`): fetch the hashes
    .venv/bin/python scripts/lock.py --check    # offline: every pin is exact and hashed

The pins stay hand-written (or Renovate's); this only fetches, for the pinned version of each, the
sha256 of every file the package index serves (all platforms: the image is built for amd64 and
arm64, developers run macOS too), through ``uv pip compile --generate-hashes --no-deps`` (uv from
requirements-dev.lock, with the index pip is configured with). Comments are kept; a comment that
followed a pin goes under its hashes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements-build.lock", "requirements.lock", "requirements-dev.lock", "requirements-scan.lock")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")
HASH = re.compile(r"^--hash=sha256:(?P<digest>[0-9a-f]{64})$")
# The interpreter running this (the venv's: 3.11 as pyproject requires): a pin's Requires-Python
# such as soupsieve's >=3.11.5 is judged against the real patch level, not against 3.11.0.
PYTHON = ".".join(map(str, sys.version_info[:3]))


def normalized(name: str) -> str:
    """PEP 503: the one spelling of a project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Pin:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comments about this pin, without "#"


Line = str | Pin  # a comment, blank or option line (kept as it is), or a pin


class LockError(ValueError):
    """A lock file line that is neither a comment, an option nor an exact pin."""


def parse(text: str, where: str = "lock") -> list[Line]:
    """The lines of a lock file, continuation lines joined into their pin."""
    lines: list[Line] = []
    raw = text.splitlines()
    i = 0
    while i < len(raw):
        number, line = i + 1, raw[i]
        i += 1
        stripped = line.strip()
        last = lines[-1] if lines else None
        if isinstance(last, Pin) and line[:1].isspace() and stripped.startswith("#"):
            last.notes.append(stripped.lstrip("#").strip())
            continue
        if not stripped or stripped.startswith(("#", "-r ", "-c ", "--")):
            lines.append(line)
            continue
        logical = line
        while logical.rstrip().endswith("\\") and i < len(raw):
            logical = logical.rstrip()[:-1] + " " + raw[i]
            i += 1
        words, _, note = logical.partition(" #")
        first, *options = words.split()
        pin = PIN.match(first)
        if not pin:
            raise LockError(f"{where}:{number}: {first!r} is not an exact pin (name==version)")
        hashes = []
        for option in options:
            digest = HASH.match(option)
            if not digest:
                raise LockError(f"{where}:{number}: {option!r}: only --hash=sha256:... may follow a pin")
            hashes.append(digest["digest"])
        lines.append(Pin(pin["name"], pin["version"], hashes, [note.strip()] if note.strip() else []))
    return lines


def format_lock(lines: list[Line]) -> str:
    out: list[str] = []
    for line in lines:
        if isinstance(line, str):
            out.append(line)
            continue
        hashes = list(dict.fromkeys(line.hashes))  # as found (uv's order, or Renovate's hashin's)
        out.append(f"{line.name}=={line.version}" + (" \\" if hashes else ""))
        out += [
            f"    --hash=sha256:{h}" + (" \\" if n < len(hashes) - 1 else "") for n, h in enumerate(hashes)
        ]
        out += [f"    # {note}" for note in line.notes]
    return "\n".join(out) + "\n"


def problems(lines: list[Line], where: str = "lock") -> list[str]:
    """What hash-checking mode would refuse: a pin without hashes, a project pinned twice."""
    found, seen = [], set()
    for line in lines:
        if isinstance(line, Pin):
            if not line.hashes:
                found.append(f"{where}: {line.name}=={line.version} has no --hash")
            if normalized(line.name) in seen:
                found.append(f"{where}: {line.name} is pinned twice")
            seen.add(normalized(line.name))
    return found


def fetch_hashes(pins: list[Pin]) -> dict[str, list[str]]:
    """{normalized name: sha256 digests} of every file the index serves for each pinned version."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise SystemExit("lock.py: uv not found: pip install -r requirements-dev.lock (it pins uv)")
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "pins.txt"
        requirements.write_text("".join(f"{p.name}=={p.version}\n" for p in pins))
        proc = subprocess.run(
            [uv, "pip", "compile", str(requirements), "--generate-hashes", "--no-deps", "--no-header",
             "--no-annotate", "--python-version", PYTHON, "--native-tls", "--quiet"],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"lock.py: uv pip compile failed:\n{proc.stderr}")
    fetched = {normalized(p.name): p for p in parse(proc.stdout, "uv's output") if isinstance(p, Pin)}
    wanted = {normalized(p.name): p.version for p in pins}
    changed = {
        name: (wanted[name], got.version) for name, got in fetched.items() if got.version != wanted[name]
    }
    if changed or set(fetched) != set(wanted):
        raise SystemExit(f"lock.py: uv resolved other versions: {changed or set(wanted) ^ set(fetched)}")
    return {name: pin.hashes for name, pin in fetched.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every pin is hashed (offline)")
    parser.add_argument("files", nargs="*", default=list(LOCKS))
    args = parser.parse_args(argv)
    failed: list[str] = []
    for name in args.files:
        path = ROOT / name
        lines = parse(path.read_text(), name)
        if not args.check:
            pins = [line for line in lines if isinstance(line, Pin)]
            hashes = fetch_hashes(pins)
            for pin in pins:
                pin.hashes = hashes[normalized(pin.name)]
            path.write_text(format_lock(lines))
            print(f"lock.py: {name}: {len(pins)} pins hashed", file=sys.stderr)
        failed += problems(lines, name)
    for problem in failed:
        print(problem, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
