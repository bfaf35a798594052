"""`make demo`: the whole alert path on this machine, from a simulated SES account to a "Slack" message.

Brings up, with nothing but what `scripts/setup.sh` installed:

1. a simulated SES account (moto behind a fault proxy, replaying a scenario and sending on live);
2. a real control plane (etcd, kube-apiserver, kube-controller-manager built from Go modules), the
   SesMonitor CRD and prometheus-operator's ServiceMonitor and PrometheusRule CRDs;
3. sesmonitor-operator (a local process, admin kubeconfig);
4. examples/demo.yaml, with spec.aws.endpointURL pointed at the simulated account;
5. the exporter the operator rendered: its Deployment's command and args run as a local process (no
   kubelet here), with the ConfigMap's config.json written to a local file;
6. Prometheus, fed the rendered ServiceMonitor (as a scrape job) and PrometheusRule (as a rule file) the
   way prometheus-operator would, alerting to Alertmanager, which routes by deploy/alertmanager's example
   to a webhook receiver standing in for Opsgenie and Slack.

Then it prints `kubectl get sesmon -A`, the firing alerts and each notification as it arrives, until
Ctrl-C (or SIGTERM), which stops everything. State lives in .demo/ (wiped at every start).

    .venv/bin/python scripts/demo.py [--scenario seed|healthy|complaint-spike|under-review] [--once]

With --once it waits until the scenario's alerts fire and reach the receiver (or, for `healthy`, until
the monitor is Ready with no alert), prints, tears down and exits 0; 1 on timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
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

from sesmonitor.render.rules import (  # noqa: E402
    ACCOUNT_UNDER_REVIEW,
    BOUNCE_RATE_HIGH,
    COMPLAINT_RATE_HIGH,
)
from support.local_stack import LocalStack, MonitorRef, monitor_ref  # noqa: E402
from support.moto_ses import SCENARIOS  # noqa: E402
from support.webhook_receiver import Notification, alerts_of, format_notification  # noqa: E402

EXAMPLE = ROOT / "examples" / "demo.yaml"
WORKDIR = ROOT / ".demo"
PID_FILE = "demo.pid"

# The alerts each scenario must raise (all of them, firing and notified) for --once to succeed.
EXPECTED: dict[str, tuple[str, ...]] = {
    "seed": (BOUNCE_RATE_HIGH, ACCOUNT_UNDER_REVIEW),
    "under-review": (BOUNCE_RATE_HIGH, ACCOUNT_UNDER_REVIEW),
    "complaint-spike": (COMPLAINT_RATE_HIGH,),
    "healthy": (),
}
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


def firing_alerts(stack: LocalStack, ref: MonitorRef) -> list[dict[str, Any]]:
    assert stack.prometheus is not None
    key = f"{ref[0]}/{ref[1]}"
    return [a for a in stack.prometheus.alerts() if a["labels"].get("sesmonitor") == key]


def suppressed(stack: LocalStack) -> set[tuple[str, str, str]]:
    """(alertname, severity, sesmonitor) of alerts Alertmanager holds back (inhibited or silenced)."""
    assert stack.alertmanager is not None
    out = set()
    with contextlib.suppress(Exception):
        for alert in stack.alertmanager.alerts(active=False):
            if alert.get("status", {}).get("state") == "suppressed":
                labels = alert["labels"]
                out.add(
                    (labels.get("alertname", ""), labels.get("severity", ""), labels.get("sesmonitor", ""))
                )
    return out


def alerts_table(stack: LocalStack, ref: MonitorRef) -> str:
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


def report(stack: LocalStack, ref: MonitorRef) -> str:
    notifications = stack.webhook.notifications() if stack.webhook else []
    firing = sum(1 for _n, a in alerts_of(notifications) if a.get("status") == "firing")
    resolved = sum(1 for _n, a in alerts_of(notifications) if a.get("status") == "resolved")
    return "\n".join(
        [
            f"--- {stamp()} ---------------------------------------------------------------",
            "$ kubectl get sesmon -A",
            stack.kubectl_get_sesmon().rstrip(),
            "",
            "Alerts in Prometheus (pending/firing):",
            alerts_table(stack, ref),
            "",
            f"Notifications received by the webhook: {len(notifications)}"
            f" ({firing} firing, {resolved} resolved alerts) -> {stack.workdir / 'notifications.json'}",
        ]
    )


def where(stack: LocalStack) -> str:
    assert stack.prometheus
    assert stack.alertmanager
    assert stack.cluster
    kubectl = Path(stack.cluster.kubectl_bin)
    return "\n".join(
        [
            "",
            f"Prometheus:    {stack.prometheus.url}/alerts   (graphs: {stack.prometheus.url}/graph)",
            f"Alertmanager:  {stack.alertmanager.url}/#/alerts",
            f"Notifications: {stack.workdir / 'notifications.json'}",
            f"kubectl:       export KUBECONFIG={stack.cluster.kubeconfig_path}; {kubectl} get sesmon -A",
            f"Logs:          {stack.workdir}/  (operator.log, pods/, prometheus/, alertmanager/, ses/)",
            "",
        ]
    )


def on_notification(notification: Notification) -> None:
    say(f"\n>>> {stamp()} notification from Alertmanager (stand-in for Opsgenie/Slack):")
    say(format_notification(notification))


# --------------------------------------------------------------------------------------------------
# Success for --once


def expected_done(stack: LocalStack, ref: MonitorRef, expected: Sequence[str]) -> bool:
    firing = {a["labels"]["alertname"] for a in firing_alerts(stack, ref) if a["state"] == "firing"}
    assert stack.webhook is not None
    notified = {
        a["labels"].get("alertname")
        for _n, a in alerts_of(stack.webhook.notifications())
        if a.get("status") == "firing" and a["labels"].get("sesmonitor") == f"{ref[0]}/{ref[1]}"
    }
    rates = stack.sesmonitor(ref).get("status", {}).get("bounceRate")
    return bool(rates) and all(name in firing and name in notified for name in expected)


def quiet_done(stack: LocalStack, ref: MonitorRef, since: dict[str, float]) -> tuple[bool, bool]:
    """(done, failed) for a scenario that must raise nothing: failed once an alert fires."""
    alerts = firing_alerts(stack, ref)
    if any(a["state"] == "firing" for a in alerts):
        return False, True
    if alerts:  # pending: not yet a failure, but not quiet either
        since.pop("quiet", None)
        return False, False
    status = stack.sesmonitor(ref).get("status", {})
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))
    assert stack.prometheus is not None
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


def bring_up(stack: LocalStack, args: argparse.Namespace) -> MonitorRef:
    """Simulated account, control plane, monitoring, operator; then the monitor and its exporter."""
    say(f"{stamp()} sesmonitor demo, scenario {args.scenario!r}: {SCENARIOS[args.scenario].description}")
    account = stack.add_account(args.scenario, name="ses", port=args.ses_port, wait=False)
    manifest = load_manifest(args.manifest, account.endpoint_url)
    ref = monitor_ref(manifest)
    say(f"{stamp()} starting the control plane (the first run builds it from Go modules: minutes)")
    stack.start(monitors=[ref])
    account.wait_ready()
    stack.apply_monitor(manifest)
    shown = args.manifest.relative_to(ROOT) if args.manifest.is_relative_to(ROOT) else args.manifest
    say(f"{stamp()} applied SesMonitor {ref[0]}/{ref[1]} from {shown}")
    stack.run_exporter(ref)
    stack.sync_prometheus()
    say(where(stack))
    return ref


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", default="seed", choices=sorted(SCENARIOS))
    parser.add_argument("--once", action="store_true", help="exit once the scenario's alerts arrived")
    parser.add_argument("--timeout", type=float, default=420, help="--once gives up after this (s)")
    parser.add_argument("--manifest", type=Path, default=EXAMPLE, help="the SesMonitor to apply")
    parser.add_argument("--workdir", type=Path, default=WORKDIR, help="state directory (wiped at start)")
    parser.add_argument("--prometheus-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--alertmanager-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--webhook-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--ses-port", type=int, default=0, help="simulated SES endpoint; 0: a free port")
    parser.add_argument("--every", type=float, default=20, help="seconds between status reports")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Also SIGINT: a shell starts background jobs with SIGINT ignored, and Python then installs no handler.
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    other = running_demo(args.workdir)
    if other:
        say(f"another demo (pid {other}) is using {args.workdir}/: stop it first, or pass --workdir")
        return 1
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    (args.workdir / PID_FILE).write_text(f"{os.getpid()}\n")
    started = time.monotonic()
    stack = LocalStack(
        args.workdir,
        prometheus_port=args.prometheus_port,
        alertmanager_port=args.alertmanager_port,
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
        stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        say(f"{stamp()} stopped everything (state kept in {args.workdir}/ until the next run)")
    return code


def loop(stack: LocalStack, ref: MonitorRef, args: argparse.Namespace) -> int:
    expected = EXPECTED[args.scenario]
    deadline = time.monotonic() + args.timeout
    last_report = ""
    last_time = last_check = 0.0
    quiet: dict[str, float] = {}
    while True:
        for line in stack.sync():
            say(f"{stamp()} {line}")
        if args.once:
            if expected:
                done, failed = expected_done(stack, ref, expected), False
            else:
                done, failed = quiet_done(stack, ref, quiet)
            if done or failed or time.monotonic() > deadline:
                say(report(stack, ref))
                say(where(stack))
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
