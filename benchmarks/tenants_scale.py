"""Benchmark sesmonitor-exporter with spec.tenants = all on an account of 5,000 tenants and 200 open findings.

    .venv/bin/python benchmarks/tenants_scale.py [--baseline REF] [--quick] [--json results.json]

The account is the simulated one of tests/support/moto_ses.py: moto for CloudWatch, the tenants,
reputation entities and ListRecommendations from the stand-in (tests/support/simulated_aws/tenants.py,
recommendations.py; moto 5.2.5 has none of them), GetAccount's stand-in with VDM enabled. Every AWS
request is counted at the proxy in front of them, by operation and by the exporter's access key.

`--baseline REF` runs that commit's exporter beside this tree's, in the same run against the same
account: its `operator/` from `git archive REF`, first on PYTHONPATH. Both read their tenants and
findings at the same time, then their scrape latency runs alternate (before, after, before, ...), so
the machine's load weighs on both alike.

Measured per exporter: AWS requests of one tenants read, one findings read and one refresh (scaled to an
hour: the tenants every 20 minutes, the findings every 30, a refresh every 60 s, the defaults), requests
per tenant per 10 minutes, /metrics latency p50/p99 with 5 concurrent scrapers (`benchmarks/scrapeload`,
keep-alive; back to back, then each every 10 s) once both have read everything, VmRSS / VmHWM right
after; and, in this process, the rendering of /metrics after the state moved: a fresh rendering of the
whole registry (what the exporter did before the page kept the tenants' and findings' families) against
`MetricsRenderer.render`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from exporter import aws_env, ensure_scrapeload, free_port, log, memory_kb, stop_process  # noqa: E402
from prometheus_client import generate_latest  # noqa: E402

from sesmonitor import contract, metrics  # noqa: E402
from sesmonitor.exporter import Exporter as InProcessExporter  # noqa: E402
from sesmonitor.exporter.model.state import API_ACCOUNT  # noqa: E402
from support.moto_ses import SimulatedSes  # noqa: E402

REGION = "us-east-1"
TENANT_OPERATIONS = frozenset(metrics.TENANT_APIS)
FINDING_OPERATIONS = frozenset({metrics.API_LIST_RECOMMENDATIONS})
FINDING_TYPES = ("BOUNCE", "COMPLAINT", "DKIM", "DMARC", "SPF", "IP_LISTING", "FEEDBACK_3P")
SCRAPERS = 5
# (name, each scraper's time between scrapes, seconds a run): back to back, as benchmarks/exporter.py
# measures; and paced like Prometheus servers, spread over the interval: a scrape every 2 s, each past
# the page's 1-second cache, so each one renders what changed since the last.
MODES = (("closed_loop", 0.0, 10.0), ("paced_10s", 10.0, 40.0))
TARGETS = {"per_tenant_per_10_minutes": 1.0, "rss_mib": 150.0, "p99_ms": 50.0}


@dataclass
class Exporter:
    label: str  # "before" (the baseline commit) or "after" (this tree)
    access_key: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    started: float
    result: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        stop_process(self.proc)


def seed(ses: SimulatedSes, tenants: int, findings: int) -> None:
    """The tenants (1 in 250 paused by AWS, 1 in 500 by the customer, 1 in 50 of HIGH impact) and the
    open findings, on the first tenants."""
    stand_in = ses.proxy.tenants
    for i in range(tenants):
        stand_in.add_tenant(
            f"customer-{i:05d}",
            impact="HIGH" if i % 50 == 0 else "LOW",
            aws_status="DISABLED" if i % 250 == 7 else "ENABLED",
            aws_cause="Bounce rate 11% over the standard policy's 10%" if i % 250 == 7 else None,
            customer_status="DISABLED" if i % 500 == 3 else "ENABLED",
        )
    names = stand_in.names()
    for i in range(findings):
        tenant = stand_in.tenant(names[i % len(names)])
        ses.proxy.recommendations.add(
            tenant.arn, FINDING_TYPES[i % len(FINDING_TYPES)], ("HIGH", "LOW")[i % 2]
        )
    ses.proxy.set_account(VdmEnabled="ENABLED")


def baseline_tree(ref: str, into: Path) -> Path:
    """`operator/` of commit `ref`, for PYTHONPATH."""
    archive = into / "baseline.tar"
    subprocess.run(["git", "archive", "-o", str(archive), ref, "operator"], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "baseline", filter="data")
    return into / "baseline/operator"


def start(label: str, config: contract.ExporterConfig, workdir: Path, path: Path | None):
    config_path = workdir / f"{label}.json"
    config_path.write_text(config.to_json())
    env = dict(aws_env(), AWS_ACCESS_KEY_ID=f"bench{label}")
    if path is not None:
        env["PYTHONPATH"] = str(path)
        where = subprocess.run(
            [sys.executable, "-c", "import sesmonitor; print(sesmonitor.__file__)"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if not where.startswith(str(path)):
            raise RuntimeError(f"the baseline imports {where}, not its own tree")
    port = free_port()
    log_path = workdir / f"{label}.log"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "sesmonitor.cli.exporter_main", "--config", str(config_path)),
            *("--listen", f"127.0.0.1:{port}", "--log-level", "warning"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"),
    )
    return Exporter(label, f"bench{label}", proc, port, log_path, time.time())


def status(exporter: Exporter) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(exporter.url("/status"), timeout=30) as response:
            doc: dict[str, Any] = json.loads(response.read())
            return doc
    except OSError:
        return None


def wait_for_readings(exporters: list[Exporter], tenants: int, findings: int, timeout: float) -> None:
    """Until each has read every tenant and finding once (a read of 5,000 tenants: ~100 requests a
    second apart)."""
    deadline = time.monotonic() + timeout
    waiting = list(exporters)
    while waiting and time.monotonic() < deadline:
        for exporter in list(waiting):
            if exporter.proc.poll() is not None:
                raise RuntimeError(f"{exporter.label} exited: {exporter.log_path.read_text()[-2000:]}")
            doc = status(exporter) or {}
            if (doc.get("tenants") or {}).get("watched") == tenants and (doc.get("findings") or {}).get(
                "open"
            ) == findings:
                exporter.result["read_in_seconds"] = time.time() - exporter.started
                waiting.remove(exporter)
        time.sleep(1.0)
    if waiting:
        raise RuntimeError(f"not read within {timeout:.0f}s: {[e.label for e in waiting]}")


def requests_per_hour(
    ses: SimulatedSes, exporter: Exporter, config: contract.ExporterConfig
) -> dict[str, float]:
    """By operation: one tenants read and one findings read (both made once so far), and the refreshes
    seen (one GetMetricData each), scaled to an hour at the configured intervals."""
    assert config.tenants is not None
    assert config.findings is not None
    ops = Counter(r.operation for r in ses.proxy.requests() if r.access_key == exporter.access_key)
    refreshes = max(ops.get("GetMetricData", 0), 1)
    out = {}
    for op, count in ops.items():
        if op in TENANT_OPERATIONS:
            out[op] = count * 3600 / config.tenants.read_interval_seconds
        elif op in FINDING_OPERATIONS:
            out[op] = count * 3600 / config.findings.read_interval_seconds
        else:
            out[op] = count / refreshes * 3600 / config.refresh_interval_seconds
    return dict(sorted(out.items()))


def scrape_run(scrapeload: Path, url: str, every: float, seconds: float) -> dict[str, Any]:
    cmd = [str(scrapeload), "-url", url, "-c", str(SCRAPERS), "-d", f"{seconds}s", "-timeout", "60s"]
    cmd += ["-warmup", "5" if not every else "1"] + (["-every", f"{every}s"] if every else [])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def render_medians(config: contract.ExporterConfig, times: int) -> dict[str, float]:
    """Median milliseconds of rendering /metrics after the state moved (an AWS request counted), in this
    process on the same account: prometheus_client's fresh rendering of the whole registry (what every
    such scrape cost before) against `MetricsRenderer.render` (the page, tenants and findings kept)."""
    os.environ.update(aws_env(), AWS_ACCESS_KEY_ID="benchinprocess")
    now = time.time()  # one instant, so that the two renderings can be compared byte for byte
    one = InProcessExporter(
        config, listen=("127.0.0.1", 0), clock=lambda: now, pace_seconds=0.0, render_cache_seconds=0.0
    )
    one.refresher.refresh_once()
    assert one.tenants is not None
    assert one.findings is not None
    assert one.tenants.read_once()
    assert one.findings.read_once()
    fresh, page = [], []
    for _ in range(times):
        for out, render in ((fresh, lambda: generate_latest(one.registry)), (page, one.renderer.render)):
            one.state.record_request(API_ACCOUNT, "success")
            began = time.perf_counter()
            render()
            out.append((time.perf_counter() - began) * 1000)
    assert one.renderer.render() == generate_latest(one.registry)
    return {"fresh_ms": statistics.median(fresh), "page_ms": statistics.median(page), "times": times}


def markdown(
    results: list[dict[str, Any]], rendering: dict[str, float], tenants: int, findings: int, elapsed: float
) -> str:
    out = [
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {elapsed:.0f} s; {tenants:,} tenants,"
        f" {findings} open findings.",
        "",
        "| | "
        + " | ".join(f"{r['label']} ({r['commit']})" for r in results)
        + (" | before / after |" if len(results) == 2 else " |"),
        "|---|" + "---|" * (len(results) + (len(results) == 2)),
    ]

    def row(name: str, values: list[float], fmt: str, ratio: bool = True) -> None:
        cells = [format(v, fmt) for v in values]
        if len(values) == 2:
            cells.append(f"{values[0] / values[1]:.1f}x" if ratio and values[1] else "")
        out.append(f"| {name} | " + " | ".join(cells) + " |")

    operations = sorted({op for r in results for op in r["per_hour"]})
    for op in operations:
        row(f"AWS requests per hour: {op}", [r["per_hour"].get(op, 0.0) for r in results], ",.0f", False)
    row("AWS requests per hour, all", [sum(r["per_hour"].values()) for r in results], ",.0f", False)
    row(
        "tenant requests per tenant per 10 minutes",
        [r["per_tenant_per_10_minutes"] for r in results],
        ".4f",
        False,
    )
    row("first read of every tenant and finding", [r["read_in_seconds"] for r in results], ".0f", False)
    for mode, every, _ in MODES:
        how = "back to back" if not every else f"each every {every:g} s"
        for q in ("p50", "p99"):
            row(f"/metrics {q}, {SCRAPERS} scrapers {how} (ms)", [r[mode][f"{q}_ms"] for r in results], ".2f")
        row(
            f"scrapes served, {SCRAPERS} scrapers {how}",
            [r[mode]["scrapes"] for r in results],
            ",.0f",
            False,
        )
    row("/metrics page (KiB)", [r["page_bytes"] / 1024 for r in results], ",.0f", False)
    row("resident memory VmRSS (MiB)", [r["rss_mib"] for r in results], ".1f")
    row("peak resident memory VmHWM (MiB)", [r["hwm_mib"] for r in results], ".1f")
    out.append("")
    for mode, _, _ in MODES:
        out.append(
            f"p99 per run, {mode} (ms): "
            + "; ".join(f"{r['label']} {', '.join(f'{x:.1f}' for x in r[mode]['p99_runs'])}" for r in results)
        )
    if rendering:
        out += [
            "",
            f"Rendering /metrics after the state moved, in one process, median of {rendering['times']}:"
            f" a fresh rendering of the registry {rendering['fresh_ms']:.1f} ms, the page"
            f" {rendering['page_ms']:.2f} ms ({rendering['fresh_ms'] / rendering['page_ms']:.0f}x).",
        ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--baseline", help="a commit to measure beside this tree (e.g. the one before a change)"
    )
    parser.add_argument("--tenants", type=int, default=5000)
    parser.add_argument("--findings", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="one latency run of 4 s instead of 3 of 10 s")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    began = time.time()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's line per request
    scrapeload = ensure_scrapeload()
    config = contract.ExporterConfig(
        monitor="bench/tenants",
        region=REGION,
        tenants=contract.TenantsConfig(limit=args.tenants),
        findings=contract.FindingsConfig(),
    )
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "operator"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    commits = {"after": head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")}
    exporters: list[Exporter] = []
    rendering: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="sesmonitor-tenants-bench-") as tmp,
        SimulatedSes("healthy", region=REGION, hours=1.0) as ses,
    ):
        workdir = Path(tmp)
        log(f"seeding {args.tenants} tenants and {args.findings} findings")
        seed(ses, args.tenants, args.findings)
        config = dataclasses.replace(config, endpoint_url=ses.endpoint_url)
        ses.proxy.reset()
        try:
            if args.baseline:
                rev = subprocess.run(
                    ["git", "rev-parse", "--short", args.baseline], cwd=ROOT, capture_output=True, text=True,
                    check=True,
                ).stdout.strip()  # fmt: skip
                commits["before"] = rev
                exporters.append(start("before", config, workdir, baseline_tree(args.baseline, workdir)))
            exporters.append(start("after", config, workdir, None))
            log("waiting for each exporter's first read of the tenants and findings")
            wait_for_readings(exporters, args.tenants, args.findings, timeout=900)
            for exporter in exporters:
                per_hour = requests_per_hour(ses, exporter, config)
                tenant_requests = sum(n for op, n in per_hour.items() if op in TENANT_OPERATIONS)
                exporter.result.update(
                    label=exporter.label,
                    commit=commits[exporter.label],
                    per_hour=per_hour,
                    per_tenant_per_10_minutes=tenant_requests / args.tenants / 6,
                )
            repeats = 1 if args.quick else 3
            runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for i in range(repeats):
                for mode, every, seconds in MODES:
                    for exporter in exporters:
                        log(f"{exporter.label}: /metrics, {mode}, run {i + 1} of {repeats}")
                        runs.setdefault((exporter.label, mode), []).append(
                            scrape_run(
                                scrapeload,
                                exporter.url("/metrics"),
                                every,
                                seconds / (2 if args.quick else 1),
                            )
                        )
            for exporter in exporters:
                memory = memory_kb(exporter.proc.pid)
                exporter.result.update(
                    rss_mib=memory["VmRSS"] / 1024,
                    hwm_mib=memory["VmHWM"] / 1024,
                    page_bytes=runs[exporter.label, MODES[0][0]][-1]["bytes_per_response"],
                )
                for mode, _, _ in MODES:
                    mine = runs[exporter.label, mode]
                    exporter.result[mode] = {
                        "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                        "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                        "p99_runs": [r["p99_ms"] for r in mine],
                        "scrapes": sum(r["requests"] for r in mine),
                        "seconds": sum(r["seconds"] for r in mine),
                        "errors": sum(r["errors"] for r in mine),
                    }
            log("rendering in this process: a fresh rendering of the registry against the page")
            rendering = render_medians(config, 5 if args.quick else 21)
        finally:
            for exporter in exporters:
                exporter.stop()
    results = [e.result for e in exporters]
    report = markdown(results, rendering, args.tenants, args.findings, time.time() - began)
    print(report)
    after = results[-1]
    checks = {
        "per_tenant_per_10_minutes": after["per_tenant_per_10_minutes"],
        "rss_mib": after["rss_mib"],
        "p99_ms": max(after[mode]["p99_ms"] for mode, _, _ in MODES),
    }
    for name, value in checks.items():
        print(
            f"target {name} <= {TARGETS[name]:g}: {value:.4g} {'met' if value <= TARGETS[name] else 'MISSED'}"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"results": results, "rendering": rendering, "targets": TARGETS}, indent=2)
        )
    return 0 if all(v <= TARGETS[k] for k, v in checks.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
