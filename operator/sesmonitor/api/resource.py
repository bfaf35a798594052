"""A whole SesMonitor object (metadata + spec) and the errors that name the offending field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from sesmonitor.api.spec import API_VERSION, KIND, SesMonitorSpec


class SpecError(ValueError):
    """An invalid SesMonitor; `problems` holds one "field.path: message" line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SesMonitor:
    name: str
    namespace: str
    spec: SesMonitorSpec
    uid: str | None = None
    generation: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """`<namespace>/<name>`: the value of the `sesmonitor` label on every series of this monitor."""
        return f"{self.namespace}/{self.name}"


def _field_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-after") or part in {"str", "int", "lax-or-strict"}:
            continue
        else:
            path += f".{part}"
    return path


def errors_of(exc: ValidationError, prefix: str = "spec") -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "required field is missing"
        problems.append(f"{_field_path(prefix, tuple(error['loc']))}: {message}")
    return problems


def parse_spec(spec: Mapping[str, Any] | None) -> SesMonitorSpec:
    if spec is not None and not isinstance(spec, Mapping):
        raise SpecError([f"spec: must be an object, got {type(spec).__name__}"])
    try:
        return SesMonitorSpec.model_validate(dict(spec or {}))
    except ValidationError as exc:
        raise SpecError(errors_of(exc)) from None


def load(obj: Mapping[str, Any], default_namespace: str = "default") -> SesMonitor:
    """Validate a whole object as read from YAML or the API server."""
    if not isinstance(obj, Mapping):
        raise SpecError([f"document: must be an object, got {type(obj).__name__}"])
    problems = []
    if obj.get("apiVersion") != API_VERSION:
        problems.append(f"apiVersion: must be {API_VERSION}, got {obj.get('apiVersion')!r}")
    if obj.get("kind") != KIND:
        problems.append(f"kind: must be {KIND}, got {obj.get('kind')!r}")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        problems.append(f"metadata: must be an object, got {type(metadata).__name__}")
        metadata = {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        problems.append("metadata.name: required field is missing")
    unknown = sorted(set(obj) - {"apiVersion", "kind", "metadata", "spec", "status"})
    problems.extend(f"{key}: unknown field" for key in unknown)
    spec: SesMonitorSpec | None = None
    try:
        spec = parse_spec(obj.get("spec"))
    except SpecError as exc:
        problems.extend(exc.problems)
    if problems or spec is None:
        raise SpecError(problems)
    return SesMonitor(
        name=str(name),
        namespace=str(metadata.get("namespace") or default_namespace),
        spec=spec,
        uid=metadata.get("uid"),
        generation=metadata.get("generation"),
        labels=dict(metadata.get("labels") or {}),
    )
