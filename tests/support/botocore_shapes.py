"""Check a stand-in's wire answer against botocore's service model: the reference for every AWS shape.

`problems(doc, shape)` walks a JSON body (as the stand-in sent it, before botocore parses it) against an
output shape of the model botocore loads (the version the lock pins) and lists what AWS would never
send: a member the shape does not have, a value of the wrong type, a string outside its enum or length
bounds, a required member missing. `error_problems` does the same for an error answer of the REST-JSON
protocol (SESv2): its code must be one the operation models, with the model's HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

BODY_LOCATIONS = (None, "", "body")  # members elsewhere (headers, URI, status code) are not in the body


def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def problems(value: Any, shape: Shape, path: str = "$", protocol: str = "rest-json") -> list[str]:
    """Everything in `value` that `shape` does not allow; [] when the value fits."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return [f"{path}: {shape.name} is a structure, got {type(value).__name__}"]
        out = []
        members = {
            name: member
            for name, member in shape.members.items()
            if member.serialization.get("location") in BODY_LOCATIONS
        }
        for name in value:
            if name not in members:
                out.append(f"{path}: {shape.name} has no member {name!r}")
        for name in shape.required_members:
            if name in members and name not in value:
                out.append(f"{path}: required member {name!r} of {shape.name} missing")
        for name, item in value.items():
            if name in members:
                out += problems(item, members[name], f"{path}.{name}", protocol)
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: {shape.name} is a list, got {type(value).__name__}"]
        return [
            p for i, item in enumerate(value) for p in problems(item, shape.member, f"{path}[{i}]", protocol)
        ]
    if isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            return [f"{path}: {shape.name} is a map, got {type(value).__name__}"]
        out = []
        for key, item in value.items():
            out += problems(key, shape.key, f"{path}<key {key!r}>", protocol)
            out += problems(item, shape.value, f"{path}[{key!r}]", protocol)
        return out
    return _scalar_problems(value, shape, path, kind, protocol)


def _scalar_problems(value: Any, shape: Shape, path: str, kind: str, protocol: str) -> list[str]:
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {shape.name} is a string, got {type(value).__name__}"]
        out = []
        enum = shape.enum  # type: ignore[attr-defined]
        if enum and value not in enum:
            out.append(f"{path}: {value!r} is not one of {shape.name}'s values {list(enum)}")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            out.append(f"{path}: {shape.name}'s length must be in [{low}, {high}], got {len(value)}")
        return out
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {shape.name} is an integer, got {value!r}"]
    if kind in ("double", "float"):
        return [] if _number(value) else [f"{path}: {shape.name} is a number, got {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {shape.name} is a boolean, got {value!r}"]
    if kind == "timestamp":
        # REST-JSON bodies carry epoch seconds unless the shape says otherwise.
        iso = shape.serialization.get("timestampFormat", "unixTimestamp" if protocol == "rest-json" else None)
        ok = isinstance(value, str) if iso == "iso8601" else _number(value)
        return [] if ok else [f"{path}: {shape.name} is a timestamp ({iso}), got {value!r}"]
    if kind == "blob":
        return [] if isinstance(value, str) else [f"{path}: {shape.name} is base64 text, got {value!r}"]
    return [f"{path}: shape type {kind} not checked here"]


def error_problems(
    operation: OperationModel, status: int, headers: Mapping[str, str], body: Any
) -> list[str]:
    """What is wrong with a REST-JSON error answer of `operation`: its code (x-amzn-ErrorType, as
    botocore reads it) must be one the operation lists, sent with the model's HTTP status, with a message."""
    lowered = {k.lower(): v for k, v in headers.items()}
    code = lowered.get("x-amzn-errortype", "").split(":", 1)[0]
    errors = {shape.name: shape for shape in operation.error_shapes}
    if code not in errors:
        return [f"{operation.name}: error code {code!r} is not one of {sorted(errors)}"]
    out = []
    modeled = errors[code].metadata.get("error", {}).get("httpStatusCode")
    if modeled is not None and modeled != status:
        out.append(f"{operation.name}: {code} comes with HTTP {modeled}, sent {status}")
    if not isinstance(body, Mapping) or not isinstance(body.get("message"), str):
        out.append(f"{operation.name}: {code} has no message")
    else:
        out += problems({k: v for k, v in body.items() if k != "message"}, errors[code], f"{code}")
    return out
