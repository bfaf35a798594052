"""`make demo`: the whole alert path on this machine, from a simulated SES account to a "Slack" message,
the way a user runs it: a real cluster, our chart, our image, the real prometheus-operator.

Brings up, with nothing but what `scripts/setup.sh` installed (needs root: the node gets its own
network and mount namespaces, cgroups and a veth):

1. a real single-node cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
   containerd, runc, CNI bridge, kube-proxy, CoreDNS; support.kube_cluster), images imported from
   tests/node/images.sh (ours built from the Dockerfile);
2. a simulated SES account (moto behind a fault proxy, replaying a scenario and sending on live) on the
   host end of the node's veth, where pods reach it;
3. our chart, installed with README's `helm install` line: the operator runs as a Pod;
4. prometheus-operator with a Prometheus and an Alertmanager set up like kube-prometheus-stack's (only
   objects labelled `release: kube-prometheus-stack` are picked up), Alertmanager routing by
   deploy/alertmanager's example to a webhook receiver on the host standing in for Opsgenie and Slack;
5. examples/demo.yaml, with spec.aws.endpointURL pointed at the simulated account, applied with kubectl:
   the operator renders the exporter (a Pod from our image), the ServiceMonitor and the PrometheusRule,
   and prometheus-operator turns those into Prometheus' configuration.

Then it prints `kubectl get sesmon -A`, the firing alerts and each notification as it arrives, until
Ctrl-C (or SIGTERM), which stops everything. State lives in .demo/ (wiped at every start).

    sudo .venv/bin/python scripts/demo.py
        [--scenario seed|healthy|complaint-spike|under-review|bad-list|protect|tenants] [--once]

`bad-list` also reads SES events (spec.events, an SNS topic and SQS queue in the simulated account):
SESPermanentBouncesRising fires minutes before SESBounceRateHigh, and the status shows the domain.
`protect` has two configuration sets and spec.protection in Enforce: marketing, at 12% bounces, is
paused and SESConfigurationSetPaused fires; transactional keeps sending. `tenants` watches three SES
tenants (spec.tenants) and VDM's open findings (spec.findings): AWS paused cust-acme and a BOUNCE finding
is open on it, so SESTenantPaused and SESReputationFindingOpen fire and `kubectl describe sesmon` names
the tenant; the other two send.

With --once it waits until the scenario's alerts fire and reach the receiver (or, for `healthy`, until
the monitor is Ready with no alert), prints, tears down and exits 0; 1 on timeout.

With --kubeconfig PATH --host-ip ADDRESS it uses a cluster you already have instead (docs/testing.md
says what that cluster needs), and removes what it installed when it stops.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sesmonitor.api.alerts import REPUTATION_FINDING_OPEN, TENANT_PAUSED  # noqa: E402
from sesmonitor.render.event_rules import PERMANENT_BOUNCES_RISING  # noqa: E402
from sesmonitor.render.rules import (  # noqa: E402
    ACCOUNT_UNDER_REVIEW,
    BOUNCE_RATE_HIGH,
    COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_PAUSED,
)
from support.kubectl_describe import status_fields  # noqa: E402
from support.moto_ses import BAD_LIST_DOMAIN, SCENARIOS  # noqa: E402
from support.simulated_aws.scenarios import PAUSED_TENANT, SENDING_TENANTS, TENANT_PREFIX  # noqa: E402
from support.user_stack import MonitorRef, UserStack, existing_cluster  # noqa: E402
from support.webhook_receiver import Notification, alerts_of, format_notification  # noqa: E402

EXAMPLE = ROOT / "examples" / "demo.yaml"
WORKDIR = ROOT / ".demo"
PID_FILE = "demo.pid"
URLS_FILE = "urls.json"  # {"prometheus": ..., "alertmanager": ...} once up (scripts/dashboard_png.py)

# The alerts each scenario must raise (all of them, firing and notified) for --once to succeed.
EXPECTED: dict[str, tuple[str, ...]] = {
    "seed": (BOUNCE_RATE_HIGH, ACCOUNT_UNDER_REVIEW),
    "under-review": (BOUNCE_RATE_HIGH, ACCOUNT_UNDER_REVIEW),
    "complaint-spike": (COMPLAINT_RATE_HIGH,),
    "healthy": (),
    "bad-list": (PERMANENT_BOUNCES_RISING, BOUNCE_RATE_HIGH),
    "protect": (CONFIGURATION_SET_PAUSED,),
    "tenants": (TENANT_PAUSED, REPUTATION_FINDING_OPEN),
}
# Scenarios with configuration sets: the sets the simulated account has, and what the demo's SesMonitor
# adds to examples/demo.yaml for them (`protect`: spec.protection pauses marketing, at 12% bounces).
SCENARIO_SETS: dict[str, tuple[str, ...]] = {"protect": ("marketing", "transactional")}
SCENARIO_SPEC: dict[str, dict[str, Any]] = {
    "protect": {
        "configurationSets": ["marketing", "transactional"],
        "protection": {
            "mode": "Enforce",
            "configurationSets": ["marketing", "transactional"],
            "holdFor": "2m",
        },
    },
    # examples/tenants.yaml's selection; each is read once at the exporter's start, then every 20/30m
    "tenants": {"tenants": {"prefix": TENANT_PREFIX}, "findings": {}},
}
# Scenarios whose expected alerts must first fire in that order, and the text status.bounceBreakdown
# must then hold.
IN_ORDER: frozenset[str] = frozenset({"bad-list"})
BREAKDOWN: dict[str, str] = {"bad-list": f"top domain {BAD_LIST_DOMAIN}"}
# Scenarios whose tenants `kubectl describe sesmon` must name once the alerts are in (status.tenants'
# worst tenants: those that must be there, those that must not), and the counts by state it must hold.
DESCRIBED_TENANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tenants": ((f"{PAUSED_TENANT}: paused by AWS",), SENDING_TENANTS)
}
TENANT_COUNTS: dict[str, dict[str, int]] = {"tenants": {"pausedByAWS": 1, "enabled": len(SENDING_TENANTS)}}
# How long the status may take to show them after the alerts arrived (the operator reconciles every 5s).
STATUS_SECONDS = 60.0
# For `healthy`: how long the monitor must stay quiet after its first Prometheus sample.
QUIET_SECONDS = 60.0
# Status reports are printed when something changed, and at least this often.
HEARTBEAT_SECONDS = 300.0


def say(message: str = "") -> None:
    print(message, flush=True)


def stamp() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S")


def load_manifest(path: Path, endpoint_url: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    doc.setdefault("spec", {}).setdefault("aws", {})["endpointURL"] = endpoint_url
    return doc


# --------------------------------------------------------------------------------------------------
# What the user sees


def firing_alerts(stack: UserStack, ref: MonitorRef) -> list[dict[str, Any]]:
    key = f"{ref[0]}/{ref[1]}"
    return [a for a in stack.prometheus.alerts() if a["labels"].get("sesmonitor") == key]


def suppressed(stack: UserStack) -> set[tuple[str, str, str]]:
    """(alertname, severity, sesmonitor) of alerts Alertmanager holds back (inhibited or silenced)."""
    out = set()
    with contextlib.suppress(Exception):
        for alert in stack.require_monitoring().alertmanager_alerts():
            if alert.get("status", {}).get("state") == "suppressed":
                labels = alert["labels"]
                out.add(
                    (labels.get("alertname", ""), labels.get("severity", ""), labels.get("sesmonitor", ""))
                )
    return out


def alerts_table(stack: UserStack, ref: MonitorRef) -> str:
    alerts = firing_alerts(stack, ref)
    if not alerts:
        return "  (none)"
    held = suppressed(stack)
    lines = []
    for alert in sorted(alerts, key=lambda a: (a["labels"]["alertname"], a["labels"].get("severity", ""))):
        labels = alert["labels"]
        name, severity = labels["alertname"], labels.get("severity", "")
        note = (
            "  (inhibited by the critical one)" if (name, severity, labels.get("sesmonitor")) in held else ""
        )
        try:
            value = f"{float(alert['value']):.4g}"
        except (TypeError, ValueError):
            value = str(alert.get("value"))
        lines.append(f"  {alert['state']:<8} {name:<28} {severity:<9} value={value}{note}")
        summary = alert.get("annotations", {}).get("summary")
        if summary:
            lines.append(f"           {summary}")
    return "\n".join(lines)


def report(stack: UserStack, ref: MonitorRef) -> str:
    notifications = stack.webhook.notifications() if stack.webhook else []
    firing = sum(1 for _n, a in alerts_of(notifications) if a.get("status") == "firing")
    resolved = sum(1 for _n, a in alerts_of(notifications) if a.get("status") == "resolved")
    return "\n".join(
        [
            f"--- {stamp()} ---------------------------------------------------------------",
            "$ kubectl get sesmon -A",
            stack.kubectl_get_sesmon().rstrip(),
            "",
            *breakdown_lines(stack, ref),
            *tenant_lines(stack.sesmonitor(ref).get("status", {})),
            "Alerts in Prometheus (pending/firing):",
            alerts_table(stack, ref),
            "",
            f"Notifications received by the webhook: {len(notifications)}"
            f" ({firing} firing, {resolved} resolved alerts) -> {stack.workdir / 'notifications.json'}",
        ]
    )


def breakdown_lines(stack: UserStack, ref: MonitorRef) -> list[str]:
    """With spec.events: the last hour's bounces as `kubectl describe sesmon` shows them."""
    breakdown = stack.sesmonitor(ref).get("status", {}).get("bounceBreakdown")
    return [f"Bounce breakdown (status.bounceBreakdown): {breakdown}", ""] if breakdown else []


def tenant_lines(status: dict[str, Any]) -> list[str]:
    """With spec.tenants and spec.findings: their counts and worst ones, as `kubectl describe` has them."""
    lines = []
    tenants, findings = status.get("tenants"), status.get("findings")
    if tenants:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(tenants.get("counts", {}).items()) if n)
        lines.append(f"Tenants (status.tenants, {tenants.get('selection')}): {counts or 'none read yet'}")
        lines += [f"  {line}" for line in tenants.get("worst", [])]
    if findings:
        open_, high = findings.get("open", "?"), findings.get("high", 0)
        lines.append(f"Findings (status.findings): {open_} open, {high} of HIGH impact")
        lines += [f"  {line}" for line in findings.get("worst", [])]
    lines += [f"  {doc['message']}" for doc in (tenants, findings) if doc and doc.get("message")]
    return [*lines, ""] if lines else []


def tenants_problem(status: dict[str, Any], described: str, scenario: str) -> str:
    """What `kubectl describe sesmon` (`described`) or status.tenants lacks for the scenario ("" when
    nothing): the tenants its Tenants must name, those it must not, the counts by state."""
    problems = []
    named, unnamed = DESCRIBED_TENANTS.get(scenario, ((), ()))
    section = status_fields(described, ("Tenants",))
    problems += [f"kubectl describe's Tenants lack {text!r}" for text in named if text not in section]
    problems += [f"kubectl describe's Tenants name {name}" for name in unnamed if name in section]
    counts = (status.get("tenants") or {}).get("counts", {})
    for state, want in TENANT_COUNTS.get(scenario, {}).items():
        if counts.get(state) != want:
            problems.append(f"status.tenants.counts.{state} is {counts.get(state)}, not {want}")
    return "; ".join(problems)


def where(stack: UserStack) -> str:
    monitoring = stack.require_monitoring()
    cluster = stack.require_cluster()
    kubectl = Path(cluster.kubectl_bin)
    prometheus, alertmanager = monitoring.prometheus_url, monitoring.alertmanager_url
    return "\n".join(
        [
            "",
            f"Prometheus:    {prometheus}/alerts   (API: {prometheus}/api/v1/alerts)",
            f"Alertmanager:  {alertmanager}/api/v2/alerts",
            f"Notifications: {stack.workdir / 'notifications.json'}",
            f"kubectl:       {kubectl} --kubeconfig {cluster.kubeconfig_path} get sesmon -A",
            f"Logs:          {stack.workdir}/  (cluster/: the components and pods; ses/)",
            "",
        ]
    )


def on_notification(notification: Notification) -> None:
    say(f"\n>>> {stamp()} notification from Alertmanager (a webhook standing in for Opsgenie/Slack):")
    say(format_notification(notification))


# --------------------------------------------------------------------------------------------------
# Success for --once


def expected_done(stack: UserStack, ref: MonitorRef, expected: Sequence[str]) -> bool:
    firing = {a["labels"]["alertname"] for a in firing_alerts(stack, ref) if a["state"] == "firing"}
    notified = {
        a["labels"].get("alertname")
        for _n, a in alerts_of(stack.require_webhook().notifications())
        if a.get("status") == "firing" and a["labels"].get("sesmonitor") == f"{ref[0]}/{ref[1]}"
    }
    status = stack.sesmonitor(ref).get("status", {})
    return bool(status.get("bounceRate")) and all(name in firing and name in notified for name in expected)


def first_firing(stack: UserStack, ref: MonitorRef, seen: dict[str, float]) -> None:
    """Remember when each alert of the monitor was first seen firing."""
    for alert in firing_alerts(stack, ref):
        if alert["state"] == "firing":
            seen.setdefault(alert["labels"]["alertname"], time.monotonic())


def order_and_breakdown(stack: UserStack, ref: MonitorRef, scenario: str, seen: dict[str, float]) -> str:
    """What is wrong with the order of the alerts or with status.bounceBreakdown ("" when nothing)."""
    expected = EXPECTED[scenario]
    if scenario in IN_ORDER:
        times = [seen.get(name, float("inf")) for name in expected]
        if times != sorted(times):
            return f"alerts fired out of order: {', '.join(sorted(seen, key=seen.__getitem__))}"
        say(f"{stamp()} fired in order: " + ", then ".join(
            f"{name} (+{seen[name] - times[0]:.0f}s)" for name in expected))  # fmt: skip
    want = BREAKDOWN.get(scenario)
    breakdown = stack.sesmonitor(ref).get("status", {}).get("bounceBreakdown") or ""
    if want is not None:
        say(f"{stamp()} status.bounceBreakdown: {breakdown}")
        if want not in breakdown:
            return f"status.bounceBreakdown {breakdown!r} lacks {want!r}"
    return ""


def described_tenants(stack: UserStack, ref: MonitorRef, scenario: str) -> str:
    """Prints `kubectl describe sesmon`'s Tenants and Findings once they show what the scenario needs
    (waiting up to STATUS_SECONDS); what they lack ("" when nothing)."""
    deadline = time.monotonic() + STATUS_SECONDS
    while True:
        described = stack.kubectl_describe_sesmon(ref)
        problem = tenants_problem(stack.sesmonitor(ref).get("status", {}), described, scenario)
        if not problem or time.monotonic() > deadline:
            break
        time.sleep(2)
    say(f"$ kubectl describe sesmon -n {ref[0]} {ref[1]}    (its Tenants and Findings)")
    say(status_fields(described, ("Tenants", "Findings")) or "  (no Tenants or Findings in the status)")
    return problem


def quiet_done(stack: UserStack, ref: MonitorRef, since: dict[str, float]) -> tuple[bool, bool]:
    """(done, failed) for a scenario that must raise nothing: failed once an alert fires."""
    alerts = firing_alerts(stack, ref)
    if any(a["state"] == "firing" for a in alerts):
        return False, True
    if alerts:  # pending: not yet a failure, but not quiet either
        since.pop("quiet", None)
        return False, False
    status = stack.sesmonitor(ref).get("status", {})
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))
    key = f"{ref[0]}/{ref[1]}"
    has_data = stack.prometheus.query(f'aws_ses_reputation_bounce_rate_average{{sesmonitor="{key}"}}')
    if not (ready and has_data):
        return False, False
    since.setdefault("quiet", time.monotonic())
    return time.monotonic() - since["quiet"] >= QUIET_SECONDS, False


# --------------------------------------------------------------------------------------------------


def running_demo(workdir: Path) -> int | None:
    """The pid of a demo still running in `workdir` (its pid file names a live demo.py), else None."""
    try:
        pid = int((workdir / PID_FILE).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() and b"demo.py" in cmdline else None


class Stop(BaseException):
    """SIGINT or SIGTERM: unwinds bring-up and the main loop (past every `except Exception`) to the
    tear-down, like KeyboardInterrupt."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def bring_up(stack: UserStack, args: argparse.Namespace) -> MonitorRef:
    """Cluster, simulated account, chart, monitoring; then the monitor, until Prometheus scrapes it."""
    say(f"{stamp()} sesmonitor demo, scenario {args.scenario!r}: {SCENARIOS[args.scenario].description}")
    if stack.cluster is None:
        say(f"{stamp()} starting a single-node cluster (the first run builds it from Go modules: minutes)")
    stack.start_cluster()
    account = stack.add_account(
        args.scenario,
        name="ses",
        port=args.ses_port,
        wait=False,
        configuration_sets=SCENARIO_SETS.get(args.scenario, ()),
    )
    manifest = load_manifest(args.manifest, account.endpoint_url)
    manifest["spec"].update(SCENARIO_SPEC.get(args.scenario, {}))
    stack.start()
    if account.events_queue_url:  # the scenario's SES events, through SNS to this queue
        manifest["spec"]["events"] = {"queueURL": account.events_queue_url}
    ref = stack.apply_monitor(manifest)
    shown = args.manifest.relative_to(ROOT) if args.manifest.is_relative_to(ROOT) else args.manifest
    say(f"{stamp()} applied SesMonitor {ref[0]}/{ref[1]} from {shown}")
    pod = stack.wait_exporter_ready(ref)
    say(f"{stamp()} exporter Pod {ref[0]}/{pod['metadata']['name']} Ready")
    stack.wait_scraped(ref)
    say(f"{stamp()} Prometheus scrapes it (the target prometheus-operator made from its ServiceMonitor)")
    monitoring = stack.require_monitoring()
    urls = {"prometheus": monitoring.prometheus_url, "alertmanager": monitoring.alertmanager_url}
    (stack.workdir / URLS_FILE).write_text(json.dumps(urls) + "\n")
    say(where(stack))
    return ref


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", default="seed", choices=sorted(SCENARIOS))
    parser.add_argument("--once", action="store_true", help="exit once the scenario's alerts arrived")
    parser.add_argument("--timeout", type=float, default=420, help="--once gives up after this (s)")
    parser.add_argument("--manifest", type=Path, default=EXAMPLE, help="the SesMonitor to apply")
    parser.add_argument("--workdir", type=Path, default=WORKDIR, help="state directory (wiped at start)")
    parser.add_argument(
        "--kubeconfig", type=Path, help="use this cluster (kind, k3d, EKS) instead of starting one"
    )
    parser.add_argument(
        "--host-ip", help="with --kubeconfig: this machine's address as pods see it (SES, webhook)"
    )
    parser.add_argument(
        "--node-ip", help="with --kubeconfig: where this machine reaches NodePorts (default: node 0)"
    )
    parser.add_argument("--webhook-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--ses-port", type=int, default=0, help="simulated SES endpoint; 0: a free port")
    parser.add_argument("--every", type=float, default=20, help="seconds between status reports")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Also SIGINT: a shell starts background jobs with SIGINT ignored, and Python then installs no handler.
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    if args.kubeconfig and not args.host_ip:
        say("--kubeconfig needs --host-ip: the address at which pods reach this machine")
        return 2
    if not args.kubeconfig and os.geteuid() != 0:
        say("the demo starts a cluster node in its own network and mount namespaces: run it as root")
        return 2
    other = running_demo(args.workdir)
    if other:
        say(f"another demo (pid {other}) is using {args.workdir}/: stop it first, or pass --workdir")
        return 1
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    (args.workdir / PID_FILE).write_text(f"{os.getpid()}\n")
    started = time.monotonic()
    stack = UserStack(
        args.workdir,
        cluster=existing_cluster(args.kubeconfig.resolve()) if args.kubeconfig else None,
        host_ip=args.host_ip,
        node_ip=args.node_ip,
        webhook_port=args.webhook_port,
        on_notification=on_notification,
        log=lambda m: say(f"{stamp()} {m}"),
    )
    code = 0
    try:
        ref = bring_up(stack, args)
        say(
            f"{stamp()} up in {time.monotonic() - started:.0f}s; the exporter reads the account every 60s and"
        )
        say("         an alert fires once its condition held for the monitor's `for`. Ctrl-C stops all.")
        code = loop(stack, ref, args)
    except (KeyboardInterrupt, Stop) as stop:
        say(f"\n{stamp()} {stop or 'SIGINT'}: stopping ...")
    except Exception as exc:
        say(f"\n{stamp()} demo failed: {exc}")
        say(f"logs are in {args.workdir}/")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not stack.owns_cluster:
            say(f"{stamp()} removing what the demo installed in {args.kubeconfig} ...")
            stack.uninstall()
        stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        say(f"{stamp()} stopped everything (state kept in {args.workdir}/ until the next run)")
    return code


def loop(stack: UserStack, ref: MonitorRef, args: argparse.Namespace) -> int:
    expected = EXPECTED[args.scenario]
    deadline = time.monotonic() + args.timeout
    last_report = ""
    last_time = last_check = 0.0
    quiet: dict[str, float] = {}
    seen: dict[str, float] = {}
    while True:
        first_firing(stack, ref, seen)
        if args.once:
            if expected:
                done, failed = expected_done(stack, ref, expected), False
            else:
                done, failed = quiet_done(stack, ref, quiet)
            if done or failed or time.monotonic() > deadline:
                say(report(stack, ref))
                say(where(stack))
                problem = order_and_breakdown(stack, ref, args.scenario, seen) if done else ""
                if done and not problem and args.scenario in DESCRIBED_TENANTS:
                    problem = described_tenants(stack, ref, args.scenario)
                if problem:
                    say(f"{stamp()} FAILED: {problem}")
                    return 1
                if done:
                    what = ", ".join(expected) if expected else f"no alert for {QUIET_SECONDS:.0f}s, Ready"
                    say(f"{stamp()} OK: {what}")
                    return 0
                say(f"{stamp()} FAILED: {'an alert fired' if failed else 'timed out'} (expected: "
                    f"{', '.join(expected) or 'no alert'})")  # fmt: skip
                return 1
        now = time.monotonic()
        if now - last_check >= args.every:
            last_check = now
            text = report(stack, ref)
            # Print when something changed (the AGE column aside), and at least every few minutes.
            body = re.sub(r"\s+\S+$", "", text.split("\n", 1)[1], flags=re.MULTILINE)
            if body != last_report or now - last_time >= HEARTBEAT_SECONDS:
                say(text)
                last_report, last_time = body, now
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
