"""The chart's alerts on the operator itself, run by `promtool test rules`.

The rule file is the chart's own: `helm template` with metrics.prometheusRule.enabled, its
PrometheusRule's groups written out as prometheus-operator would. The input series are what a
prometheus-operator scrape of the operator's /metrics Service writes (target labels included).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor.operator.telemetry import ACTIVE, LAST_SUCCESSFUL_RECONCILE, RECONCILES_TOTAL
from support.tools import helm_path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"
RELEASE, NAMESPACE = "sesmonitor-operator", "sesmonitor-system"
JOB = f"{RELEASE}-metrics"
DOWN, STALE, ERRORS = "SESMonitorOperatorDown", "SESMonitorNotReconciled", "SESMonitorOperatorReconcileErrors"
# What a prometheus-operator scrape of one operator replica adds to every series it writes.
TARGET = {
    "namespace": NAMESPACE,
    "service": JOB,
    "endpoint": "metrics",
    "job": JOB,
    "container": "operator",
    "pod": f"{RELEASE}-7c9d6b5f4-abcde",
    "instance": "10.0.0.9:8081",
}
OTHER_POD = {"pod": f"{RELEASE}-7c9d6b5f4-fghij", "instance": "10.0.0.10:8081"}


@pytest.fixture(scope="module")
def chart_rules() -> list[dict[str, Any]]:
    proc = subprocess.run(
        [
            str(helm_path()), "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
            "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true",
            "--show-only", "templates/prometheusrule.yaml",
        ],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    groups: list[dict[str, Any]] = yaml.safe_load(proc.stdout)["spec"]["groups"]
    return groups


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    every = {**TARGET, **labels}
    return {
        "series": metric + "{" + ", ".join(f'{k}="{v}"' for k, v in every.items()) + "}",
        "values": values,
    }


def expand(template: str, labels: dict[str, str], value: str) -> str:
    """A rule annotation as Prometheus fills it in (the chart folds it into one line)."""
    text = " ".join(template.split())
    text = re.sub(r"\{\{ \$value \| \w+ \}\}", value, text)
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
    assert "{{" not in text, template
    return text


def alert(
    groups: list[dict[str, Any]], name: str, minute: int, *fired: tuple[dict[str, str], str]
) -> dict[str, Any]:
    """At ``minute``, exactly the alerts ``fired``: (their series' labels, the value as the description
    shows it)."""
    found = rule(groups, name)
    exp = []
    for labels, value in fired:
        every = {**labels, **found["labels"]}
        annotations = {k: expand(v, every, value) for k, v in found["annotations"].items()}
        exp.append({"exp_labels": every, "exp_annotations": annotations})
    return {"eval_time": f"{minute}m", "alertname": name, "exp_alerts": exp}


def run_promtool(
    promtool: str, tmp_path: Path, groups: list[dict[str, Any]], tests: list[dict[str, Any]]
) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    doc = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    for argv in ([promtool, "check", "rules", "rules.yaml"], [promtool, "test", "rules", "test.yaml"]):
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, f"{' '.join(argv[1:])} failed:\n{(proc.stdout + proc.stderr)[-20000:]}"


def scenario(input_series: list[dict[str, str]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": "1m", "input_series": input_series, "alert_rule_test": checks}


def rule(groups: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [r for g in groups for r in g["rules"] if r["alert"] == name]
    return found


def test_operator_down_fires_when_it_stops_being_scraped_or_active(
    promtool: str, tmp_path: Path, chart_rules: list[dict[str, Any]]
) -> None:
    def down(minute: int, firing: bool = True) -> dict[str, Any]:
        return alert(chart_rules, DOWN, minute, *([({}, "")] if firing else []))

    tests = [
        # Up and active for 30 minutes: quiet.
        scenario([series("up", "1x30"), series(ACTIVE, "1x30")], [down(10, False), down(30, False)]),
        # The pod stops at minute 10 (up 0, then its target goes): pending 5 minutes, then firing.
        scenario(
            [series("up", "1x9 0x5"), series(ACTIVE, "1x9")],
            [down(9, False), down(14, False), down(15), down(25)],
        ),
        # Never scraped at all (the ServiceMonitor not selected, the Deployment scaled to 0).
        scenario([series("up", "1x10", job="something-else")], [down(4, False), down(6)]),
        # Scraped but paused by peering, every replica: nobody reconciles.
        scenario(
            [
                series("up", "1x20"),
                series(ACTIVE, "1x4 0x16"),
                series("up", "1x20", **OTHER_POD),
                series(ACTIVE, "0x20", **OTHER_POD),
            ],
            [down(8, False), down(10)],
        ),
        # One of two replicas paused (the other active): quiet.
        scenario(
            [
                series("up", "1x20"),
                series(ACTIVE, "1x20"),
                series("up", "1x20", **OTHER_POD),
                series(ACTIVE, "0x20", **OTHER_POD),
            ],
            [down(20, False)],
        ),
    ]
    run_promtool(promtool, tmp_path, chart_rules, tests)
    # absent() of a comparison carries no labels: the rule's own say which operator.
    assert rule(chart_rules, DOWN)["labels"] == {"severity": "warning", "namespace": NAMESPACE, "job": JOB}


def test_a_monitor_not_reconciled_for_fifteen_minutes(
    promtool: str, tmp_path: Path, chart_rules: list[dict[str, Any]]
) -> None:
    """promtool's clock starts at 0: a stamp of 0 is a last success at minute 0. `mail/stuck` stops
    succeeding then, `mail/fine` succeeds every minute; after a failover the new replica's fresh
    stamp wins over the old replica's (which stops when it is paused)."""
    stuck = {"job": JOB, "namespace": NAMESPACE, "sesmonitor": "mail/stuck"}
    tests = [
        scenario(
            [
                series(LAST_SUCCESSFUL_RECONCILE, "0x30", sesmonitor="mail/stuck"),
                series(LAST_SUCCESSFUL_RECONCILE, "0+60x30", sesmonitor="mail/fine"),
            ],
            [
                alert(chart_rules, STALE, 15),  # 900 s: not more than 15 minutes yet
                alert(chart_rules, STALE, 17),  # pending for 2m from minute 16
                alert(chart_rules, STALE, 18, (stuck, "18m 0s")),
                alert(chart_rules, STALE, 30, (stuck, "30m 0s")),
            ],
        ),
        scenario(
            [
                series(LAST_SUCCESSFUL_RECONCILE, "0+60x10 600x20", sesmonitor="mail/prod"),
                series(LAST_SUCCESSFUL_RECONCILE, "_x10 660+60x20", sesmonitor="mail/prod", **OTHER_POD),
            ],
            [alert(chart_rules, STALE, 30)],
        ),
    ]
    run_promtool(promtool, tmp_path, chart_rules, tests)


def test_reconcile_errors_that_persist_fire_and_refused_specs_do_not(
    promtool: str, tmp_path: Path, chart_rules: list[dict[str, Any]]
) -> None:
    errors = {"job": JOB, "namespace": NAMESPACE, "reason": "Forbidden"}
    tests = [
        scenario(
            [
                series(RECONCILES_TOTAL, "0+6x40", result="error", reason="Forbidden"),
                series(RECONCILES_TOTAL, "0+12x40", result="refused", reason="InvalidSpec"),
                series(RECONCILES_TOTAL, "0+60x40", result="success", reason="Applied"),
            ],
            # increase() needs two samples: failing from minute 1, firing 15 minutes later.
            [
                alert(chart_rules, ERRORS, 15),
                alert(chart_rules, ERRORS, 17, (errors, "30")),
                alert(chart_rules, ERRORS, 40, (errors, "30")),
            ],
        ),
        # A burst of errors that stops (a restart of the API server): no alert.
        scenario(
            [series(RECONCILES_TOTAL, "0+6x5 30x35", result="error", reason="APIUnavailable")],
            [alert(chart_rules, ERRORS, 20), alert(chart_rules, ERRORS, 40)],
        ),
    ]
    run_promtool(promtool, tmp_path, chart_rules, tests)
