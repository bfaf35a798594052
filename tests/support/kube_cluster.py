"""A whole single-node Kubernetes cluster for tests and the demo: the control plane of
``support.controlplane`` plus kube-scheduler, one real node (``support.node``) and CoreDNS.

    with NodeCluster(workdir, log=print) as cluster:   # 20-30 s; a ``Cluster`` like any other
        cluster.kubectl("get", "pods", "-A")
        cluster.net.host_ip                             # where test servers listen for the pods

Bring-up is an ordered list of steps, each timed in ``step_seconds``; when one fails, what the earlier
ones started is stopped and the logs stay in ``workdir`` (``keep_workdir``).

The binaries: ``support.tools`` (control plane and node builds); the images: ``tests/node/images.sh``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from support.controlplane import ControlPlane, _kubeconfig, _write_private, free_port
from support.node import Node, NodeNetwork, render_file
from support.processes import ManagedProcess
from support.tools import images_listing, node_tools_dir, tools_dir
from support.waiting import scaled

__all__ = ["NodeCluster"]

COREDNS_IMAGE_PREFIX = "registry.k8s.io/coredns/coredns:"


class NodeCluster(ControlPlane):
    """etcd, kube-apiserver, kube-controller-manager (every default controller), kube-scheduler, one
    node, CoreDNS; the admin kubeconfig reaches the apiserver at the host end of the node's veth."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        log: Callable[[str], None] = lambda _m: None,
        keep_workdir: bool = False,
        extra_apiserver_args: Sequence[str] = (),
    ) -> None:
        self.log = log
        self.step_seconds: dict[str, float] = {}
        started = time.monotonic()
        self.net = NodeNetwork.claim()
        self.node: Node | None = None
        self.scheduler: ManagedProcess | None = None
        made_workdir = workdir is None
        workdir = Path(tempfile.mkdtemp(prefix="sesmonitor-cluster-")) if workdir is None else Path(workdir)
        try:
            self.images = images_listing()
            log(f"cluster: control plane (slot {self.net.slot}, apiserver on {self.net.host_ip})")
            # The veth must exist before the apiserver binds its host end.
            self.node = Node(self.net, node_tools_dir() / "bin", self.images, workdir / "node", log=log)
            self._step("node network", self.node.prepare)
            super().__init__(
                tools_dir() / "bin",
                controllers=("*",),
                extra_apiserver_args=extra_apiserver_args,
                workdir=workdir,
                keep_workdir=keep_workdir,
                bind_address=self.net.host_ip,
                service_cidr=self.net.service_cidr,
                serve_nodes=True,
            )
            self._created_workdir = made_workdir
            self.step_seconds["control plane"] = sum(v for k, v in self.start_seconds.items() if k != "total")
            self._step("scheduler", self._start_scheduler)
            self._step("node", self._start_node)
            self._step("coredns", self._start_coredns)
        except BaseException:
            self.keep_workdir = True
            self.stop()
            raise
        self.step_seconds["total"] = time.monotonic() - started
        log(f"cluster: up in {self.step_seconds['total']:.0f}s")

    def _step(self, name: str, step: Callable[[], None]) -> None:
        started = time.monotonic()
        self.log(f"cluster: {name}")
        step()
        self.step_seconds[name] = time.monotonic() - started

    def _start_scheduler(self) -> None:
        cert, key = self.ca.issue("system:kube-scheduler")
        kubeconfig = _write_private(
            self.workdir / "kube-scheduler.kubeconfig",
            yaml.safe_dump(
                _kubeconfig(self.server_url, self.ca.cert_pem, "system:kube-scheduler", cert, key)
            ).encode(),
        )
        self.scheduler = ManagedProcess(
            "kube-scheduler",
            [
                node_tools_dir() / "bin" / "kube-scheduler",
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--leader-elect=false",
                "--v=1",
            ],
            self.log_path("kube-scheduler"),
        ).start()

    def _start_node(self) -> None:
        assert self.node is not None
        self.node.start(self)

    def _start_coredns(self) -> None:
        image = next((ref for ref in self.images if ref.startswith(COREDNS_IMAGE_PREFIX)), None)
        if image is None:
            raise RuntimeError(f"no CoreDNS image among {sorted(self.images)}")
        manifest = render_file("coredns.yaml", {"coredns_image": image, "cluster_dns": self.net.cluster_dns})
        self.apply(manifest)
        self.kubectl(
            "-n",
            "kube-system",
            "rollout",
            "status",
            "deployment/coredns",
            f"--timeout={scaled(120):.0f}s",
            timeout=150,
        )

    def run_python_pod(self, name: str, script: str, namespace: str = "default") -> tuple[int, str]:
        """Run ``script`` (Python) to completion in a pod of our image; (exit code, its log). The
        pod sees the cluster as any workload does (its DNS, Services, the network policy of none)."""
        image = next(ref for ref in self.images if ref.startswith("ghcr.io/sesmonitor/sesmonitor:"))
        self.kubectl(
            "-n", namespace, "run", name, "--restart=Never", f"--image={image}", "--image-pull-policy=Never",
            "--command", "--", "python3", "-c", script,
        )  # fmt: skip
        self.kubectl(
            "-n", namespace, "wait", f"pod/{name}", "--for=jsonpath={.status.phase}=Succeeded",
            f"--timeout={scaled(120):.0f}s", check=False, timeout=150,
        )  # fmt: skip
        pod = self.kubectl_json("-n", namespace, "get", "pod", name)
        log = self.kubectl("-n", namespace, "logs", name, check=False).stdout
        self.kubectl("-n", namespace, "delete", "pod", name, "--wait=false")
        statuses = pod["status"].get("containerStatuses") or [{}]
        terminated = statuses[0].get("state", {}).get("terminated", {})
        return int(terminated.get("exitCode", -1)), log

    def stop(self) -> None:
        if getattr(self, "_node_stopped", False):
            return
        self._node_stopped = True
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.node is not None:
            self.node.stop()
        super().stop()
        self.net.release()
        if getattr(self, "_created_workdir", False) and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
