"""Bring the rendered children into the cluster, writing only when something differs.

For every child: GET it; if it is missing, create it; if it differs from the rendered object in a
field we set, apply it; otherwise do nothing. Writing is server-side apply with our field manager
and ``force``, so fields we stop rendering are removed and hand edits of our fields are overwritten;
the read-and-compare in front of it is what makes a pass over unchanged children write nothing
(server-side apply itself always costs a write request, even when it changes nothing).

The comparison (`differences`) is pure: the rendered object must be contained in the live one, which
the API server fills with defaults (a Service's clusterIP, a container's terminationMessagePath, ...).
A hash of the rendered object, kept in an annotation, catches what containment cannot: a field or
list item we rendered before and no longer do.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sesmonitor.operator.kube import Api, KubeError

RENDERED_HASH_ANNOTATION: Final = "sesmonitor.io/rendered-hash"
# Fields an older installed CRD may lack, so that the API server prunes them from every write
# (prometheus-operator's Rule gained keep_firing_for in v0.69). Re-applying cannot bring such a field
# back: once the live object carries this rendering's hash and lacks only such fields, it is as
# rendered as the cluster allows, and the report says which were dropped instead of writing again.
PRUNABLE_FIELDS: Final = frozenset({"keep_firing_for"})
# Map keys under which values are Kubernetes quantities ("1" == "1000m", 1 == "1").
_QUANTITY_PARENTS: Final = frozenset({"requests", "limits"})
_SUFFIXES: Final = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}  # fmt: skip


@dataclass(frozen=True)
class OwnerReference:
    api_version: str
    kind: str
    name: str
    uid: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


@dataclass(frozen=True)
class ChildFailure:
    kind: str
    name: str
    error: KubeError

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.error.message}"


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[ChildFailure] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)  # "<kind> <name>: <field> (<n> times)"
    # "<kind> <name>" -> the object as read, or as the API server returned our write: the GET is made
    # anyway, and the Deployment's says whether the exporter is rolled out.
    live: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        parts = []
        if self.created:
            parts.append("created " + ", ".join(self.created))
        if self.updated:
            parts.append("updated " + ", ".join(self.updated))
        if self.failed:
            parts.append("failed " + "; ".join(str(f) for f in self.failed))
        return "; ".join(parts) or "all children are as rendered"


# --------------------------------------------------------------------------------------------------
# Pure: preparing and comparing
# --------------------------------------------------------------------------------------------------


def rendered_hash(obj: Mapping[str, Any]) -> str:
    """A digest of the rendered object without our own annotation."""
    clean = copy.deepcopy(dict(obj))
    annotations = clean.get("metadata", {}).get("annotations") or {}
    annotations.pop(RENDERED_HASH_ANNOTATION, None)
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def prepare(obj: Mapping[str, Any], owner: OwnerReference | None) -> dict[str, Any]:
    """The object to apply: the rendered one plus our owner reference and the rendered-hash annotation."""
    desired = copy.deepcopy(dict(obj))
    meta = desired.setdefault("metadata", {})
    if owner is not None:
        refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != owner.uid]
        meta["ownerReferences"] = [owner.as_dict(), *refs]
    digest = rendered_hash(desired)
    meta["annotations"] = {**(meta.get("annotations") or {}), RENDERED_HASH_ANNOTATION: digest}
    return desired


def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity ("100m", "64Mi", "1e3", 2) as a Decimal; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            number, multiplier = text[: -len(suffix)], _SUFFIXES[suffix]
            break
    else:
        number, multiplier = text, Decimal(1)
    try:
        return Decimal(number) * multiplier
    except InvalidOperation:
        return None


def _empty(value: Any) -> bool:
    return value is None or value in ({}, [])


def _scalar_equal(desired: Any, live: Any, quantity: bool) -> bool:
    if desired == live and type(desired) is type(live):
        return True
    if isinstance(desired, bool) or isinstance(live, bool):
        return False
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return bool(desired == live)
    if quantity:
        a, b = parse_quantity(desired), parse_quantity(live)
        return a is not None and a == b
    return False


def _keyed_by_name(items: Sequence[Any]) -> bool:
    return bool(items) and all(isinstance(i, Mapping) and isinstance(i.get("name"), str) for i in items)


def _compare(
    desired: Any,
    live: Any,
    path: str,
    out: list[str],
    quantity: bool = False,
    *,
    missing: list[str] | None = None,
) -> None:
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            if not (_empty(desired) and live is None):
                out.append(path or ".")
            return
        for key, value in desired.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in live:
                if not _empty(value):
                    out.append(sub)
                    if missing is not None:
                        missing.append(sub)
                continue
            _compare(value, live[key], sub, out, key in _QUANTITY_PARENTS or quantity, missing=missing)
        return
    if isinstance(desired, list):
        if not isinstance(live, list):
            if not (desired == [] and live is None):
                out.append(path)
            return
        if _keyed_by_name(desired) and _keyed_by_name(live):
            # Containers, ports, volumes, rule groups...: each rendered item must be there, by name.
            # Items others added (a sidecar injected by a webhook) are left alone.
            live_by_name = {item["name"]: item for item in live}
            for item in desired:
                sub = f"{path}[{item['name']}]"
                if item["name"] not in live_by_name:
                    out.append(sub)
                else:
                    _compare(item, live_by_name[item["name"]], sub, out, missing=missing)
            return
        if len(desired) != len(live):
            out.append(path)
            return
        for index, (want, have) in enumerate(zip(desired, live, strict=True)):
            _compare(want, have, f"{path}[{index}]", out, quantity, missing=missing)
        return
    if not _scalar_equal(desired, live, quantity):
        out.append(path)


def _compare_owner_references(desired: Sequence[Any], live: Sequence[Any], out: list[str]) -> None:
    by_uid = {ref.get("uid"): ref for ref in live if isinstance(ref, Mapping)}
    for ref in desired:
        have = by_uid.get(ref.get("uid"))
        if have is None:
            out.append(f"metadata.ownerReferences[{ref.get('uid')}]")
        else:
            _compare(ref, have, f"metadata.ownerReferences[{ref.get('uid')}]", out)


def differences(
    desired: Mapping[str, Any], live: Mapping[str, Any], missing: list[str] | None = None
) -> list[str]:
    """Paths of fields the rendered object sets that the live object does not have as rendered.

    Empty when the live object contains the rendered one: it may carry more (defaults, status,
    labels others added), but every field we set has our value. `missing`, when given, collects the
    paths among them that the live object lacks altogether.
    """
    out: list[str] = []
    meta, live_meta = desired.get("metadata") or {}, live.get("metadata") or {}
    for key in ("labels", "annotations"):
        _compare(meta.get(key) or {}, live_meta.get(key) or {}, f"metadata.{key}", out)
    _compare_owner_references(meta.get("ownerReferences") or [], live_meta.get("ownerReferences") or [], out)
    for key, value in desired.items():
        if key in {"apiVersion", "kind", "metadata", "status"}:
            continue
        if key not in live:
            if not _empty(value):
                out.append(key)
                if missing is not None:
                    missing.append(key)
            continue
        _compare(value, live[key], key, out, missing=missing)
    return out


def pruned_fields(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Paths of PRUNABLE_FIELDS the rendered object sets and the live one lacks altogether."""
    missing: list[str] = []
    differences(desired, live, missing)
    return [path for path in missing if path.rsplit(".", 1)[-1] in PRUNABLE_FIELDS]


def _hash_of(obj: Mapping[str, Any]) -> str | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(RENDERED_HASH_ANNOTATION)
    return value if isinstance(value, str) else None


def _describe_pruned(label: str, paths: Sequence[str]) -> str:
    names = sorted({path.rsplit(".", 1)[-1] for path in paths})
    return f"{label}: {', '.join(names)} dropped by the installed CRD ({len(paths)} fields)"


# --------------------------------------------------------------------------------------------------
# Against the API server
# --------------------------------------------------------------------------------------------------


def apply_children(
    api: Api,
    children: Sequence[Mapping[str, Any]],
    owner: OwnerReference | None,
    field_manager: str,
) -> ApplyReport:
    """Create missing children and re-apply differing ones; touch nothing that is as rendered.

    Every child is attempted even when an earlier one fails (a missing ServiceMonitor CRD should
    not keep the exporter from running); failures are collected in the report.
    """
    report = ApplyReport()
    for child in children:
        desired = prepare(child, owner)
        meta = desired["metadata"]
        label = f"{desired['kind']} {meta['name']}"
        try:
            live = api.get(desired["apiVersion"], desired["kind"], meta["namespace"], meta["name"])
            if live is None:
                stored = api.apply(desired, field_manager)
                report.created.append(label)
                report.live[label] = stored
                if dropped := pruned_fields(desired, stored):
                    report.pruned.append(_describe_pruned(label, dropped))
                continue
            report.live[label] = live
            changed = differences(desired, live)
            dropped = pruned_fields(desired, live)
            if dropped and _hash_of(live) == _hash_of(desired):
                # This rendering was applied and the server dropped these: writing again changes nothing.
                changed = [path for path in changed if path not in dropped]
                report.pruned.append(_describe_pruned(label, dropped))
            if changed:
                stored = api.apply(desired, field_manager)
                report.live[label] = stored
                shown = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
                report.updated.append(f"{label} ({shown})")
                if dropped := pruned_fields(desired, stored):
                    report.pruned = [p for p in report.pruned if not p.startswith(f"{label}:")]
                    report.pruned.append(_describe_pruned(label, dropped))
            else:
                report.unchanged.append(label)
        except KubeError as exc:
            report.failed.append(ChildFailure(desired["kind"], meta["name"], exc))
    return report
