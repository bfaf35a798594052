"""What Flux and Argo CD make of a SesMonitor in every state (issue 19, items 1 and 2).

Each state's status is computed by the operator's own code (`compute_status`, the pods' diagnosis and
the Deployment's rollout from `sesmonitor.operator.pods`), put on a SesMonitor object and read by:

- kstatus itself: ``sigs.k8s.io/cli-utils`` v0.37.2 ``status.Compute`` (what Flux's health checks and
  ``kpt`` use), in tests/tools/kstatus-check;
- Argo CD's reading: deploy/gitops/argocd/health.lua run as Argo CD's controller runs a health script,
  on ``github.com/yuin/gopher-lua`` v1.1.2, in tests/tools/argocd-health.

Both are built by ``tests/tools/build.sh gitops`` (scripts/setup.sh does it).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor.api import parse_spec
from sesmonitor.contract import ApiHealth, ExporterStatus, RateStatus, empty_account, empty_rate
from sesmonitor.operator.pods import diagnose, rollout_progress
from sesmonitor.operator.shapes import ExporterReading, ReconcileOutcome
from sesmonitor.operator.status.compute import compute_status
from support.gitops_health import HEALTH_LUA, argocd_health, kstatus

ROOT = Path(__file__).resolve().parents[2]
ARGOCD_CM = ROOT / "deploy" / "gitops" / "argocd" / "argocd-cm-health.yaml"
NAMESPACE, NAME = "mail", "prod"
KEY = f"{NAMESPACE}/{NAME}"
SPEC_DOC = {"region": "eu-west-1", "window": "30m"}
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
GENERATION = 3
URL = "http://sesmon-prod.mail.svc:9435/status"
OK = ReconcileOutcome(True)


def rate(value: float) -> RateStatus:
    out = empty_rate()
    out["current"] = out["window_average"] = value
    out["timestamp"] = "2026-01-02T03:00:00Z"
    return out


def exporter(*, bounce: float = 0.01, enforcement: str = "HEALTHY", ready: bool = True) -> ExporterReading:
    account = empty_account()
    account["enforcement_status"], account["sending_enabled"] = enforcement, True
    doc = ExporterStatus(
        monitor=KEY,
        region="eu-west-1",
        ready=ready,
        stale=not ready,
        bounce_rate=rate(bounce),
        complaint_rate=rate(0.0002),
        account=account,
        last_refresh_time="2026-01-02T03:04:00Z" if ready else None,
        last_error=None,
    )
    return ExporterReading(status=doc, url=URL)


def aws_failing(code: str, kind: str, message: str, api: str = "GetAccount") -> ExporterReading:
    """An exporter whose ``api`` keeps failing with AWS error ``code``, as its /status says."""
    reading = exporter(ready=False)
    assert reading.status is not None
    health: ApiHealth = {
        "last_success_time": None,
        "consecutive_failures": 4,
        "stale": True,
        "last_error": f"{code}: {message}",
        "last_error_time": "2026-01-02T03:04:00Z",
        "last_error_code": code,
        "last_error_kind": kind,
    }
    reading.status.apis = {api: health}
    return reading


def pod_waiting(reason: str, message: str, restarts: int = 0) -> ExporterReading:
    """The exporter's /status cannot be read; its only pod's container waits for ``reason``."""
    container = {
        "name": "exporter",
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": message}},
    }
    if reason == "CrashLoopBackOff":
        container["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1, "message": "boom"}}
    pod = {
        "metadata": {"name": "sesmon-prod-7d9c-x2x", "creationTimestamp": "2026-01-02T03:00:00Z"},
        "status": {
            "phase": "Pending" if reason != "CrashLoopBackOff" else "Running",
            "containerStatuses": [container],
        },
    }
    workload = diagnose(None, [pod])
    return ExporterReading(error="connection refused", url=URL, workload=workload)


def deployment(updated: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "sesmon-prod", "generation": 2},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 2, "replicas": 1 + (1 - updated), "updatedReplicas": updated},
    }


@dataclass(frozen=True)
class State:
    reading: ExporterReading
    outcome: ReconcileOutcome = OK
    generation: int = GENERATION  # metadata.generation; the status is computed for GENERATION
    kstatus: str = "Current"
    argocd: str = "Healthy"
    words: str = ""  # in both programs' messages (when not Current: kstatus says "Resource is Ready")


ROLLING = rollout_progress(deployment(updated=0))
STATES: dict[str, State] = {
    "healthy": State(exporter()),
    "high bounce": State(exporter(bounce=0.12)),
    "PROBATION": State(exporter(enforcement="PROBATION")),
    "policy denial": State(
        ExporterReading(error="the operator's exporter policy refused this spec"),
        ReconcileOutcome(False, "PolicyDenied", "image example.invalid/x: not an allowed registry"),
        kstatus="Failed", argocd="Degraded", words="not an allowed registry",
    ),
    "CRD missing": State(
        exporter(),
        ReconcileOutcome(False, "PrometheusOperatorMissing", "ServiceMonitor is not served"),
        kstatus="Failed", argocd="Degraded", words="ServiceMonitor is not served",
    ),
    "AccessDenied": State(
        aws_failing("AccessDeniedException", "denied", "User: arn:aws:sts::1:x is not authorized"),
        kstatus="Failed", argocd="Degraded", words="AccessDeniedException: User: arn:aws:sts::1:x",
    ),
    "unknown role": State(
        aws_failing("AccessDenied", "denied", "Not authorized: sts:AssumeRole", api="GetMetricData"),
        kstatus="Failed", argocd="Degraded", words="Not authorized: sts:AssumeRole",
    ),
    "invalid credentials": State(
        aws_failing("InvalidClientTokenId", "denied", "The security token is invalid."),
        kstatus="Failed", argocd="Degraded", words="InvalidClientTokenId: The security token",
    ),
    "expired credentials": State(
        aws_failing("ExpiredTokenException", "denied", "The security token is expired"),
        kstatus="Failed", argocd="Degraded", words="ExpiredTokenException: The security token",
    ),
    "ImagePullBackOff": State(
        pod_waiting("ImagePullBackOff", 'Back-off pulling image "example.invalid/sesmonitor:9": not found'),
        kstatus="Failed", argocd="Degraded", words='Back-off pulling image "example.invalid/sesmonitor:9"',
    ),
    "CreateContainerConfigError": State(
        pod_waiting("CreateContainerConfigError", 'secret "aws-keys" not found'),
        kstatus="Failed", argocd="Degraded", words='CreateContainerConfigError: secret "aws-keys" not found',
    ),
    "CrashLoopBackOff past the count": State(
        pod_waiting("CrashLoopBackOff", "back-off 2m40s restarting failed container", restarts=5),
        kstatus="Failed", argocd="Degraded", words="code 1: boom (restarted 3 times or more",
    ),
    "CrashLoopBackOff below the count": State(
        pod_waiting("CrashLoopBackOff", "back-off 10s restarting failed container", restarts=1),
        kstatus="InProgress", argocd="Progressing", words="back-off 10s restarting failed container",
    ),
    "throttling": State(
        aws_failing("TooManyRequestsException", "throttled", "Too Many Requests"),
        kstatus="InProgress", argocd="Progressing", words="TooManyRequestsException: Too Many Requests",
    ),
    "AWS unreachable": State(
        aws_failing("EndpointConnectionError", "error", 'Could not connect to the endpoint URL: "https://x"'),
        kstatus="InProgress", argocd="Progressing", words="EndpointConnectionError: Could not connect",
    ),
    "first reads": State(
        exporter(ready=False), kstatus="InProgress", argocd="Progressing", words="waiting for its reads"
    ),
    "pod starting": State(
        ExporterReading(
            error="connection refused", url=URL,
            workload=diagnose(None, [{"metadata": {"name": "p"}, "status": {"phase": "Pending"}}]),
        ),
        kstatus="InProgress", argocd="Progressing", words="exporter pod p is pending",
    ),
    "rollout": State(
        replace(exporter(), rollout=ROLLING),
        kstatus="InProgress", argocd="Progressing", words="0 of 1 exporter pods updated",
    ),
    "rollout with a new pod that cannot pull": State(
        replace(
            exporter(), rollout=ROLLING,
            workload=pod_waiting("ImagePullBackOff", 'Back-off pulling image "x:10"').workload,
        ),
        kstatus="Failed", argocd="Degraded", words='Back-off pulling image "x:10"',
    ),
    "retried apply": State(
        exporter(),
        ReconcileOutcome(False, "Conflict", "Deployment sesmon-prod: the object has been modified", True),
        kstatus="InProgress", argocd="Progressing", words="retrying: Deployment sesmon-prod",
    ),
    "generation unobserved": State(
        exporter(), generation=GENERATION + 1, kstatus="InProgress", argocd="Progressing",
        words=f"generation is {GENERATION + 1}, but latest observed generation is {GENERATION}",
    ),
}  # fmt: skip


def sesmonitor(state: State) -> dict[str, Any]:
    status = compute_status(
        monitor_key=KEY,
        spec=parse_spec(SPEC_DOC),
        generation=GENERATION,
        outcome=state.outcome,
        reading=state.reading,
        previous=None,
        now=NOW,
    )
    return {
        "apiVersion": "sesmonitor.io/v1alpha1",
        "kind": "SesMonitor",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "generation": state.generation, "uid": "u-1"},
        "spec": SPEC_DOC,
        "status": status,
    }


@pytest.fixture(scope="module")
def readings() -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """Each state's (kstatus, Argo CD) result: one run of each program over every state."""
    objects = [sesmonitor(state) for state in STATES.values()]
    return dict(zip(STATES, zip(kstatus(objects), argocd_health(objects), strict=True), strict=True))


@pytest.mark.parametrize("name", list(STATES))
def test_every_state_reads_the_same_in_kstatus_and_argo_cd(
    name: str, readings: dict[str, tuple[dict[str, str], dict[str, str]]]
) -> None:
    state = STATES[name]
    flux, argo = readings[name]
    assert flux["status"] == state.kstatus, flux
    assert argo["status"] == state.argocd, argo
    if state.kstatus == "Current":
        assert flux["message"] == "Resource is Ready"
        assert argo["message"].startswith("Monitoring: reconciled; the exporter serves fresh data")
    else:
        assert state.words in flux["message"], flux
        assert state.words in argo["message"], argo


def test_the_states_cover_what_the_issue_names() -> None:
    # Every kstatus result and Argo CD health a SesMonitor can have outside deletion.
    assert {s.kstatus for s in STATES.values()} == {"Current", "InProgress", "Failed"}
    assert {s.argocd for s in STATES.values()} == {"Healthy", "Progressing", "Degraded"}


def test_argo_cd_reads_an_older_operators_status_and_none() -> None:
    """Ready=False without Stalled or Reconciling (an operator before this check) is Degraded; no
    status yet is Progressing; an object is never Unknown (an invalid status from the script)."""
    old = sesmonitor(STATES["AccessDenied"])
    old["status"]["conditions"] = [c for c in old["status"]["conditions"] if c["type"] != "Stalled"]
    new = sesmonitor(STATES["healthy"])
    del new["status"]
    degraded, waiting = argocd_health([old, new])
    assert degraded["status"] == "Degraded"
    assert degraded["message"].startswith("AWSAccessDenied: ExporterReady: the exporter has no complete read")
    assert waiting == {"status": "Progressing", "message": "waiting for the operator to report the status"}


def test_argocd_cm_snippet_is_the_health_lua() -> None:
    data = yaml.safe_load(ARGOCD_CM.read_text())["data"]
    assert data == {"resource.customizations.health.sesmonitor.io_SesMonitor": HEALTH_LUA.read_text()}


def test_the_docs_name_the_key_argo_cd_reads() -> None:
    """install.md and the chart's README tell Argo CD users to paste this key: Argo CD reads no
    kstatus conditions without it."""
    (key,) = yaml.safe_load(ARGOCD_CM.read_text())["data"]
    for doc in (ROOT / "docs" / "install.md", ROOT / "deploy" / "helm" / "sesmonitor-operator" / "README.md"):
        text = doc.read_text()
        assert key in text, doc
        assert "deploy/gitops/argocd/argocd-cm-health.yaml" in text, doc


def test_health_lua_needs_no_string_library() -> None:
    """Argo CD runs argocd-cm's scripts without Lua's standard libraries unless useOpenLibs is set;
    the runner opens only what Argo CD opens, and this keeps the script from relying on more."""
    code = "\n".join(line.split("--")[0] for line in HEALTH_LUA.read_text().splitlines())
    assert "string." not in code
