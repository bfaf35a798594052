"""The few Kubernetes API calls the operator makes, over the official client's REST layer.

Only GET, server-side apply (PATCH application/apply-patch+yaml), merge-patch of the status
subresource, and a list of one exporter's pods by label when it cannot be reached (to say why): no
watch or delete (kopf does the watching of SesMonitors; garbage collection deletes children).
Errors become `KubeError`, which says whether the object or its whole resource type (a missing CRD)
was not found; each is also reported to ``on_error(operation, status)`` (the operator's metrics),
except the 404 of a GET that finds no such object, which is an answer, not a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol
from urllib.parse import quote

from sesmonitor.api import API_VERSION, PLURAL

# The kinds `render` produces, plus our own. A kind not listed here is a programming error.
PLURALS: Final[Mapping[tuple[str, str], str]] = {
    ("v1", "ConfigMap"): "configmaps",
    ("v1", "Service"): "services",
    ("apps/v1", "Deployment"): "deployments",
    ("v1", "Pod"): "pods",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitors",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrules",
    (API_VERSION, "SesMonitor"): PLURAL,
    # Read only, for the peering state (sesmonitor.operator.peering).
    ("kopf.dev/v1", "ClusterKopfPeering"): "clusterkopfpeerings",
    ("kopf.dev/v1", "KopfPeering"): "kopfpeerings",
}
CLUSTER_SCOPED: Final = frozenset({"ClusterKopfPeering"})

REQUEST_TIMEOUT: Final = (5.0, 30.0)


class KubeError(Exception):
    """A failed API call: HTTP ``status`` (0 for no answer), ``reason`` (e.g. NotFound, Forbidden,
    Invalid, Conflict) and the API server's message."""

    def __init__(self, status: int, reason: str, message: str, *, type_missing: bool = False) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        # 404 because the resource type itself is not served (its CRD is not installed).
        self.type_missing = type_missing


class Api(Protocol):
    """What reconcile needs from the API server (a fake in unit tests)."""

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def apply(self, obj: Mapping[str, Any], field_manager: str) -> dict[str, Any]: ...

    def list_objects(
        self, api_version: str, kind: str, namespace: str, selector: Mapping[str, str]
    ) -> list[dict[str, Any]]: ...

    def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    def patch_metadata(
        self, api_version: str, kind: str, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]: ...


def resource_path(api_version: str, kind: str, namespace: str, name: str, subresource: str = "") -> str:
    """The object's path; with an empty ``name``, the collection's."""
    try:
        plural = PLURALS[(api_version, kind)]
    except KeyError:
        raise ValueError(f"the operator does not manage {kind} ({api_version})") from None
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if kind in CLUSTER_SCOPED:
        path = f"{prefix}/{plural}"
    else:
        path = f"{prefix}/namespaces/{quote(namespace, safe='')}/{plural}"
    if name:
        path += f"/{quote(name, safe='')}"
    return f"{path}/{subresource}" if subresource else path


def _error(status: int, body: str, name: str, fallback: str) -> KubeError:
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        doc = {}
    if not isinstance(doc, dict) or doc.get("kind") != "Status":
        # e.g. "404 page not found" for an API group that is not served at all.
        message = (body or fallback).strip()[:500]
        return KubeError(status, fallback, message, type_missing=status == 404)
    reason = str(doc.get("reason") or fallback)
    message = str(doc.get("message") or body)[:2000]
    details = doc.get("details") or {}
    type_missing = status == 404 and details.get("name") != name
    return KubeError(status, reason, message, type_missing=type_missing)


class KubeApi:
    """`Api` over ``kubernetes.client.ApiClient`` (thread-safe; one per operator). ``on_error``:
    called with the operation (get, list, apply, patch_status, patch_metadata, create_event) and the
    HTTP status (0: no answer) of every failed call."""

    def __init__(self, api_client: Any, on_error: Callable[[str, int], None] | None = None) -> None:
        self._client = api_client
        self._on_error = on_error

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        name: str,
        *,
        body: Any = None,
        content_type: str | None = None,
        query: list[tuple[str, str]] | None = None,
        absent_ok: bool = False,
    ) -> dict[str, Any]:
        try:
            return self._request(method, path, name, body=body, content_type=content_type, query=query)
        except KubeError as exc:
            absent = absent_ok and exc.status == 404 and not exc.type_missing
            if self._on_error is not None and not absent:
                self._on_error(operation, exc.status)
            raise

    def _request(
        self,
        method: str,
        path: str,
        name: str,
        *,
        body: Any = None,
        content_type: str | None = None,
        query: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self._client.call_api(
                path,
                method,
                query_params=query or [],
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                response_types_map={},
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            body_text = exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body or "")
            raise _error(int(exc.status or 0), body_text, name, str(exc.reason or "Error")) from None
        except OSError as exc:  # connection refused, TLS, timeouts (urllib3 errors are OSErrors)
            raise KubeError(0, "ConnectionError", str(exc)) from None
        except Exception as exc:  # urllib3's MaxRetryError and friends
            raise KubeError(0, type(exc).__name__, str(exc)) from None
        data: bytes = response.data
        parsed: dict[str, Any] = json.loads(data) if data else {}
        return parsed

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._call(
                "get", "GET", resource_path(api_version, kind, namespace, name), name, absent_ok=True
            )
        except KubeError as exc:
            if exc.status == 404 and not exc.type_missing:
                return None
            raise

    def namespace_uid(self, name: str) -> str:
        """A namespace's UID (the kube-system one names the cluster: it lives as long as the cluster)."""
        doc = self._call("get", "GET", f"/api/v1/namespaces/{quote(name, safe='')}", name)
        return str((doc.get("metadata") or {}).get("uid") or "")

    def list_objects(
        self, api_version: str, kind: str, namespace: str, selector: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        labels = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        doc = self._call(
            "list",
            "GET",
            resource_path(api_version, kind, namespace, ""),
            "",
            query=[("labelSelector", labels)],
        )
        return [item for item in doc.get("items") or [] if isinstance(item, dict)]

    def apply(self, obj: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        meta = obj["metadata"]
        path = resource_path(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])
        return self._call(
            "apply",
            "PATCH",
            path,
            meta["name"],
            body=dict(obj),
            content_type="application/apply-patch+yaml",
            query=[("fieldManager", field_manager), ("force", "true")],
        )

    def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._call(
            "patch_status",
            "PATCH",
            resource_path(api_version, kind, namespace, name, "status"),
            name,
            body={"status": dict(status)},
            content_type="application/merge-patch+json",
        )

    def patch_metadata(
        self, api_version: str, kind: str, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A merge patch of the object's metadata (e.g. removing an annotation with a null)."""
        return self._call(
            "patch_metadata",
            "PATCH",
            resource_path(api_version, kind, namespace, name),
            name,
            body={"metadata": dict(metadata)},
            content_type="application/merge-patch+json",
        )

    def create_event(self, namespace: str, event: Mapping[str, Any]) -> dict[str, Any]:
        """A core/v1 Event in the namespace (``events.event_body`` builds it)."""
        name = str(event.get("involvedObject", {}).get("name", ""))
        return self._call(
            "create_event",
            "POST",
            f"/api/v1/namespaces/{quote(namespace, safe='')}/events",
            name,
            body=dict(event),
            content_type="application/json",
        )


def load_api_client() -> Any:
    """An ApiClient for the in-cluster ServiceAccount, else the kubeconfig (``KUBECONFIG``)."""
    import kubernetes

    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    return kubernetes.client.ApiClient(configuration)
