"""The whole alert path the way a user runs it, for the demo (scripts/demo.py) and the e2e tier.

    stack = UserStack(workdir, cluster=kube_cluster)       # or no cluster: it starts a NodeCluster
    ses = stack.add_account("seed")                         # a simulated SES account on the host
    stack.start()                                           # chart, prometheus-operator stack, webhook
    ref = stack.apply_monitor(manifest)                     # namespace, credentials Secret, kubectl apply
    stack.wait_scraped(ref)                                 # exporter Pod Ready, Prometheus target up
    ...
    stack.stop()

What runs where:

- the cluster: ``support.kube_cluster.NodeCluster`` (a real node in its own namespaces) or any cluster
  given by a kubeconfig (``support.controlplane.ExistingCluster``);
- the operator: our chart, installed with README's ``helm install`` line (plus ``--set
  reconcileInterval=...``, a documented value, so the status follows in seconds); it runs as a Pod
  under its ServiceAccount and reads each exporter's ``/status`` through the Service DNS name;
- the exporters: the Deployments the operator renders, Pods from our image;
- Prometheus and Alertmanager: the real prometheus-operator, set up like kube-prometheus-stack
  (``support.monitoring.MonitoringStack``): only ServiceMonitors and PrometheusRules labelled
  ``release: kube-prometheus-stack`` are picked up, so the SesMonitors must say so in
  ``spec.prometheus.serviceMonitorLabels`` and ``ruleLabels`` (the stack adds nothing);
- on the host, at the address pods reach it (``host_ip``: the host end of the node's veth): each
  simulated SES account (``support.live_ses.SesAccountProcess``, moto + fault proxy, its own process)
  and the webhook receiver standing in for Opsgenie and Slack
  (``support.webhook_receiver.WebhookReceiver``).

The host reaches Prometheus and Alertmanager through NodePorts on ``node_ip``.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, TypeVar

from sesmonitor.api import load
from sesmonitor.render import child_names
from support.controlplane import Cluster, ExistingCluster
from support.kube_cluster import NodeCluster
from support.live_ses import SesAccountProcess
from support.monitoring import RELEASE, MonitoringStack, PrometheusAPI
from support.tools import helm_path, tools_dir
from support.waiting import wait_for
from support.webhook_receiver import Notification, WebhookReceiver

__all__ = ["RELEASE", "MonitorRef", "UserStack", "monitor_ref", "readme_helm_install"]

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_NAMESPACE = "sesmonitor-system"
OPERATOR_RELEASE = "sesmonitor-operator"
CREDENTIALS_SECRET = "ses-monitor-aws"
# Chart values that make objects of prometheus-operator's kinds, and those kinds' CRDs.
MONITORING_VALUES = ("metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true")
MONITORING_CRDS = (
    "servicemonitors.monitoring.coreos.com",
    "prometheusrules.monitoring.coreos.com",
)  # what examples/demo.yaml and the e2e monitors refer to

MonitorRef = tuple[str, str]  # (namespace, name)


def monitor_ref(manifest: Mapping[str, Any]) -> MonitorRef:
    monitor = load(manifest)
    return monitor.namespace, monitor.name


def readme_helm_install() -> list[str]:
    """README's install command, word for word (``helm`` first)."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("helm install "):
            return shlex.split(line)
    raise RuntimeError("README.md has no `helm install` line")


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return pod.get("metadata", {}).get("deletionTimestamp") is None and any(
        c["type"] == "Ready" and c["status"] == "True" for c in conditions
    )


T = TypeVar("T")


def _present(value: T | None, missing: str) -> T:
    if value is None:
        raise RuntimeError(missing)
    return value


@dataclass(eq=False)
class UserStack:
    """``cluster``: one to use (not stopped here); None: a NodeCluster is started (and stopped).
    ``host_ip``: where pods reach this machine; ``node_ip``: where this machine reaches NodePorts
    (both known for a NodeCluster; for another cluster ``host_ip`` is needed, ``node_ip`` defaults
    to the first node's InternalIP)."""

    workdir: Path
    _: KW_ONLY
    cluster: Cluster | None = None
    host_ip: str | None = None
    node_ip: str | None = None
    reconcile_interval: str = "5s"
    # More chart values (`--set KEY=VALUE` each), e.g. the e2e tier's operator self-monitoring.
    chart_values: Sequence[str] = ()
    webhook_port: int = 0
    on_notification: Callable[[Notification], None] | None = None
    log: Callable[[str], None] = lambda _msg: None

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.owns_cluster = self.cluster is None
        self.accounts: dict[str, SesAccountProcess] = {}
        self.webhook: WebhookReceiver | None = None
        self.monitoring: MonitoringStack | None = None
        self.namespaces: set[str] = set()
        self.timings: dict[str, float] = {}

    # -- where things are ----------------------------------------------------------------------------

    def require_cluster(self) -> Cluster:
        return _present(self.cluster, "the cluster is not started")

    def reached_host_ip(self) -> str:
        """``host_ip``, or for a NodeCluster the host end of its node's veth."""
        if self.host_ip is None:
            cluster = self.require_cluster()
            if not isinstance(cluster, NodeCluster):
                raise RuntimeError("host_ip is needed: the address pods reach this machine at")
            self.host_ip = cluster.net.host_ip
        return self.host_ip

    def reached_node_ip(self) -> str:
        """``node_ip``, or the NodeCluster's node address, or the first node's InternalIP."""
        if self.node_ip is None:
            cluster = self.require_cluster()
            if isinstance(cluster, NodeCluster):
                self.node_ip = cluster.net.node_ip
            else:
                node = cluster.kubectl_json("get", "nodes")["items"][0]
                self.node_ip = next(
                    a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"
                )
        return self.node_ip

    @property
    def prometheus(self) -> PrometheusAPI:
        return self.require_monitoring().prometheus

    def require_monitoring(self) -> MonitoringStack:
        return _present(self.monitoring, "the monitoring stack is not installed")

    def require_webhook(self) -> WebhookReceiver:
        return _present(self.webhook, "the webhook receiver is not started")

    # -- bring-up ------------------------------------------------------------------------------------

    def start_cluster(self) -> Cluster:
        if self.cluster is None:
            started = time.monotonic()
            self.cluster = NodeCluster(self.workdir / "cluster", log=self.log, keep_workdir=True)
            self.timings["cluster"] = time.monotonic() - started
        return self.cluster

    def add_account(
        self, scenario: str, name: str | None = None, *, wait: bool = True, **kwargs: Any
    ) -> SesAccountProcess:
        """Start a simulated SES account (its own process, on ``host_ip``); ``kwargs`` go to
        SesAccountProcess. Without ``wait``, ``start()`` waits for it (accounts seed in parallel)."""
        name = name or f"ses-{scenario}"
        account = SesAccountProcess(
            scenario, self.workdir / "ses", name=name, host=self.reached_host_ip(), **kwargs
        ).start(wait=wait)
        self.accounts[name] = account
        self.log(f"simulated SES account {name!r} ({scenario}) at {account.endpoint_url}")
        return account

    def start(self) -> UserStack:
        """The cluster (if not given), then at once: the webhook receiver and the monitoring stack,
        our chart; then every account added so far is waited for."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_cluster()
        self.webhook = WebhookReceiver(
            self.workdir / "notifications.json",
            host=self.reached_host_ip(),
            port=self.webhook_port,
            on_notification=self.on_notification,
        ).start()
        with ThreadPoolExecutor(2) as pool:
            monitoring = pool.submit(self.install_monitoring)
            operator = pool.submit(self.install_operator)
            monitoring.result()
            operator.result()
        for account in self.accounts.values():
            account.wait_ready()
        return self

    def install_monitoring(self) -> MonitoringStack:
        started = time.monotonic()
        self.monitoring = MonitoringStack(
            self.require_cluster(), self.reached_node_ip(), webhook_url=self.require_webhook().url
        ).install()
        self.timings["monitoring"] = time.monotonic() - started
        self.log(
            f"prometheus-operator: Prometheus {self.monitoring.prometheus_url},"
            f" Alertmanager {self.monitoring.alertmanager_url} ({self.timings['monitoring']:.0f}s)"
        )
        return self.monitoring

    def install_operator(self) -> None:
        """README's ``helm install``, with the reconcile interval shortened; waits for the rollout."""
        started = time.monotonic()
        cluster = self.require_cluster()
        if any(value.startswith(MONITORING_VALUES) for value in self.chart_values):
            # The operator's own ServiceMonitor and PrometheusRule need prometheus-operator's CRDs,
            # which install_monitoring (running beside this) applies first.
            wait_for(
                lambda: cluster.kubectl(
                    "wait", "--for=condition=Established", *(f"crd/{crd}" for crd in MONITORING_CRDS),
                    "--timeout=5s", check=False, timeout=30,
                ).returncode == 0,
                180,
                "prometheus-operator's CRDs before the chart's ServiceMonitor and PrometheusRule",
            )  # fmt: skip
        helm = [str(helm_path()), *readme_helm_install()[1:]]
        helm += ["--set", f"reconcileInterval={self.reconcile_interval}"]
        for value in self.chart_values:
            helm += ["--set", value]
        proc = cluster.run_with_kubeconfig(helm, cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"helm install failed:\n{proc.stdout}\n{proc.stderr}")
        cluster.kubectl(
            "-n", OPERATOR_NAMESPACE, "rollout", "status", f"deployment/{OPERATOR_RELEASE}",
            "--timeout=180s", timeout=200,
        )  # fmt: skip
        self.timings["operator"] = time.monotonic() - started
        self.log(f"sesmonitor-operator installed with helm ({self.timings['operator']:.0f}s)")

    # -- monitors ------------------------------------------------------------------------------------

    def ensure_namespace(self, namespace: str) -> None:
        """The namespace and the static credentials Secret the monitors refer to (moto takes any key)."""
        if namespace in self.namespaces:
            return
        cluster = self.require_cluster()
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": CREDENTIALS_SECRET, "namespace": namespace},
                "stringData": {"AWS_ACCESS_KEY_ID": "AKIDSIMULATED", "AWS_SECRET_ACCESS_KEY": "simulated"},
            }
        )
        self.namespaces.add(namespace)

    def apply_monitor(self, manifest: Mapping[str, Any]) -> MonitorRef:
        ns, name = monitor_ref(manifest)
        self.ensure_namespace(ns)
        doc = json.loads(json.dumps(manifest))
        doc.setdefault("metadata", {})["namespace"] = ns
        self.require_cluster().apply(doc)
        return ns, name

    def exporter_pods(self, ref: MonitorRef) -> list[dict[str, Any]]:
        pods: list[dict[str, Any]] = self.require_cluster().kubectl_json(
            "-n",
            ref[0],
            "get",
            "pods",
            "-l",
            f"app.kubernetes.io/component=exporter,sesmonitor.io/monitor={ref[1]}",
        )["items"]
        return pods

    def wait_exporter_ready(self, ref: MonitorRef, timeout: float = 180) -> dict[str, Any]:
        """The monitor's one exporter Pod, Running and Ready."""

        def one_ready() -> dict[str, Any] | None:
            pods = [p for p in self.exporter_pods(ref) if p["metadata"].get("deletionTimestamp") is None]
            return pods[0] if len(pods) == 1 and _ready(pods[0]) else None

        pod: dict[str, Any] = wait_for(one_ready, timeout, f"the exporter Pod of {ref[0]}/{ref[1]} Ready")
        return pod

    def up_query(self, ref: MonitorRef, pod: str | None = None) -> str:
        selector = f'namespace="{ref[0]}", service="{child_names(ref[1]).service}"'
        if pod:
            selector += f', pod="{pod}"'
        return f"up{{{selector}}} == 1"

    def wait_scraped(self, ref: MonitorRef, timeout: float = 180, pod: str | None = None) -> None:
        """Prometheus scraped the exporter (the target prometheus-operator made from its ServiceMonitor
        is up), from ``pod`` if given."""
        wait_for(
            lambda: self.prometheus.query(self.up_query(ref, pod)),
            timeout,
            f"Prometheus to scrape {ref[0]}/{ref[1]}" + (f" (pod {pod})" if pod else ""),
        )

    # -- reading -------------------------------------------------------------------------------------

    def kubectl_get_sesmon(self) -> str:
        return self.require_cluster().kubectl("get", "sesmonitors", "-A").stdout

    def kubectl_describe_sesmon(self, ref: MonitorRef) -> str:
        return self.require_cluster().kubectl("describe", "sesmonitor", ref[1], "-n", ref[0]).stdout

    def sesmonitor(self, ref: MonitorRef) -> dict[str, Any]:
        doc: dict[str, Any] = self.require_cluster().kubectl_json("get", "sesmonitor", ref[1], "-n", ref[0])
        return doc

    def scale_operator(self, replicas: int, timeout: float = 180) -> None:
        """Scale the operator's Deployment (the cluster's Deployment controller acts on it); with
        replicas, wait for the rollout. 0 returns at once: its pods terminate meanwhile."""
        cluster = self.require_cluster()
        deployment = f"deployment/{OPERATOR_RELEASE}"
        cluster.kubectl("-n", OPERATOR_NAMESPACE, "scale", deployment, f"--replicas={replicas}")
        if replicas:
            cluster.kubectl(
                "-n", OPERATOR_NAMESPACE, "rollout", "status", deployment, f"--timeout={int(timeout)}s",
                timeout=timeout + 20,
            )  # fmt: skip

    def kubeconfig_path(self) -> Path:
        return self.require_cluster().kubeconfig_path

    # -- tear-down -----------------------------------------------------------------------------------

    def uninstall(self) -> None:
        """Remove what this stack put into a cluster it does not own (the monitors' namespaces, the
        chart, the monitoring stack); best effort."""
        cluster = self.cluster
        if cluster is None:
            return
        steps: list[Callable[[], Any]] = [
            lambda: (
                cluster.kubectl(
                    "delete",
                    "namespace",
                    *sorted(self.namespaces),
                    "--wait=true",
                    "--timeout=120s",
                    timeout=150,
                )
                if self.namespaces
                else None
            ),
            lambda: cluster.run_with_kubeconfig(
                [
                    str(helm_path()),
                    "uninstall",
                    OPERATOR_RELEASE,
                    "-n",
                    OPERATOR_NAMESPACE,
                    "--wait",
                ]
            ),
        ]
        if self.monitoring is not None:
            steps.append(self.monitoring.uninstall)
        for step in steps:
            with contextlib.suppress(Exception):
                step()

    def stop(self) -> None:
        """Stop what this stack started (the cluster only if it started it); safe to call twice.

        In a cluster it was given, the objects stay (a test session's cluster goes as a whole), unless
        ``uninstall()`` was called first."""
        steps: list[Callable[[], Any]] = [account.stop for account in self.accounts.values()]
        if self.webhook is not None:
            steps.append(self.webhook.stop)
        if self.owns_cluster and self.cluster is not None:
            steps.append(self.cluster.stop)
        for step in steps:
            with contextlib.suppress(Exception):
                step()
        self.webhook = None
        self.accounts = {}
        if self.owns_cluster:
            self.cluster = None


def existing_cluster(kubeconfig: Path) -> ExistingCluster:
    """A cluster of one's own (kind, k3d, EKS) through its admin kubeconfig, with our kubectl."""
    return ExistingCluster(kubeconfig, tools_dir() / "bin" / "kubectl")
