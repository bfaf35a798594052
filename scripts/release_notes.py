"""The GitHub release's notes: CHANGELOG.md's section for a version, as the release workflow publishes it.

    python3 scripts/release_notes.py 0.2.0 [--changelog CHANGELOG.md] > notes.md

Refuses (exit 1, saying what to change) a version without a section, and a placeholder: a section
whose heading carries no release date (``## [0.2.0] - 2027-01-15``, Keep a Changelog's form, which a
release writes when it moves [Unreleased] under the version) or that lists no change under a
``### Added``/``Changed``/... heading. Link reference definitions (``[0.2.0]: https://...``) are
left out: on a release page they are noise, and the compare links point past the release.

Standard library only: the release job runs it with the runner's python3, before anything is built.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Keep a Changelog 1.1.0's kinds of change.
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?P<rest>.*)$")
DATED = re.compile(r"^ - (?P<date>\d{4}-\d{2}-\d{2})\s*$")
LINK_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s+\S+")
KIND_HEADING = re.compile(r"^### (?P<kind>\w+)\s*$")
ITEM = re.compile(r"^\s*[-*] \S")


class NotesError(ValueError):
    """The changelog cannot give this version's notes; the message says what to change."""


def release_notes(changelog: str, version: str) -> str:
    """The body of ``## [version] - date``, link reference definitions removed, trimmed."""
    lines = changelog.splitlines()
    starts = [(n, m) for n, m in ((n, HEADING.match(line)) for n, line in enumerate(lines)) if m]
    mine = [(n, m) for n, m in starts if m["version"] == version]
    if not mine:
        known = ", ".join(m["version"] for _, m in starts) or "none"
        raise NotesError(f"CHANGELOG.md has no section ## [{version}] (sections: {known})")
    if len(mine) > 1:
        raise NotesError(f"CHANGELOG.md has {len(mine)} sections ## [{version}]")
    (start, heading), *_ = mine
    dated = DATED.match(heading["rest"])
    if not dated:
        raise NotesError(
            f"CHANGELOG.md: ## [{version}] has no release date, so it is still a placeholder: move the"
            f" [Unreleased] entries under it and write the heading as ## [{version}] - YYYY-MM-DD"
        )
    try:
        datetime.date.fromisoformat(dated["date"])
    except ValueError:
        raise NotesError(f"CHANGELOG.md: ## [{version}]: {dated['date']!r} is not a date") from None
    end = next((n for n, _ in starts if n > start), len(lines))
    body = [line for line in lines[start + 1 : end] if not LINK_REFERENCE.match(line)]
    kind, listed = None, 0
    for line in body:
        if match := KIND_HEADING.match(line):
            kind = match["kind"]
            if kind not in KINDS:
                raise NotesError(f"CHANGELOG.md: ## [{version}]: ### {kind} is none of {', '.join(KINDS)}")
        elif kind and ITEM.match(line):
            listed += 1
    if not listed:
        raise NotesError(
            f"CHANGELOG.md: ## [{version}] lists no change under ### {' / '.join(KINDS)}: a placeholder"
        )
    return "\n".join(body).strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print CHANGELOG.md's section for VERSION.")
    parser.add_argument("version", help="e.g. 0.2.0 (the tag without its v)")
    parser.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    args = parser.parse_args(argv)
    try:
        notes = release_notes(args.changelog.read_text(), args.version.removeprefix("v"))
    except NotesError as exc:
        print(f"release_notes.py: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
