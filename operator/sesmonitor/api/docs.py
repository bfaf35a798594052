"""Render the SesMonitor reference (docs/configuration.md) from the CRD schema, so it cannot drift."""

from __future__ import annotations

from typing import Any

from sesmonitor.api.crd import custom_resource_definition


def _type_of(node: dict[str, Any]) -> str:
    if node.get("x-kubernetes-int-or-string"):
        return "int or string"
    kind = str(node.get("type", "object"))
    if kind == "array":
        return f"list of {_type_of(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map of {_type_of(node['additionalProperties'])}"
    return kind


def _constraints(node: dict[str, Any]) -> str:
    parts = []
    if "enum" in node:
        parts.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    for key, label in (
        ("minimum", ">="),
        ("maximum", "<="),
        ("maxLength", "max length"),
        ("maxItems", "max items"),
        ("maxProperties", "max entries"),
    ):
        if key in node:
            parts.append(f"{label} {node[key]}")
    parts.extend(f"rule: {rule['message']}" for rule in node.get("x-kubernetes-validations", []))
    return "; ".join(parts).replace("|", "\\|")


def _rows(node: dict[str, Any], path: str, required: bool) -> list[str]:
    default = node.get("default")
    default_text = "" if default in (None, {}) else f"`{default}`"
    rows = [
        f"| `{path}` | {_type_of(node)} | {'yes' if required else ''} | {default_text} "
        f"| {node.get('description', '')} | {_constraints(node)} |"
    ]
    needed = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        rows.extend(_rows(prop, f"{path}.{name}", name in needed))
    items = node.get("items", {})
    for name, prop in items.get("properties", {}).items():
        rows.extend(_rows(prop, f"{path}[].{name}", name in set(items.get("required", []))))
    return rows


def configuration_reference() -> str:
    schema = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    header = "| field | type | required | default | description | constraints |\n|---|---|---|---|---|---|"
    spec_rows = "\n".join(_rows(schema["properties"]["spec"], "spec", True))
    status_rows = "\n".join(_rows(schema["properties"]["status"], "status", False))
    return (
        "# SesMonitor reference\n\n"
        "Generated from the CRD schema by `sesmonitor docs` (`make docs`); a test fails when it is stale.\n"
        "The same text is available in a cluster with `kubectl explain sesmonitor.spec --recursive`.\n\n"
        f"## Spec\n\n{header}\n{spec_rows}\n\n## Status\n\n{header}\n{status_rows}\n"
    )
