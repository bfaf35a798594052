"""render: the child objects of a SesMonitor (names, labels, the exporter pod, scraping, determinism)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest
import yaml

from sesmonitor.api import SesMonitor
from sesmonitor.contract import (
    CONFIG_FILE_NAME,
    CONFIG_MOUNT_PATH,
    CONTROL_MOUNT_PATH,
    EXPORTER_PORT,
    HEALTHZ_PATH,
    METRICS_PATH,
    READYZ_PATH,
    RESUME_FILE_NAME,
    ExporterConfig,
)
from sesmonitor.operator.apply import differences, prepare
from sesmonitor.render import RenderDefaults, child_names, render_all
from sesmonitor.render.labels import CONFIG_HASH_ANNOTATION, MONITOR_LABEL, label_value
from sesmonitor.render.rules import rule_groups
from sesmonitor.render.workload import config_hash, exporter_config
from support.monitors import load_monitor

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
KINDS = ["ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"]


def make(
    spec: dict[str, Any] | None = None, name: str = "example", namespace: str | None = "mail"
) -> SesMonitor:
    return load_monitor(spec, name=name, namespace=namespace)


def objects(monitor: SesMonitor, defaults: RenderDefaults | None = None) -> dict[str, dict[str, Any]]:
    rendered = render_all(monitor, defaults or RenderDefaults())
    assert [obj["kind"] for obj in rendered] == KINDS
    return {obj["kind"]: obj for obj in rendered}


def container(monitor: SesMonitor, defaults: RenderDefaults | None = None) -> dict[str, Any]:
    pod = objects(monitor, defaults)["Deployment"]["spec"]["template"]["spec"]
    (only,) = pod["containers"]
    result: dict[str, Any] = only
    return result


def pod_spec(monitor: SesMonitor) -> dict[str, Any]:
    result: dict[str, Any] = objects(monitor)["Deployment"]["spec"]["template"]["spec"]
    return result


# -- names and labels -------------------------------------------------------------------------------

LONG = "a" * 120 + "." + "b" * 120
NAMES = ["example", "0day", "7", "mail.prod.us-east-1", "a.b", "a-b", LONG, "x" * 63, "x" * 64, "1" * 253]


@pytest.mark.parametrize("name", NAMES)
def test_child_names_and_label_values_fit_kubernetes_limits(name: str) -> None:
    monitor = make(name=name)
    for obj in render_all(monitor, RenderDefaults()):
        meta = obj["metadata"]
        assert len(meta["name"]) <= 63
        assert DNS_1035.match(meta["name"]), meta["name"]
        for value in meta["labels"].values():
            assert len(value) <= 63
            assert LABEL_VALUE.match(value), value
    pod_labels = objects(monitor)["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert all(len(v) <= 63 and LABEL_VALUE.match(v) for v in pod_labels.values())


def test_names_stay_distinct_when_shortened_or_dotted() -> None:
    bases = {child_names(name).base for name in NAMES}
    assert len(bases) == len(NAMES)
    values = {label_value(name) for name in NAMES}
    assert len(values) == len(NAMES)


def test_every_object_carries_the_standard_labels_and_no_owner() -> None:
    monitor = make()
    for obj in render_all(monitor, RenderDefaults(managed_by="my-operator")):
        meta = obj["metadata"]
        assert meta["namespace"] == "mail"
        assert meta["name"] == "sesmon-example"
        assert "ownerReferences" not in meta
        labels = meta["labels"]
        assert labels["app.kubernetes.io/name"] == "sesmonitor-exporter"
        assert labels["app.kubernetes.io/instance"] == "example"
        assert labels["app.kubernetes.io/part-of"] == "sesmonitor"
        assert labels["app.kubernetes.io/managed-by"] == "my-operator"
        assert labels["app.kubernetes.io/component"]
        assert labels[MONITOR_LABEL] == "example"


def test_namespace_less_monitor_lands_in_the_default_namespace() -> None:
    monitor = make(namespace=None)
    assert monitor.key == "default/example"
    assert {obj["metadata"]["namespace"] for obj in render_all(monitor, RenderDefaults())} == {"default"}


# -- the exporter configuration -----------------------------------------------------------------------


def test_config_json_round_trips_through_the_exporter_contract() -> None:
    monitor = make(
        {
            "window": "2h",
            "configurationSets": ["marketing", "tx"],
            "aws": {
                "roleArn": "arn:aws:iam::123456789012:role/ses-read",
                "externalId": "ext-1",
                "endpointURL": "http://127.0.0.1:5000",
            },
            "exporter": {"refreshInterval": "2m", "lookback": "3h"},
        }
    )
    data = objects(monitor)["ConfigMap"]["data"]
    assert list(data) == [CONFIG_FILE_NAME]
    config = ExporterConfig.from_json(data[CONFIG_FILE_NAME])
    assert config == exporter_config(monitor)
    assert config.monitor == "mail/example"
    assert config.region == "us-east-1"
    assert config.configuration_sets == ("marketing", "tx")
    assert (config.refresh_interval_seconds, config.lookback_seconds, config.window_seconds) == (
        120,
        10800,
        7200,
    )
    assert config.role_arn == "arn:aws:iam::123456789012:role/ses-read"
    assert config.external_id == "ext-1"
    assert config.endpoint_url == "http://127.0.0.1:5000"
    assert config.role_session_name == "sesmonitor-mail-example"


def test_config_never_holds_credentials() -> None:
    monitor = make({"aws": {"credentialsSecretRef": {"name": "ses-keys"}}})
    text = objects(monitor)["ConfigMap"]["data"][CONFIG_FILE_NAME]
    assert "ses-keys" not in text
    assert "SECRET" not in text.upper()


def test_role_session_name_stays_within_aws_limit() -> None:
    config = exporter_config(make(name=LONG))
    assert 2 <= len(config.role_session_name) <= 64
    assert re.match(r"^[\w+=,.@-]+$", config.role_session_name)


def test_config_hash_annotation_follows_the_config() -> None:
    monitor = make()
    template = objects(monitor)["Deployment"]["spec"]["template"]
    text = objects(monitor)["ConfigMap"]["data"][CONFIG_FILE_NAME]
    digest = template["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
    assert digest == hashlib.sha256(text.encode()).hexdigest() == config_hash(monitor)
    # What the exporter reads changes the hash (and so rolls the pod)...
    for change in ({"region": "eu-west-1"}, {"configurationSets": ["a"]}, {"window": "2h"}):
        assert config_hash(make(change)) != digest
    # ... what only the rules read does not: a new threshold must not restart the exporter.
    assert config_hash(make({"thresholds": {"bounceRate": {"warning": "2%", "critical": "4%"}}})) == digest


# -- the Deployment ---------------------------------------------------------------------------------


def test_deployment_runs_one_exporter_recreated() -> None:
    deployment = objects(make())["Deployment"]
    assert deployment["apiVersion"] == "apps/v1"
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    selector = spec["selector"]["matchLabels"]
    template_labels = spec["template"]["metadata"]["labels"]
    assert selector.items() <= template_labels.items()


def test_container_command_args_and_port_come_from_the_contract() -> None:
    c = container(make())
    assert c["command"] == ["sesmonitor-exporter"]
    assert c["args"] == [
        "--config",
        f"{CONFIG_MOUNT_PATH}/{CONFIG_FILE_NAME}",
        "--control-dir",
        CONTROL_MOUNT_PATH,
        "--listen",
        f"[::]:{EXPORTER_PORT}",  # IPv6 and IPv4: not forced to one family
    ]
    assert c["ports"] == [{"name": "metrics", "containerPort": EXPORTER_PORT, "protocol": "TCP"}]
    assert c["image"] == RenderDefaults().exporter_image


def test_security_context_is_restricted() -> None:
    monitor = make()
    sc = container(monitor)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == sc["runAsGroup"] == 65532
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    pod_sc = pod_spec(monitor)["securityContext"]
    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}


def mounts_and_volumes(monitor: SesMonitor) -> tuple[dict[str, Any], dict[str, Any]]:
    """The exporter container's volume mounts and the pod's volumes, each by name."""
    mounts = {m["name"]: m for m in container(monitor)["volumeMounts"]}
    return mounts, {v["name"]: v for v in pod_spec(monitor)["volumes"]}


def test_config_is_mounted_read_only_and_tmp_is_writable() -> None:
    mounts, volumes = mounts_and_volumes(make())
    config_mount = next(m for m in mounts.values() if m["mountPath"] == CONFIG_MOUNT_PATH)
    assert config_mount["readOnly"] is True
    assert volumes[config_mount["name"]]["configMap"]["name"] == child_names("example").config_map
    tmp_mount = next(m for m in mounts.values() if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp_mount["name"]]
    assert not tmp_mount.get("readOnly")


def test_resume_key_is_a_volume_of_its_own_optional_and_outside_the_config_mount() -> None:
    mounts, volumes = mounts_and_volumes(make())
    control = next(m for m in mounts.values() if m["mountPath"] == CONTROL_MOUNT_PATH)
    assert control["readOnly"] is True
    assert "subPath" not in control  # kubelet never updates a subPath mount
    # Not nested in the config mount: a read-only ConfigMap volume cannot hold another's mount point.
    assert not CONTROL_MOUNT_PATH.startswith(CONFIG_MOUNT_PATH + "/")
    assert volumes[control["name"]]["configMap"] == {
        "name": child_names("example").config_map,
        "items": [{"key": RESUME_FILE_NAME, "path": RESUME_FILE_NAME}],
        "optional": True,  # the key appears with the first resume
    }
    config = volumes[next(m for m in mounts.values() if m["mountPath"] == CONFIG_MOUNT_PATH)["name"]]
    assert config["configMap"]["items"] == [{"key": CONFIG_FILE_NAME, "path": CONFIG_FILE_NAME}]


def test_a_resume_request_changes_neither_the_config_map_rendering_nor_the_hash() -> None:
    monitor = make(
        {"configurationSets": ["a"], "protection": {"mode": "Enforce", "configurationSets": ["a"]}}
    )
    rendered = objects(monitor)
    assert set(rendered["ConfigMap"]["data"]) == {CONFIG_FILE_NAME}  # resume.json is the operator's alone
    digest = rendered["Deployment"]["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
    # The hash is of config.json only: with the resume key in the live ConfigMap it is the same.
    desired = prepare(rendered["ConfigMap"], None)
    live = copy.deepcopy(desired)
    live["data"][RESUME_FILE_NAME] = json.dumps({"requests": {"a": "2026-01-01T00:00:00Z"}})
    assert digest == hashlib.sha256(live["data"][CONFIG_FILE_NAME].encode()).hexdigest()
    assert differences(desired, live) == []  # no drift, so no re-apply loop


def test_probes() -> None:
    c = container(make())
    assert c["livenessProbe"]["httpGet"] == {"path": HEALTHZ_PATH, "port": "metrics"}
    assert c["readinessProbe"]["httpGet"] == {"path": READYZ_PATH, "port": "metrics"}


def test_resources_default_and_override() -> None:
    defaults = RenderDefaults(
        exporter_requests={"cpu": "5m", "memory": "32Mi"}, exporter_limits={"memory": "64Mi"}
    )
    assert container(make(), defaults)["resources"] == {
        "limits": {"memory": "64Mi"},
        "requests": {"cpu": "5m", "memory": "32Mi"},
    }
    custom = make(
        {"exporter": {"resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": 1, "memory": "1Gi"}}}}
    )
    assert container(custom, defaults)["resources"] == {
        "limits": {"cpu": 1, "memory": "1Gi"},
        "requests": {"cpu": "50m"},
    }


def test_image_default_and_override() -> None:
    assert container(make(), RenderDefaults(exporter_image="reg.local/x:1"))["image"] == "reg.local/x:1"
    own = make({"exporter": {"image": "reg.local/mine:2"}})
    assert container(own, RenderDefaults(exporter_image="reg.local/x:1"))["image"] == "reg.local/mine:2"


def test_region_env() -> None:
    env = {e["name"]: e for e in container(make({"region": "eu-central-1"}))["env"]}
    assert env["AWS_REGION"]["value"] == "eu-central-1"


def test_without_identity_no_token_is_mounted() -> None:
    pod = pod_spec(make())
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod
    names = {e["name"] for e in container(make())["env"]}
    assert not names & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_irsa_service_account() -> None:
    monitor = make(
        {"aws": {"serviceAccountName": "ses-monitor", "roleArn": "arn:aws:iam::123456789012:role/r"}}
    )
    pod = pod_spec(monitor)
    assert pod["serviceAccountName"] == "ses-monitor"
    # No API token even with a ServiceAccount: IRSA and Pod Identity project tokens of their own.
    assert pod["automountServiceAccountToken"] is False
    assert exporter_config(monitor).role_arn == "arn:aws:iam::123456789012:role/r"


def test_credentials_secret_becomes_secret_key_refs() -> None:
    monitor = make(
        {
            "aws": {
                "credentialsSecretRef": {
                    "name": "ses-keys",
                    "accessKeyIDKey": "id",
                    "secretAccessKeyKey": "key",
                }
            }
        }
    )
    env = {e["name"]: e for e in container(monitor)["env"]}
    assert env["AWS_ACCESS_KEY_ID"] == {
        "name": "AWS_ACCESS_KEY_ID",
        "valueFrom": {"secretKeyRef": {"name": "ses-keys", "key": "id"}},
    }
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "ses-keys", "key": "key"}}
    assert all("value" not in e for n, e in env.items() if n.startswith("AWS_") and "KEY" in n)


def test_pod_labels_annotations_placement() -> None:
    monitor = make(
        {
            "exporter": {
                "podLabels": {"team": "mail", "app.kubernetes.io/name": "hijack"},
                "podAnnotations": {"a": "b", CONFIG_HASH_ANNOTATION: "forged"},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [
                    {"key": "dedicated", "operator": "Equal", "value": "mon", "effect": "NoSchedule"}
                ],
            }
        }
    )
    template = objects(monitor)["Deployment"]["spec"]["template"]
    labels, annotations = template["metadata"]["labels"], template["metadata"]["annotations"]
    assert labels["team"] == "mail"
    assert labels["app.kubernetes.io/name"] == "sesmonitor-exporter"  # the selector cannot be broken
    assert annotations["a"] == "b"
    assert annotations[CONFIG_HASH_ANNOTATION] == config_hash(monitor)
    assert template["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert template["spec"]["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "mon", "effect": "NoSchedule"}
    ]
    plain = pod_spec(make())
    assert "nodeSelector" not in plain
    assert "tolerations" not in plain


# -- Service, ServiceMonitor, PrometheusRule ------------------------------------------------------------


def test_service_selects_the_exporter_pod() -> None:
    objs = objects(make())
    service = objs["Service"]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": EXPORTER_PORT, "targetPort": "metrics", "protocol": "TCP"}
    ]
    pod_labels = objs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_service_monitor_scrapes_the_exporter_service_by_its_port_name() -> None:
    monitor = make(
        {
            "prometheus": {
                "scrapeInterval": "30s",
                "serviceMonitorLabels": {"release": "kube-prometheus-stack"},
            }
        }
    )
    objs = objects(monitor)
    sm = objs["ServiceMonitor"]
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["path"] == METRICS_PATH
    assert endpoint["interval"] == "30s"
    # It selects the exporter's Service in its own namespace, by a port name that Service has (the
    # e2e tier shows prometheus-operator scraping it).
    service = objs["Service"]
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert sm["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}


def test_service_monitor_selects_only_its_own_service() -> None:
    mine, other = objects(make(name="a")), objects(make(name="b"))
    selector = mine["ServiceMonitor"]["spec"]["selector"]["matchLabels"]
    assert not selector.items() <= other["Service"]["metadata"]["labels"].items()


def test_prometheus_rule_carries_rule_labels_and_the_groups() -> None:
    monitor = make(
        {"prometheus": {"ruleLabels": {"release": "kube-prometheus-stack", "app.kubernetes.io/name": "x"}}}
    )
    rule = objects(monitor)["PrometheusRule"]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["app.kubernetes.io/name"] == "sesmonitor-exporter"
    assert rule["spec"]["groups"] == rule_groups(monitor)


# -- purity -------------------------------------------------------------------------------------------


def test_output_is_deterministic_and_does_not_share_state() -> None:
    spec = {
        "configurationSets": ["b", "a"],
        "alerting": {"labels": {"z": "1", "a": "2"}},
        "exporter": {"podLabels": {"z": "1", "a": "2"}},
    }
    first = render_all(make(spec), RenderDefaults())
    snapshot = copy.deepcopy(first)
    second = render_all(make(spec), RenderDefaults())
    assert first == second
    assert yaml.safe_dump_all(first) == yaml.safe_dump_all(second)
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)
    first[1]["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    assert render_all(make(spec), RenderDefaults()) == snapshot


def test_defaults_are_not_mutated() -> None:
    defaults = RenderDefaults()
    before = copy.deepcopy(defaults)
    c = container(make(), defaults)
    c["resources"]["requests"]["cpu"] = "9"
    assert defaults == before


def test_a_window_longer_than_the_lookback_is_a_valid_exporter_config() -> None:
    monitor = load_monitor({"window": "24h"}, name="day")
    data = objects(monitor)["ConfigMap"]["data"]
    config = ExporterConfig.from_json(data[CONFIG_FILE_NAME])
    assert (config.window_seconds, config.lookback_seconds) == (86400, 7200)
