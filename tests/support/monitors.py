"""One way to build a SesMonitor in a test: the document a person would apply, or it loaded.

    monitor_document({"window": "24h"})                    # prod in mail, region us-east-1
    load_monitor({"configurationSets": ["marketing"]}, region="eu-west-1")
    monitor_document(None, name="p", namespace=None, uid="uid-1")   # extra metadata; no namespace

`spec` is merged over `{"region": region}` (region=None leaves the region to `spec`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sesmonitor.api import API_VERSION, KIND, SesMonitor, load


def monitor_document(
    spec: Mapping[str, Any] | None = None,
    *,
    name: str = "prod",
    namespace: str | None = "mail",
    region: str | None = "us-east-1",
    **metadata: Any,
) -> dict[str, Any]:
    """A SesMonitor as a dict; `metadata` adds fields such as uid or generation."""
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace is not None else {})}
    body = {**({"region": region} if region is not None else {}), **(spec or {})}
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta | metadata, "spec": body}


def load_monitor(spec: Mapping[str, Any] | None = None, **kwargs: Any) -> SesMonitor:
    """`monitor_document(spec, **kwargs)` through `sesmonitor.api.load`, so an invalid spec raises."""
    return load(monitor_document(spec, **kwargs))
