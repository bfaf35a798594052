"""Operator settings: from flags, falling back to environment variables, falling back to defaults.

Every flag of ``sesmonitor-operator`` has an ``SESMONITOR_*`` variable so the Helm chart can set it
either way. Settings are plain data, read once at startup and passed to the handlers through kopf's
``memo``.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sesmonitor.api import parse_duration
from sesmonitor.contract import EXPORTER_PORT, STATUS_PATH
from sesmonitor.listen import ALL_INTERFACES
from sesmonitor.operator.policy import ExporterPolicy
from sesmonitor.render import RenderDefaults

DEFAULT_RECONCILE_INTERVAL: Final = 60.0
# Threads running reconciles (and every other sync handler). kopf's default is Python's
# min(32, CPUs + 4) of the node, whatever the pod's CPU limit: 32 on a large node. Measured on two
# cores (docs/benchmarks.md, "Operator"), more than 6 bought no throughput (the API server is the
# bottleneck) but doubled its latency and added memory; so a fixed 6, whatever the node.
DEFAULT_HANDLER_WORKERS: Final = 6
# How long kopf waits for the watch to deliver its own annotation patch before it handles an older
# event as if it were current. kopf's 5 s default is shorter than the handler queue under a burst,
# after which the status write's event looked like a SesMonitor never handled: a second reconcile
# and a second annotation patch for nearly every monitor (docs/benchmarks.md).
DEFAULT_CONSISTENCY_TIMEOUT: Final = 60.0
# Reached through the exporter's Service; `{service}`, `{namespace}`, `{name}` (the SesMonitor) and
# `{port}` are filled in. Out of the cluster (or in tests) point it anywhere, e.g. http://127.0.0.1:9435.
DEFAULT_EXPORTER_URL_TEMPLATE: Final = "http://{service}.{namespace}.svc:{port}"
FIELD_MANAGER: Final = "sesmonitor-operator"
# Annotation prefix for kopf's own bookkeeping (progress of retried handlers, last handled spec).
KOPF_PREFIX: Final = "operator.sesmonitor.io"


class SettingsError(ValueError):
    """A flag or environment variable has a value the operator cannot use."""


def parse_seconds(text: str, what: str) -> float:
    """ "90", "90s", "1m30s", "0.5" -> seconds."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        try:
            value = float(parse_duration(text))
        except ValueError:
            raise SettingsError(f"{what}: {text!r} is neither seconds nor a duration such as 90s") from None
    if value <= 0:
        raise SettingsError(f"{what}: must be positive, got {text!r}")
    return value


def _positive_int(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise SettingsError(f"{what}: {text!r} is not a whole number") from None
    if value < 1:
        raise SettingsError(f"{what}: must be at least 1, got {text!r}")
    return value


def parse_exporter_resources(text: str, what: str) -> tuple[dict[str, str], dict[str, str]]:
    """``{"requests": {"cpu": "10m"}, "limits": {"memory": "128Mi"}}`` -> (requests, limits)."""
    try:
        value = json.loads(text)
    except ValueError:
        raise SettingsError(f"{what}: not JSON: {text!r}") from None
    if not isinstance(value, dict) or not set(value) <= {"requests", "limits"}:
        raise SettingsError(f"{what}: expected an object with requests and/or limits, got {text!r}")
    parts = []
    for key in ("requests", "limits"):
        entries = value.get(key) or {}
        if not isinstance(entries, dict):
            raise SettingsError(f"{what}: {key} must be an object of quantities, got {entries!r}")
        parts.append({str(k): str(v) for k, v in entries.items()})
    return parts[0], parts[1]


def parse_string_map(text: str, what: str) -> dict[str, str]:
    """``{"release": "kube-prometheus-stack"}`` -> that map; strings only, as labels and annotations are."""
    try:
        value = json.loads(text)
    except ValueError:
        raise SettingsError(f"{what}: not JSON: {text!r}") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SettingsError(f"{what}: expected an object of strings, got {text!r}")
    return dict(value)


# The chart's serviceMonitor.* and prometheusRule.* values: RenderDefaults' field for each variable.
CHILD_METADATA_ENV: Final = {
    "SESMONITOR_SERVICE_MONITOR_LABELS": "service_monitor_labels",
    "SESMONITOR_SERVICE_MONITOR_ANNOTATIONS": "service_monitor_annotations",
    "SESMONITOR_PROMETHEUS_RULE_LABELS": "prometheus_rule_labels",
    "SESMONITOR_PROMETHEUS_RULE_ANNOTATIONS": "prometheus_rule_annotations",
}


def child_metadata_from_environment(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The operator-wide labels and annotations of ServiceMonitors and PrometheusRules, by field."""
    return {
        key: parse_string_map(env[name], name) for name, key in CHILD_METADATA_ENV.items() if env.get(name)
    }


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def parse_bool(text: str, what: str) -> bool:
    value = text.strip().lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise SettingsError(f"{what}: {text!r} is neither true nor false")


def policy_from_environment(env: Mapping[str, str]) -> ExporterPolicy:
    """The exporter policy from SESMONITOR_ALLOWED_IMAGES / _ALLOWED_SERVICE_ACCOUNTS (comma-separated)
    and SESMONITOR_ALLOW_TOLERATIONS / _ALLOW_CREDENTIALS_SECRETS (true/false)."""
    default = ExporterPolicy()
    tolerations = env.get("SESMONITOR_ALLOW_TOLERATIONS")
    secrets = env.get("SESMONITOR_ALLOW_CREDENTIALS_SECRETS")
    return ExporterPolicy(
        allowed_images=_split(env.get("SESMONITOR_ALLOWED_IMAGES")),
        allowed_service_accounts=_split(env.get("SESMONITOR_ALLOWED_SERVICE_ACCOUNTS")),
        allow_tolerations=parse_bool(tolerations, "SESMONITOR_ALLOW_TOLERATIONS")
        if tolerations
        else default.allow_tolerations,
        allow_credentials_secrets=parse_bool(secrets, "SESMONITOR_ALLOW_CREDENTIALS_SECRETS")
        if secrets
        else default.allow_credentials_secrets,
    )


@dataclass(frozen=True)
class Endpoint:
    """Where the liveness or metrics endpoint listens."""

    host: str
    port: int
    path: str


def parse_endpoint(url: str, what: str = "liveness endpoint") -> Endpoint:
    """``http://HOST:PORT/PATH``; an empty host or ``[::]`` means all interfaces. ValueError if not."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or port is None:
        raise ValueError(f"{what} {url!r}: expected http://HOST:PORT/PATH")
    return Endpoint(parts.hostname or ALL_INTERFACES, port, parts.path or "/")


@dataclass(frozen=True)
class OperatorSettings:
    # Namespaces to watch; empty means all namespaces.
    namespaces: tuple[str, ...] = ()
    # How often every SesMonitor is reconciled even when nothing changed (drift repair, status refresh).
    reconcile_interval: float = DEFAULT_RECONCILE_INTERVAL
    exporter_url_template: str = DEFAULT_EXPORTER_URL_TEMPLATE
    # Per-monitor overrides of the exporter base URL, keyed by "namespace/name".
    exporter_timeout: float = 3.0
    # The liveness endpoint, e.g. http://[::]:8080/healthz (IPv6 and IPv4, see `liveness`); None: none.
    liveness_endpoint: str | None = None
    # The operator's own /metrics, e.g. http://[::]:8081/metrics (its own port); None: not served.
    metrics_endpoint: str | None = None
    # None: standalone (the default, one replica). A name: kopf peering through that
    # ClusterKopfPeering (all namespaces) or KopfPeering objects (watched namespaces).
    peering_name: str | None = None
    peering_priority: int = 0
    log_format: str = "text"
    verbose: bool = False
    render_defaults: RenderDefaults = field(default_factory=RenderDefaults)
    # What a SesMonitor may put into its exporter's pod (images, ServiceAccounts, tolerations, ...).
    exporter_policy: ExporterPolicy = field(default_factory=ExporterPolicy)
    field_manager: str = FIELD_MANAGER
    # Upper bound of the retry backoff after a failed reconcile (seconds).
    max_backoff: float = 300.0
    # Scale tuning of kopf (see the constants above); env SESMONITOR_HANDLER_WORKERS.
    handler_workers: int = DEFAULT_HANDLER_WORKERS
    consistency_timeout: float = DEFAULT_CONSISTENCY_TIMEOUT

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    @property
    def standalone(self) -> bool:
        return self.peering_name is None

    def exporter_status_url(self, namespace: str, name: str, service: str) -> str:
        """Where the exporter of monitor ``namespace/name`` serves ``/status``."""
        base = self.exporter_url_template.format(
            service=service, namespace=namespace, name=name, port=EXPORTER_PORT
        ).rstrip("/")
        return base + STATUS_PATH


def from_environment(env: Mapping[str, str] | None = None) -> OperatorSettings:
    """Settings from ``SESMONITOR_*`` variables (flags, parsed in the CLI, override these)."""
    env = os.environ if env is None else env
    defaults = RenderDefaults()
    interval = env.get("SESMONITOR_RECONCILE_INTERVAL")
    timeout = env.get("SESMONITOR_EXPORTER_TIMEOUT")
    workers = env.get("SESMONITOR_HANDLER_WORKERS")
    requests, limits = defaults.exporter_requests, defaults.exporter_limits
    if resources := env.get("SESMONITOR_EXPORTER_RESOURCES"):
        requests, limits = parse_exporter_resources(resources, "SESMONITOR_EXPORTER_RESOURCES")
    metadata = child_metadata_from_environment(env)
    return OperatorSettings(
        namespaces=_split(env.get("SESMONITOR_WATCH_NAMESPACES")),
        reconcile_interval=(
            parse_seconds(interval, "SESMONITOR_RECONCILE_INTERVAL")
            if interval
            else DEFAULT_RECONCILE_INTERVAL
        ),
        exporter_url_template=env.get("SESMONITOR_EXPORTER_URL_TEMPLATE") or DEFAULT_EXPORTER_URL_TEMPLATE,
        exporter_timeout=parse_seconds(timeout, "SESMONITOR_EXPORTER_TIMEOUT") if timeout else 3.0,
        liveness_endpoint=env.get("SESMONITOR_LIVENESS") or None,
        metrics_endpoint=env.get("SESMONITOR_METRICS") or None,
        handler_workers=_positive_int(workers, "SESMONITOR_HANDLER_WORKERS")
        if workers
        else DEFAULT_HANDLER_WORKERS,
        peering_name=env.get("SESMONITOR_PEERING") or None,
        log_format=env.get("SESMONITOR_LOG_FORMAT") or "text",
        exporter_policy=policy_from_environment(env),
        render_defaults=RenderDefaults(
            exporter_image=env.get("SESMONITOR_EXPORTER_IMAGE") or defaults.exporter_image,
            exporter_image_pull_policy=(
                env.get("SESMONITOR_EXPORTER_IMAGE_PULL_POLICY") or defaults.exporter_image_pull_policy
            ),
            exporter_requests=requests,
            exporter_limits=limits,
            service_monitor_labels=metadata.get("service_monitor_labels", {}),
            service_monitor_annotations=metadata.get("service_monitor_annotations", {}),
            prometheus_rule_labels=metadata.get("prometheus_rule_labels", {}),
            prometheus_rule_annotations=metadata.get("prometheus_rule_annotations", {}),
            # The chart's alerting.runbookBaseURL: every alert's runbook_url is this + "#<anchor>".
            runbook_base_url=env.get("SESMONITOR_RUNBOOK_BASE_URL") or defaults.runbook_base_url,
            # The chart's clusterID; else the operator reads the kube-system namespace's UID at start.
            cluster_id=env.get("SESMONITOR_CLUSTER_ID", "").strip(),
        ),
    )


def validate(settings: OperatorSettings) -> OperatorSettings:
    """Fail early, with the setting's name, on values that would only break at the first reconcile."""
    try:
        settings.exporter_url_template.format(service="s", namespace="n", name="m", port=EXPORTER_PORT)
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(
            f"exporter URL template {settings.exporter_url_template!r}: unknown placeholder {exc};"
            " use {service}, {namespace}, {name} and {port}"
        ) from None
    if not settings.exporter_url_template.startswith(("http://", "https://")):
        raise SettingsError(
            f"exporter URL template {settings.exporter_url_template!r} must be an http(s) URL"
        )
    endpoints = {
        "liveness endpoint": settings.liveness_endpoint,
        "metrics endpoint": settings.metrics_endpoint,
    }
    ports: dict[int, str] = {}
    for what, url in endpoints.items():
        if url is None:
            continue
        try:
            port = parse_endpoint(url, what).port
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        if port in ports:
            raise SettingsError(f"the {ports[port]} and the {what} both ask for port {port}")
        ports[port] = what
    base = settings.render_defaults.runbook_base_url
    if not base.startswith(("http://", "https://")) or any(c.isspace() for c in base):
        raise SettingsError(f"runbook base URL {base!r} (SESMONITOR_RUNBOOK_BASE_URL) must be an http(s) URL")
    if settings.log_format not in {"text", "json"}:
        raise SettingsError(f"log format {settings.log_format!r}: use text or json")
    if settings.reconcile_interval <= 0:
        raise SettingsError("reconcile interval must be positive")
    if settings.handler_workers < 1:
        raise SettingsError("handler workers must be at least 1")
    for account in settings.exporter_policy.allowed_service_accounts:
        if account.count("/") > 1 or not account.strip("/"):
            raise SettingsError(f"allowed ServiceAccount {account!r}: expected NAME or NAMESPACE/NAME")
    return settings
