"""The one wait helper of the test harness.

A probe returns the value waited for, or says why it is not there yet: ``NotYet("2 of 3 Ready")``
(or any falsy value). An exception from the probe counts as not yet (an API busy for a moment is
retried) and becomes the reason. On timeout the error names what was waited for and the last reason,
the way prometheus-operator's test framework reports its polls, so a failed wait says where it stuck.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class NotYet:
    """A probe's answer when the thing is not ready: falsy, with the reason."""

    reason: str

    def __bool__(self) -> bool:
        return False


def scaled(seconds: float) -> float:
    """``seconds`` times ``SESMONITOR_TIMEOUT_SCALE`` (default 1): `make test-cgroup2`'s QEMU guest runs
    everything several times slower under TCG emulation; on a host the timeouts stay as written."""
    return seconds * float(os.environ.get("SESMONITOR_TIMEOUT_SCALE") or 1)


class WaitTimeout(AssertionError):
    """A wait that ran out; an AssertionError so that pytest reports it as the test's failure."""


def wait_for(
    probe: Callable[[], T | NotYet | None],
    timeout: float,
    what: str,
    interval: float = 1.0,
    *,
    error: type[Exception] = WaitTimeout,
) -> T:
    """Poll ``probe()`` every ``interval`` seconds until it returns something truthy, and return it.

    After ``timeout`` seconds, raise ``error`` naming ``what`` and the probe's last answer."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        try:
            value = probe()
        except Exception as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if value and not isinstance(value, NotYet):
                return value
            last = value.reason if isinstance(value, NotYet) else repr(value)
        if time.monotonic() > deadline:
            raise error(f"timed out after {timeout:.0f}s waiting for {what}; last: {last}")
        time.sleep(interval)
