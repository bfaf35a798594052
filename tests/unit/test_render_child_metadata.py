"""Operator-wide labels and annotations of every ServiceMonitor and PrometheusRule (the chart's
serviceMonitor.* and prometheusRule.* values, SESMONITOR_* variables of the operator): applied under
the SesMonitor's own spec.prometheus labels and under the operator's own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from sesmonitor.api import SesMonitor, load
from sesmonitor.operator.settings import SettingsError, from_environment
from sesmonitor.render import RenderDefaults, render_all
from sesmonitor.render.labels import MONITOR_LABEL, child_metadata

RELEASE = {"release": "kube-prometheus-stack"}
CHART_WIDE = RenderDefaults(
    service_monitor_labels={**RELEASE, "team": "platform"},
    service_monitor_annotations={"example.com/owner": "platform"},
    prometheus_rule_labels={**RELEASE, "role": "alert-rules"},
    prometheus_rule_annotations={"example.com/runbooks": "https://runbooks.example.com"},
)


def make(prometheus: dict[str, Any] | None = None) -> SesMonitor:
    return load(
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "metadata": {"name": "prod", "namespace": "mail"},
            "spec": {"region": "us-east-1", **({"prometheus": prometheus} if prometheus else {})},
        }
    )


def by_kind(monitor: SesMonitor, defaults: RenderDefaults) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in render_all(monitor, defaults)}


def test_child_metadata_layers_operator_wide_then_the_monitors_then_ours() -> None:
    assert child_metadata(
        {"release": "a", "team": "platform", MONITOR_LABEL: "forged"},
        {"release": "b"},
        {MONITOR_LABEL: "prod"},
    ) == {"release": "b", "team": "platform", MONITOR_LABEL: "prod"}
    assert child_metadata({}, {}, {"x": "1"}) == {"x": "1"}


def test_every_service_monitor_and_rule_gets_the_operator_wide_metadata() -> None:
    children = by_kind(make(), CHART_WIDE)
    monitor_meta = children["ServiceMonitor"]["metadata"]
    rule_meta = children["PrometheusRule"]["metadata"]
    assert monitor_meta["labels"]["release"] == "kube-prometheus-stack"
    assert monitor_meta["labels"]["team"] == "platform"
    assert "role" not in monitor_meta["labels"]  # each kind has its own
    assert monitor_meta["annotations"] == {"example.com/owner": "platform"}
    assert rule_meta["labels"]["release"] == "kube-prometheus-stack"
    assert rule_meta["labels"]["role"] == "alert-rules"
    assert "team" not in rule_meta["labels"]
    assert rule_meta["annotations"] == {"example.com/runbooks": "https://runbooks.example.com"}
    # The exporter's own objects are not Prometheus's business.
    for kind in ("ConfigMap", "Deployment", "Service"):
        assert "release" not in children[kind]["metadata"]["labels"], kind


def test_the_monitors_own_labels_win_key_by_key_and_ours_win_over_all() -> None:
    monitor = make(
        {
            "serviceMonitorLabels": {"release": "prometheus-b", "app.kubernetes.io/name": "mine"},
            "ruleLabels": {"release": "prometheus-b"},
        }
    )
    children = by_kind(monitor, CHART_WIDE)
    monitor_labels = children["ServiceMonitor"]["metadata"]["labels"]
    assert monitor_labels["release"] == "prometheus-b"
    assert monitor_labels["team"] == "platform"  # not overridden, still applied
    assert monitor_labels["app.kubernetes.io/name"] == "sesmonitor-exporter"
    assert children["PrometheusRule"]["metadata"]["labels"]["release"] == "prometheus-b"


def test_without_operator_wide_metadata_the_children_are_as_before() -> None:
    """No annotations key at all when there are none: an upgraded operator rewrites no child."""
    children = by_kind(make({"serviceMonitorLabels": RELEASE}), RenderDefaults())
    for kind in ("ServiceMonitor", "PrometheusRule"):
        assert "annotations" not in children[kind]["metadata"], kind
    assert children["ServiceMonitor"]["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert "release" not in children["PrometheusRule"]["metadata"]["labels"]


def test_the_operator_reads_them_from_its_environment() -> None:
    settings = from_environment(
        {
            "SESMONITOR_SERVICE_MONITOR_LABELS": '{"release": "kube-prometheus-stack"}',
            "SESMONITOR_SERVICE_MONITOR_ANNOTATIONS": '{"a": "1"}',
            "SESMONITOR_PROMETHEUS_RULE_LABELS": '{"release": "kube-prometheus-stack", "b": "2"}',
            "SESMONITOR_PROMETHEUS_RULE_ANNOTATIONS": "{}",
        }
    )
    defaults = settings.render_defaults
    assert defaults.service_monitor_labels == RELEASE
    assert defaults.service_monitor_annotations == {"a": "1"}
    assert defaults.prometheus_rule_labels == {**RELEASE, "b": "2"}
    assert defaults.prometheus_rule_annotations == {}
    assert from_environment({}).render_defaults == RenderDefaults()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("release=kps", "not JSON"),
        ('["release"]', "expected an object of strings"),
        ('{"replicas": 2}', "expected an object of strings"),
    ],
)
def test_a_bad_value_names_the_variable(value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"SESMONITOR_PROMETHEUS_RULE_LABELS: {message}"):
        from_environment({"SESMONITOR_PROMETHEUS_RULE_LABELS": value})


def test_install_mds_kustomize_patch_gives_the_base_the_same_labels() -> None:
    """The patch docs/install.md shows for Kustomize users, applied to the base's Deployment."""
    root = Path(__file__).resolve().parents[2]
    section = (root / "docs" / "install.md").read_text().split("## kubectl and Kustomize", 1)[1]
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if "patches:" in b]
    (patch,) = yaml.safe_load(block)["patches"]
    deployment = yaml.safe_load((root / "deploy" / "kustomize" / "base" / "deployment.yaml").read_text())
    assert patch["target"] == {"kind": "Deployment", "name": deployment["metadata"]["name"]}
    patched = jsonpatch.apply_patch(deployment, yaml.safe_load(patch["patch"]))
    (container,) = patched["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    defaults = from_environment(env).render_defaults
    assert defaults.service_monitor_labels == RELEASE
    assert defaults.prometheus_rule_labels == RELEASE
