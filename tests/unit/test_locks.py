"""The Python locks are hashed (pip's hash-checking mode: the image's ``--require-hashes`` build, and
every ``-r`` of a hashed lock), and scripts/lock.py, which writes the hashes, keeps them as they are."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lock_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_script", ROOT / "scripts" / "lock.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


lock = _lock_script()
DIGEST_A, DIGEST_B = "a" * 64, "b" * 64


@pytest.mark.parametrize("name", lock.LOCKS)
def test_every_pin_is_exact_and_hashed(name: str) -> None:
    lines = lock.parse((ROOT / name).read_text(), name)
    pins = [line for line in lines if isinstance(line, lock.Pin)]
    assert lock.problems(lines, name) == []
    if name == "requirements-build.lock":  # the image's installers only
        assert sorted(pin.name for pin in pins) == ["pip", "setuptools"]
        return
    assert len(pins) > 30, name
    # sha256 of every file of the pinned version: a package with compiled parts has more than one.
    assert max(len(pin.hashes) for pin in pins) > 10, name


@pytest.mark.parametrize("name", lock.LOCKS)
def test_the_script_rewrites_each_lock_unchanged(name: str) -> None:
    """Parsing and formatting is lossless: re-hashing changes hashes only, never pins or comments."""
    text = (ROOT / name).read_text()
    assert lock.format_lock(lock.parse(text, name)) == text


def test_the_dev_lock_builds_on_the_runtime_lock_without_repinning_it() -> None:
    runtime = {lock.normalized(p.name) for p in lock.parse((ROOT / "requirements.lock").read_text())
               if isinstance(p, lock.Pin)}  # fmt: skip
    dev_lines = lock.parse((ROOT / "requirements-dev.lock").read_text())
    assert "-r requirements.lock" in dev_lines
    dev = {lock.normalized(p.name) for p in dev_lines if isinstance(p, lock.Pin)}
    assert runtime & dev == set()


def test_parse_and_format_a_pin_with_a_note() -> None:
    text = f"# head\n-r base.lock\n\nfoo_bar==1.0  # why\nbaz==2.0 \\\n    --hash=sha256:{DIGEST_B}\n"
    lines = lock.parse(text)
    assert lines[:3] == ["# head", "-r base.lock", ""]
    foo, baz = lines[3:]
    assert (foo.name, foo.version, foo.hashes, foo.notes) == ("foo_bar", "1.0", [], ["why"])
    assert (baz.name, baz.version, baz.hashes) == ("baz", "2.0", [DIGEST_B])
    assert lock.problems(lines) == ["lock: foo_bar==1.0 has no --hash"]
    foo.hashes = [DIGEST_B, DIGEST_A, DIGEST_B]
    assert lock.format_lock(lines) == (
        f"# head\n-r base.lock\n\nfoo_bar==1.0 \\\n    --hash=sha256:{DIGEST_B} \\\n"
        f"    --hash=sha256:{DIGEST_A}\n    # why\nbaz==2.0 \\\n    --hash=sha256:{DIGEST_B}\n"
    )
    assert lock.problems(
        lock.parse(lock.format_lock(lines) + "Foo.Bar==1.1 \\\n    --hash=sha256:" + DIGEST_A)
    ) == ["lock: Foo.Bar is pinned twice"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo>=1.0\n", "not an exact pin"),
        ("foo==1.0 --hash=md5:abc\n", "only --hash=sha256"),
    ],
)
def test_what_is_not_a_hashed_pin_is_refused(text: str, message: str) -> None:
    with pytest.raises(lock.LockError, match=message):
        lock.parse(text, "x.lock")
