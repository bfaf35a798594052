"""Small, exact PromQL building blocks: quoted selectors, regex alternations, threshold fractions."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from sesmonitor.api import format_duration, parse_duration, parse_percent

_REGEX_SPECIAL: Final = frozenset("\\.+*?()|[]{}^$")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def regex_literal(value: str) -> str:
    """`value` as an RE2 pattern that matches it literally (before PromQL string quoting)."""
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in value)


def any_of(values: Iterable[str]) -> str:
    """An RE2 alternation matching exactly one of `values` (PromQL anchors label regexes)."""
    return "|".join(regex_literal(value) for value in values)


class Matcher:
    """One label matcher: `name op "value"`."""

    __slots__ = ("name", "op", "value")

    def __init__(self, name: str, op: str, value: str) -> None:
        if op not in {"=", "!=", "=~", "!~"}:
            raise ValueError(f"unknown matcher operator {op!r}")
        self.name, self.op, self.value = name, op, value

    def __str__(self) -> str:
        return f"{self.name}{self.op}{quote(self.value)}"


def eq(name: str, value: str) -> Matcher:
    return Matcher(name, "=", value)


def regex(name: str, pattern: str) -> Matcher:
    return Matcher(name, "=~", pattern)


def selector(metric: str, *matchers: Matcher) -> str:
    """`metric{m1,m2}` with the matchers in the order given (so output is deterministic)."""
    return f"{metric}{{{','.join(str(m) for m in matchers)}}}"


def fraction(percent: str) -> str:
    """ "14.32%" -> "0.1432": the exact decimal fraction, free of binary floating point noise."""
    parse_percent(percent)  # validates
    value = (Decimal(percent[:-1]) / 100).normalize()
    return format(value, "f")


def duration(text: str) -> str:
    """A duration in its shortest Prometheus form ("90s" -> "1m30s"); "" for zero."""
    seconds = parse_duration(text)
    return format_duration(seconds) if seconds else ""
