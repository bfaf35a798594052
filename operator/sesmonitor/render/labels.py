"""The labels every child object carries, and the subset that selects the exporter pod."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Final

from sesmonitor.api import SesMonitor
from sesmonitor.render.defaults import RenderDefaults

APP_NAME: Final = "sesmonitor-exporter"
PART_OF: Final = "sesmonitor"
MONITOR_LABEL: Final = "sesmonitor.io/monitor"
CONFIG_HASH_ANNOTATION: Final = "sesmonitor.io/config-hash"

# app.kubernetes.io/component values.
COMPONENT_EXPORTER: Final = "exporter"  # ConfigMap, Deployment, pod, Service: the exporter and its config
COMPONENT_MONITORING: Final = "monitoring"  # ServiceMonitor
COMPONENT_ALERTING: Final = "alerting"  # PrometheusRule

MAX_LABEL_VALUE: Final = 63


def label_value(text: str) -> str:
    """`text` when it is a valid label value length, else a prefix plus a hash of the whole.

    A SesMonitor's name is a DNS subdomain (up to 253 characters) but a label value holds 63, so long
    names are shortened the way `child_names` shortens object names: deterministic and still unique.
    """
    if len(text) <= MAX_LABEL_VALUE:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: MAX_LABEL_VALUE - 9].rstrip('-._')}-{digest}"


def selector_labels(monitor: SesMonitor) -> dict[str, str]:
    """The immutable Deployment selector and the Service's pod selector: one monitor's exporter pod."""
    return {
        "app.kubernetes.io/instance": label_value(monitor.name),
        "app.kubernetes.io/name": APP_NAME,
    }


def common_labels(monitor: SesMonitor, defaults: RenderDefaults, component: str) -> dict[str, str]:
    """The app.kubernetes.io/* labels plus `sesmonitor.io/monitor`, on every child object."""
    labels = {
        **selector_labels(monitor),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": defaults.managed_by,
        "app.kubernetes.io/part-of": PART_OF,
        MONITOR_LABEL: label_value(monitor.name),
    }
    return dict(sorted(labels.items()))


def merged(extra: Mapping[str, str], ours: Mapping[str, str]) -> dict[str, str]:
    """User-supplied labels or annotations under ours: a user map can add, never replace, our keys."""
    return dict(sorted({**extra, **ours}.items()))


def child_metadata(
    operator_wide: Mapping[str, str], monitor_own: Mapping[str, str], ours: Mapping[str, str]
) -> dict[str, str]:
    """The labels (or annotations) of a ServiceMonitor or PrometheusRule: the operator-wide ones, the
    SesMonitor's own over them key by key, and ours over both."""
    return merged({**operator_wide, **monitor_own}, ours)
