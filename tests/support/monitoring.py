"""The real prometheus-operator on the test cluster, set up the way kube-prometheus-stack does it.

    stack = MonitoringStack(cluster, node_ip, webhook_url=hooks.url).install()
    stack.prometheus.query("up")                    # Prometheus' HTTP API through its NodePort
    stack.alertmanager_alerts()

What is installed, all from prometheus-operator's own module (``tests/node/build.sh`` copies its
``example/``): every ``monitoring.coreos.com`` CRD, the operator's ServiceAccount, ClusterRole and
Deployment (images built by ``tests/node/images.sh``), and then, like the chart of kube-prometheus-stack
with release name ``RELEASE``:

- a ``Prometheus`` whose ServiceMonitor and rule selectors require the label ``release: RELEASE`` (in
  any namespace): a ServiceMonitor or PrometheusRule without it is ignored, the first thing users get
  wrong; rules are evaluated every 2 s so the tests need not wait long;
- an ``Alertmanager`` whose configuration is ``deploy/alertmanager/alertmanager.yaml`` with every
  receiver turned into a webhook (``webhook_url(receiver)``, a server on the host end of the veth).

Prometheus and Alertmanager get a NodePort Service each: the host reaches them at the node's address.
"""

from __future__ import annotations

import base64
import copy
import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any

import yaml

from support.controlplane import Cluster
from support.tools import images_listing, node_tools_dir
from support.waiting import NotYet, wait_for

__all__ = ["RELEASE", "MonitoringStack", "alertmanager_config"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yaml"
RELEASE = "kube-prometheus-stack"
NAMESPACE = "monitoring"
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus"
ALERTMANAGER_IMAGE = "quay.io/prometheus/alertmanager"
CLUSTER_SCOPED = frozenset({"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"})


def alertmanager_config(
    receiver_url: Callable[[str], str],
    *,
    base: Mapping[str, Any] | None = None,
    group_wait: str = "1s",
    group_interval: str = "2s",
    repeat_interval: str = "1h",
) -> dict[str, Any]:
    """The example Alertmanager configuration (deploy/alertmanager/alertmanager.yaml) made local.

    Its routing tree and inhibit rules stay as they are; every receiver (Opsgenie, Slack) becomes a
    webhook at ``receiver_url(name)`` with resolved notifications on, and the timing is shortened so a
    notification arrives seconds after Prometheus sends the alert.
    """
    if base is None:
        base = yaml.safe_load(EXAMPLE_ALERTMANAGER_CONFIG.read_text())
    config = copy.deepcopy(dict(base))
    config["global"] = {"resolve_timeout": "5m"}
    route = config.setdefault("route", {"receiver": "webhook"})
    route.update(group_wait=group_wait, group_interval=group_interval, repeat_interval=repeat_interval)
    names = [r["name"] for r in config.get("receivers", [])] or [route["receiver"]]
    config["receivers"] = [
        {"name": name, "webhook_configs": [{"url": receiver_url(name), "send_resolved": True}]}
        for name in names
    ]
    return config


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


class PrometheusAPI:
    """Prometheus' HTTP API at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        with urllib.request.urlopen(
            f"{self.url}/api/v1/{path}{'?' + query if query else ''}", timeout=10
        ) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """The series ``expr`` evaluates to (instant or range vector); a scalar or string gives []."""
        data = self.api("query", query=expr, time=at)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] in ("vector", "matrix") else []
        return result

    def query_value(self, expr: str) -> float | None:
        """The single value of ``expr``; None when empty, an error when it has several series."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise RuntimeError(f"{expr} has {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query_range", query=expr, start=start, end=end, step=step)[
            "result"
        ]
        return result

    def scrape_jobs(self) -> list[str]:
        """The job names of the configuration prometheus-operator generated (``serviceMonitor/ns/name/0``)."""
        config = yaml.safe_load(self.api("status/config")["yaml"])
        return [job["job_name"] for job in config.get("scrape_configs") or []]

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts

    def rules(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self.api("rules")["groups"]
        return groups

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active


@dataclass(eq=False)
class MonitoringStack:
    """``images``: the image references the node has (default: ``tests/node/images.sh``'s); the
    Prometheus and Alertmanager ones are picked from them, their tags are the versions."""

    cluster: Cluster
    node_ip: str
    _: KW_ONLY
    webhook_url: Callable[[str], str]
    namespace: str = NAMESPACE
    release: str = RELEASE
    evaluation_interval: str = "2s"
    images: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.example = node_tools_dir() / "prometheus-operator"
        self._images = self.images or sorted(images_listing())
        self._urls: dict[str, str] = {}

    def image(self, repository: str) -> str:
        """The reference of ``repository``'s image among the node's images."""
        found = [ref for ref in self._images if ref.startswith(repository + ":")]
        if len(found) != 1:
            raise RuntimeError(f"expected one {repository} image among {self._images}")
        return found[0]

    # -- install ---------------------------------------------------------------------------------

    def install(self, timeout: float = 240) -> MonitoringStack:
        c = self.cluster
        c.apply_crds(sorted((self.example / "crds").glob("monitoring.coreos.com_*.yaml")))
        c.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}})
        c.apply(self._operator_manifests())
        c.kubectl(
            "-n", self.namespace, "rollout", "status", "deployment/prometheus-operator",
            f"--timeout={int(timeout)}s", timeout=timeout + 30,
        )  # fmt: skip
        c.apply(self._prometheus_manifests())
        c.apply(self._alertmanager_manifests())
        self.wait_ready(timeout)
        return self

    def uninstall(self, timeout: float = 120) -> None:
        """Remove what ``install`` made except the CRDs (best effort; for a cluster one keeps)."""
        c = self.cluster
        for kind in ("prometheus", "alertmanager"):
            c.kubectl("-n", self.namespace, "delete", kind, self.release, "--ignore-not-found", check=False)
        cluster_scoped = [
            d
            for d in self._operator_manifests() + self._prometheus_manifests()
            if d["kind"] in CLUSTER_SCOPED
        ]
        for doc in cluster_scoped:
            c.kubectl(
                "delete", doc["kind"].lower(), doc["metadata"]["name"], "--ignore-not-found", check=False
            )
        c.kubectl(
            "delete", "namespace", self.namespace, "--ignore-not-found", f"--timeout={int(timeout)}s",
            check=False, timeout=timeout + 30,
        )  # fmt: skip

    def _operator_manifests(self) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for path in sorted((self.example / "rbac" / "prometheus-operator").glob("*.yaml")):
            for doc in _docs(path):
                if doc["kind"] == "ServiceMonitor":  # kube-prometheus-stack's self-monitoring: not needed
                    continue
                docs.append(self._placed(doc))
        return docs

    def _placed(self, doc: dict[str, Any]) -> dict[str, Any]:
        """An example object moved into our namespace (the examples use ``default`` or none)."""
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = self.namespace
        for subject in doc.get("subjects", []):
            subject["namespace"] = self.namespace
        return doc

    def _prometheus_manifests(self) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for path in sorted((self.example / "rbac" / "prometheus").glob("prometheus-*.yaml")):
            docs += [self._placed(doc) for doc in _docs(path)]
        selector = {"matchLabels": {"release": self.release}}
        docs.append(
            self._operated(
                "Prometheus",
                PROMETHEUS_IMAGE,
                serviceAccountName="prometheus",
                serviceMonitorSelector=selector,
                serviceMonitorNamespaceSelector={},
                ruleSelector=selector,
                ruleNamespaceSelector={},
                podMonitorSelector=selector,
                podMonitorNamespaceSelector={},
                evaluationInterval=self.evaluation_interval,
                scrapeInterval="5s",
                alerting={
                    "alertmanagers": [
                        {"namespace": self.namespace, "name": "alertmanager-operated", "port": "web"}
                    ]
                },
                resources={"requests": {"memory": "100Mi"}},
            )
        )
        docs.append(self._node_port("prometheus", {"prometheus": self.release}, 9090))
        return docs

    def _alertmanager_manifests(self) -> list[dict[str, Any]]:
        config = yaml.safe_dump(alertmanager_config(self.webhook_url))
        return [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"alertmanager-{self.release}", "namespace": self.namespace},
                "data": {"alertmanager.yaml": base64.b64encode(config.encode()).decode()},
            },
            self._operated("Alertmanager", ALERTMANAGER_IMAGE),
            self._node_port("alertmanager", {"alertmanager": self.release}, 9093),
        ]

    def _operated(self, kind: str, repository: str, **spec: Any) -> dict[str, Any]:
        """A Prometheus or Alertmanager for the operator to run: one replica of the node's image."""
        image = self.image(repository)
        return {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": kind,
            "metadata": {"name": self.release, "namespace": self.namespace},
            "spec": {"image": image, "version": image.rpartition(":")[2], "replicas": 1, **spec},
        }

    def _node_port(self, name: str, selector: dict[str, str], port: int) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"{name}-nodeport", "namespace": self.namespace},
            "spec": {"type": "NodePort", "selector": selector, "ports": [{"name": "web", "port": port}]},
        }

    # -- reach it ----------------------------------------------------------------------------------

    def node_port_url(self, name: str) -> str:
        """``http://<node>:<nodePort>`` of the ``<name>-nodeport`` Service (looked up once)."""
        if name not in self._urls:
            svc = self.cluster.kubectl_json("-n", self.namespace, "get", "service", f"{name}-nodeport")
            self._urls[name] = f"http://{self.node_ip}:{svc['spec']['ports'][0]['nodePort']}"
        return self._urls[name]

    @property
    def prometheus_url(self) -> str:
        return self.node_port_url("prometheus")

    @property
    def alertmanager_url(self) -> str:
        return self.node_port_url("alertmanager")

    @property
    def prometheus(self) -> PrometheusAPI:
        return PrometheusAPI(self.prometheus_url)

    def alertmanager_alerts(self, active: bool = False) -> list[dict[str, Any]]:
        """Alertmanager's alerts (API v2), each with ``status.state`` (active/suppressed) and
        ``status.inhibitedBy``; with ``active``, only those neither silenced nor inhibited."""
        query = "?active=true&silenced=false&inhibited=false" if active else ""
        with urllib.request.urlopen(f"{self.alertmanager_url}/api/v2/alerts{query}", timeout=10) as resp:
            alerts: list[dict[str, Any]] = json.loads(resp.read())
        return alerts

    def wait_ready(self, timeout: float) -> None:
        """Both StatefulSets rolled out and both APIs answering through their NodePorts."""
        for sts in (f"prometheus-{self.release}", f"alertmanager-{self.release}"):

            def made(sts: str = sts) -> bool | NotYet:
                proc = self.cluster.kubectl("-n", self.namespace, "get", "statefulset", sts, check=False)
                return proc.returncode == 0 or NotYet(proc.stderr.strip())

            wait_for(made, timeout, f"prometheus-operator to make StatefulSet {sts}", error=RuntimeError)
            self.cluster.kubectl(
                "-n", self.namespace, "rollout", "status", f"statefulset/{sts}", f"--timeout={int(timeout)}s",
                timeout=timeout + 30,
            )  # fmt: skip

        def reachable() -> bool:
            self.prometheus.api("status/buildinfo")
            self.alertmanager_alerts()
            return True

        wait_for(reachable, timeout, "Prometheus and Alertmanager on their NodePorts", error=RuntimeError)
