"""Generate the SesMonitor CustomResourceDefinition from the pydantic models.

Pydantic's JSON schema is turned into a Kubernetes structural schema: references inlined, titles
dropped, optional fields unwrapped from ``anyOf [T, null]``, int-or-string quantities marked, and a
description on every property so `kubectl explain` helps.
"""

from __future__ import annotations

from typing import Any

from sesmonitor.api.spec import GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION, SesMonitorSpec
from sesmonitor.api.status import SesMonitorStatus

_DROP = {"title", "additionalProperties", "$defs"}


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].split("/")[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        # A property's own description wins over its model's docstring.
        if "description" in node:
            merged["description"] = node["description"]
        return _resolve(merged, defs)
    if "anyOf" in node:
        options = [opt for opt in node["anyOf"] if opt.get("type") != "null"]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if len(options) == 1:
            merged = {**_resolve(options[0], defs), **rest}
            merged.pop("default", None) if rest.get("default") is None else None
            return _resolve(merged, defs)
        if sorted(opt.get("type", "") for opt in options) == ["integer", "string"]:
            return {**rest, "x-kubernetes-int-or-string": True}
        raise ValueError(f"cannot express anyOf {options} in a structural schema")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP and not (key == "additionalProperties" and isinstance(value, dict)):
            continue
        if key == "properties":
            out[key] = {name: _resolve(prop, defs) for name, prop in value.items()}
        elif key == "const":
            out["enum"] = [value]
        elif key == "maxProperties":
            out[key] = value
        else:
            out[key] = _resolve(value, defs)
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    if (
        out.get("type") == "object"
        and "additionalProperties" in node
        and isinstance(node["additionalProperties"], dict)
    ):
        out["additionalProperties"] = _resolve(node["additionalProperties"], defs)
    if out.get("type") == "object" and "maxLength" in out:
        out["maxProperties"] = out.pop("maxLength")
    if out.get("type") == "array" and "maxLength" in out:
        out["maxItems"] = out.pop("maxLength")
    if out.get("default", "") is None:
        del out["default"]
    return out


def openapi_schema(model: type[Any]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    resolved: dict[str, Any] = _resolve(raw, raw.get("$defs", {}))
    return resolved


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Region", "type": "string", "jsonPath": ".spec.region", "description": "AWS region."},
    {"name": "Bounce", "type": "string", "jsonPath": ".status.bounceRate", "description": "Bounce rate."},
    {
        "name": "Complaint",
        "type": "string",
        "jsonPath": ".status.complaintRate",
        "description": "Complaint rate.",
    },
    {
        "name": "Account",
        "type": "string",
        "jsonPath": ".status.enforcementStatus",
        "description": "SES enforcement status.",
    },
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        "description": "The monitor works: reconciled, exporter serving fresh data (not account health).",
    },
    {
        # Why not Ready, in a word: AWSAccessDenied, ImagePullBackOff, Unschedulable, ...
        "name": "Reason",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
        "description": "Ready's reason.",
    },
    {
        "name": "Message",
        "type": "string",
        "priority": 1,  # -o wide
        "jsonPath": '.status.conditions[?(@.type=="Ready")].message',
        "description": "Ready's message: the AWS error, the pod's state.",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def custom_resource_definition() -> dict[str, Any]:
    spec_schema = openapi_schema(SesMonitorSpec)
    status_schema = openapi_schema(SesMonitorStatus)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{PLURAL}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "sesmonitor", "app.kubernetes.io/part-of": "sesmonitor"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": list(SHORT_NAMES),
                "categories": ["all", "monitoring"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": (
                                "SesMonitor watches one AWS SES account's bounce and complaint rates and"
                                " alerts before AWS reviews (5% / 0.1%) or pauses (10% / 0.5%) it."
                            ),
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string", "description": "API version."},
                                "kind": {"type": "string", "description": "Kind."},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }
