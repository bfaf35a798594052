"""Percent strings and Prometheus durations: the two scalar formats the SesMonitor API uses.

The regular expressions here are also written into the CRD schema, so the API server and the Python
model accept exactly the same strings.
"""

from __future__ import annotations

import re
from typing import Final

# "5%", "0.1%", "100%": a decimal number of percent, at most 4 decimals.
PERCENT_PATTERN: Final = r"^(0|[1-9][0-9]{0,2})(\.[0-9]{1,4})?%$"
# A Prometheus duration that Go's time.ParseDuration (and so Kubernetes CEL's duration()) reads too:
# hours, minutes and seconds in that order, e.g. "1h", "90s", "1h30m".
DURATION_PATTERN: Final = r"^(([0-9]+h)?([0-9]+m)?([0-9]+s)?)$"
_DURATION_PART: Final = re.compile(r"([0-9]+)([hms])")
_UNIT_SECONDS: Final = {"h": 3600, "m": 60, "s": 1}


def parse_percent(text: str) -> float:
    """Return the number of percent ("14.32%" -> 14.32); ValueError names what is wrong."""
    if not isinstance(text, str) or not re.match(PERCENT_PATTERN, text):
        raise ValueError(f"{text!r} is not a percentage such as '5%' or '0.1%'")
    value = float(text[:-1])
    if not 0 < value <= 100:
        raise ValueError(f"{text!r} must be greater than 0% and at most 100%")
    return value


def format_percent(fraction: float) -> str:
    """0.14321 -> "14.32%": two significant decimals, the precision AWS's console shows."""
    percent = fraction * 100
    text = f"{percent:.4f}" if percent < 0.01 else f"{percent:.2f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text}%"


def parse_duration(text: str) -> int:
    """Return seconds for "1h30m"; ValueError for anything else (including the empty string)."""
    if not isinstance(text, str) or not text or not re.match(DURATION_PATTERN, text):
        raise ValueError(f"{text!r} is not a duration such as '90s', '5m', '1h' or '1h30m'")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def format_duration(seconds: int) -> str:
    """3600 -> "1h", 5400 -> "1h30m", 90 -> "1m30s": the shortest Prometheus form."""
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
