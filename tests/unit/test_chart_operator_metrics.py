"""The chart's side of the operator's own metrics (``helm template``): the Service, the opt-in
ServiceMonitor and PrometheusRule, their alerts' runbooks, and that turning them on asks for no new
rights and keeps the pod as locked down as before."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_alert_runbooks import sections
from test_chart_conventions import helm_template, pod_spec, rendered, selects

from sesmonitor.api.alerts import runbook_anchor
from sesmonitor.operator.settings import parse_endpoint
from sesmonitor.operator.telemetry import ACTIVE, LAST_SUCCESSFUL_RECONCILE, RECONCILES_TOTAL
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL

ON = (
    "--set", "metrics.serviceMonitor.enabled=true",
    "--set", "metrics.serviceMonitor.labels.release=kps",
    "--set", "metrics.prometheusRule.enabled=true",
    "--set", "metrics.prometheusRule.labels.release=kps",
)  # fmt: skip
ALERTS = ("SESMonitorOperatorDown", "SESMonitorNotReconciled", "SESMonitorOperatorReconcileErrors")
JOB = 'job="r-sesmonitor-operator-metrics", namespace="ops"'


def container(objects: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    (ctr,) = pod_spec(objects)["containers"]
    return dict(ctr)


def rules(*args: str) -> list[dict[str, Any]]:
    (rule_object,) = rendered(*ON, *args)["PrometheusRule"]
    (group,) = rule_object["spec"]["groups"]
    found: list[dict[str, Any]] = group["rules"]
    return found


def test_by_default_metrics_are_served_behind_a_service_and_nothing_needs_prometheus_operator() -> None:
    objects = rendered()
    assert "ServiceMonitor" not in objects
    assert "PrometheusRule" not in objects
    ctr = container(objects)
    (metrics_arg,) = [a for a in ctr["args"] if a.startswith("--metrics=")]
    assert parse_endpoint(metrics_arg.removeprefix("--metrics=")).port == 8081
    assert {"name": "metrics", "containerPort": 8081, "protocol": "TCP"} in ctr["ports"]
    (service,) = objects["Service"]
    assert service["metadata"]["name"] == "r-sesmonitor-operator-metrics"
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 8081, "targetPort": "metrics", "protocol": "TCP"}
    ]
    pod_labels = objects["Deployment"][0]["spec"]["template"]["metadata"]["labels"]
    assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels)


def test_metrics_off_serves_nothing_and_the_monitor_and_rule_refuse_without_them() -> None:
    objects = rendered("--set", "metrics.enabled=false")
    assert "Service" not in objects
    ctr = container(objects)
    assert not [a for a in ctr["args"] if a.startswith("--metrics")]
    assert [p["name"] for p in ctr["ports"]] == ["liveness"]
    for kind in ("serviceMonitor", "prometheusRule"):
        proc = helm_template(
            "--set", "metrics.enabled=false", "--set", f"metrics.{kind}.enabled=true", check=False
        )
        assert proc.returncode != 0
        assert f"metrics.{kind}.enabled needs metrics.enabled" in proc.stderr
    proc = helm_template("--set", "metrics.port=8080", check=False)
    assert "metrics.port and liveness.port are both 8080" in proc.stderr


def test_the_service_monitor_selects_the_metrics_service_in_the_release_namespace() -> None:
    objects = rendered(*ON, "--set", "metrics.serviceMonitor.interval=5s")
    (monitor,) = objects["ServiceMonitor"]
    (service,) = objects["Service"]
    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ops"]}
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "5s"}]
    # Only the operator's own Service: nothing else of the release carries its selector's labels.
    assert [s["metadata"]["name"] for s in objects["Service"]] == ["r-sesmonitor-operator-metrics"]


def test_turning_it_all_on_asks_for_no_new_rights_and_keeps_the_pod_locked_down() -> None:
    rbac_kinds = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount")
    for extra in ((), ("--set", "peering.enabled=true", "--set", "replicaCount=2")):
        off, on = rendered("--set", "metrics.enabled=false", *extra), rendered(*ON, *extra)
        assert [on.get(kind) for kind in rbac_kinds] == [off.get(kind) for kind in rbac_kinds]
    ctr, pod = container(rendered(*ON)), pod_spec(rendered(*ON))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert ctr["securityContext"]["readOnlyRootFilesystem"] is True
    assert ctr["securityContext"]["allowPrivilegeEscalation"] is False
    assert ctr["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_the_rule_selects_the_scrape_job_prometheus_operator_names_after_the_service() -> None:
    found = rules("--set", "metrics.prometheusRule.for.operatorDown=10s")
    assert [r["alert"] for r in found] == list(ALERTS)
    down, stale, errors = found
    assert down["expr"] == f"absent(up{{{JOB}}} == 1) or absent({ACTIVE}{{{JOB}}} == 1)"
    assert down["for"] == "10s"
    assert f"{LAST_SUCCESSFUL_RECONCILE}{{{JOB}}}" in stale["expr"]
    assert stale["expr"].endswith("> 900")
    assert f'{RECONCILES_TOTAL}{{{JOB}, result="error"}}' in errors["expr"]
    assert rules("--set", "metrics.prometheusRule.notReconciledMinutes=30")[1]["expr"].endswith("> 1800")


def test_every_operator_alert_links_its_section_which_says_what_to_do() -> None:
    found = sections()
    for rule in rules("--set", "metrics.prometheusRule.alertLabels.team=platform"):
        assert {k: v for k, v in rule["labels"].items() if k not in {"job", "namespace"}} == {
            "severity": "warning",
            "team": "platform",
        }
        url = rule["annotations"]["runbook_url"]
        assert url == f"{DEFAULT_RUNBOOK_BASE_URL}#{runbook_anchor(rule['alert'])}"
        anchor = runbook_anchor(rule["alert"])
        assert anchor in found, f"{rule['alert']}: docs/alerts.md has no section #{anchor}"
        section = " ".join(found[anchor].split())
        assert "What to do" in section
        assert section.split(".")[0].lower().startswith("warning")
        # Static summary, values in the description.
        assert "{{" not in rule["annotations"]["summary"]
        assert not re.search(r"\b(ops|r-sesmonitor)", rule["annotations"]["summary"])
    wiki = rules("--set", "alerting.runbookBaseURL=https://wiki.example/ses")
    assert {r["annotations"]["runbook_url"] for r in wiki} == {
        f"https://wiki.example/ses#{runbook_anchor(name)}" for name in ALERTS
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "metrics.prometheusRule.for.operatorDown=five"], "operatorDown"),
        (["--set", "metrics.prometheusRule.notReconciledMinutes=0"], "notReconciledMinutes"),
        (["--set", "metrics.serviceMonitor.interval=30"], "interval"),
        (["--set", "metrics.prometheusRule.alertLabels.bad-label=x"], "bad-label"),
    ],
)
def test_bad_values_are_refused_with_their_path(args: list[str], message: str) -> None:
    proc = helm_template(*args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
