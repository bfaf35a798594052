"""The Grafana dashboard shipped in the chart (deploy/helm/sesmonitor-operator/dashboards/sesmonitor.json).

It must load, every query must be valid PromQL (promtool checks it once Grafana's variables are filled
in), and every metric a query reads must be one `sesmonitor.metrics` defines: rename a series there and
this test names the panel that would go blank.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor import metrics
from sesmonitor.api import parse_percent
from sesmonitor.api.spec import BounceRateThresholds, ComplaintRateThresholds
from sesmonitor.contract import COUNTS_READ_SECONDS_DEFAULT

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"
DASHBOARD = CHART / "dashboards" / "sesmonitor.json"
TEMPLATE = CHART / "templates" / "dashboard-configmap.yaml"

# What Grafana substitutes before a query reaches Prometheus.
VARIABLES = {
    "sesmonitor": ".+",
    "window": "1h",
    "__rate_interval": "1m",
    "__interval": "1m",
    "datasource": "",
}
PROMQL_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:$])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(\s*\()?")


def load_dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expression) of every Prometheus query, templating queries included."""
    found = [
        (panel["title"], target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if variable["type"] == "query" and isinstance(query, dict):
            found.append((f"variable {variable['name']}", query["query"]))
    return found


def substitute(expr: str) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: VARIABLES[m.group(1)], expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (Grafana's label_values(metric, label) included)."""
    label_values = re.fullmatch(
        r"\s*label_values\(\s*([A-Za-z_:][\w:]*)\s*(?:\{[^}]*\})?\s*,\s*\w+\s*\)\s*", expr
    )
    if label_values:
        return {label_values.group(1)}
    text = _STRING.sub('""', substitute(expr))
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = _GROUPING.sub("", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name in PROMQL_KEYWORDS or name in ("group_left", "group_right"):
            continue
        names.add(name)
    return names


# --------------------------------------------------------------------------------------------------


def test_metric_name_parser() -> None:
    assert metric_names('max by (sesmonitor) (avg_over_time(a_b{x="y", z=~"$sesmonitor"}[$window]))') == {
        "a_b"
    }
    assert metric_names('sum by (api) (rate(c_total{o!="success"}[$__rate_interval])) / on (api) d > 0') == {
        "c_total",
        "d",
    }
    assert metric_names('time() - e{q="x"} or up == bool 1') == {"e", "up"}
    assert metric_names("label_values(f_g, sesmonitor)") == {"f_g"}
    assert metric_names('h{a="by (x) and or"} * 1e3 unless i offset 5m') == {"h", "i"}


def test_dashboard_loads_with_the_expected_shape() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel.get("description"), f"panel {panel['title']!r} needs a description"
            assert panel["targets"], panel["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert {"datasource", "sesmonitor", "window"} <= set(variables)
    assert variables["sesmonitor"]["includeAll"]
    assert variables["sesmonitor"]["multi"]


def test_every_query_reads_only_metrics_the_exporter_writes() -> None:
    known = {*metrics.all_metric_names(), *metrics.EVENT_METRIC_NAMES}  # the latter with spec.events
    problems = []
    read: set[str] = set()
    for title, expr in queries(load_dashboard()):
        names = metric_names(expr)
        assert names, f"{title}: no metric found in {expr!r}"
        read |= names
        problems += [f"{title}: {name}" for name in sorted(names - known)]
    assert problems == [], "metrics not in sesmonitor.metrics"
    # The panels the dashboard promises.
    promised = {
        metrics.BOUNCE_RATE.prometheus_name,
        metrics.COMPLAINT_RATE.prometheus_name,
        metrics.window_average_name(metrics.BOUNCE_RATE),
        metrics.window_average_name(metrics.COMPLAINT_RATE),
        metrics.counter_name(metrics.SEND),
        metrics.counter_name(metrics.DELIVERY),
        metrics.counter_name(metrics.BOUNCE),
        metrics.counter_name(metrics.COMPLAINT),
        metrics.ENFORCEMENT_STATUS,
        metrics.SENDING_ENABLED,
        metrics.QUOTA_SENT_LAST_24H,
        metrics.QUOTA_MAX_24H_SEND,
        metrics.UP,
        metrics.AWS_REQUESTS_TOTAL,
        metrics.CONSECUTIVE_FAILURES,
        metrics.STALE,
    }
    assert promised <= read, sorted(promised - read)


def test_volumes_come_from_the_count_counters_through_rate_or_increase() -> None:
    """The `_sum` gauges hold one minute's Sum for up to the lookback: a volume drawn from them is a
    frozen value (issue 11: 8). Counts are read from the counters, and only through rate()/increase()."""
    gauges = {m.prometheus_name for m in metrics.COUNT_METRICS}
    counters = {metrics.counter_name(m) for m in metrics.COUNT_METRICS}
    for title, expr in queries(load_dashboard()):
        assert not metric_names(expr) & gauges, f"{title}: reads a count gauge: {expr}"
        for name in metric_names(expr) & counters:
            wrapped = re.search(rf"\b(rate|increase)\(\s*{name}\b", expr)
            assert wrapped, f"{title}: {name} outside rate()/increase(): {expr}"
            # The counters step once a count read (every 5 minutes): a window spans two of them.
            windows = re.findall(rf"{name}\{{[^}}]*\}}\[(\d+)m\]", expr)
            assert windows, f"{title}: {name} without a window in minutes: {expr}"
            assert all(int(w) * 60 >= 2 * COUNTS_READ_SECONDS_DEFAULT for w in windows), expr


def test_every_monitor_query_follows_the_sesmonitor_variable() -> None:
    for title, expr in queries(load_dashboard()):
        names = metric_names(expr)
        if title.startswith("variable") or names == {metrics.UP}:
            continue  # `up` carries the target's labels, not the monitor's
        selectors = re.findall(r"[A-Za-z_:][\w:]*\{([^}]*)\}", expr)
        assert selectors, f"{title}: {expr}"
        for selector in selectors:
            assert 'sesmonitor=~"$sesmonitor"' in selector, f"{title}: {expr}"


def test_threshold_lines_are_the_api_defaults() -> None:
    by_title = {p["title"]: p for p in panels(load_dashboard())}
    levels = {
        "Bounce rate": BounceRateThresholds(),
        "Complaint rate": ComplaintRateThresholds(),
    }
    for title, pair in levels.items():
        steps = by_title[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        values = [s["value"] for s in steps if s["value"] is not None]
        assert values == pytest.approx(
            [parse_percent(pair.warning) / 100, parse_percent(pair.critical) / 100]
        )
        assert by_title[title]["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query (Grafana variables filled in) as a recording rule."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by scripts/setup.sh"
    rules = [
        {"record": f"dashboard:query_{index}", "expr": substitute(expr)}
        for index, (title, expr) in enumerate(queries(load_dashboard()))
        if not title.startswith("variable")
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_chart_template_ships_the_file_with_the_sidecar_label() -> None:
    text = TEMPLATE.read_text()
    assert '.Files.Get "dashboards/sesmonitor.json"' in text
    assert '"grafana_dashboard" "1"' in text
    assert "dashboard.enabled" in text


def test_the_ses_event_panels_show_the_breakdown() -> None:
    read = {name for _, expr in queries(load_dashboard()) for name in metric_names(expr)}
    assert {
        metrics.EVENTS_BOUNCES_TOTAL,
        metrics.EVENTS_SENDS_TOTAL,
        metrics.EVENTS_BOUNCES_BY_DOMAIN_TOTAL,
        metrics.EVENTS_COMPLAINTS_TOTAL,
        metrics.EVENTS_QUEUE_MESSAGES,
        metrics.EVENTS_OLDEST_RECEIVED_AGE_SECONDS,
    } <= read
