"""scripts/release_notes.py on this repository's CHANGELOG.md, and the release workflow around it: it
waits for ci.yml on the tagged commit, takes its notes from the script before anything is built, and
creates a draft release."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
SCRIPT = ROOT / "scripts" / "release_notes.py"
RELEASE = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_notes", SCRIPT)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notes = _script()


def released(changelog: str, version: str, date: str) -> str:
    """CHANGELOG.md as a release leaves it: [Unreleased]'s entries under ``## [version] - date``, the
    placeholder section gone, the link references kept."""
    without_placeholder = re.sub(
        rf"^## \[{re.escape(version)}\]\n.*?(?=^\[Unreleased\]: )", "", changelog, flags=re.M | re.S
    )
    return without_placeholder.replace(
        "## [Unreleased]\n", f"## [Unreleased]\n\n## [{version}] - {date}\n", 1
    )


def test_this_changelogs_0_1_0_section_is_a_placeholder_and_refused() -> None:
    assert "## [0.1.0]\n" in CHANGELOG  # the undated "not tagged yet" section
    with pytest.raises(notes.NotesError, match=r"## \[0.1.0\] has no release date"):
        notes.release_notes(CHANGELOG, "0.1.0")


def test_releasing_the_unreleased_entries_gives_them_as_notes_without_link_references() -> None:
    changelog = released(CHANGELOG, "0.1.0", "2026-12-04")
    text = notes.release_notes(changelog, "0.1.0")
    unreleased = CHANGELOG.split("## [Unreleased]\n", 1)[1].split("\n## [", 1)[0].strip()
    assert text == unreleased + "\n"
    assert text.startswith("### Added\n")
    assert "### Security" in text
    assert "**SES events**" in text
    assert not re.search(r"^\[[^\]]+\]: ", text, re.M), "link references left in the notes"
    assert "## [" not in text
    # A real release heading still has its link reference in CHANGELOG.md itself.
    assert "[0.1.0]: https://github.com/sesmonitor/sesmonitor/releases/tag/v0.1.0" in changelog


def test_the_last_sections_link_references_are_stripped_inline_links_kept() -> None:
    changelog = (
        "# Changelog\n\n## [0.2.0] - 2027-01-15\n\n### Fixed\n\n- The [docs](https://example.com/d) link.\n"
        "\n## [0.1.0] - 2026-12-04\n\n### Added\n\n- First.\n\n"
        "[0.2.0]: https://example.com/compare/v0.1.0...v0.2.0\n[0.1.0]: https://example.com/v0.1.0\n"
    )
    assert (
        notes.release_notes(changelog, "0.2.0") == "### Fixed\n\n- The [docs](https://example.com/d) link.\n"
    )
    assert notes.release_notes(changelog, "0.1.0") == "### Added\n\n- First.\n"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("## [0.2.0] - 2027-01-15\n\nNothing yet.\n", "lists no change"),
        ("## [0.2.0] - 2027-01-15\n\n### Added\n\n", "lists no change"),
        ("## [0.2.0] - 2027-01-15\n\n- Loose item, no kind.\n", "lists no change"),
        ("## [0.2.0] - 2027-02-30\n\n### Added\n\n- x\n", "is not a date"),
        ("## [0.2.0] - soon\n\n### Added\n\n- x\n", "has no release date"),
        ("## [0.2.0] - 2027-01-15\n\n### Improved\n\n- x\n", "### Improved is none of"),
        ("## [0.2.1] - 2027-01-15\n\n### Added\n\n- x\n", r"no section ## \[0.2.0\] \(sections: 0.2.1\)"),
        ("## [0.2.0] - 2027-01-15\n\n### Added\n\n- x\n\n## [0.2.0] - 2027-01-16\n", "2 sections"),
    ],
)
def test_placeholders_and_missing_sections_are_refused(section: str, message: str) -> None:
    with pytest.raises(notes.NotesError, match=message):
        notes.release_notes(f"# Changelog\n\n{section}", "0.2.0")


def test_the_command_prints_the_notes_or_says_why_not(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, str(SCRIPT), "v0.1.0"], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "no release date" in refused.stderr
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(released(CHANGELOG, "0.1.0", "2026-12-04"))
    ok = subprocess.run(
        [sys.executable, str(SCRIPT), "v0.1.0", "--changelog", str(changelog)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == notes.release_notes(changelog.read_text(), "0.1.0")


# --------------------------------------------------------------------------------------------------
# release.yml
# --------------------------------------------------------------------------------------------------


def _steps(job: str) -> list[dict[str, str]]:
    return list(RELEASE["jobs"][job]["steps"])


def test_the_release_waits_for_ci_on_the_tagged_commit() -> None:
    jobs = RELEASE["jobs"]
    assert jobs["release"]["needs"] == "tested"
    (wait,) = [step for step in _steps("tested") if "run" in step]
    assert "actions/workflows/ci.yml/runs?head_sha=$GITHUB_SHA" in wait["run"]
    assert "[[ $conclusion == success ]]" in wait["run"]  # completed is not enough: green
    assert jobs["tested"]["permissions"] == {"actions": "read"}
    # The wait outlasts ci.yml's longest job, which it may start waiting for at its beginning.
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    longest = max(job["timeout-minutes"] for job in ci["jobs"].values())
    assert jobs["tested"]["timeout-minutes"] > longest


def test_the_notes_come_from_the_script_before_anything_is_published() -> None:
    steps = _steps("release")
    runs = [step.get("run", "") for step in steps]
    notes_at = next(n for n, run in enumerate(runs) if "scripts/release_notes.py" in run)
    first_push = next(n for n, step in enumerate(steps) if "docker/" in step.get("uses", ""))
    assert notes_at < first_push, "the notes are checked only after the image was pushed"
    (create,) = [run for run in runs if "gh release create" in run]
    assert "--draft" in create
    assert '--notes-file "$RUNNER_TEMP/notes.md"' in create
    assert "awk" not in "".join(runs), "the notes are cut from CHANGELOG.md by the script only"
