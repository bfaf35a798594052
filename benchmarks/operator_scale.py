"""Scale and cost benchmark of sesmonitor-operator on a real control plane, with stand-in exporters.

    .venv/bin/python benchmarks/operator_scale.py [--monitors 500] [--latency-samples 200]
        [--reconcile-interval 60] [--steady-seconds 120] [--json results.json] [--kopf-defaults]

The full run takes about 9 minutes on 2 cores (results in docs/benchmarks.md, "Operator");
tests/cluster/test_benchmark_smoke.py runs it with 5 monitors in under a minute. Everything it
starts is stopped at the end, also on an error or Ctrl-C.

What runs: etcd, kube-apiserver and kube-controller-manager from `tests/controlplane/build.sh` (the same
`support.controlplane.ControlPlane` as the cluster tests, with its audit log), the prometheus-operator
CRDs and ours, the Helm chart's ServiceAccount and RBAC, and `sesmonitor-operator` as a subprocess
under that identity (standalone, all namespaces, not verbose, as the chart runs it). The exporters are
stood in for by one small HTTP server (a subprocess of this script) that answers
`/<namespace>/<name>/status` with a healthy ExporterStatus for any monitor (the operator reaches it
through `--exporter-url-template`) and counts the requests: each reconcile of a valid SesMonitor
reads `/status` exactly once, so that count is the number of reconciles. No AWS, no pods (there is no
kubelet; the Deployments stay unscheduled, which the operator does not look at).

Measured, in this order:

1. operator RSS with 0 monitors;
2. latency: `--latency-samples` SesMonitors created one by one (the next once the previous is Ready);
   from the create call's return to the last of the five children (ConfigMap, Deployment, Service,
   ServiceMonitor, PrometheusRule) arriving on this script's watches, and to Ready=True; operator RSS
   when 100 exist; they are then deleted (and garbage collection waited for);
3. throughput: `--monitors` SesMonitors created at once (20 client threads) across `--namespaces`
   namespaces; time until every one has Ready=True; operator CPU seconds per reconcile;
4. steady state: `--steady-seconds` with nothing changing; the operator's API requests from the
   apiserver audit log (reads and writes, by verb and resource), reconciles, CPU per reconcile, RSS;
5. latency with the others present: `--loaded-samples` creates spread over one reconcile interval,
   while the idle monitors' timers fire;
6. update: one spec field (`thresholds.bounceRate.warning: 4%`) patched on every monitor at once;
   time until every PrometheusRule has the new threshold and every status.observedGeneration equals
   its generation;
7. exporter cost (unless `--skip-exporter-cost`): `sesmonitor-exporter` against moto
   (tests/support/moto_ses.py) with 0 and with N configuration sets: its RSS and the CloudWatch
   requests of one refresh, as the measured basis of "one exporter per monitor" against "one
   exporter for many monitors".

`--kopf-defaults` runs the operator with the kopf settings it had before the scale tuning (see
`BASELINE` below and docs/benchmarks.md), for before/after comparisons in consecutive runs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "cluster"))

from operator_helpers import (  # noqa: E402
    CRD_FILE,
    OPERATOR_BIN,
    OPERATOR_GROUPS,
    OPERATOR_USER,
    RBAC_KINDS,
    RELEASE_NAMESPACE,
    TEST_EXPORTER_IMAGE,
    exporter_status,
    helm_template,
)

from support.controlplane import CAN_WATCH_MONITORS, WRITE_VERBS, ControlPlane, free_port  # noqa: E402
from support.http_servers import QuietHandler  # noqa: E402
from support.monitors import monitor_document  # noqa: E402
from support.processes import die_with_parent  # noqa: E402
from support.tools import bin_dir, crds_dir  # noqa: E402

PROMETHEUS_OPERATOR_CRDS = (
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
)
GROUP_VERSION = "sesmonitor.io/v1alpha1"
MONITOR_LABEL = "sesmonitor.io/monitor"
MANAGED_BY = "app.kubernetes.io/managed-by=sesmonitor-operator"
# (watch path, kind) of the five children, cluster-wide.
CHILDREN = (
    ("/api/v1/configmaps", "ConfigMap"),
    ("/apis/apps/v1/deployments", "Deployment"),
    ("/api/v1/services", "Service"),
    ("/apis/monitoring.coreos.com/v1/servicemonitors", "ServiceMonitor"),
    ("/apis/monitoring.coreos.com/v1/prometheusrules", "PrometheusRule"),
)
CHILD_KINDS = frozenset(kind for _, kind in CHILDREN)
UPDATED_WARNING = "4%"
UPDATED_MARKER = ">= 0.04"  # in the PrometheusRule's warning expression once the update is applied
CLK_TCK = os.sysconf("SC_CLK_TCK")

# `--kopf-defaults`: the operator as it was before the scale tuning (kopf's handler thread pool and
# consistency timeout, the kubernetes client's connection pool), by undoing runner.py's tuning.
BASELINE = """
import sys, concurrent.futures, kopf
import sesmonitor.operator.runner as runner
from sesmonitor.cli.operator_main import main
from sesmonitor.operator.kube import load_api_client
tuned = runner.kopf_settings
def baseline(settings):
    ks = tuned(settings)
    ks.execution.executor = concurrent.futures.ThreadPoolExecutor()
    ks.persistence.consistency_timeout = kopf.OperatorSettings().persistence.consistency_timeout
    return ks
runner.kopf_settings = baseline
runner.api_client = lambda settings: load_api_client()
sys.exit(main(sys.argv[1:]))
"""


def log(message: str) -> None:
    print(f"[operator-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------------------------------
# The stand-in exporter: one process, any monitor


def serve_stand_in(port_file: Path) -> None:
    """Run the stand-in exporter (in a subprocess of this script) until SIGTERM."""
    cache: dict[str, bytes] = {}
    count = [0]
    lock = threading.Lock()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if self.path == "/_count":
                body = str(count[0]).encode()
            elif len(parts) == 3 and parts[2] == "status":
                key = f"{parts[0]}/{parts[1]}"
                with lock:
                    count[0] += 1
                    body = cache.get(key) or b""
                    if not body:
                        body = cache[key] = exporter_status(key).to_json().encode()
            else:
                self.send_error(404)
                return
            self.send_body(200, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


class StandIn:
    def __init__(self, workdir: Path) -> None:
        port_file = workdir / "stand-in.port"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-stand-in", str(port_file)],
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "stand-in.log").open("wb"),
            start_new_session=True,
            # Its own session keeps a terminal's Ctrl-C away; the parent-death signal still ends it when
            # this script is killed before its clean-up runs (as pytest's subprocess.run does on Ctrl-C).
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only ctypes.prctl, no locks taken
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"stand-in exporter did not start: {(workdir / 'stand-in.log').read_text()}"
                )
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    @property
    def url_template(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{namespace}}/{{name}}"

    def count(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_count", timeout=5) as resp:
            return int(resp.read())

    def stop(self) -> None:
        stop_process(self.proc)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --------------------------------------------------------------------------------------------------
# Talking to the apiserver as admin (raw HTTPS, one keep-alive connection per thread)


class Admin:
    def __init__(self, cp: ControlPlane) -> None:
        self.host, self.port = "127.0.0.1", cp.apiserver_port
        ctx = ssl.create_default_context(cafile=str(cp.ca_path))
        ctx.load_cert_chain(str(cp.workdir / "admin.crt"), str(cp.workdir / "admin.key"))
        self.ctx = ctx
        self._local = threading.local()

    def connection(self, timeout: float = 30) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        for attempt in range(3):
            conn: http.client.HTTPSConnection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self.connection()
            try:
                data = None if body is None else json.dumps(body).encode()
                conn.request(method, path, body=data, headers={"Content-Type": content_type})
                resp = conn.getresponse()
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def must(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        status, doc = self.request(method, path, body, content_type)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {json.dumps(doc)[:500]}")
        return doc

    def create_namespace(self, name: str) -> None:
        status, doc = self.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        if status not in (201, 409):
            raise RuntimeError(f"creating namespace {name}: {status} {doc}")

    def create_monitor(self, namespace: str, name: str) -> None:
        self.must(
            "POST",
            f"/apis/{GROUP_VERSION}/namespaces/{namespace}/sesmonitors",
            monitor_document(name=name, namespace=namespace, region="eu-west-1"),
        )

    def update_monitor(self, namespace: str, name: str) -> None:
        self.must(
            "PATCH",
            f"/apis/{GROUP_VERSION}/namespaces/{namespace}/sesmonitors/{name}",
            {"spec": {"thresholds": {"bounceRate": {"warning": UPDATED_WARNING}}}},
            content_type="application/merge-patch+json",
        )


# --------------------------------------------------------------------------------------------------
# Watches: what exists and when this script first saw it


@dataclass
class MonitorSeen:
    children: dict[str, float] = field(default_factory=dict)  # kind -> first seen (monotonic)
    ready_at: float | None = None
    generation: int = 0
    observed_generation: int | None = None
    converged_at: float | None = None  # observedGeneration == generation, for generation >= 2
    rule_updated_at: float | None = None


class World:
    """Shared state fed by the watch threads; waiters block on its condition."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.monitors: dict[str, MonitorSeen] = {}
        self.events = 0

    def _seen(self, key: str) -> MonitorSeen:
        seen = self.monitors.get(key)
        if seen is None:
            seen = self.monitors[key] = MonitorSeen()
        return seen

    def on_child(self, kind: str, kind_event: str, obj: dict[str, Any], now: float) -> None:
        meta = obj.get("metadata") or {}
        monitor = (meta.get("labels") or {}).get(MONITOR_LABEL)
        if not monitor:
            return
        key = f"{meta.get('namespace')}/{monitor}"
        with self.cond:
            self.events += 1
            seen = self._seen(key)
            if kind_event == "DELETED":
                seen.children.pop(kind, None)
            else:
                seen.children.setdefault(kind, now)
                if kind == "PrometheusRule" and seen.rule_updated_at is None:
                    text = json.dumps(obj.get("spec") or {})
                    if UPDATED_MARKER in text:
                        seen.rule_updated_at = now
            self.cond.notify_all()

    def on_monitor(self, kind_event: str, obj: dict[str, Any], now: float) -> None:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        status = obj.get("status") or {}
        with self.cond:
            self.events += 1
            seen = self._seen(key)
            if kind_event == "DELETED":
                seen.generation = 0  # the entry stays until its children are gone too
                self.cond.notify_all()
                return
            seen.generation = int(meta.get("generation") or 0)
            seen.observed_generation = status.get("observedGeneration")
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )
            if ready and seen.ready_at is None:
                seen.ready_at = now
            if seen.generation >= 2 and seen.observed_generation == seen.generation and not seen.converged_at:
                seen.converged_at = now
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)


class Watch(threading.Thread):
    """List, then watch from that resourceVersion, re-listing after 410 Gone; until stopped."""

    def __init__(
        self, admin: Admin, path: str, selector: str, sink: Callable[[str, dict[str, Any], float], None]
    ):
        super().__init__(daemon=True, name=f"watch {path}")
        self.admin, self.path, self.selector, self.sink = admin, path, selector, sink
        self.stopped = threading.Event()
        self.synced = threading.Event()
        self._conn: http.client.HTTPSConnection | None = None

    def _query(self, **params: str) -> str:
        items = dict(params)
        if self.selector:
            items["labelSelector"] = self.selector
        return self.path + "?" + "&".join(f"{k}={urllib.request.quote(v)}" for k, v in items.items())

    def run(self) -> None:
        rv = ""
        while not self.stopped.is_set():
            try:
                if not rv:
                    listed = self.admin.must("GET", self._query())
                    now = time.monotonic()
                    for item in listed.get("items") or []:
                        self.sink("ADDED", item, now)
                    rv = listed["metadata"]["resourceVersion"]
                    self.synced.set()
                conn = self._conn = self.admin.connection(timeout=400)
                conn.request(
                    "GET",
                    self._query(
                        watch="1", resourceVersion=rv, allowWatchBookmarks="true", timeoutSeconds="300"
                    ),
                )
                resp = conn.getresponse()
                if resp.status != 200:
                    resp.read()
                    rv = ""
                    continue
                while not self.stopped.is_set():
                    line = resp.readline()
                    if not line:
                        break
                    event = json.loads(line)
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR":
                        rv = ""  # 410 Gone: list again
                        break
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if event.get("type") != "BOOKMARK":
                        self.sink(event["type"], obj, time.monotonic())
                conn.close()
            except (OSError, http.client.HTTPException, ValueError, RuntimeError):
                if self.stopped.is_set():
                    return
                time.sleep(0.5)  # e.g. 429 while a just-installed CRD's storage initialises

    def stop(self) -> None:
        self.stopped.set()
        conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(2)


# --------------------------------------------------------------------------------------------------
# The operator process


@dataclass
class Usage:
    cpu_seconds: float
    rss_kib: int
    hwm_kib: int


class Operator:
    def __init__(self, kubeconfig: Path, stand_in: StandIn, workdir: Path, args: argparse.Namespace) -> None:
        self.liveness_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SESMONITOR_", "KOPF_"))}
        env["KUBECONFIG"] = str(kubeconfig)
        if args.handler_workers:
            env["SESMONITOR_HANDLER_WORKERS"] = str(args.handler_workers)
        flags = [
            "--all-namespaces",
            "--standalone",
            f"--reconcile-interval={args.reconcile_interval:g}",
            f"--liveness=http://127.0.0.1:{self.liveness_port}/healthz",
            f"--exporter-url-template={stand_in.url_template}",
            "--exporter-timeout=2",
            f"--exporter-image={TEST_EXPORTER_IMAGE}",
            *(["--verbose"] if args.verbose_operator else []),
            *args.operator_arg,
        ]
        cmd = [sys.executable, "-c", BASELINE, *flags] if args.kopf_defaults else [str(OPERATOR_BIN), *flags]
        self.log_path = workdir / "operator.log"
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=self.log_path.open("wb"), start_new_session=True
        )
        deadline = time.monotonic() + 60
        while not self._alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"operator did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def _alive(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.liveness_port}/healthz"
            with urllib.request.urlopen(url, timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def usage(self) -> Usage:
        cpu = cpu_seconds(self.proc.pid)
        mem: dict[str, int] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                mem[key] = int(value.split()[0])
        return Usage(cpu, mem["VmRSS"], mem["VmHWM"])

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        stop_process(self.proc, timeout=30)


# --------------------------------------------------------------------------------------------------
# Audit log


def audit_summary(cp: ControlPlane, since: int, seconds: float) -> dict[str, Any]:
    events = cp.audit_events(since=since, user=OPERATOR_USER)
    by: Counter[str] = Counter()
    reads = writes = 0
    latencies: list[float] = []
    for e in events:
        with contextlib.suppress(KeyError, ValueError):
            received = datetime.datetime.fromisoformat(e["requestReceivedTimestamp"])
            latencies.append(
                (datetime.datetime.fromisoformat(e["stageTimestamp"]) - received).total_seconds()
            )
        ref = e.get("objectRef") or {}
        resource = ref.get("resource", "?") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        by[f"{e.get('verb')} {resource}"] += 1
        if e.get("verb") in WRITE_VERBS:
            writes += 1
        else:
            reads += 1
    minutes = seconds / 60
    return {
        "seconds": round(seconds, 1),
        "requests": len(events),
        "reads": reads,
        "writes": writes,
        "reads_per_minute": round(reads / minutes, 1) if minutes else None,
        "writes_per_minute": round(writes / minutes, 2) if minutes else None,
        "by_verb_and_resource": dict(by.most_common()),
        "apiserver_ms_p50": round(1000 * percentile(latencies, 50), 1) if latencies else None,
        "apiserver_ms_p99": round(1000 * percentile(latencies, 99), 1) if latencies else None,
    }


# --------------------------------------------------------------------------------------------------
# The phases


@dataclass
class Bench:
    cp: ControlPlane
    admin: Admin
    world: World
    operator: Operator
    stand_in: StandIn
    args: argparse.Namespace
    results: dict[str, Any] = field(default_factory=dict)

    def control_plane_cpu(self) -> dict[str, float]:
        return {
            name: cpu_seconds(proc.pid)
            for name, proc in self.cp._procs.items()  # etcd, kube-apiserver, kube-controller-manager
            if proc.poll() is None
        }

    def cpu_split(self, before: dict[str, float], operator_s: float, seconds: float) -> dict[str, float]:
        """Cores used per process over a phase (operator, apiserver, etcd, controller manager)."""
        after = self.control_plane_cpu()
        split = {name: (after[name] - before.get(name, 0.0)) / seconds for name in after}
        split["sesmonitor-operator"] = operator_s / seconds
        return {name: round(value, 2) for name, value in sorted(split.items())}

    def rss_mib(self) -> float:
        return round(self.operator.usage().rss_kib / 1024, 1)

    def check_operator(self) -> None:
        if self.operator.proc.poll() is not None:
            raise RuntimeError(f"the operator exited:\n{self.operator.log_tail()}")

    def create_one(self, namespace: str, name: str) -> tuple[float, float]:
        """Create one SesMonitor; seconds from the create call's return to its last child on the
        watches, and to Ready=True."""
        key = f"{namespace}/{name}"
        self.admin.create_monitor(namespace, name)
        created = time.monotonic()

        def done() -> bool:
            seen = self.world.monitors.get(key)
            return bool(seen and len(seen.children) == len(CHILD_KINDS) and seen.ready_at)

        if not self.world.wait(done, timeout=120):
            self.check_operator()
            raise RuntimeError(f"{key}: children or Ready not seen within 120 s")
        seen = self.world.monitors[key]
        assert seen.ready_at is not None
        return max(seen.children.values()) - created, seen.ready_at - created

    @staticmethod
    def latency_summary(children_s: list[float], ready_s: list[float]) -> dict[str, Any]:
        return {
            "samples": len(children_s),
            "children_p50_s": round(percentile(children_s, 50), 3),
            "children_p99_s": round(percentile(children_s, 99), 3),
            "children_max_s": round(max(children_s), 3),
            "ready_p50_s": round(percentile(ready_s, 50), 3),
            "ready_p99_s": round(percentile(ready_s, 99), 3),
        }

    def latency(self) -> None:
        samples = self.args.latency_samples
        namespace = "bench-latency"
        self.admin.create_namespace(namespace)
        children_s: list[float] = []
        ready_s: list[float] = []
        log(f"latency: creating {samples} SesMonitors one by one")
        for i in range(samples):
            child, ready = self.create_one(namespace, f"lat-{i:04d}")
            children_s.append(child)
            ready_s.append(ready)
            if i + 1 == 100:
                self.results["rss_mib_100"] = self.rss_mib()
        self.results["latency"] = self.latency_summary(children_s, ready_s)
        log(f"latency: {self.results['latency']}")
        # Remove them before the throughput phase, and wait for garbage collection to take their
        # children (deleting the namespace itself waits on every API group: much slower).
        self.admin.must("DELETE", f"/apis/{GROUP_VERSION}/namespaces/{namespace}/sesmonitors")

        def gone() -> bool:
            return not any(
                k.startswith(namespace + "/") and (s.children or s.generation)
                for k, s in self.world.monitors.items()
            )

        # A controller manager started moments ago only garbage-collects the children of a CRD's
        # objects once its discovery resync (every 30 s) has seen that CRD.
        if not self.world.wait(gone, timeout=self.args.cleanup_timeout):
            log(f"the children of {namespace} not all gone after {self.args.cleanup_timeout:g} s; going on")
        self.admin.request("DELETE", f"/api/v1/namespaces/{namespace}")

    def names(self) -> list[tuple[str, str]]:
        n, spaces = self.args.monitors, self.args.namespaces
        return [(f"bench-{i % spaces}", f"m-{i:04d}") for i in range(n)]

    def throughput(self) -> None:
        names = self.names()
        for namespace in sorted({ns for ns, _ in names}):
            self.admin.create_namespace(namespace)
        time.sleep(1)
        before, count_before = self.operator.usage(), self.stand_in.count()
        cp_before = self.control_plane_cpu()
        since = self.cp.audit_offset()
        log(f"throughput: creating {len(names)} SesMonitors at once in {self.args.namespaces} namespaces")
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            list(pool.map(lambda nn: self.admin.create_monitor(*nn), names))
        created = time.monotonic() - started
        keys = [f"{ns}/{name}" for ns, name in names]

        def all_ready() -> bool:
            return all((s := self.world.monitors.get(k)) is not None and s.ready_at for k in keys)

        if not self.world.wait(all_ready, timeout=self.args.ready_timeout):
            self.check_operator()
            missing = sum(1 for k in keys if not (self.world.monitors.get(k) or MonitorSeen()).ready_at)
            raise RuntimeError(
                f"{missing} of {len(keys)} monitors not Ready after {self.args.ready_timeout} s"
            )
        all_ready_s = time.monotonic() - started
        after, count_after = self.operator.usage(), self.stand_in.count()
        seen = [self.world.monitors[k] for k in keys]
        children_done = max(max(s.children.values()) for s in seen) - started
        ready_times = [(s.ready_at or 0) - started for s in seen]
        reconciles = count_after - count_before
        writes = audit_summary(self.cp, since, all_ready_s)
        self.results["throughput"] = {
            "monitors": len(keys),
            "create_calls_s": round(created, 2),
            "all_children_s": round(children_done, 2),
            "all_ready_s": round(all_ready_s, 2),
            "ready_p50_s": round(percentile(ready_times, 50), 2),
            "monitors_per_second": round(len(keys) / all_ready_s, 1),
            "reconciles": reconciles,
            "cpu_seconds": round(after.cpu_seconds - before.cpu_seconds, 2),
            "cpu_ms_per_reconcile": round(
                1000 * (after.cpu_seconds - before.cpu_seconds) / max(1, reconciles), 1
            ),
            "operator_requests": writes["requests"],
            "operator_writes": writes["writes"],
            "operator_requests_by_verb": writes["by_verb_and_resource"],
            "apiserver_ms_p50": writes["apiserver_ms_p50"],
            "apiserver_ms_p99": writes["apiserver_ms_p99"],
            "cores": self.cpu_split(cp_before, after.cpu_seconds - before.cpu_seconds, all_ready_s),
        }
        log(f"throughput: {self.results['throughput']}")

    def steady(self) -> None:
        # Let kopf's last bookkeeping patches land, then count over a quiet window.
        time.sleep(self.args.settle_seconds)
        before, count_before = self.operator.usage(), self.stand_in.count()
        cp_before = self.control_plane_cpu()
        since = self.cp.audit_offset()
        started = time.monotonic()
        log(f"steady state: measuring {self.args.steady_seconds:g} s with {self.args.monitors} idle monitors")
        time.sleep(self.args.steady_seconds)
        count_after = self.stand_in.count()
        audit = audit_summary(self.cp, since, time.monotonic() - started)
        after = self.operator.usage()
        reconciles = count_after - count_before
        minutes = audit["seconds"] / 60
        self.results["steady"] = {
            **audit,
            "reconciles": reconciles,
            "reconciles_per_minute": round(reconciles / minutes, 1),
            "cpu_seconds": round(after.cpu_seconds - before.cpu_seconds, 2),
            "cpu_share_of_one_core": round((after.cpu_seconds - before.cpu_seconds) / audit["seconds"], 3),
            "cpu_ms_per_reconcile": round(
                1000 * (after.cpu_seconds - before.cpu_seconds) / max(1, reconciles), 1
            ),
            "cores": self.cpu_split(cp_before, after.cpu_seconds - before.cpu_seconds, audit["seconds"]),
        }
        self.results[f"rss_mib_{self.args.monitors}"] = round(after.rss_kib / 1024, 1)
        self.results["hwm_mib"] = round(after.hwm_kib / 1024, 1)
        log(f"steady state: {self.results['steady']}")

    def loaded_latency(self) -> None:
        """Creates spread over one reconcile interval while the idle monitors' timers tick: a new
        SesMonitor waits in the same handler queue as their reconciles."""
        samples = self.args.loaded_samples
        namespace = "bench-loaded"
        self.admin.create_namespace(namespace)
        spacing = self.args.reconcile_interval / samples
        children_s: list[float] = []
        ready_s: list[float] = []
        log(f"latency with {self.args.monitors} monitors: {samples} creates, one every {spacing:.1f} s")
        for i in range(samples):
            started = time.monotonic()
            child, ready = self.create_one(namespace, f"loaded-{i:04d}")
            children_s.append(child)
            ready_s.append(ready)
            time.sleep(max(0.0, spacing - (time.monotonic() - started)))
        self.results["loaded_latency"] = self.latency_summary(children_s, ready_s)
        log(f"latency with {self.args.monitors} monitors: {self.results['loaded_latency']}")

    def update(self) -> None:
        names = self.names()
        keys = [f"{ns}/{name}" for ns, name in names]
        since = self.cp.audit_offset()
        before, count_before = self.operator.usage(), self.stand_in.count()
        cp_before = self.control_plane_cpu()
        log(f"update: patching thresholds.bounceRate.warning on {len(names)} monitors at once")
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            list(pool.map(lambda nn: self.admin.update_monitor(*nn), names))
        patched = time.monotonic() - started

        def converged() -> bool:
            return all(
                (s := self.world.monitors.get(k)) is not None and s.converged_at and s.rule_updated_at
                for k in keys
            )

        if not self.world.wait(converged, timeout=self.args.ready_timeout):
            self.check_operator()
            raise RuntimeError(f"the update did not converge within {self.args.ready_timeout} s")
        seen = [self.world.monitors[k] for k in keys]
        rules = max(s.rule_updated_at or 0 for s in seen) - started
        status = max(s.converged_at or 0 for s in seen) - started
        after, count_after = self.operator.usage(), self.stand_in.count()
        audit = audit_summary(self.cp, since, max(rules, status))
        reconciles = count_after - count_before
        self.results["update"] = {
            "monitors": len(keys),
            "patch_calls_s": round(patched, 2),
            "all_rules_s": round(rules, 2),
            "all_observed_generation_s": round(status, 2),
            "converged_s": round(max(rules, status), 2),
            "reconciles": reconciles,
            "cpu_ms_per_reconcile": round(
                1000 * (after.cpu_seconds - before.cpu_seconds) / max(1, reconciles), 1
            ),
            "operator_writes": audit["writes"],
            "operator_requests_by_verb": audit["by_verb_and_resource"],
            "cores": self.cpu_split(cp_before, after.cpu_seconds - before.cpu_seconds, max(rules, status)),
        }
        log(f"update: {self.results['update']}")


# --------------------------------------------------------------------------------------------------
# Exporter cost: one sesmonitor-exporter against moto, with 0 and with N configuration sets


def exporter_cost(workdir: Path, set_counts: list[int], hours: float, seeded: int) -> list[dict[str, Any]]:
    import logging

    from support.moto_ses import SimulatedSes

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
    region = "us-east-1"
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=region,
        AWS_DEFAULT_REGION=region, AWS_EC2_METADATA_DISABLED="true",
    )  # fmt: skip
    rows = []
    most = max(set_counts)
    names = [f"set-{i:04d}" for i in range(most)]
    # Datapoints for the account and the first `seeded` sets (moto answers GetMetricData in time
    # proportional to queries x stored datapoints, so not for all of 490); the others are queried all
    # the same and reported as having no data.
    with SimulatedSes("seed", region=region, configuration_sets=names[:seeded], hours=hours) as ses:
        for count in set_counts:
            port = free_port()
            config = {
                "monitor": "bench/shared" if count else "bench/one",
                "region": region,
                "endpoint_url": ses.endpoint_url,
                "configuration_sets": names[:count],
                "refresh_interval_seconds": 60,
                "lookback_seconds": int(hours * 3600),
                "window_seconds": 3600,
            }
            path = workdir / f"exporter-{count}.json"
            path.write_text(json.dumps(config))
            ses.proxy.reset()
            started = time.monotonic()
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "sesmonitor-exporter"), "--config", str(path),
                 "--listen", f"127.0.0.1:{port}", "--log-level", "warning"],
                env=env, stdout=subprocess.DEVNULL, stderr=(workdir / f"exporter-{count}.log").open("wb"),
            )  # fmt: skip
            try:
                ready_s = None
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline and proc.poll() is None:
                    with contextlib.suppress(OSError, ValueError):
                        url = f"http://127.0.0.1:{port}/status"
                        with urllib.request.urlopen(url, timeout=5) as resp:
                            if json.loads(resp.read()).get("ready"):
                                ready_s = time.monotonic() - started
                                break
                    time.sleep(0.5)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
                    series = sum(1 for line in resp.read().decode().splitlines() if line and line[0] != "#")
                mem: dict[str, int] = {}
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    key, _, value = line.partition(":")
                    if key in ("VmRSS", "VmHWM"):
                        mem[key] = int(value.split()[0])
                gmd = ses.proxy.count("GetMetricData")
                rows.append({
                    "configuration_sets": count,
                    "sets_with_data": min(count, seeded),
                    "ready_s": None if ready_s is None else round(ready_s, 1),
                    "rss_mib": round(mem["VmRSS"] / 1024, 1),
                    "hwm_mib": round(mem["VmHWM"] / 1024, 1),
                    "series": series,
                    "get_metric_data_per_refresh": gmd,
                    "metrics_per_refresh": ses.proxy.metrics_requested(),
                    "other_requests_per_refresh": len(ses.proxy.requests()) - gmd,
                })  # fmt: skip
                log(f"exporter with {count} configuration sets: {rows[-1]}")
            finally:
                stop_process(proc)
    return rows


# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def control_plane(workdir: Path) -> Iterator[ControlPlane]:
    started = time.monotonic()
    # 500 Services need more than the harness's /24 of cluster IPs.
    cp = ControlPlane(
        bin_dir(), workdir=workdir / "cp", extra_apiserver_args=("--service-cluster-ip-range=10.0.0.0/16",)
    )
    try:
        log(f"control plane up in {time.monotonic() - started:.1f} s")
        cp.apply_crds([crds_dir() / name for name in PROMETHEUS_OPERATOR_CRDS] + [CRD_FILE])
        yield cp
    finally:
        cp.stop()


def operator_kubeconfig(cp: ControlPlane) -> Path:
    cp.kubectl("create", "namespace", RELEASE_NAMESPACE, check=False)
    cp.apply([doc for doc in helm_template() if doc.get("kind") in RBAC_KINDS])
    kubeconfig = cp.user_kubeconfig(OPERATOR_USER, OPERATOR_GROUPS)
    cp.wait_allowed(kubeconfig, *CAN_WATCH_MONITORS, timeout=30, what="the chart's RBAC")
    return kubeconfig


def versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {name: version(name) for name in ("kopf", "kubernetes", "aiohttp", "sesmonitor")}
    out["python"] = sys.version.split()[0]
    out["kube-apiserver"] = bin_dir().parent.name
    out["cpus"] = str(os.cpu_count())
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"args": vars(args), "versions": versions()}
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        if args.workdir:
            workdir = args.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sesmonitor-opbench-")))
        stand_in = StandIn(workdir)
        watches: list[Watch] = []
        operator: Operator | None = None
        try:
            with control_plane(workdir) as cp:
                kubeconfig = operator_kubeconfig(cp)
                admin, world = Admin(cp), World()
                for path, kind in CHILDREN:
                    watches.append(
                        Watch(
                            admin,
                            path,
                            MANAGED_BY,
                            lambda t, o, now, kind=kind: world.on_child(kind, t, o, now),
                        )
                    )
                watches.append(Watch(admin, f"/apis/{GROUP_VERSION}/sesmonitors", "", world.on_monitor))
                for w in watches:
                    w.start()
                for w in watches:
                    if not w.synced.wait(30):
                        raise RuntimeError(f"{w.name} did not sync")
                operator = Operator(kubeconfig, stand_in, workdir, args)
                time.sleep(3)
                bench = Bench(cp, admin, world, operator, stand_in, args, results)
                results["rss_mib_0"] = bench.rss_mib()
                log(f"operator up, RSS {results['rss_mib_0']} MiB with 0 monitors")
                if args.latency_samples:
                    bench.latency()
                bench.throughput()
                bench.steady()
                if args.loaded_samples:
                    bench.loaded_latency()
                bench.update()
                results["rss_mib_after_update"] = bench.rss_mib()
                bench.check_operator()
                results["operator_log_warnings"] = sum(
                    1 for line in operator.log_path.read_text(errors="replace").splitlines()
                    if "WARNING" in line or "ERROR" in line
                )  # fmt: skip
                stopping = time.monotonic()
                operator.stop()
                results["operator_stop_s"] = round(time.monotonic() - stopping, 1)
                log(f"operator stopped (SIGTERM) in {results['operator_stop_s']} s")
                operator = None
        finally:
            for w in watches:
                w.stop()
            if operator is not None:
                log(f"operator log tail:\n{operator.log_tail()}")
                operator.stop()
            stand_in.stop()
        log("control plane stopped")
        if not args.skip_exporter_cost:
            counts = [0, *(int(n) for n in args.exporter_sets.split(",") if n.strip())]
            results["exporter_cost"] = exporter_cost(
                workdir, counts, args.exporter_hours, args.exporter_seeded_sets
            )
    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_average_before"] = round(load_before, 2)
    return results


def report(results: dict[str, Any]) -> str:
    n = results["args"]["monitors"]
    lat, thr, st, up = (results.get(k) or {} for k in ("latency", "throughput", "steady", "update"))
    lines = [
        f"sesmonitor-operator scale benchmark: {n} monitors, reconcile interval "
        f"{results['args']['reconcile_interval']:g} s, {results['seconds']} s, "
        f"{'kopf defaults (before tuning)' if results['args']['kopf_defaults'] else 'tuned'}",
        f"versions: {json.dumps(results['versions'])}",
        "",
    ]
    if lat:
        lines += [
            f"create -> 5 children, {lat['samples']} one by one: p50 {lat['children_p50_s'] * 1000:.0f} ms, "
            f"p99 {lat['children_p99_s'] * 1000:.0f} ms (max {lat['children_max_s'] * 1000:.0f} ms)",
            f"create -> Ready: p50 {lat['ready_p50_s'] * 1000:.0f} ms, "
            f"p99 {lat['ready_p99_s'] * 1000:.0f} ms",
        ]
    if results.get("loaded_latency"):
        ll = results["loaded_latency"]
        lines.append(
            f"create -> 5 children with {n} monitors present, {ll['samples']} over one interval: "
            f"p50 {ll['children_p50_s'] * 1000:.0f} ms, p99 {ll['children_p99_s'] * 1000:.0f} ms; "
            f"-> Ready p50 {ll['ready_p50_s'] * 1000:.0f} ms, p99 {ll['ready_p99_s'] * 1000:.0f} ms"
        )
    lines += [
        f"{thr['monitors']} at once: all Ready in {thr['all_ready_s']} s ({thr['monitors_per_second']}/s; "
        f"create calls {thr['create_calls_s']} s, all children {thr['all_children_s']} s), "
        f"{thr['cpu_ms_per_reconcile']} ms CPU per reconcile, {thr['operator_writes']} operator writes",
        f"steady state ({st['seconds']} s): {st['reads_per_minute']} reads/min, "
        f"{st['writes_per_minute']} writes/min, {st['reconciles_per_minute']} reconciles/min, "
        f"{st['cpu_ms_per_reconcile']} ms CPU per reconcile, {st['cpu_share_of_one_core']} of a core",
        f"  by verb: {st['by_verb_and_resource']}",
        f"update of {up['monitors']}: rules in {up['all_rules_s']} s, observedGeneration in "
        f"{up['all_observed_generation_s']} s",
        f"operator RSS: 0 -> {results.get('rss_mib_0')} MiB, 100 -> {results.get('rss_mib_100')} MiB, "
        f"{n} -> {results.get(f'rss_mib_{n}')} MiB (peak {results.get('hwm_mib')} MiB)",
    ]
    for row in results.get("exporter_cost") or []:
        lines.append(
            f"exporter with {row['configuration_sets']} configuration sets: RSS {row['rss_mib']} MiB, "
            f"{row['get_metric_data_per_refresh']} GetMetricData ({row['metrics_per_refresh']} metrics) "
            f"+ {row['other_requests_per_refresh']} other requests per refresh, {row['series']} series"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--monitors", type=int, default=500, help="monitors for throughput/steady/update")
    p.add_argument("--namespaces", type=int, default=10)
    p.add_argument("--latency-samples", type=int, default=200, help="monitors created one by one (0: skip)")
    p.add_argument("--reconcile-interval", type=float, default=60.0, help="the operator's timer interval")
    p.add_argument("--steady-seconds", type=float, default=120.0, help="length of the quiet window")
    p.add_argument(
        "--loaded-samples", type=int, default=20,
        help="monitors created one by one over one reconcile interval with the others present (0: skip)",
    )  # fmt: skip
    p.add_argument("--settle-seconds", type=float, default=5.0, help="wait before the quiet window")
    p.add_argument("--ready-timeout", type=float, default=300.0)
    p.add_argument(
        "--cleanup-timeout", type=float, default=180.0,
        help="wait this long for garbage collection of the latency phase's children",
    )  # fmt: skip
    p.add_argument("--kopf-defaults", action="store_true", help="run with the kopf settings before tuning")
    p.add_argument("--handler-workers", type=int, help="SESMONITOR_HANDLER_WORKERS for the operator")
    p.add_argument("--skip-exporter-cost", action="store_true")
    p.add_argument(
        "--exporter-sets", default="70,490", help="configuration set counts for the shared exporter"
    )
    p.add_argument("--exporter-hours", type=float, default=1.0, help="hours of datapoints in moto")
    p.add_argument("--exporter-seeded-sets", type=int, default=70, help="sets with datapoints in moto")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--workdir", type=Path, help="keep logs and the audit log here (default: a temporary dir)")
    p.add_argument("--verbose-operator", action="store_true", help="run the operator with --verbose")
    p.add_argument("--operator-arg", action="append", default=[], help="one more operator flag (repeatable)")
    p.add_argument("--serve-stand-in", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_stand_in:
        serve_stand_in(args.serve_stand_in)
        return 0
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
