"""Documentation that must name every alert the rules can render."""

from __future__ import annotations

from pathlib import Path

from sesmonitor.render import rules

ROOT = Path(__file__).resolve().parents[2]


def test_every_alert_is_documented() -> None:
    text = (ROOT / "docs" / "alerts.md").read_text()
    names = [value for key, value in vars(rules).items() if key.isupper() and str(value).startswith("SES")]
    assert len(names) >= 11
    for name in names:
        assert f"### {name}" in text or f", {name} (" in text or f"{name}," in text, name
