"""The whole alert path on one machine, for the demo (scripts/demo.py) and the e2e tests.

    stack = LocalStack(Path(".demo"))
    ses = stack.add_account("seed")                        # a simulated SES account (own process)
    stack.start(monitors=[manifest])                       # control plane, CRDs, monitoring, operator
    stack.apply_monitor(manifest)                          # kubectl apply
    stack.run_exporter("mail", "demo")                     # the rendered Deployment, run locally
    stack.sync_prometheus()                                # ServiceMonitors + PrometheusRules -> Prometheus
    ...
    stack.stop()

Pieces (each usable alone): `support.controlplane.ControlPlane` (etcd, kube-apiserver,
kube-controller-manager), `support.live_ses.SesAccountProcess` (moto + fault proxy + live datapoints),
`sesmonitor-operator` as a subprocess (admin kubeconfig; it reaches each exporter's /status through an
``--exporter-url`` override, since no Service network exists here), `support.local_kubelet.LocalKubelet`,
`support.prometheus_operator` (the ServiceMonitor/PrometheusRule translation), and
`support.prometheus_stack` (Prometheus, Alertmanager) with `support.webhook_receiver.WebhookReceiver`
standing in for Opsgenie and Slack.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sesmonitor.api import custom_resource_definition, load
from sesmonitor.render import child_names
from support import prometheus_operator
from support.controlplane import Cluster, ControlPlane, free_port
from support.live_ses import SesAccountProcess
from support.local_kubelet import LocalKubelet, LocalPod
from support.processes import ManagedProcess, http_ok
from support.prometheus_stack import Alertmanager, Prometheus, alertmanager_config
from support.tools import crds_dir, tools_dir
from support.webhook_receiver import Notification, WebhookReceiver

__all__ = ["LocalStack", "MonitorRef"]

ROOT = Path(__file__).resolve().parents[2]
SESMONITOR_CRD = ROOT / "crds" / "sesmonitor.io_sesmonitors.yaml"
PROMETHEUS_OPERATOR_CRDS = (
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
)
OPERATOR_BIN = Path(sys.executable).parent / "sesmonitor-operator"
CHILD_KINDS = ("configmap", "deployment", "service", "servicemonitor", "prometheusrule")

MonitorRef = tuple[str, str]  # (namespace, name)


def monitor_ref(manifest: Mapping[str, Any]) -> MonitorRef:
    monitor = load(manifest)
    return monitor.namespace, monitor.name


class LocalStack:
    def __init__(
        self,
        workdir: Path,
        *,
        prometheus_port: int = 0,
        alertmanager_port: int = 0,
        webhook_port: int = 0,
        reconcile_interval: str = "5s",
        evaluation_interval: str = "2s",
        on_notification: Callable[[Notification], None] | None = None,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.workdir = Path(workdir)
        self.prometheus_port = prometheus_port
        self.alertmanager_port = alertmanager_port
        self.webhook_port = webhook_port
        self.reconcile_interval = reconcile_interval
        self.evaluation_interval = evaluation_interval
        self.on_notification = on_notification
        self.log = log
        self.cluster: Cluster | None = None
        self.accounts: dict[str, SesAccountProcess] = {}
        self.webhook: WebhookReceiver | None = None
        self.alertmanager: Alertmanager | None = None
        self.prometheus: Prometheus | None = None
        self.operator: ManagedProcess | None = None
        self.kubelet: LocalKubelet | None = None
        self.exporter_ports: dict[MonitorRef, int] = {}
        self._prometheus_inputs: str | None = None
        self._scraped_targets: set[str] = set()
        self._loaded_rule_files: dict[str, Any] = {}
        # Rule files given to Prometheus beside the rendered ones (name -> content), e.g. a control rule.
        self.extra_rule_files: dict[str, Any] = {}
        self.timings: dict[str, float] = {}

    # -- bring-up ------------------------------------------------------------------------------------

    def add_account(
        self, scenario: str, name: str | None = None, *, wait: bool = True, **kwargs: Any
    ) -> SesAccountProcess:
        """Start a simulated SES account (its own process); `kwargs` go to SesAccountProcess.

        Without `wait`, call the account's `wait_ready()` before pointing an exporter at it (several
        accounts then seed in parallel, and beside the control plane's start).
        """
        name = name or f"ses-{scenario}"
        account = SesAccountProcess(scenario, self.workdir / "ses", name=name, **kwargs).start(wait=wait)
        self.accounts[name] = account
        self.log(f"simulated SES account {name!r} ({scenario}) at {account.endpoint_url}")
        return account

    def start(self, monitors: Iterable[MonitorRef] = ()) -> LocalStack:
        """Control plane + CRDs, webhook + Alertmanager + Prometheus, then the operator.

        The operator learns each planned monitor's exporter address from the command line (there is no
        Service network here), so `monitors` lists every SesMonitor the caller will apply.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        for ref in monitors:
            self.exporter_ports.setdefault(ref, free_port())
        self.start_cluster()
        self.start_monitoring()
        self.start_operator()
        self.kubelet = LocalKubelet(self.require_cluster(), self.workdir / "pods")
        return self

    def start_cluster(self) -> Cluster:
        started = time.monotonic()
        tools = tools_dir()
        cluster = ControlPlane(tools / "bin", workdir=self.workdir / "controlplane", keep_workdir=True)
        self.cluster = cluster
        crd = SESMONITOR_CRD
        if not crd.is_file():  # `make crd` writes it; until then, the same thing from the model
            crd = self.workdir / "sesmonitor-crd.yaml"
            crd.write_text(yaml.safe_dump(custom_resource_definition(), sort_keys=False))
        cluster.apply_crds([crds_dir() / name for name in PROMETHEUS_OPERATOR_CRDS] + [crd])
        self.timings["control plane"] = time.monotonic() - started
        self.log(f"control plane at {cluster.server_url} ({self.timings['control plane']:.0f}s)")
        return cluster

    def start_monitoring(self) -> None:
        started = time.monotonic()
        self.webhook = WebhookReceiver(
            self.workdir / "notifications.json", port=self.webhook_port, on_notification=self.on_notification
        ).start()
        self.alertmanager = Alertmanager(
            self.workdir / "alertmanager",
            alertmanager_config(self.webhook.url),
            port=self.alertmanager_port,
        ).start()
        self.prometheus = Prometheus(
            self.workdir / "prometheus",
            port=self.prometheus_port,
            alertmanager=self.alertmanager.address,
            evaluation_interval=self.evaluation_interval,
        ).start()
        self.timings["monitoring"] = time.monotonic() - started
        self.log(
            f"Prometheus {self.prometheus.url}, Alertmanager {self.alertmanager.url},"
            f" webhook receiver {self.webhook.url('')}"
        )

    def start_operator(self, *extra: str) -> ManagedProcess:
        cluster = self.require_cluster()
        liveness = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SESMONITOR_", "KOPF_", "AWS_"))}
        env["KUBECONFIG"] = str(cluster.kubeconfig_path)
        args = [
            str(OPERATOR_BIN),
            "--all-namespaces",
            "--standalone",
            f"--reconcile-interval={self.reconcile_interval}",
            f"--liveness=http://127.0.0.1:{liveness}/healthz",
            "--exporter-timeout=2",
            *[
                f"--exporter-url={ns}/{name}=http://127.0.0.1:{port}"
                for (ns, name), port in sorted(self.exporter_ports.items())
            ],
            *extra,
        ]
        self.operator = ManagedProcess("operator", args, self.workdir / "operator.log", env=env).start()
        self.operator.wait_ready(lambda: http_ok(f"http://127.0.0.1:{liveness}/healthz"), 60, "live")
        self.log("sesmonitor-operator running")
        return self.operator

    # -- monitors ------------------------------------------------------------------------------------

    def require_cluster(self) -> Cluster:
        if self.cluster is None:
            raise RuntimeError("the control plane is not started")
        return self.cluster

    def apply_monitor(self, manifest: Mapping[str, Any]) -> MonitorRef:
        cluster = self.require_cluster()
        ns, name = monitor_ref(manifest)
        if ns != "default":
            cluster.kubectl("create", "namespace", ns, check=False)
        doc = json.loads(json.dumps(manifest))
        doc.setdefault("metadata", {})["namespace"] = ns
        cluster.apply(doc)
        return ns, name

    def wait_for_children(self, ref: MonitorRef, timeout: float = 60) -> None:
        cluster = self.require_cluster()
        ns, name = ref
        child = child_names(name)
        names = {
            "configmap": child.config_map,
            "deployment": child.deployment,
            "service": child.service,
            "servicemonitor": child.service_monitor,
            "prometheusrule": child.prometheus_rule,
        }

        def present() -> bool:
            return all(
                cluster.kubectl("get", kind, names[kind], "-n", ns, check=False).returncode == 0
                for kind in CHILD_KINDS
            )

        cluster.wait_for(present, timeout=timeout, interval=0.5, what=f"children of SesMonitor {ns}/{name}")

    def run_exporter(self, ref: MonitorRef, timeout: float = 60) -> LocalPod:
        """Run the monitor's rendered exporter Deployment as a local process on its planned port."""
        if self.kubelet is None:
            raise RuntimeError("the stack is not started")
        if ref not in self.exporter_ports:
            raise KeyError(f"{ref[0]}/{ref[1]} was not planned in start(monitors=...)")
        self.wait_for_children(ref, timeout)
        pod = self.kubelet.run(ref[0], child_names(ref[1]).deployment, self.exporter_ports[ref], timeout)
        self.log(f"exporter of {ref[0]}/{ref[1]} at {pod.url} (log {pod.log_path})")
        return pod

    def pod(self, ref: MonitorRef) -> LocalPod:
        assert self.kubelet is not None
        return self.kubelet.pods[(ref[0], child_names(ref[1]).deployment)]

    # -- prometheus-operator's part ------------------------------------------------------------------

    def prometheus_inputs(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Scrape jobs for every ServiceMonitor that selects the Service of a running local pod, and a
        rule file per PrometheusRule, as prometheus-operator would generate them."""
        cluster = self.require_cluster()
        assert self.kubelet is not None
        monitors = cluster.kubectl_json("get", "servicemonitors.monitoring.coreos.com", "-A")["items"]
        services = cluster.kubectl_json("get", "services", "-A")["items"]
        rules = cluster.kubectl_json("get", "prometheusrules.monitoring.coreos.com", "-A")["items"]
        jobs: list[dict[str, Any]] = []
        for (ns, _deployment), pod in sorted(self.kubelet.pods.items()):
            pod_labels = pod.labels
            backing = [
                svc
                for svc in services
                if svc["metadata"]["namespace"] == ns
                and svc["spec"].get("selector")
                and all(pod_labels.get(k) == v for k, v in svc["spec"]["selector"].items())
            ]
            found = []
            for svc in backing:
                for sm in monitors:
                    with contextlib.suppress(ValueError):  # this ServiceMonitor does not select it
                        found += prometheus_operator.scrape_configs(sm, svc, pod.address)
            if not found:
                raise RuntimeError(
                    f"no ServiceMonitor selects a Service of the exporter {ns}/{pod.deployment}:"
                    " prometheus-operator would not scrape it either"
                )
            jobs += found
        rule_files = {
            f"{r['metadata']['namespace']}-{r['metadata']['name']}.yaml": prometheus_operator.rule_file(r)
            for r in rules
        }
        return jobs, {**rule_files, **self.extra_rule_files}

    def sync_prometheus(self, scrape_timeout: float = 30) -> bool:
        """Give Prometheus the current scrape jobs and rules; True when they changed (and it reloaded).

        New targets are scraped once before new rules are loaded, so a fresh monitor does not start with
        SESMonitorExporterDown pending merely because its first scrape is a few seconds away.
        """
        prometheus = self.prometheus
        assert prometheus is not None
        jobs, rule_files = self.prometheus_inputs()
        fingerprint = json.dumps([jobs, rule_files], sort_keys=True)
        if fingerprint == self._prometheus_inputs:
            return False
        targets = {t for job in jobs for group in job["static_configs"] for t in group["targets"]}
        new = targets - self._scraped_targets
        if new:
            prometheus.configure(jobs, self._loaded_rule_files)

            def scraped() -> bool:
                seen = {t["labels"].get("instance") for t in prometheus.targets() if t["health"] != "unknown"}
                return new <= seen

            prometheus.wait_for(scraped, scrape_timeout, f"a first scrape of {sorted(new)}")
            self._scraped_targets |= new
        prometheus.configure(jobs, rule_files)
        self._loaded_rule_files = rule_files
        self._prometheus_inputs = fingerprint
        self.log(f"Prometheus: {len(jobs)} scrape job(s), {len(rule_files)} rule file(s) loaded")
        return True

    def sync(self) -> list[str]:
        """One pass of the stand-ins: the kubelet rolls changed pods, Prometheus follows the objects."""
        done = self.kubelet.sync() if self.kubelet is not None else []
        with contextlib.suppress(Exception):
            if self.sync_prometheus():
                done.append("Prometheus configuration reloaded")
        return done

    # -- reading -------------------------------------------------------------------------------------

    def kubectl_get_sesmon(self) -> str:
        return self.require_cluster().kubectl("get", "sesmonitors", "-A").stdout

    def sesmonitor(self, ref: MonitorRef) -> dict[str, Any]:
        doc: dict[str, Any] = self.require_cluster().kubectl_json("get", "sesmonitor", ref[1], "-n", ref[0])
        return doc

    # -- tear-down -----------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything this stack started, the most dependent first; safe to call twice."""
        steps: list[Callable[[], Any]] = []
        if self.kubelet is not None:
            steps.append(self.kubelet.stop)
        if self.operator is not None:
            steps.append(self.operator.stop)
        for item in (self.prometheus, self.alertmanager, self.webhook):
            if item is not None:
                steps.append(item.stop)
        steps += [account.stop for account in self.accounts.values()]
        if self.cluster is not None:
            steps.append(self.cluster.stop)
        for step in steps:
            with contextlib.suppress(Exception):
                step()
        self.kubelet = self.operator = self.prometheus = self.alertmanager = self.webhook = None
        self.cluster = None
        self.accounts = {}
