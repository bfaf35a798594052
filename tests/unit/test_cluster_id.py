"""The cluster's identity in spec.protection's records: from the chart's clusterID, else the kube-system
namespace's UID the operator reads once at start, else none (records as older releases wrote them)."""

from __future__ import annotations

from sesmonitor.operator.kube import KubeError
from sesmonitor.operator.runner import with_cluster_id
from sesmonitor.operator.settings import OperatorSettings, from_environment
from sesmonitor.render.workload import config_map, exporter_config
from support.monitors import load_monitor

UID = "3f0c2a9e-8d41-4b6a-a1f5-7c9e2b4d6a80"


class Namespaces:
    def __init__(self, error: KubeError | None = None) -> None:
        self.error = error
        self.asked: list[str] = []

    def namespace_uid(self, name: str) -> str:
        self.asked.append(name)
        if self.error is not None:
            raise self.error
        return UID


def test_the_kube_system_uid_names_the_cluster() -> None:
    api = Namespaces()
    settings = with_cluster_id(OperatorSettings(), api)  # type: ignore[arg-type]
    assert api.asked == ["kube-system"]
    assert settings.render_defaults.cluster_id == UID
    monitor = load_monitor(
        {
            "configurationSets": ["marketing"],
            "protection": {"mode": "Enforce", "configurationSets": ["marketing"]},
        }
    )
    assert exporter_config(monitor, UID).protection is not None
    assert f'"cluster_id": "{UID}"' in config_map(monitor, settings.render_defaults)["data"]["config.json"]


def test_a_configured_id_wins_and_a_namespaced_operator_reads_nothing() -> None:
    api = Namespaces()
    configured = from_environment({"SESMONITOR_CLUSTER_ID": "blue"})
    assert with_cluster_id(configured, api).render_defaults.cluster_id == "blue"  # type: ignore[arg-type]
    namespaced = OperatorSettings(namespaces=("mail",))
    assert with_cluster_id(namespaced, api).render_defaults.cluster_id == ""  # type: ignore[arg-type]
    assert api.asked == []  # the chart grants a namespaced operator nothing cluster-wide


def test_a_denied_read_leaves_the_legacy_owner() -> None:
    api = Namespaces(KubeError(403, "Forbidden", "namespaces is forbidden"))
    settings = with_cluster_id(OperatorSettings(), api)  # type: ignore[arg-type]
    assert settings.render_defaults.cluster_id == ""
