"""Benchmark sesmonitor-exporter side by side with prometheus cloudwatch_exporter and YACE.

    .venv/bin/python benchmarks/exporter.py [--quick] [--json results.json]

All three read the same simulated SES account (tests/support/moto_ses.py: moto's server behind the
counting proxy, "seed" scenario, the account plus two configuration sets, 7 AWS/SES metrics each), and
every AWS request is counted at that proxy, on the wire:

- sesmonitor-exporter gets `endpoint_url` in its configuration;
- YACE (AWS Go SDK v2) gets AWS_ENDPOINT_URL; it speaks Smithy RPC v2 CBOR to CloudWatch, which the
  proxy bridges to the JSON protocol moto understands;
- cloudwatch_exporter 0.16.0 has no endpoint option and its AWS Java SDK (2.27) ignores
  AWS_ENDPOINT_URL, so it goes through the proxy as an HTTPS proxy (`-Dhttp(s).proxyHost`): the proxy
  terminates TLS with a throwaway certificate the JVM is told to trust.

Measured, per exporter: AWS requests per scrape and per background refresh (then per hour at 15 s and
60 s scrape intervals, refreshing every 60 s where the exporter refreshes on its own), CloudWatch billed
units, scrape latency p50/p99 with 1 and 50 concurrent scrapers (closed loop, keep-alive, by a small Go
load generator so that the client is not the bottleneck), resident memory. Tools are fetched once into
$HOME/.cache/sesmonitor-tools/bench; a peer that cannot be had is reported as such.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sesmonitor import contract, metrics  # noqa: E402
from support.moto_ses import MINUTE, SCENARIOS, Scenario, SimulatedSes  # noqa: E402

CACHE = Path(os.environ.get("SESMONITOR_BENCH_CACHE", Path.home() / ".cache/sesmonitor-tools/bench"))
CWE_ARTIFACT = "io.prometheus.cloudwatch:cloudwatch_exporter:0.16.0:jar:jar-with-dependencies"
CWE_JAR = (
    CACHE
    / "m2/io/prometheus/cloudwatch/cloudwatch_exporter/0.16.0"
    / "cloudwatch_exporter-0.16.0-jar-with-dependencies.jar"
)
YACE_MODULE = "github.com/prometheus-community/yet-another-cloudwatch-exporter"
YACE_VERSION = "v0.67.0"
SETS = ("marketing", "transactional")
REGION = "us-east-1"
CYCLE_SECONDS = 5  # background refresh interval during the run; per-hour figures are scaled to 60 s
PRODUCTION_REFRESH = 60
# Requests are counted over this many background cycles: ours reads the counts every 5th refresh and
# the sets' settings every 10th (at its default intervals, scaled with the cycle), so 10 cycles hold the
# whole pattern, whatever cycle they start at.
CYCLES_COUNTED = 10
BILLED_PER_REQUEST = {"GetMetricStatistics", "ListMetrics"}  # GetMetricData is billed per metric instead
BURST_EVERY, BURST_MINUTES, BURST_PER_MINUTE = 20, 5, 40  # the seed scenario's sending pattern
LOG_TAIL_LINES = 25


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def bench_scenario(now: float) -> Scenario:
    """The seed scenario with its bursts counted back from `now`, so that the newest burst ends as the
    run starts. cloudwatch_exporter and YACE read only the last 10 minutes (the seed post's
    `range_seconds: 600`): with the seed's bursts on the wall clock, that window is empty whenever a
    run starts in the 15-minute gap between bursts, and the peer serves no SES series at all (the
    seed's gap problem, which the e2e tier covers). Aligned, every exporter's window holds the same
    burst for 8 minutes at least, longer than a run, so the peers are measured serving data."""
    end = math.floor(now / MINUTE) * MINUTE  # the seeded minutes end before this one

    def sends(t: float) -> int:
        minutes_back = int((end - t) // MINUTE) - 1  # 0 = the newest whole minute
        return BURST_PER_MINUTE if minutes_back % BURST_EVERY < BURST_MINUTES else 0

    seed = SCENARIOS["seed"]
    return replace(seed, name="seed-aligned", description=seed.description + " (bursts aligned)", sends=sends)


def run(cmd: list[str], cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


# --------------------------------------------------------------------------------------------------
# Tools


def ensure_scrapeload() -> Path:
    binary = CACHE / "bin/scrapeload"
    source = ROOT / "benchmarks/scrapeload/main.go"
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        binary.parent.mkdir(parents=True, exist_ok=True)
        result = run(["go", "build", "-o", str(binary), str(source)])
        if result.returncode:
            raise RuntimeError(f"building scrapeload failed: {result.stderr}")
    return binary


def ensure_cloudwatch_exporter() -> tuple[Path | None, str]:
    if not CWE_JAR.exists():
        if not shutil.which("mvn"):
            return None, "mvn not found"
        log("fetching cloudwatch_exporter from Maven Central")
        result = run(
            [
                "mvn",
                "-q",
                "-B",
                f"-Dmaven.repo.local={CACHE / 'm2'}",
                "dependency:get",
                f"-Dartifact={CWE_ARTIFACT}",
                "-Dtransitive=false",
            ]
        )
        if result.returncode or not CWE_JAR.exists():
            return None, f"mvn dependency:get failed: {(result.stdout + result.stderr)[-500:]}"
    if not shutil.which("java"):
        return None, "java not found"
    return CWE_JAR, "0.16.0"


def ensure_yace() -> tuple[Path | None, str]:
    binary = CACHE / "bin" / f"yace-{YACE_VERSION}"
    if binary.exists():
        return binary, YACE_VERSION
    if not shutil.which("go"):
        return None, "go not found"
    log(f"building YACE {YACE_VERSION}")
    # `go install ...@version` stops at its deprecation check (the module proxy here refuses the
    # module's version list), so download that exact version and build it from the module cache.
    result = _go("mod", "download", "-json", f"{YACE_MODULE}@{YACE_VERSION}", timeout=600)
    if result.returncode:
        return None, f"go mod download failed: {result.stdout[-300:]}{result.stderr[-300:]}"
    source = Path(json.loads(result.stdout)["Dir"])
    binary.parent.mkdir(parents=True, exist_ok=True)
    result = _go("build", "-o", str(binary), "./cmd/yace", cwd=source, timeout=900)
    if result.returncode:
        return None, f"go build failed: {result.stderr[-500:]}"
    return binary, YACE_VERSION


def _go(*args: str, timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`go <args>`, its module cache left writable (so the cache can be cleaned without root)."""
    env = dict(os.environ, GOFLAGS="-modcacherw")
    return subprocess.run(
        ["go", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False, timeout=timeout
    )


def ensure_tls() -> tuple[Path, Path, Path] | None:
    """A throwaway certificate for *.amazonaws.com and a Java truststore holding it."""
    directory = CACHE / "tls"
    cert, key, store = directory / "cert.pem", directory / "key.pem", directory / "trust.p12"
    if store.exists():
        return cert, key, store
    if not (shutil.which("openssl") and shutil.which("keytool")):
        return None
    directory.mkdir(parents=True, exist_ok=True)
    san = f"subjectAltName=DNS:*.{REGION}.amazonaws.com,DNS:*.amazonaws.com"
    result = run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out"),
            *(str(cert), "-days", "3650", "-subj", f"/CN={REGION}.amazonaws.com", "-addext", san),
        ]
    )
    if result.returncode:
        return None
    result = run(
        [
            *("keytool", "-importcert", "-noprompt", "-keystore", str(store), "-storetype", "PKCS12"),
            *("-storepass", "changeit", "-alias", "moto", "-file", str(cert)),
        ]
    )
    return (cert, key, store) if result.returncode == 0 else None


# --------------------------------------------------------------------------------------------------
# Exporters under test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Target:
    name: str
    version: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    background: bool  # refreshes on its own timer (scrapes are served from a cache)
    cycle_marker: str  # an operation made once per background cycle
    notes: list[str] = field(default_factory=list)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError as exc:
            return [f"(no log: {exc})"]

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill after 15 s: the benchmarks leave no process behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def aws_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def start_ours(ses: SimulatedSes, workdir: Path, interval: int, *, baseline: Path | None = None) -> Target:
    """Ours, or with `baseline` an older tree of it (its `operator/` put first on the path), whose
    configuration then leaves out the read intervals it may not know."""
    config: dict[str, Any] = {
        "monitor": "bench/ses",
        "region": REGION,
        "endpoint_url": ses.endpoint_url,
        "configuration_sets": list(SETS),
        # Per-set counts are opt-in (they exist only with a CloudWatch event destination per set); the
        # peers read them, so ours does too: the same 21 series.
        "count_configuration_sets": list(SETS),
        "refresh_interval_seconds": interval,
    }
    if baseline is None:  # the slow reads' intervals scaled as the refresh is (5 s for 60 s: 12x)
        for name, default in contract.READ_INTERVAL_DEFAULTS.items():
            config[name] = max(1, default * interval // PRODUCTION_REFRESH)
    tag = "baseline" if baseline else "sesmonitor"
    path = workdir / f"{tag}.json"
    path.write_text(json.dumps(config))
    port = free_port()
    log_path = workdir / f"{tag}-{interval}s.log"
    exe = [sys.executable, "-m", "sesmonitor.cli.exporter_main", "--config", str(path)]
    env = aws_env()
    if baseline is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(baseline / "operator"), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [*exe, "--listen", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"),
    )
    name = f"sesmonitor-exporter (baseline: {baseline.name})" if baseline else "sesmonitor-exporter"
    target = Target(name, "0.1.0", proc, port, log_path, True, "GetMetricData")
    target.notes.append("the account and both sets, per-set counts opted in: the same 21 series")
    return target


def cloudwatch_exporter_config() -> str:
    lines = ["region: us-east-1", "period_seconds: 60", "range_seconds: 600", "delay_seconds: 60", "metrics:"]
    for dims in ([], ["ses:configuration-set"]):
        for m in metrics.CLOUDWATCH_METRICS:
            lines += [
                "- aws_namespace: AWS/SES",
                f"  aws_metric_name: {m.aws_name}",
                f"  aws_statistics: [{m.statistic}]",
            ]
            if dims:
                lines.append(f"  aws_dimensions: [{', '.join(dims)}]")
    return "\n".join(lines) + "\n"


def start_cloudwatch_exporter(ses: SimulatedSes, jar: Path, store: Path, workdir: Path) -> Target:
    config = workdir / "cloudwatch_exporter.yml"
    config.write_text(cloudwatch_exporter_config())
    port = free_port()
    proxy_port = ses.proxy.url.rsplit(":", 1)[1]
    props = [
        "-Dhttp.proxyHost=127.0.0.1",
        f"-Dhttp.proxyPort={proxy_port}",
        "-Dhttps.proxyHost=127.0.0.1",
        f"-Dhttps.proxyPort={proxy_port}",
        f"-Djavax.net.ssl.trustStore={store}",
        "-Djavax.net.ssl.trustStorePassword=changeit",
        "-Djavax.net.ssl.trustStoreType=PKCS12",
    ]
    log_path = workdir / "cloudwatch_exporter.log"
    proc = subprocess.Popen(
        ["java", *props, "-jar", str(jar), str(port), str(config)],
        env=aws_env(),
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    target = Target("cloudwatch_exporter", "0.16.0", proc, port, log_path, False, "")
    target.notes.append("its own SES example configuration, plus aws_dimensions [ses:configuration-set]")
    return target


def yace_config() -> str:
    lines = [
        "apiVersion: v1alpha1",
        "discovery:",
        "  jobs:",
        "    - type: AWS/SES",
        "      regions: [us-east-1]",
        "      period: 60",
        "      length: 600",
        "      metrics:",
    ]
    for m in metrics.CLOUDWATCH_METRICS:
        lines += [f"        - name: {m.aws_name}", f"          statistics: [{m.statistic}]"]
    return "\n".join(lines) + "\n"


def start_yace(ses: SimulatedSes, binary: Path, version: str, workdir: Path, interval: int) -> Target:
    config = workdir / "yace.yml"
    config.write_text(yace_config())
    port = free_port()
    env = dict(aws_env(), AWS_ENDPOINT_URL=ses.endpoint_url)
    log_path = workdir / f"yace-{interval}s.log"
    proc = subprocess.Popen(
        [
            *(str(binary), "--config.file", str(config), "--listen-address", f"127.0.0.1:{port}"),
            *("--scraping-interval", str(interval), "--log.level", "warn"),
        ],
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    target = Target("YACE", version, proc, port, log_path, True, "GetCallerIdentity")
    target.notes.append("its examples/ses.yaml (discovery job AWS/SES), all 7 metrics, period 60")
    return target


# --------------------------------------------------------------------------------------------------
# Measurements


def scrape(url: str, timeout: float = 60) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode())


class PeerFailed(RuntimeError):
    """A measurement failed; carries the exporter's own log tail for the report."""

    def __init__(self, message: str, log_tail: list[str]) -> None:
        super().__init__(message)
        self.log_tail = log_tail


def wait_for_data(target: Target, timeout: float = 60) -> str:
    """The first scrape that serves any SES CloudWatch series. The failure names what the newest
    attempt saw (refused, an HTTP error, or a page without SES series), not the first."""
    deadline = time.monotonic() + timeout
    last = "no scrape attempted"
    while time.monotonic() < deadline:
        if target.proc.poll() is not None:
            raise PeerFailed(f"{target.name} exited with {target.proc.returncode}", target.log_tail())
        try:
            body = scrape(target.metrics_url)
            if ses_series(body):
                return body
            last = f"its newest scrape answered {len(body.splitlines())} lines, no SES CloudWatch series"
        except OSError as exc:
            last = f"its newest scrape failed: {exc}"
        time.sleep(0.5)
    raise PeerFailed(f"{target.name} served no SES data within {timeout:.0f}s: {last}", target.log_tail())


def ses_series(body: str) -> int:
    """CloudWatch SES series served (the account gauges of sesmonitor not counted)."""
    names = {m.prometheus_name for m in metrics.CLOUDWATCH_METRICS}
    return sum(1 for line in body.splitlines() if line.split("{", 1)[0].split(" ", 1)[0] in names)


def per_scrape(target: Target, ses: SimulatedSes, scrapes: int) -> tuple[dict[str, float], float]:
    """AWS requests caused by one scrape, counted at the proxy. A background exporter is scraped
    between two of its refresh cycles (a window that catches one of them is measured again)."""
    for _ in range(5):
        if target.background:
            wait_for_cycle_end(target, ses)
        since = time.time()
        for _ in range(scrapes):
            scrape(target.metrics_url)
        until = time.time() + 0.2
        time.sleep(0.2)
        window = [r for r in ses.proxy.requests() if since <= r.at <= until]
        if target.background and any(r.operation == target.cycle_marker for r in window):
            continue
        ops = Counter(r.operation for r in window)
        return {op: n / scrapes for op, n in ops.items()}, sum(r.metrics_requested for r in window) / scrapes
    raise RuntimeError(f"{target.name}: no scrape window free of refresh cycles")


def wait_for_cycle_end(target: Target, ses: SimulatedSes, timeout: float = 60) -> None:
    seen = ses.proxy.count(target.cycle_marker)
    deadline = time.monotonic() + timeout
    while ses.proxy.count(target.cycle_marker) == seen and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.5)  # let that cycle finish


def per_cycle(target: Target, ses: SimulatedSes, cycles: int) -> tuple[dict[str, float], float]:
    """AWS requests of one background refresh cycle: everything between consecutive cycle markers."""
    base = ses.proxy.count(target.cycle_marker)
    deadline = time.monotonic() + CYCLE_SECONDS * (cycles + 2) + 60
    while ses.proxy.count(target.cycle_marker) < base + cycles + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    markers = ses.proxy.requests(target.cycle_marker)[base : base + cycles + 1]
    if len(markers) < 2:
        raise RuntimeError(f"{target.name}: fewer than two refresh cycles seen")
    first, last = markers[0].at - 0.01, markers[-1].at - 0.01
    window = [r for r in ses.proxy.requests() if first <= r.at < last]
    n = len(markers) - 1
    return {op: c / n for op, c in Counter(r.operation for r in window).items()}, sum(
        r.metrics_requested for r in window
    ) / n


def latency(
    scrapeload: Path, url: str, *, concurrency: int, seconds: float, repeats: int, warmup: int
) -> dict[str, Any]:
    runs = []
    for _ in range(repeats):
        result = run(
            [
                *(str(scrapeload), "-url", url, "-c", str(concurrency), "-d", f"{seconds}s"),
                *("-timeout", "120s", "-warmup", str(warmup)),
            ],
            timeout=seconds + 300,
        )
        runs.append(json.loads(result.stdout))
    return {
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "seconds": sum(r["seconds"] for r in runs),
        "runs": runs,
    }


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def billed(ops: dict[str, float], metric_count: float) -> float:
    return metric_count + sum(n for op, n in ops.items() if op in BILLED_PER_REQUEST)


def per_hour(result: dict[str, Any], scrape_interval: int) -> dict[str, float]:
    scrapes = 3600 / scrape_interval
    cycles = 3600 / PRODUCTION_REFRESH if result["background"] else 0
    requests = scrapes * sum(result["per_scrape"].values()) + cycles * sum(result["per_cycle"].values())
    units = scrapes * billed(result["per_scrape"], result["metrics_per_scrape"]) + cycles * billed(
        result["per_cycle"], result["metrics_per_cycle"]
    )
    return {"aws_requests": requests, "cloudwatch_billed_units": units}


def measure(start: Any, ses: SimulatedSes, scrapeload: Path, quick: bool) -> dict[str, Any]:
    """A background exporter runs twice: refreshing every 5 s to count a few cycles' requests quickly,
    then at the production interval (60 s) for latency and memory. cloudwatch_exporter runs once."""
    target: Target = start(CYCLE_SECONDS)
    try:
        log(f"{target.name}: waiting for data")
        first = wait_for_data(target, timeout=120)
        result: dict[str, Any] = {
            "name": target.name,
            "version": target.version,
            "background": target.background,
            "notes": target.notes,
            "ses_series_at_first_scrape": ses_series(first),
        }
        log(f"{target.name}: counting AWS requests")
        result["per_scrape"], result["metrics_per_scrape"] = per_scrape(
            target, ses, 20 if target.background else 3
        )
        if target.background:
            result["per_cycle"], result["metrics_per_cycle"] = per_cycle(target, ses, CYCLES_COUNTED)
        else:
            result["per_cycle"], result["metrics_per_cycle"] = {}, 0.0
        if target.background:
            target.stop()
            target = start(PRODUCTION_REFRESH)
            wait_for_data(target, timeout=120)
        seconds, repeats, warmup = (2, 1, 5) if quick else (4, 3, 5)
        if not target.background:  # every scrape waits for its AWS calls: fewer, longer runs
            seconds, repeats, warmup = (3, 1, 0) if quick else (10, 1, 0)
        for concurrency in (1, 50):
            log(f"{target.name}: scrape latency, {concurrency} concurrent")
            result[f"latency_c{concurrency}"] = latency(
                scrapeload,
                target.metrics_url,
                concurrency=concurrency,
                seconds=seconds,
                repeats=repeats,
                warmup=warmup,
            )
        result["memory_kb"] = memory_kb(target.proc.pid)
    except PeerFailed:
        raise
    except Exception as exc:
        raise PeerFailed(f"{target.name}: {exc}", target.log_tail()) from exc
    finally:
        target.stop()
    result["per_hour_15s"] = per_hour(result, 15)
    result["per_hour_60s"] = per_hour(result, 60)
    return result


# --------------------------------------------------------------------------------------------------
# Report


def ratio(a: float, b: float) -> str:
    return "n/a" if not a or not b else f"{a / b:.1f}x"


def markdown(results: list[dict[str, Any]], skipped: dict[str, str], elapsed: float) -> str:
    out = [
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"{elapsed:.0f} s.",
        "",
        "| | " + " | ".join(f"{r['name']} {r['version']}" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(label: str, fn: Any) -> None:
        out.append(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")

    def ops(d: dict[str, float]) -> str:
        return ", ".join(f"{n:g} {op}" for op, n in sorted(d.items())) or "0"

    row("AWS requests per scrape", lambda r: ops(r["per_scrape"]))
    row("AWS requests per background refresh", lambda r: ops(r["per_cycle"]) if r["background"] else "none")
    for interval in (15, 60):
        row(
            f"AWS requests per hour, {interval} s scrapes",
            lambda r, i=interval: f"{r[f'per_hour_{i}s']['aws_requests']:,.0f}",
        )
        row(
            f"CloudWatch billed units per hour, {interval} s scrapes",
            lambda r, i=interval: f"{r[f'per_hour_{i}s']['cloudwatch_billed_units']:,.0f}",
        )
    for c in (1, 50):
        row(f"scrape latency p50, {c} scraper(s)", lambda r, c=c: f"{r[f'latency_c{c}']['p50_ms']:.2f} ms")
        row(f"scrape latency p99, {c} scraper(s)", lambda r, c=c: f"{r[f'latency_c{c}']['p99_ms']:.2f} ms")
        row(
            f"scrapes served ({c} scraper(s))",
            lambda r, c=c: (
                f"{r[f'latency_c{c}']['requests']:,} in {r[f'latency_c{c}']['seconds']:.0f} s"
                + (f", {r[f'latency_c{c}']['errors']} errors" if r[f"latency_c{c}"]["errors"] else "")
            ),
        )
    row("resident memory (VmRSS)", lambda r: f"{r['memory_kb']['VmRSS'] / 1024:.1f} MiB")
    row("peak resident memory (VmHWM)", lambda r: f"{r['memory_kb']['VmHWM'] / 1024:.1f} MiB")
    row("SES CloudWatch series served at its first scrape", lambda r: str(r["ses_series_at_first_scrape"]))
    ours = next((r for r in results if r["name"] == "sesmonitor-exporter"), None)
    if ours:
        out += ["", "Ratios (peer / sesmonitor-exporter):", ""]
        for r in results:
            if r is ours:
                continue
            h15, h60, o15, o60 = (
                r["per_hour_15s"],
                r["per_hour_60s"],
                ours["per_hour_15s"],
                ours["per_hour_60s"],
            )
            parts = [
                f"AWS requests/h at 15 s scrapes {ratio(h15['aws_requests'], o15['aws_requests'])}",
                f"at 60 s {ratio(h60['aws_requests'], o60['aws_requests'])}",
                "billed units/h at 15 s "
                + ratio(h15["cloudwatch_billed_units"], o15["cloudwatch_billed_units"]),
                f"at 60 s {ratio(h60['cloudwatch_billed_units'], o60['cloudwatch_billed_units'])}",
                f"p99 with 50 scrapers {ratio(r['latency_c50']['p99_ms'], ours['latency_c50']['p99_ms'])}",
                f"resident memory {ratio(r['memory_kb']['VmRSS'], ours['memory_kb']['VmRSS'])}",
            ]
            out.append(f"- {r['name']}: " + "; ".join(parts))
    for name, reason in skipped.items():
        out.append(f"- {name}: not measured: {reason}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test of the script)")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--only", action="append", choices=["ours", "cloudwatch_exporter", "yace"])
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also run the exporter of this older checkout (e.g. `git archive main`), in the same run",
    )
    args = parser.parse_args(argv)
    wanted = set(args.only or ["ours", "cloudwatch_exporter", "yace"])
    started = time.monotonic()
    scrapeload = ensure_scrapeload()
    skipped: dict[str, str] = {}
    jar, cwe_version = (
        ensure_cloudwatch_exporter() if "cloudwatch_exporter" in wanted else (None, "not asked")
    )
    yace, yace_version = ensure_yace() if "yace" in wanted else (None, "not asked")
    tls = ensure_tls()
    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
    # moto's server logs every request it answers (werkzeug, INFO): hundreds of lines per run.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    results = []
    # 2.5 hours of data: the 2 h lookback is full, and moto's ListMetrics still fits in one page.
    with (
        tempfile.TemporaryDirectory() as tmp,
        SimulatedSes(bench_scenario(time.time()), configuration_sets=SETS, hours=2.5, tls=context) as ses,
    ):
        workdir = Path(tmp)
        starters: list[tuple[str, Any]] = []
        if args.baseline is not None:
            old = args.baseline.resolve()
            starters.append(("baseline", lambda interval: start_ours(ses, workdir, interval, baseline=old)))
        if "ours" in wanted:
            starters.append(("sesmonitor-exporter", lambda interval: start_ours(ses, workdir, interval)))
        if "cloudwatch_exporter" in wanted:
            if jar is None or tls is None:
                skipped["cloudwatch_exporter"] = cwe_version if jar is None else "no openssl/keytool for TLS"
            else:
                starters.append(
                    ("cloudwatch_exporter", lambda _: start_cloudwatch_exporter(ses, jar, tls[2], workdir))
                )
        if "yace" in wanted:
            if yace is None:
                skipped["YACE"] = yace_version
            else:
                starters.append(
                    ("YACE", lambda interval: start_yace(ses, yace, yace_version, workdir, interval))
                )
        for name, start in starters:
            try:
                results.append(measure(start, ses, scrapeload, args.quick))
            except Exception as exc:
                log(f"{name} failed: {exc}")
                for line in getattr(exc, "log_tail", []):
                    log(f"  {name} log | {line}")
                skipped[name] = f"failed during the run: {exc}"
    elapsed = time.monotonic() - started
    report = markdown(results, skipped, elapsed)
    print(report)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "skipped": skipped}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
