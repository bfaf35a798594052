"""Helpers for the operator's cluster tests: constants, a stand-in exporter, the operator process.

Plain module (not a pytest plugin) so test modules can import from it; the fixtures that use these
live in `fixtures_operator`.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sesmonitor.contract import ExporterStatus
from support.controlplane import Cluster, free_port
from support.exporter_documents import exporter_status
from support.http_servers import BackgroundServer, QuietHandler
from support.monitors import monitor_document
from support.tools import helm_path

ROOT = Path(__file__).resolve().parents[2]
CRD_FILE = ROOT / "crds" / "sesmonitor.io_sesmonitors.yaml"
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"
OPERATOR_BIN = Path(sys.executable).parent / "sesmonitor-operator"

RELEASE = "sesmonitor-operator"
RELEASE_NAMESPACE = "sesmonitor-system"
OPERATOR_USER = f"system:serviceaccount:{RELEASE_NAMESPACE}:{RELEASE}"
OPERATOR_GROUPS = (
    "system:serviceaccounts",
    f"system:serviceaccounts:{RELEASE_NAMESPACE}",
    "system:authenticated",
)
RBAC_KINDS = frozenset({"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"})
# Reconcile interval of the operator under test (seconds); quiet periods span several of these.
INTERVAL = 1.0
CHILD_KINDS = ("configmap", "deployment", "service", "servicemonitor", "prometheusrule")
TEST_EXPORTER_IMAGE = "example.invalid/sesmonitor:test"


@dataclass(frozen=True)
class Identity:
    user: str
    kubeconfig: Path
    rbac: list[dict[str, Any]]


# --------------------------------------------------------------------------------------------------
# A stand-in exporter
# --------------------------------------------------------------------------------------------------


def as_served(doc: ExporterStatus, now: float) -> ExporterStatus:
    """``doc`` as a real exporter serves it at ``now``: its refresh time and datapoint ages move on every
    request (a refresh a minute, answered from the cache in between), nothing else does."""
    served = copy.deepcopy(doc)
    if served.last_refresh_time is not None:
        served.last_refresh_time = (
            datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat().replace("+00:00", "Z")
        )
    for rate in (served.bounce_rate, served.complaint_rate):
        if rate["age_seconds"] is not None:
            rate["age_seconds"] = round(60.0 + now % 60, 3)
    return served


class StandInExporters:
    """One HTTP server standing in for every exporter: GET /<namespace>/<name>/status, each answer with
    a new refresh time, as real exporters' answers have (see `as_served`)."""

    def __init__(self) -> None:
        self.documents: dict[str, ExporterStatus] = {}
        self.requests: list[str] = []
        documents, requests = self.documents, self.requests

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                parts = self.path.strip("/").split("/")
                doc = documents.get("/".join(parts[:2])) if len(parts) == 3 and parts[2] == "status" else None
                if doc is None:
                    self.send_error(404, "no such exporter")
                    return
                self.send_body(200, as_served(doc, time.time()).to_json().encode())

        self._http = BackgroundServer(Handler, name="stand-in-exporters")
        self.port = self._http.port
        self._http.start()

    @property
    def url_template(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{namespace}}/{{name}}"

    def serve(self, namespace: str, name: str, **fields: Any) -> ExporterStatus:
        doc = exporter_status(f"{namespace}/{name}", **fields)
        self.documents[f"{namespace}/{name}"] = doc
        return doc

    def stop(self) -> None:
        self._http.stop()


# --------------------------------------------------------------------------------------------------
# The operator process
# --------------------------------------------------------------------------------------------------


class OperatorProcess:
    """``sesmonitor-operator`` run as a subprocess with the chart's identity."""

    def __init__(
        self,
        identity: Identity,
        exporters: StandInExporters,
        log_dir: Path,
        scope: tuple[str, ...] = ("--all-namespaces",),
    ) -> None:
        self.identity = identity
        self.scope = scope
        self.exporters = exporters
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.liveness_port = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"operator-{self.starts}.log"

    def start(self, *extra: str, timeout: float = 60) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.liveness_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SESMONITOR_", "KOPF_"))}
        env["KUBECONFIG"] = str(self.identity.kubeconfig)
        args = [
            str(OPERATOR_BIN),
            *self.scope,
            *(() if "--peering" in extra else ("--standalone",)),
            f"--reconcile-interval={INTERVAL}",
            f"--liveness=http://127.0.0.1:{self.liveness_port}/healthz",
            f"--exporter-url-template={self.exporters.url_template}",
            "--exporter-timeout=1",
            f"--exporter-image={TEST_EXPORTER_IMAGE}",
            "--verbose",
            *extra,
        ]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self.alive():
            if self.proc.poll() is not None:
                raise AssertionError(f"operator exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"operator not live after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_text(self) -> str:
        texts = []
        for n in range(1, self.starts + 1):
            with contextlib.suppress(OSError):
                texts.append((self.log_dir / f"operator-{n}.log").read_text(errors="replace"))
        return "\n".join(texts)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------
# Helpers for tests
# --------------------------------------------------------------------------------------------------


def sesmonitor(name: str, namespace: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return monitor_document(
        spec if spec is not None else {"region": "eu-west-1"}, name=name, namespace=namespace, region=None
    )


def get_json(cluster: Cluster, *args: str) -> dict[str, Any] | None:
    proc = cluster.kubectl("get", *args, "-o", "json", check=False)
    if proc.returncode != 0:
        if "NotFound" in proc.stderr or "not found" in proc.stderr:
            return None
        raise AssertionError(proc.stderr)
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def mark_rolled_out(cluster: Cluster, namespace: str, deployment: str) -> None:
    """Write the status the Deployment controller would once its one pod is up: the control plane alone
    (envtest's shape) runs no controllers, so the operator would read the exporter as still rolling out."""
    live = get_json(cluster, "deployment", deployment, "-n", namespace)
    assert live is not None, f"no Deployment {namespace}/{deployment}"
    status = {
        "observedGeneration": live["metadata"]["generation"],
        **dict.fromkeys(("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"), 1),
    }
    cluster.kubectl(
        "-n", namespace, "patch", "deployment", deployment, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )  # fmt: skip


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return {}


def monitor_ready(cluster: Cluster, namespace: str, name: str) -> bool:
    """Whether the SesMonitor's Ready condition is True."""
    return condition(get_json(cluster, "sesmonitor", name, "-n", namespace), "Ready").get("status") == "True"


def wait_monitor_ready(
    cluster: Cluster, namespace: str, name: str, *, timeout: float = 15, what: str = "the monitor to be Ready"
) -> None:
    cluster.wait_for(lambda: monitor_ready(cluster, namespace, name), timeout=timeout, what=what)


def children(cluster: Cluster, namespace: str, monitor: str) -> dict[str, dict[str, Any]]:
    """The monitor's children by kind (lower case), found by their `sesmonitor.io/monitor` label."""
    listed = cluster.kubectl_json(
        "get", ",".join(CHILD_KINDS), "-n", namespace, "-l", f"sesmonitor.io/monitor={monitor}"
    )
    found: dict[str, dict[str, Any]] = {}
    for item in listed["items"]:
        kind = str(item["kind"]).lower()
        assert kind not in found, (
            f"two {kind}s for {monitor}: {found[kind]['metadata']['name']}, {item['metadata']['name']}"
        )
        found[kind] = item
    return found


def events_for(cluster: Cluster, namespace: str, name: str) -> list[dict[str, Any]]:
    listed = cluster.kubectl_json(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        f"involvedObject.name={name},involvedObject.kind=SesMonitor",
    )
    items: list[dict[str, Any]] = listed["items"]
    return items


def helm_template(
    *args: str, release: str = RELEASE, namespace: str = RELEASE_NAMESPACE
) -> list[dict[str, Any]]:
    """The chart rendered by the helm binary built for the tests (``args``: e.g. ``--set k=v``)."""
    helm = helm_path()
    proc = subprocess.run(
        [str(helm), "template", release, str(CHART), "--namespace", namespace, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
