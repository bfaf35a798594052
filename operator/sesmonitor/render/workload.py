"""The exporter: its configuration (ConfigMap), its Deployment and its Service."""

from __future__ import annotations

import hashlib
from typing import Any, Final

from sesmonitor.api import SesMonitor, parse_duration, parse_percent
from sesmonitor.api.spec import queue_region
from sesmonitor.contract import (
    CONFIG_FILE_NAME,
    CONFIG_MOUNT_PATH,
    CONTROL_MOUNT_PATH,
    EXPORTER_PORT,
    HEALTHZ_PATH,
    READYZ_PATH,
    RESUME_FILE_NAME,
    ExporterConfig,
    FindingsConfig,
    ProtectionConfig,
    TenantsConfig,
)
from sesmonitor.render.defaults import RenderDefaults
from sesmonitor.render.labels import (
    COMPONENT_EXPORTER,
    CONFIG_HASH_ANNOTATION,
    common_labels,
    merged,
    selector_labels,
)
from sesmonitor.render.names import child_names

PORT_NAME: Final = "metrics"
CONTAINER_NAME: Final = "exporter"
COMMAND: Final = ("sesmonitor-exporter",)
NONROOT_ID: Final = 65532  # distroless "nonroot"
CONFIG_VOLUME: Final = "config"
CONTROL_VOLUME: Final = "control"  # the ConfigMap's resume.json, which the operator writes at runtime
TMP_VOLUME: Final = "tmp"
MAX_ROLE_SESSION_NAME: Final = 64


def protection_config(monitor: SesMonitor, cluster_id: str = "") -> ProtectionConfig | None:
    """spec.protection for the exporter; None when Off (the exporter then never writes to AWS)."""
    spec = monitor.spec
    protection = spec.protection
    if protection.mode == "Off":
        return None
    bounce, complaint = spec.protection_levels()
    return ProtectionConfig(
        mode=protection.mode,
        configuration_sets=tuple(protection.configuration_sets),
        tenants=tuple(protection.tenants),
        bounce_rate=parse_percent(bounce) / 100,
        complaint_rate=parse_percent(complaint) / 100,
        hold_seconds=parse_duration(protection.hold_for),
        cooldown_seconds=parse_duration(protection.cooldown),
        cluster_id=cluster_id,
    )


def tenants_config(monitor: SesMonitor) -> TenantsConfig | None:
    """spec.tenants for the exporter; None without it (no tenant is read)."""
    tenants = monitor.spec.tenants
    if tenants is None:
        return None
    return TenantsConfig(
        names=tuple(tenants.names),
        prefix=tenants.prefix,
        limit=tenants.limit,
        read_interval_seconds=parse_duration(tenants.read_interval),
    )


def findings_config(monitor: SesMonitor) -> FindingsConfig | None:
    findings = monitor.spec.findings
    if findings is None:
        return None
    return FindingsConfig(read_interval_seconds=parse_duration(findings.read_interval), limit=findings.limit)


def exporter_config(monitor: SesMonitor, cluster_id: str = "") -> ExporterConfig:
    """What the exporter of `monitor` reads from AWS, and how often; `cluster_id` names the cluster in
    spec.protection's records (RenderDefaults.cluster_id)."""
    spec = monitor.spec
    return ExporterConfig(
        monitor=monitor.key,
        region=spec.region,
        configuration_sets=tuple(spec.configuration_sets),
        count_configuration_sets=tuple(spec.configuration_set_counts),
        refresh_interval_seconds=parse_duration(spec.exporter.refresh_interval),
        lookback_seconds=parse_duration(spec.exporter.lookback),
        window_seconds=parse_duration(spec.window),
        endpoint_url=spec.aws.endpoint_url,
        cloudwatch_endpoint_url=spec.aws.endpoints.cloudwatch,
        sesv2_endpoint_url=spec.aws.endpoints.sesv2,
        sts_endpoint_url=spec.aws.endpoints.sts,
        sqs_endpoint_url=spec.aws.endpoints.sqs,
        **_events_config(monitor),
        role_arn=spec.aws.role_arn,
        external_id=spec.aws.external_id,
        # Shows in CloudTrail which monitor assumed the role (AWS allows 64 characters of [\w+=,.@-]).
        role_session_name=f"sesmonitor-{monitor.namespace}-{monitor.name}"[:MAX_ROLE_SESSION_NAME],
        protection=protection_config(monitor, cluster_id),
        tenants=tenants_config(monitor),
        findings=findings_config(monitor),
    )


def _events_config(monitor: SesMonitor) -> dict[str, Any]:
    events = monitor.spec.events
    if events is None:
        return {}
    region = events.region or queue_region(events.queue_url)
    return {
        "events_queue_url": events.queue_url,
        "events_region": region if region != monitor.spec.region else None,
        "events_top_domains": events.top_domains,
    }


def config_json(monitor: SesMonitor, cluster_id: str = "") -> str:
    return exporter_config(monitor, cluster_id).to_json()


def config_hash(monitor: SesMonitor, cluster_id: str = "") -> str:
    """sha256 of the configuration file: a pod template annotation, so a new config rolls the pod."""
    return hashlib.sha256(config_json(monitor, cluster_id).encode()).hexdigest()


def _metadata(monitor: SesMonitor, defaults: RenderDefaults, name: str, component: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": monitor.namespace,
        "labels": common_labels(monitor, defaults, component),
    }


def config_map(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    names = child_names(monitor.name)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(monitor, defaults, names.config_map, COMPONENT_EXPORTER),
        "data": {CONFIG_FILE_NAME: config_json(monitor, defaults.cluster_id)},
    }


def _env(monitor: SesMonitor) -> list[dict[str, Any]]:
    aws = monitor.spec.aws
    env: list[dict[str, Any]] = [
        {"name": "AWS_REGION", "value": monitor.spec.region},
        {"name": "AWS_DEFAULT_REGION", "value": monitor.spec.region},
    ]
    if aws.credentials_secret_ref is not None:
        ref = aws.credentials_secret_ref
        for variable, key in (
            ("AWS_ACCESS_KEY_ID", ref.access_key_id_key),
            ("AWS_SECRET_ACCESS_KEY", ref.secret_access_key_key),
        ):
            env.append({"name": variable, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": key}}})
    return env


def _resources(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    resources = monitor.spec.exporter.resources
    requests: dict[str, Any] = dict(defaults.exporter_requests if resources is None else resources.requests)
    limits: dict[str, Any] = dict(defaults.exporter_limits if resources is None else resources.limits)
    out: dict[str, Any] = {}
    if limits:
        out["limits"] = dict(sorted(limits.items()))
    if requests:
        out["requests"] = dict(sorted(requests.items()))
    return out


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _container(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    config_path = f"{CONFIG_MOUNT_PATH}/{CONFIG_FILE_NAME}"
    return {
        "name": CONTAINER_NAME,
        "image": monitor.spec.exporter.image or defaults.exporter_image,
        "imagePullPolicy": defaults.exporter_image_pull_policy,
        "command": list(COMMAND),
        # [::]: both families on one dual-stack socket (IPv4 alone where the node has no IPv6), so
        # IPv6-only and dual-stack clusters can scrape and probe it.
        "args": [
            "--config",
            config_path,
            "--control-dir",
            CONTROL_MOUNT_PATH,
            "--listen",
            f"[::]:{EXPORTER_PORT}",
        ],
        "env": _env(monitor),
        "ports": [{"name": PORT_NAME, "containerPort": EXPORTER_PORT, "protocol": "TCP"}],
        # Both ask "does the process serve", never "did AWS answer": a not-ready pod leaves the Service
        # without endpoints, and the operator, which reads /status through it, could then not tell
        # the SesMonitor the AWS error (AccessDenied, an outage) that /status carries. A Service with
        # publishNotReadyAddresses instead would route to pods still starting, and rollouts would not
        # wait for a pod that serves. Readiness gates the endpoints until the port is bound.
        "livenessProbe": _probe(HEALTHZ_PATH, period=20, failures=3),
        "readinessProbe": _probe(READYZ_PATH, period=10, failures=3),
        # A crash shows its last log lines in the pod's status, which the operator copies into the
        # SesMonitor's (e.g. "bad configuration: ...").
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "resources": _resources(monitor, defaults),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsGroup": NONROOT_ID,
            "runAsNonRoot": True,
            "runAsUser": NONROOT_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": CONFIG_VOLUME, "mountPath": CONFIG_MOUNT_PATH, "readOnly": True},
            {"name": CONTROL_VOLUME, "mountPath": CONTROL_MOUNT_PATH, "readOnly": True},
            {"name": TMP_VOLUME, "mountPath": "/tmp"},
        ],
    }


def _pod_spec(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    spec = monitor.spec
    names = child_names(monitor.name)
    pod: dict[str, Any] = {}
    if spec.aws.service_account_name is not None:
        pod["serviceAccountName"] = spec.aws.service_account_name
    # The exporter never talks to the Kubernetes API, so it gets no API token, whatever its
    # ServiceAccount may do. IRSA and EKS Pod Identity project tokens of their own (an audience of
    # sts.amazonaws.com / pods.eks.amazonaws.com) through their webhooks, independent of this.
    pod["automountServiceAccountToken"] = False
    pod["enableServiceLinks"] = False
    pod["securityContext"] = {
        "fsGroup": NONROOT_ID,
        "runAsGroup": NONROOT_ID,
        "runAsNonRoot": True,
        "runAsUser": NONROOT_ID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    pod["terminationGracePeriodSeconds"] = 10
    pod["containers"] = [_container(monitor, defaults)]
    pod["volumes"] = [
        {
            "name": CONFIG_VOLUME,
            "configMap": {
                "name": names.config_map,
                "items": [{"key": CONFIG_FILE_NAME, "path": CONFIG_FILE_NAME}],
            },
        },
        # The same ConfigMap's resume.json (docs/protection.md), a volume of its own so that kubelet
        # updates it in place (a subPath mount never is) and the pod template, hence the config hash,
        # stays the same: a resume must not restart the exporter (DryRun's state is in memory).
        # Optional: the key exists only after the first resume.
        {
            "name": CONTROL_VOLUME,
            "configMap": {
                "name": names.config_map,
                "items": [{"key": RESUME_FILE_NAME, "path": RESUME_FILE_NAME}],
                "optional": True,
            },
        },
        {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "16Mi"}},
    ]
    if spec.exporter.node_selector:
        pod["nodeSelector"] = dict(sorted(spec.exporter.node_selector.items()))
    if spec.exporter.tolerations:
        pod["tolerations"] = [
            t.model_dump(by_alias=True, exclude_none=True) for t in spec.exporter.tolerations
        ]
    return pod


def deployment(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    """One exporter pod, replaced with Recreate: exactly one reader of AWS (CloudWatch bills per metric
    read) and one set of series at any time; the window average bridges the seconds in between."""
    names = child_names(monitor.name)
    exporter = monitor.spec.exporter
    pod_labels = merged(exporter.pod_labels, common_labels(monitor, defaults, COMPONENT_EXPORTER))
    pod_annotations = merged(
        exporter.pod_annotations, {CONFIG_HASH_ANNOTATION: config_hash(monitor, defaults.cluster_id)}
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(monitor, defaults, names.deployment, COMPONENT_EXPORTER),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector_labels(monitor)},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": pod_annotations},
                "spec": _pod_spec(monitor, defaults),
            },
        },
    }


def service(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, Any]:
    names = child_names(monitor.name)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(monitor, defaults, names.service, COMPONENT_EXPORTER),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(monitor),
            "ports": [{"name": PORT_NAME, "port": EXPORTER_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}],
        },
    }
