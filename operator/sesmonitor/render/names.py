"""Child object names derived from the SesMonitor's name, within Kubernetes length limits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

# Service names are DNS-1035 labels (63 characters, starting with a letter); the other children follow
# the same limit so one base name serves them all.
MAX_NAME: Final = 63
PREFIX: Final = "sesmon-"


@dataclass(frozen=True)
class ChildNames:
    base: str
    config_map: str
    deployment: str
    service: str
    service_monitor: str
    prometheus_rule: str


def _fit(name: str, limit: int, original: str, force_hash: bool = False) -> str:
    if len(name) <= limit and not force_hash:
        return name
    digest = hashlib.sha256(original.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-.')}-{digest}"


def child_names(monitor_name: str) -> ChildNames:
    """All children share one name: `sesmon-<name>`, shortened with a hash suffix past 63 characters.

    The prefix makes the name a valid DNS-1035 label even when the SesMonitor's name starts with a digit,
    and keeps it unique per SesMonitor within the namespace.
    """
    # Dots are not allowed in a Service name; the hash keeps "a.b" and "a-b" apart.
    base = _fit(
        PREFIX + monitor_name.replace(".", "-"), MAX_NAME, monitor_name, force_hash="." in monitor_name
    )
    return ChildNames(
        base=base,
        config_map=base,
        deployment=base,
        service=base,
        service_monitor=base,
        prometheus_rule=base,
    )
