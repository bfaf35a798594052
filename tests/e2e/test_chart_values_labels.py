"""The chart's `serviceMonitor.labels` / `prometheusRule.labels`, end to end: docs/install.md's `--set`
line for kube-prometheus-stack, applied to the e2e stack's release (README's `helm install`), gets the
e2e-unlabelled monitor (whose spec sets no label) scraped by the label-selecting Prometheus and its
rules loaded, without a change to the SesMonitor. The release's values are then restored and the
story is back as conftest staged it: no label, no target, no scrapes, no rules. (Its last `up` sample
stays visible for Prometheus's 5-minute lookback: test_alert_path.py, which reads it, runs first.)
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable

from e2e_helpers import E2E, ROOT, UNLABELLED, key

from sesmonitor.render import child_names
from support.controlplane import Cluster
from support.tools import helm_path
from support.user_stack import OPERATOR_NAMESPACE, OPERATOR_RELEASE, RELEASE
from support.waiting import NotYet, wait_for

CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"


def install_md_set_line() -> list[str]:
    """install.md's `--set serviceMonitor.labels.release=... --set prometheusRule.labels.release=...`."""
    text = " ".join((ROOT / "docs" / "install.md").read_text().split())
    found = re.search(
        r"\(`(--set serviceMonitor\.labels\.release=\S+ --set prometheusRule\.labels\.release=\S+)`", text
    )
    assert found, "docs/install.md has no `--set serviceMonitor.labels.release=...` line"
    return shlex.split(found[1])


def helm(cluster: Cluster, *args: str) -> str:
    proc = cluster.run_with_kubeconfig([str(helm_path()), *args, "-n", OPERATOR_NAMESPACE], cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def upgrade(cluster: Cluster, *args: str) -> None:
    helm(cluster, "upgrade", OPERATOR_RELEASE, str(CHART), *args)
    cluster.kubectl(
        "-n", OPERATOR_NAMESPACE, "rollout", "status", f"deployment/{OPERATOR_RELEASE}", "--timeout=180s",
        timeout=200,
    )  # fmt: skip


def child_labels(cluster: Cluster) -> dict[str, dict[str, str]]:
    names = child_names(UNLABELLED[1])
    found: dict[str, dict[str, str]] = {}
    for kind, name in (
        ("servicemonitors", names.service_monitor),
        ("prometheusrules", names.prometheus_rule),
    ):
        doc = cluster.kubectl_json("-n", UNLABELLED[0], "get", f"{kind}.monitoring.coreos.com", name)
        found[kind] = doc["metadata"].get("labels", {})
    return found


def test_the_chart_values_release_label_gets_an_unlabelled_monitor_scraped(e2e: E2E) -> None:
    stack = e2e.stack
    cluster = stack.require_cluster()
    prometheus = stack.prometheus
    group = f"sesmonitor/{key(UNLABELLED)}"
    monitor = stack.sesmonitor(UNLABELLED)
    assert "serviceMonitorLabels" not in monitor["spec"]["prometheus"]
    assert "ruleLabels" not in monitor["spec"]["prometheus"]

    def selected(want: bool) -> Callable[[], bool | NotYet]:
        """The monitor's children labelled and Prometheus scraping it and holding its rules (want), or
        none of these (not want); else why not yet."""

        def probe() -> bool | NotYet:
            state = {
                "labelled": sorted(
                    kind for kind, labels in child_labels(cluster).items() if labels.get("release") == RELEASE
                ),
                "up": [s["value"][1] for s in prometheus.query(f'up{{namespace="{UNLABELLED[0]}"}}')],
                # Scrapes in the last 20s (4 intervals): a dropped job's last `up` stays visible for
                # Prometheus's 5-minute lookback, without staleness markers.
                "scrapes": prometheus.query(f'count_over_time(up{{namespace="{UNLABELLED[0]}"}}[20s])'),
                "targets": [
                    t["scrapePool"]
                    for t in prometheus.targets()
                    if t["labels"].get("namespace") == UNLABELLED[0]
                ],
                "rules": group in {g["name"] for g in prometheus.rules()},
            }
            if want:
                done = len(state["labelled"]) == 2 and state["up"] == ["1"] and state["rules"]
            else:
                done = not (state["labelled"] or state["scrapes"] or state["targets"] or state["rules"])
            return True if done else NotYet(repr(state))

        return probe

    assert selected(False)() is True, f"e2e-unlabelled is selected already: {selected(False)()}"
    before = json.loads(helm(cluster, "get", "values", OPERATOR_RELEASE, "-o", "json"))
    set_line = install_md_set_line()
    labels = (f"serviceMonitor.labels.release={RELEASE}", f"prometheusRule.labels.release={RELEASE}")
    assert set_line == ["--set", labels[0], "--set", labels[1]]
    upgrade(cluster, "--reuse-values", *set_line)
    try:
        wait_for(
            selected(True), 240, "e2e-unlabelled scraped and its rules loaded through the chart's labels"
        )
        # Nothing was written to the SesMonitor: the labels came from the chart's values alone.
        after = stack.sesmonitor(UNLABELLED)
        assert after["metadata"]["generation"] == monitor["metadata"]["generation"]
        assert after["spec"] == monitor["spec"]
    finally:
        values = stack.workdir / "operator-values.json"
        values.write_text(json.dumps(before))
        upgrade(cluster, "--reset-values", "-f", str(values))
    assert json.loads(helm(cluster, "get", "values", OPERATOR_RELEASE, "-o", "json")) == before
    # The operator takes the label off again (server-side apply drops what it no longer sets), and
    # Prometheus lets go of the target and the rules: the e2e-unlabelled story holds again.
    try:
        wait_for(selected(False), 240, "e2e-unlabelled unselected again once the chart values are gone")
    except AssertionError:
        names = child_names(UNLABELLED[1])
        print(cluster.kubectl(
            "-n", UNLABELLED[0], "get", "servicemonitors.monitoring.coreos.com", names.service_monitor,
            "-o", "yaml", "--show-managed-fields", check=False,
        ).stdout)  # fmt: skip
        print(cluster.kubectl(
            "-n", OPERATOR_NAMESPACE, "logs", f"deployment/{OPERATOR_RELEASE}", "--tail=60", check=False
        ).stdout)  # fmt: skip
        raise
