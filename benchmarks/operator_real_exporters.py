"""The operator with real exporter Pods on the real node: API writes at rest, status freshness, memory.

    sudo .venv/bin/python benchmarks/operator_real_exporters.py [--monitors 50] [--steady-seconds 300]
        [--json results.json]

`benchmarks/operator_scale.py` measures the operator at 500 monitors against stand-in exporters (a
`/status` that never changes, no pods). This is its complement at the scale the machine allows with
real parts: a `support.kube_cluster.NodeCluster`, the chart installed as README says (operator Pod
under its ServiceAccount), one simulated SES account (moto + fault proxy on the host end of the veth)
and `--monitors` SesMonitors, each with its own exporter Pod from our image reading that account every
minute, as in production. Measured, in this order:

1. start: time until every exporter Pod is Ready and every SesMonitor shows a bounce rate;
2. at rest (`--steady-seconds`): the operator's API requests from the apiserver audit log, by verb and
   resource; the writes are the number that matters (real exporters' `/status` changes every refresh);
3. freshness: the account (HEALTHY) is switched to PROBATION (what GetAccount answers); time until each
   SesMonitor's status shows it (p50, p99, max), which includes the exporter's refresh interval (60 s)
   and the operator's reconcile interval (60 s);
4. memory: each exporter Pod's and the operator Pod's resident memory (cgroup memory.stat `total_rss`).

Everything it starts is stopped at the end (the cluster's slot, cgroups and namespaces too).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.controlplane import WRITE_VERBS  # noqa: E402
from support.kube_cluster import NodeCluster  # noqa: E402
from support.live_ses import SesAccountProcess  # noqa: E402
from support.monitors import monitor_document  # noqa: E402
from support.tools import crds_dir, helm_path  # noqa: E402
from support.user_stack import readme_helm_install  # noqa: E402

RELEASE_NAMESPACE = "sesmonitor-system"
OPERATOR_USER = f"system:serviceaccount:{RELEASE_NAMESPACE}:sesmonitor-operator"
PROMETHEUS_OPERATOR_CRDS = (
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def monitor(name: str, namespace: str, endpoint_url: str) -> dict[str, Any]:
    aws = {"endpointURL": endpoint_url, "credentialsSecretRef": {"name": "ses-monitor-aws"}}
    return monitor_document({"aws": aws}, name=name, namespace=namespace)


def statuses(cluster: NodeCluster) -> dict[str, dict[str, Any]]:
    items = cluster.kubectl_json("get", "sesmonitors", "-A")["items"]
    return {f"{o['metadata']['namespace']}/{o['metadata']['name']}": o.get("status", {}) for o in items}


def pod_rss_bytes(cluster: NodeCluster, pod: dict[str, Any]) -> int | None:
    """The pod's resident memory from its memory cgroup (kubelet's cgroupfs layout under cgroupRoot)."""
    uid = pod["metadata"]["uid"]
    qos = {"Guaranteed": "", "Burstable": "burstable/", "BestEffort": "besteffort/"}[
        pod["status"]["qosClass"]
    ]
    stat = Path(f"/sys/fs/cgroup/memory/{cluster.net.cgroup_root}/kubepods/{qos}pod{uid}/memory.stat")
    try:
        fields = dict(line.split() for line in stat.read_text().splitlines())
    except OSError:
        return None
    return int(fields["total_rss"])


def audit(cluster: NodeCluster, since: int, seconds: float) -> dict[str, Any]:
    events = cluster.audit_events(since=since, user=OPERATOR_USER)
    by: Counter[str] = Counter()
    writes = 0
    for e in events:
        ref = e.get("objectRef") or {}
        resource = ref.get("resource", "?") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        by[f"{e.get('verb')} {resource}"] += 1
        writes += e.get("verb") in WRITE_VERBS
    minutes = seconds / 60
    return {
        "seconds": round(seconds, 1),
        "requests": len(events),
        "writes": writes,
        "writes_per_minute": round(writes / minutes, 2),
        "reads_per_minute": round((len(events) - writes) / minutes, 1),
        "by_verb_and_resource": dict(by.most_common()),
    }


def wait(predicate: Any, timeout: float, what: str, interval: float = 2.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"monitors": args.monitors, "scenario": args.scenario}
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sesmonitor-bench-real-"))
    cluster = NodeCluster(workdir / "cluster", log=log)
    account: SesAccountProcess | None = None
    try:
        results["cluster_up_s"] = round(cluster.step_seconds["total"], 1)
        cluster.apply_crds([crds_dir() / name for name in PROMETHEUS_OPERATOR_CRDS])
        helm = [str(helm_path()), *readme_helm_install()[1:]]
        proc = cluster.run_with_kubeconfig(helm, cwd=ROOT)
        if proc.returncode:
            raise RuntimeError(f"helm install failed: {proc.stderr}")
        cluster.kubectl(
            "-n", RELEASE_NAMESPACE, "rollout", "status", "deployment/sesmonitor-operator", "--timeout=300s",
            timeout=330,
        )  # fmt: skip
        account = SesAccountProcess(args.scenario, workdir, name="ses", host=cluster.net.host_ip).start()

        namespaces = [f"bench-{i}" for i in range(args.namespaces)]
        for ns in namespaces:
            cluster.kubectl("create", "namespace", ns)
            cluster.kubectl(
                "-n", ns, "create", "secret", "generic", "ses-monitor-aws",
                "--from-literal=AWS_ACCESS_KEY_ID=AKIDTEST", "--from-literal=AWS_SECRET_ACCESS_KEY=test",
            )  # fmt: skip
        log(f"creating {args.monitors} SesMonitors")
        started = time.monotonic()
        refs = [(namespaces[i % len(namespaces)], f"ses-{i:03d}") for i in range(args.monitors)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda r: cluster.apply(monitor(r[1], r[0], account.endpoint_url)), refs))

        def all_ready() -> bool:
            pods = cluster.kubectl_json("get", "pods", "-A", "-l", "app.kubernetes.io/component=exporter")[
                "items"
            ]
            ready = sum(
                any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
                for p in pods
            )
            shown = sum(1 for s in statuses(cluster).values() if s.get("bounceRate"))
            log(f"exporter pods Ready {ready}/{args.monitors}, statuses with rates {shown}/{args.monitors}")
            return ready >= args.monitors and shown >= args.monitors

        wait(all_ready, args.ready_timeout, "every exporter Ready", 5)
        results["all_ready_s"] = round(time.monotonic() - started, 1)

        log(f"at rest for {args.steady_seconds:.0f}s")
        time.sleep(args.settle_seconds)
        since = cluster.audit_offset()
        time.sleep(args.steady_seconds)
        results["steady"] = audit(cluster, since, args.steady_seconds)

        if any(s.get("enforcementStatus") == "PROBATION" for s in statuses(cluster).values()):
            raise RuntimeError(f"scenario {args.scenario} starts in PROBATION: freshness needs a change")
        log("switching the account to PROBATION")
        switched = time.monotonic()
        account.set_account(EnforcementStatus="PROBATION")
        seen: dict[str, float] = {}
        deadline = switched + args.freshness_timeout
        while len(seen) < args.monitors and time.monotonic() < deadline:
            now = time.monotonic() - switched
            for key, status in statuses(cluster).items():
                if key not in seen and status.get("enforcementStatus") == "PROBATION":
                    seen[key] = now
            time.sleep(1)
        lags = list(seen.values())
        results["freshness"] = {
            "shown": len(lags),
            "p50_s": round(statistics.median(lags), 1) if lags else None,
            "p99_s": round(percentile(lags, 99), 1) if lags else None,
            "max_s": round(max(lags), 1) if lags else None,
        }

        pods = cluster.kubectl_json("get", "pods", "-A", "-l", "app.kubernetes.io/component=exporter")[
            "items"
        ]
        rss = [r for r in (pod_rss_bytes(cluster, p) for p in pods) if r is not None]
        (op,) = cluster.kubectl_json("-n", RELEASE_NAMESPACE, "get", "pods")["items"]
        results["memory_mib"] = {
            "exporter_pod_median": round(statistics.median(rss) / 2**20, 1) if rss else None,
            "exporter_pods_total": round(sum(rss) / 2**20, 1),
            "operator_pod": round((pod_rss_bytes(cluster, op) or 0) / 2**20, 1),
        }
        return results
    finally:
        if account is not None:
            account.stop()
        cluster.stop()
        if args.workdir is None:  # the node's containerd store alone is ~0.8 GiB
            shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict[str, Any]) -> str:
    steady = results["steady"]
    fresh = results["freshness"]
    mem = results["memory_mib"]
    rows = [
        ("monitors (exporter Pods)", results["monitors"]),
        ("scenario", results["scenario"]),
        ("cluster up", f"{results['cluster_up_s']} s"),
        ("all exporters Ready, all statuses with rates", f"{results['all_ready_s']} s"),
        (
            "operator writes at rest",
            f"{steady['writes']} in {steady['seconds']} s ({steady['writes_per_minute']}/min)",
        ),
        ("operator reads at rest", f"{steady['reads_per_minute']}/min"),
        ("PROBATION shown, p50 / p99 / max", f"{fresh['p50_s']} / {fresh['p99_s']} / {fresh['max_s']} s"),
        (
            "exporter Pod RSS, median / total",
            f"{mem['exporter_pod_median']} / {mem['exporter_pods_total']} MiB",
        ),
        ("operator Pod RSS", f"{mem['operator_pod']} MiB"),
    ]
    return "\n".join(f"| {k} | {v} |" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--monitors", type=int, default=50)
    p.add_argument("--namespaces", type=int, default=5)
    p.add_argument(
        "--scenario",
        default="healthy",
        help="the simulated account (tests/support/moto_ses.py): healthy has steady rates, so a status "
        "write at rest is one too many; seed's rate rises ~4%%/day, so the shown rates do change",
    )
    p.add_argument("--steady-seconds", type=float, default=300.0)
    p.add_argument("--settle-seconds", type=float, default=90.0, help="after all are Ready, before measuring")
    p.add_argument("--ready-timeout", type=float, default=900.0)
    p.add_argument("--freshness-timeout", type=float, default=300.0)
    p.add_argument("--json", type=Path)
    p.add_argument("--workdir", type=Path)
    args = p.parse_args(argv)
    results = run(args)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
