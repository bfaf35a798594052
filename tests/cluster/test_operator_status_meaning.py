"""What the status means, against the real API server (issue 11, items 1 and 10):

- (what the exporter's pod says when /status cannot be read is proven on the real node, with the real
  scheduler and kubelet: tests/cluster/test_user_path.py);
- the AWS error the exporter reports is the reason, in the conditions and in ``kubectl get sesmon``;
- Ready means the monitor works, not that the account is healthy (``kubectl wait`` does not hang on a
  bad bounce rate);
- an API server error that a retry fixes is ``Reconciling``, not ``Stalled``.
"""

from __future__ import annotations

import re
from typing import Any

from operator_helpers import (
    OperatorProcess,
    StandInExporters,
    condition,
    get_json,
    mark_rolled_out,
    sesmonitor,
)

from support.controlplane import Cluster

pytest_plugins = ["fixtures_operator"]

TIMEOUT = 20


def wait_reason(cluster: Cluster, namespace: str, kind: str, reason: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def reached() -> bool:
        nonlocal found
        found = get_json(cluster, "sesmonitor", "prod", "-n", namespace) or {}
        return condition(found, kind).get("reason") == reason

    cluster.wait_for(reached, timeout=TIMEOUT, what=f"{kind} reason {reason} on {namespace}/prod")
    return found


def get_columns(cluster: Cluster, namespace: str, *wide: str) -> dict[str, str]:
    """``kubectl get sesmon prod`` as {column: value}, cut at the header's positions (values may be
    empty, or hold spaces as MESSAGE does)."""
    header, row = cluster.kubectl("get", "sesmon", "prod", "-n", namespace, *wide).stdout.splitlines()[:2]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    ends = [*starts[1:], None]
    return {header[a:b].strip(): row[a:b].strip() for a, b in zip(starts, ends, strict=True)}


def test_the_aws_error_is_the_reason(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    doc = exporters.serve(namespace, "prod", ready=False, enforcement=None, sending=None)
    message = "AccessDeniedException: User: arn:aws:sts::1:assumed-role/x is not authorized to ses:GetAccount"
    doc.apis = {
        "GetAccount": {
            "last_success_time": None, "consecutive_failures": 2, "stale": True, "last_error": message,
            "last_error_time": "2026-01-01T00:01:00Z", "last_error_code": "AccessDeniedException",
            "last_error_kind": "denied",
        }
    }  # fmt: skip
    control_plane.apply(sesmonitor("prod", namespace))
    obj = wait_reason(control_plane, namespace, "ExporterReady", "AWSAccessDenied")
    assert condition(obj, "ExporterReady")["message"].endswith(f"GetAccount: {message}")
    columns = get_columns(control_plane, namespace)
    assert (columns["READY"], columns["REASON"]) == ("False", "AWSAccessDenied")


def test_ready_means_the_monitor_works_whatever_the_account_health(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod", bounce=0.1234, complaint=0.006, enforcement="PROBATION")
    control_plane.apply(sesmonitor("prod", namespace))
    # What GitOps tools and scripts wait for: it does not hang on the account's reputation.
    control_plane.kubectl(
        "wait", "--for=condition=Ready", "sesmonitor/prod", "-n", namespace, f"--timeout={TIMEOUT}s"
    )
    obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace)
    assert condition(obj, "BounceRateHealthy")["reason"] == "AboveCritical"
    assert condition(obj, "AccountHealthy")["reason"] == "UnderReview"
    assert condition(obj, "Ready")["reason"] == "Monitoring"
    columns = get_columns(control_plane, namespace)
    assert (columns["BOUNCE"], columns["ACCOUNT"], columns["READY"]) == ("12.34%", "PROBATION", "True")


def test_an_api_server_error_that_a_retry_fixes_is_reconciling_not_stalled(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    # A validating webhook that is down (failurePolicy Fail): the API server answers 500 to every write
    # of a Service in this namespace, until the webhook is gone.
    name = f"down-{namespace}"
    webhook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [{
            "name": "down.sesmonitor.test",
            "clientConfig": {"url": "https://127.0.0.1:1/validate"},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                       "resources": ["services"]}],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 2,
        }],
    }  # fmt: skip
    control_plane.apply([webhook])
    try:
        exporters.serve(namespace, "prod")
        control_plane.apply(sesmonitor("prod", namespace))
        obj = wait_reason(control_plane, namespace, "Reconciling", "APIUnavailable")
        assert condition(obj, "Reconciling")["status"] == "True"
        assert "Service sesmon-prod" in condition(obj, "Reconciling")["message"]
        assert condition(obj, "Stalled") == {}  # kstatus would read Stalled as failed
        assert condition(obj, "Ready")["status"] == "False"
    finally:
        control_plane.kubectl("delete", "validatingwebhookconfiguration", name, "--ignore-not-found")
    wait_reason(control_plane, namespace, "Ready", "Monitoring")
    # Until the exporter's Deployment is rolled out, Reconciling says so (RollingOut); then nothing is.
    mark_rolled_out(control_plane, namespace, "sesmon-prod")

    def settled() -> bool:
        obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace) or {}
        return condition(obj, "Reconciling") == {}

    control_plane.wait_for(settled, timeout=TIMEOUT, what="Reconciling gone once the exporter rolled out")
    obj = wait_reason(control_plane, namespace, "Ready", "Monitoring")
    assert condition(obj, "Stalled") == {}
