"""The rendered alert rules, run by `promtool test rules` against the situations they exist for.

Each test renders the rule group of a SesMonitor into a temporary directory, writes a promtool unit-test
file (input series as the exporter and a prometheus-operator scrape would produce them), and asserts that
both `promtool check rules` and `promtool test rules` pass. An `alert_rule_test` lists *exactly* the
alerts of one name that are firing at one time, so a list of them every minute proves "never resolved".
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from sesmonitor import metrics
from sesmonitor.api import SesMonitor
from sesmonitor.render import child_names
from sesmonitor.render.rules import (
    ACCOUNT_ALERTS,
    ACCOUNT_UNDER_REVIEW,
    AWS_READ_ERRORS,
    BOUNCE_RATE_HIGH,
    BOUNCE_RATE_RISING,
    COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_ALERTS,
    CONFIGURATION_SET_BOUNCE_RATE_HIGH,
    CONFIGURATION_SET_COMPLAINT_RATE_HIGH,
    EXPORTER_DOWN,
    NO_REPUTATION_DATA,
    SEND_QUOTA_NEARLY_USED,
    SENDING_PAUSED,
    rule_groups,
)
from support.monitors import load_monitor

ROOT = Path(__file__).resolve().parents[2]
NAME, NAMESPACE, REGION = "example", "mail", "us-east-1"
KEY = f"{NAMESPACE}/{NAME}"
SERVICE = child_names(NAME).service
RUNBOOK = "https://runbooks.example.com/ses-reputation"
BASE_SPEC: dict[str, Any] = {
    "region": REGION,
    "alerting": {"labels": {"team": "mail"}, "annotations": {"runbook_url": RUNBOOK}},
}
# What a prometheus-operator scrape of the exporter adds to every series it writes.
TARGET = {
    "namespace": NAMESPACE,
    "service": SERVICE,
    "endpoint": "metrics",
    "job": SERVICE,
    "container": "exporter",
    "pod": f"{SERVICE}-5f7d8c9b4-x2x9z",
    "instance": "10.0.0.7:9435",
}
ACCOUNT = {metrics.LABEL_MONITOR: KEY, metrics.LABEL_REGION: REGION}  # the account-wide series' own labels
BOUNCE = metrics.BOUNCE_RATE.prometheus_name
COMPLAINT = metrics.COMPLAINT_RATE.prometheus_name
# The seed's rule, kept as a control: it selects the raw series, so it follows every sending burst.
NAIVE = "NaiveBounceRate"
NAIVE_GROUP = {
    "name": "control",
    "rules": [
        {"alert": NAIVE, "expr": f"{BOUNCE} * 100 > 5", "for": "1s", "labels": {"severity": "warning"}},
    ],
}


# -- building the test files --------------------------------------------------------------------------


def monitor(spec: dict[str, Any] | None = None) -> SesMonitor:
    return load_monitor({**BASE_SPEC, **(spec or {})}, name=NAME, namespace=NAMESPACE)


def rules_for(mon: SesMonitor, annotations: bool = True) -> list[dict[str, Any]]:
    """The rendered rules; without annotations where `$value` is a moving average nobody can predict."""
    (group,) = rule_groups(mon)
    rules: list[dict[str, Any]] = group["rules"]
    if not annotations:
        rules = [{k: v for k, v in rule.items() if k != "annotations"} for rule in rules]
    return rules


Value = float | None


def values(points: Iterable[Value]) -> str:
    return " ".join("_" if v is None else repr(round(v, 10)) for v in points)


def series(metric: str, points: Iterable[Value], /, **labels: str) -> dict[str, str]:
    every = {**TARGET, **labels}
    text = ", ".join(f'{k}="{v}"' for k, v in every.items())
    return {"series": f"{metric}{{{text}}}", "values": values(points)}


def constant(value: float, minutes: int) -> list[Value]:
    return [value] * (minutes + 1)


def bursts(value: float, minutes: int, period: int = 20, burst: int = 5) -> list[Value]:
    """The seed's series: datapoints only while mail is sent, `burst` minutes in every `period`."""
    return [value if i % period < burst else None for i in range(minutes + 1)]


def healthy_exporter(minutes: int) -> list[dict[str, str]]:
    """The exporter's own series for a healthy account: up, no failures, HEALTHY, quota unused."""
    return [
        series(metrics.UP, constant(1, minutes)),
        series(metrics.ENFORCEMENT_STATUS, constant(1, minutes), **ACCOUNT, status="HEALTHY"),
        series(metrics.ENFORCEMENT_STATUS, constant(0, minutes), **ACCOUNT, status="PROBATION"),
        series(metrics.ENFORCEMENT_STATUS, constant(0, minutes), **ACCOUNT, status="SHUTDOWN"),
        series(metrics.SENDING_ENABLED, constant(1, minutes), **ACCOUNT),
        series(metrics.QUOTA_MAX_24H_SEND, constant(50000, minutes), **ACCOUNT),
        series(metrics.QUOTA_SENT_LAST_24H, [1000 + 10 * i for i in range(minutes + 1)], **ACCOUNT),
        series(metrics.CONSECUTIVE_FAILURES, constant(0, minutes), **ACCOUNT, api="GetMetricData"),
        series(metrics.CONSECUTIVE_FAILURES, constant(0, minutes), **ACCOUNT, api="GetAccount"),
        series(metrics.STALE, constant(0, minutes), **ACCOUNT, api="GetMetricData"),
        series(metrics.STALE, constant(0, minutes), **ACCOUNT, api="GetAccount"),
    ]


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"  # Go: fmt.Sprintf("%.4g%%", v*100)


def expand(template: str, labels: dict[str, str], value: float | None) -> str:
    """Go's template as the rules use it: label references, `{{ if $labels.x }}A{{ end }}` and
    `{{ if eq $labels.x "v" }}A{{ else }}B{{ end }}`, and `$value`."""
    text = re.sub(
        r'\{\{ if eq \$labels\.(\w+) "([^"]*)" \}\}(.*?)\{\{ else \}\}(.*?)\{\{ end \}\}',
        lambda m: m.group(3) if labels.get(m.group(1), "") == m.group(2) else m.group(4),
        template,
        flags=re.DOTALL,
    )
    text = re.sub(
        r"\{\{ if \$labels\.(\w+) \}\}(.*?)\{\{ end \}\}",
        lambda m: m.group(2) if labels.get(m.group(1)) else "",
        text,
        flags=re.DOTALL,
    )
    if value is not None:
        text = text.replace("{{ $value | humanizePercentage }}", humanize_percentage(value))
        text = text.replace("{{ $value }}", f"{value:g}")  # Go's %v of a float64: 50, 0.25
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), text)
    assert "{{" not in text, f"the test cannot expand {template!r}"
    return text


def expected(
    rules: Sequence[dict[str, Any]],
    alert: str,
    labels: dict[str, str],
    severity: str | None = None,
    value: float | None = None,
    *,
    expr_has: str | None = None,
) -> dict[str, Any]:
    """One expected alert: the series labels plus the rule's own, and its annotations filled in."""
    candidates = [r for r in rules if r["alert"] == alert]
    if severity is not None:
        candidates = [r for r in candidates if r["labels"]["severity"] == severity]
    if expr_has is not None:
        candidates = [r for r in candidates if expr_has in r["expr"]]
    (rule,) = candidates
    all_labels = {**labels, **rule["labels"]}
    exp: dict[str, Any] = {"exp_labels": all_labels}
    if "annotations" in rule:
        exp["exp_annotations"] = {k: expand(v, all_labels, value) for k, v in rule["annotations"].items()}
    return exp


def check(minute: int, alert: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": alerts}


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, width=1 << 16)


def run_promtool(
    promtool: str,
    tmp_path: Path,
    rules: list[dict[str, Any]],
    tests: list[dict[str, Any]],
    control: bool = False,
) -> None:
    """Write rules + tests, then `promtool check rules` and `promtool test rules`; both must pass."""
    groups = [{"name": f"sesmonitor/{KEY}", "rules": rules}]
    (tmp_path / "rules.yaml").write_text(dump({"groups": groups}))
    rule_files = ["rules.yaml"]
    if control:
        (tmp_path / "control.yaml").write_text(dump({"groups": [NAIVE_GROUP]}))
        rule_files.append("control.yaml")
    doc = {"rule_files": rule_files, "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "test.yaml").write_text(dump(doc))
    for argv in ([promtool, "check", "rules", *rule_files], [promtool, "test", "rules", "test.yaml"]):
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
        output = (proc.stdout + proc.stderr)[-20000:]
        assert proc.returncode == 0, f"{' '.join(argv[1:])} failed:\n{output}"


def scenario(input_series: list[dict[str, str]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": "1m", "input_series": input_series, "alert_rule_test": checks}


# -- (1) the seed: a 14.32% bounce rate reported 5 minutes in every 20 -----------------------------------


@pytest.mark.parametrize("keep_firing_for", ["15m", "0s"])
def test_bursty_series_fires_continuously_while_the_naive_rule_flaps(
    promtool: str, tmp_path: Path, keep_firing_for: str
) -> None:
    """On CloudWatch's raw series (5 minutes of datapoints in every 20), the warning fires from `for` on
    and never resolves for 3h, with or without keepFiringFor: its window average alone bridges the gaps.
    Critical judges a 10-minute average of the exporter's gap-free series; on the raw series it stays
    firing thanks to the default keepFiringFor, so without one the test sets it out of reach. The seed's
    rule, on the same series, resolves in every gap."""
    alerting = {**BASE_SPEC["alerting"], "keepFiringFor": keep_firing_for}
    spec: dict[str, Any] = {"alerting": alerting}
    if keep_firing_for == "0s":
        spec["thresholds"] = {"bounceRate": {"warning": "5%", "critical": "100%"}}
    rules = rules_for(monitor(spec))
    minutes = 200
    raw = series(BOUNCE, bursts(0.1432, minutes), **ACCOUNT)
    firing = [expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "warning", 0.1432)]
    if keep_firing_for != "0s":
        firing.append(expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "critical", 0.1432))
    checks = [check(t, BOUNCE_RATE_HIGH, []) for t in range(5)]  # pending for `for` (5m)
    checks += [check(t, BOUNCE_RATE_HIGH, firing) for t in range(5, 181)]  # every minute: zero resolves
    naive = [{"exp_labels": {**TARGET, **ACCOUNT, "severity": "warning"}}]
    for burst_start in range(0, 181, 20):
        checks.append(check(burst_start + 2, NAIVE, naive))  # fires during each burst...
        checks.append(check(burst_start + 15, NAIVE, []))  # ...and has resolved in each gap
    run_promtool(promtool, tmp_path, rules, [scenario([raw], checks)], control=True)


def test_exporter_restart_neither_resolves_nor_duplicates(promtool: str, tmp_path: Path) -> None:
    """Recreate gives the new exporter pod new target labels; the alert's identity is the monitor."""
    rules = rules_for(monitor())
    first = series(BOUNCE, [0.1432 if i <= 60 else None for i in range(181)], **ACCOUNT)
    second = series(BOUNCE, [0.1432 if i >= 62 else None for i in range(181)], **ACCOUNT)
    second["series"] = (
        second["series"]
        .replace(TARGET["pod"], f"{SERVICE}-5f7d8c9b4-abcde")
        .replace(TARGET["instance"], "10.0.0.8:9435")
    )
    firing = [
        expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "warning", 0.1432),
        expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "critical", 0.1432),
    ]
    checks = [check(t, BOUNCE_RATE_HIGH, firing) for t in range(5, 181)]
    run_promtool(promtool, tmp_path, rules, [scenario([first, second], checks)])


# -- (2) a healthy account never fires ------------------------------------------------------------------


def test_healthy_account_never_fires(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor({"configurationSets": ["marketing"]}))
    minutes = 8 * 60

    def wiggle(base: float, amplitude: float) -> list[Value]:
        return [base + amplitude * math.sin(i / 17) for i in range(minutes + 1)]

    marketing = {**ACCOUNT, "configuration_set": "marketing"}
    input_series = [
        series(BOUNCE, wiggle(0.005, 0.001), **ACCOUNT),
        series(COMPLAINT, wiggle(0.0002, 0.00005), **ACCOUNT),
        series(BOUNCE, wiggle(0.004, 0.001), **marketing),
        series(COMPLAINT, wiggle(0.0001, 0.00005), **marketing),
        *healthy_exporter(minutes),
    ]
    alerts = (*ACCOUNT_ALERTS, *CONFIGURATION_SET_ALERTS, NAIVE)
    checks = [check(t, alert, []) for t in range(0, minutes + 1, 10) for alert in alerts]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)], control=True)


# -- (3) recovery ---------------------------------------------------------------------------------------


def test_drop_back_to_one_percent_resolves_within_window_for_and_keep_firing_for(
    promtool: str, tmp_path: Path
) -> None:
    rules = rules_for(monitor(), annotations=False)
    drop, minutes = 120, 320
    bound = drop + 60 + 5 + 15  # window + for + keepFiringFor
    points: list[Value] = [0.1432 if i < drop else 0.01 for i in range(minutes + 1)]
    warning = expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "warning")
    critical = expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "critical")
    checks = [check(t, BOUNCE_RATE_HIGH, [warning, critical]) for t in range(5, drop + 15, 5)]
    # Critical's 10-minute average passes 10% about 4 minutes after the drop, the warning's 1h average
    # passes 5% about 43 minutes after it; each alert then keeps firing for keepFiringFor (15m).
    checks.append(check(drop + 2, BOUNCE_RATE_HIGH, [warning, critical]))
    checks += [check(t, BOUNCE_RATE_HIGH, [warning]) for t in range(drop + 20, drop + 50, 5)]
    checks += [check(t, BOUNCE_RATE_HIGH, []) for t in range(bound, minutes + 1, 5)]
    checks += [check(t, BOUNCE_RATE_RISING, []) for t in range(0, minutes + 1, 10)]  # falling is no trend
    run_promtool(promtool, tmp_path, rules, [scenario([series(BOUNCE, points, **ACCOUNT)], checks)])


# -- (4) complaint thresholds at their own scale ----------------------------------------------------------


def test_complaint_thresholds_at_their_own_scale(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    minutes = 120

    def case(complaint: float, expect: list[dict[str, Any]]) -> dict[str, Any]:
        input_series = [
            # 0.2% would be a fine bounce rate: the same number, judged at the complaint scale, is not.
            series(BOUNCE, constant(complaint, minutes), **ACCOUNT),
            series(COMPLAINT, constant(complaint, minutes), **ACCOUNT),
        ]
        checks = [check(t, COMPLAINT_RATE_HIGH, expect) for t in range(10, minutes + 1, 10)]
        checks += [check(t, BOUNCE_RATE_HIGH, []) for t in range(10, minutes + 1, 10)]
        return scenario(input_series, checks)

    below = case(0.0009, [])
    warning = case(0.002, [expected(rules, COMPLAINT_RATE_HIGH, ACCOUNT, "warning", 0.002)])
    critical = case(
        0.006,
        [
            expected(rules, COMPLAINT_RATE_HIGH, ACCOUNT, "warning", 0.006),
            expected(rules, COMPLAINT_RATE_HIGH, ACCOUNT, "critical", 0.006),
        ],
    )
    run_promtool(promtool, tmp_path, rules, [below, warning, critical])


def test_a_rate_that_reaches_a_threshold_fires_as_aws_acts(promtool: str, tmp_path: Path) -> None:
    """AWS reviews an account whose bounce rate *reaches* 5% and may pause it at 10% (0.1% / 0.5% for
    complaints): a rate exactly at a level fires that level, as the status (>=) says it does."""
    rules = rules_for(monitor())
    minutes = 120

    def case(bounce: float, complaint: float, levels: Sequence[str], complaint_levels: Sequence[str]) -> Any:
        input_series = [
            series(BOUNCE, constant(bounce, minutes), **ACCOUNT),
            series(COMPLAINT, constant(complaint, minutes), **ACCOUNT),
        ]
        bounce_alerts = [expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, level, bounce) for level in levels]
        complaint_alerts = [
            expected(rules, COMPLAINT_RATE_HIGH, ACCOUNT, level, complaint) for level in complaint_levels
        ]
        checks = [check(t, BOUNCE_RATE_HIGH, bounce_alerts) for t in range(10, minutes + 1, 10)]
        checks += [check(t, COMPLAINT_RATE_HIGH, complaint_alerts) for t in range(10, minutes + 1, 10)]
        return scenario(input_series, checks)

    run_promtool(
        promtool,
        tmp_path,
        rules,
        [
            case(0.05, 0.001, ["warning"], ["warning"]),
            case(0.10, 0.005, ["warning", "critical"], ["warning", "critical"]),
            case(0.0499, 0.00099, [], []),
        ],
    )


def test_custom_thresholds_and_severities(promtool: str, tmp_path: Path) -> None:
    spec = {
        "thresholds": {"bounceRate": {"warning": "2%", "critical": "4%"}},
        "alerting": {**BASE_SPEC["alerting"], "severities": {"warning": "P3", "critical": "P1"}},
    }
    rules = rules_for(monitor(spec))
    checks = [
        check(30, BOUNCE_RATE_HIGH, [expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "P3", 0.03)]),
    ]
    run_promtool(
        promtool, tmp_path, rules, [scenario([series(BOUNCE, constant(0.03, 60), **ACCOUNT)], checks)]
    )


# -- (5) quota, enforcement, and a monitor that cannot see ----------------------------------------------


def test_send_quota(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    minutes = 60

    def case(sent: float, limit: float, expect: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
        input_series = [
            series(metrics.QUOTA_SENT_LAST_24H, constant(sent, minutes), **ACCOUNT),
            series(metrics.QUOTA_MAX_24H_SEND, constant(limit, minutes), **ACCOUNT),
        ]
        checks = [check(0, SEND_QUOTA_NEARLY_USED, [])]
        checks += [check(t, SEND_QUOTA_NEARLY_USED, expect()) for t in (5, 30, 60)]
        return scenario(input_series, checks)

    nearly = case(45000, 50000, lambda: [expected(rules, SEND_QUOTA_NEARLY_USED, ACCOUNT, value=0.9)])
    fine = case(30000, 50000, list)
    unlimited = case(10**6, -1, list)  # Max24HourSend -1: no quota at all
    unknown = case(100, 0, list)  # no quota reported (yet): not an infinite share of it
    run_promtool(promtool, tmp_path, rules, [nearly, fine, unlimited, unknown])


def test_enforcement_status(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    minutes = 30

    def case(status: str, sending: int, review: bool, paused: bool) -> dict[str, Any]:
        input_series = [
            series(metrics.ENFORCEMENT_STATUS, constant(int(s == status), minutes), **ACCOUNT, status=s)
            for s in metrics.ENFORCEMENT_STATUSES
        ]
        input_series.append(series(metrics.SENDING_ENABLED, constant(sending, minutes), **ACCOUNT))
        under_review = [expected(rules, ACCOUNT_UNDER_REVIEW, ACCOUNT)] if review else []
        sending_paused = [expected(rules, SENDING_PAUSED, ACCOUNT)] if paused else []
        checks = [check(3, ACCOUNT_UNDER_REVIEW, []), check(3, SENDING_PAUSED, [])]  # pending
        for t in (5, 10, 30):
            checks += [check(t, ACCOUNT_UNDER_REVIEW, under_review), check(t, SENDING_PAUSED, sending_paused)]
        return scenario(input_series, checks)

    run_promtool(
        promtool,
        tmp_path,
        rules,
        [
            case("HEALTHY", 1, review=False, paused=False),
            case("PROBATION", 1, review=True, paused=False),
            case("SHUTDOWN", 1, review=False, paused=True),
            case("HEALTHY", 0, review=False, paused=True),
            case("SHUTDOWN", 0, review=False, paused=True),  # one alert, not two
        ],
    )


def test_no_reputation_data(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor({"configurationSets": ["marketing"]}))
    minutes = 30
    up = series(metrics.UP, constant(1, minutes))
    bounce_ok = series(BOUNCE, constant(0.01, minutes), **ACCOUNT)
    complaint_ok = series(COMPLAINT, constant(0.0001, minutes), **ACCOUNT)

    def no_data(metric: metrics.CloudWatchMetric, **labels: str) -> dict[str, str]:
        return series(
            metrics.NO_DATA,
            constant(1, minutes),
            **ACCOUNT,
            metric=metric.aws_name,
            reason="no_datapoints_in_lookback",
            **labels,
        )

    def at(*alerts: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            check(3, NO_REPUTATION_DATA, []),
            *(check(t, NO_REPUTATION_DATA, list(alerts)) for t in (5, 30)),
        ]

    reason = {"reason": metrics.NO_DATA_NO_DATAPOINTS}
    bounce_labels = {**ACCOUNT, "metric": metrics.BOUNCE_RATE.aws_name, **reason}
    # Mail was sent, yet the exporter has no bounce datapoint in its lookback and cannot tell why: one
    # alert (not a second from absent()).
    flagged = scenario(
        [up, complaint_ok, no_data(metrics.BOUNCE_RATE)],
        at(expected(rules, NO_REPUTATION_DATA, bounce_labels, expr_has="absent(")),
    )
    # The same for a configuration set.
    set_labels = {**ACCOUNT, "configuration_set": "marketing", "metric": metrics.COMPLAINT_RATE.aws_name}
    per_set = scenario(
        [up, bounce_ok, complaint_ok, no_data(metrics.COMPLAINT_RATE, configuration_set="marketing")],
        at(expected(rules, NO_REPUTATION_DATA, {**set_labels, **reason}, expr_has="absent(")),
    )
    # The series are simply missing while the exporter is scraped: absent() catches it.
    missing = scenario(
        [up],
        at(
            expected(
                rules,
                NO_REPUTATION_DATA,
                {**ACCOUNT, "metric": metrics.BOUNCE_RATE.aws_name},
                expr_has="absent(",
            ),
            expected(
                rules,
                NO_REPUTATION_DATA,
                {**ACCOUNT, "metric": metrics.COMPLAINT_RATE.aws_name},
                expr_has="absent(",
            ),
        ),
    )
    healthy = scenario([up, bounce_ok, complaint_ok], at())
    run_promtool(promtool, tmp_path, rules, [flagged, per_set, missing, healthy])


def test_clean_busy_account_raises_nothing(promtool: str, tmp_path: Path) -> None:
    """AWS publishes Reputation.ComplaintRate (BounceRate) only once there were complaints (bounces). A
    busy account that never had one has no such series, and its exporter says why
    (no_events_in_lookback); an idle one says no_sends_in_lookback. Neither raises any alert, for hours.
    A listed configuration set with reputation metrics disabled raises one alert, naming the set."""
    rules = rules_for(monitor({"configurationSets": ["marketing", "quiet"]}))
    minutes = 6 * 60

    def no_data(metric: metrics.CloudWatchMetric, reason: str, configuration_set: str = "") -> dict[str, str]:
        labels = {"configuration_set": configuration_set} if configuration_set else {}
        return series(
            metrics.NO_DATA, constant(1, minutes), **ACCOUNT, metric=metric.aws_name, reason=reason, **labels
        )

    alerts = (*ACCOUNT_ALERTS, *CONFIGURATION_SET_ALERTS)
    quiet = [check(t, alert, []) for t in range(0, minutes + 1, 10) for alert in alerts]
    clean = scenario(
        [
            *healthy_exporter(minutes),
            series(BOUNCE, constant(0.004, minutes), **ACCOUNT),  # some bounces, never a complaint
            no_data(metrics.COMPLAINT_RATE, metrics.NO_DATA_NO_EVENTS),
            no_data(metrics.BOUNCE_RATE, metrics.NO_DATA_NO_EVENTS, "marketing"),
            no_data(metrics.COMPLAINT_RATE, metrics.NO_DATA_NO_EVENTS, "marketing"),
            no_data(metrics.BOUNCE_RATE, metrics.NO_DATA_NO_SENDS, "quiet"),
            no_data(metrics.COMPLAINT_RATE, metrics.NO_DATA_NO_SENDS, "quiet"),
        ],
        quiet,
    )
    idle = scenario(
        [
            *healthy_exporter(minutes),
            *(
                no_data(m, metrics.NO_DATA_NO_SENDS, cs)
                for m in (metrics.BOUNCE_RATE, metrics.COMPLAINT_RATE)
                for cs in ("", "marketing", "quiet")
            ),
        ],
        quiet,
    )
    disabled_labels = {**ACCOUNT, "configuration_set": "quiet", "reason": metrics.NO_DATA_REPUTATION_DISABLED}
    disabled_alert = expected(
        rules, NO_REPUTATION_DATA, disabled_labels, expr_has='reputation_metrics_disabled"}'
    )
    assert (
        "put-configuration-set-reputation-options --configuration-set-name quiet"
        in (disabled_alert["exp_annotations"]["description"])
    )
    disabled = scenario(
        [
            *healthy_exporter(minutes),
            series(BOUNCE, constant(0.004, minutes), **ACCOUNT),
            series(COMPLAINT, constant(0.0001, minutes), **ACCOUNT),
            series(BOUNCE, constant(0.004, minutes), **ACCOUNT, configuration_set="marketing"),
            series(COMPLAINT, constant(0.0001, minutes), **ACCOUNT, configuration_set="marketing"),
            no_data(metrics.BOUNCE_RATE, metrics.NO_DATA_REPUTATION_DISABLED, "quiet"),
            no_data(metrics.COMPLAINT_RATE, metrics.NO_DATA_REPUTATION_DISABLED, "quiet"),
        ],
        [check(3, NO_REPUTATION_DATA, []), check(10, NO_REPUTATION_DATA, [disabled_alert])],
    )
    run_promtool(promtool, tmp_path, rules, [clean, idle, disabled])


def test_exporter_down(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    minutes = 30
    target = {"namespace": NAMESPACE, "service": SERVICE}
    down = expected(rules, EXPORTER_DOWN, target)

    def checks(expect: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [check(3, EXPORTER_DOWN, [])]
        for t in (5, 30):
            # A down exporter is one alert: its missing series are not also "no reputation data".
            out += [check(t, EXPORTER_DOWN, expect), check(t, NO_REPUTATION_DATA, [])]
        return out

    scraped_but_down = scenario([series(metrics.UP, constant(0, minutes))], checks([down]))
    never_scraped = scenario([series("unrelated_metric", constant(1, minutes))], checks([down]))
    other_service = series(metrics.UP, constant(1, minutes))
    other_service["series"] = other_service["series"].replace(
        f'service="{SERVICE}"', 'service="sesmon-other"'
    )
    someone_else = scenario([other_service], checks([down]))
    up = scenario(
        [
            series(metrics.UP, constant(1, minutes)),
            series(BOUNCE, constant(0.01, minutes), **ACCOUNT),
            series(COMPLAINT, constant(0.0001, minutes), **ACCOUNT),
        ],
        [check(t, EXPORTER_DOWN, []) for t in (5, 30)],
    )
    run_promtool(promtool, tmp_path, rules, [scraped_but_down, never_scraped, someone_else, up])


def test_aws_read_errors(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor())
    minutes = 30
    labels = {**ACCOUNT, "api": "GetMetricData"}

    def exporter(failures: Sequence[Value], stale: Sequence[Value]) -> list[dict[str, str]]:
        return [
            series(metrics.CONSECUTIVE_FAILURES, failures, **labels),
            series(metrics.STALE, stale, **labels),
            series(metrics.CONSECUTIVE_FAILURES, constant(0, minutes), **ACCOUNT, api="GetAccount"),
            series(metrics.STALE, constant(0, minutes), **ACCOUNT, api="GetAccount"),
        ]

    alert = expected(rules, AWS_READ_ERRORS, labels)
    counting = [float(i) for i in range(minutes + 1)]  # one more failure every refresh
    failing = scenario(
        exporter(counting, [0.0] + [1.0] * minutes),
        # >= 3 failures from minute 3, firing `for` (5m) later.
        [
            check(7, AWS_READ_ERRORS, []),
            check(8, AWS_READ_ERRORS, [alert]),
            check(30, AWS_READ_ERRORS, [alert]),
        ],
    )
    hung = scenario(  # stale with no failure: the refresh loop stopped
        exporter(constant(0, minutes), constant(1, minutes)),
        [
            check(3, AWS_READ_ERRORS, []),
            check(5, AWS_READ_ERRORS, [alert]),
            check(30, AWS_READ_ERRORS, [alert]),
        ],
    )
    blips = scenario(  # a throttled refresh now and then is no outage
        exporter(
            [float(i % 3 == 1) for i in range(minutes + 1)], [float(i % 3 == 1) for i in range(minutes + 1)]
        ),
        [check(t, AWS_READ_ERRORS, []) for t in range(0, minutes + 1, 3)],
    )
    one_failure = scenario(  # stale because of one failed refresh: not yet an alert
        exporter(constant(1, minutes), constant(1, minutes)),
        [check(t, AWS_READ_ERRORS, []) for t in (5, 30)],
    )
    run_promtool(promtool, tmp_path, rules, [failing, hung, blips, one_failure])


# -- (6) the trend --------------------------------------------------------------------------------------


def rising(start: float, per_day: float, minutes: int) -> list[Value]:
    return [start + per_day * i / 1440 for i in range(minutes + 1)]


def test_trend_alert_on_the_seeds_four_percent_a_day(promtool: str, tmp_path: Path) -> None:
    """From 2%, +4%/day: the 1h window average crosses 5% after 18.5h. The trend warns from the 8th hour
    (once Prometheus holds the 7h of history a sustained rise needs) until then, more than 3 hours before
    the crossing, hands over to the warning once the average passes 5%, and never fires on a flat series
    or a slow rise."""
    rules = rules_for(monitor(), annotations=False)
    minutes = 20 * 60
    crossing = 18 * 60 + 30  # the window average lags the rate by half the window
    trend = [expected(rules, BOUNCE_RATE_RISING, ACCOUNT)]
    warning = [expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "warning")]
    steady = scenario(
        [series(BOUNCE, rising(0.02, 0.04, minutes), **ACCOUNT)],
        [check(t, BOUNCE_RATE_RISING, trend) for t in range(8 * 60, crossing - 3 * 60 + 1, 10)]
        + [check(t, BOUNCE_RATE_HIGH, []) for t in (180, 720, 1020)]
        + [check(1200, BOUNCE_RATE_RISING, []), check(1200, BOUNCE_RATE_HIGH, warning)],
    )
    bursty = scenario(  # the same rise, reported only while mail is sent
        [
            series(
                BOUNCE, [v if i % 20 < 5 else None for i, v in enumerate(rising(0.02, 0.04, 900))], **ACCOUNT
            )
        ],
        [check(t, BOUNCE_RATE_RISING, trend) for t in range(8 * 60, 901, 30)],
    )
    never = [check(t, BOUNCE_RATE_RISING, []) for t in range(0, 721, 15)]
    flat = scenario([series(BOUNCE, constant(0.03, 720), **ACCOUNT)], never)
    flat_near = scenario([series(BOUNCE, constant(0.049, 720), **ACCOUNT)], never)
    slow = scenario([series(BOUNCE, rising(0.005, 0.01, 720), **ACCOUNT)], never)  # 0.5% +1%/day
    run_promtool(promtool, tmp_path, rules, [steady, bursty, flat, flat_near, slow])


def test_trend_alert_ignores_a_step_that_then_stays_flat(promtool: str, tmp_path: Path) -> None:
    """A one-time step of 1.5 points (2% to 3.5%, flat before and after) is no trend. Target: firing at
    most 2 hours in all and never 6 hours after the step; the rule, which wants a rise in each of three
    2-hour segments, does not fire at all. Checked every minute for 12 hours after the step, on the
    exporter's gap-filled series and on one with a scrape in ten missing."""
    rules = rules_for(monitor(), annotations=False)
    step, minutes = 8 * 60, 20 * 60
    points: list[Value] = [0.02 if i < step else 0.035 for i in range(minutes + 1)]
    thinned: list[Value] = [None if i % 10 == 9 else v for i, v in enumerate(points)]
    never = [check(t, BOUNCE_RATE_RISING, []) for t in range(step - 60, minutes + 1)]
    run_promtool(
        promtool,
        tmp_path,
        rules,
        [
            scenario([series(BOUNCE, points, **ACCOUNT)], never),
            scenario([series(BOUNCE, thinned, **ACCOUNT)], never),
        ],
    )


# -- (6b) critical is quick ---------------------------------------------------------------------------


@pytest.mark.parametrize("keep_firing_for", ["15m", "0s"])
def test_critical_fires_within_15_minutes_of_a_jump_and_holds_with_missed_scrapes(
    promtool: str, tmp_path: Path, keep_firing_for: str
) -> None:
    """2% for an hour, then 12% (past AWS's pause level), one scrape in ten missing. With the default
    `for` (5m), critical fires at most 15 minutes after the exporter first serves 12%, and never resolves
    while the rate stays there, even without keepFiringFor. The warning keeps its 1h average."""
    alerting = {**BASE_SPEC["alerting"], "keepFiringFor": keep_firing_for}
    rules = rules_for(monitor({"alerting": alerting}), annotations=False)
    jump, minutes = 60, 5 * 60
    points: list[Value] = [None if i % 10 == 9 else (0.02 if i < jump else 0.12) for i in range(minutes + 1)]
    critical = expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "critical")
    warning = expected(rules, BOUNCE_RATE_HIGH, ACCOUNT, "warning")
    checks = [check(t, BOUNCE_RATE_HIGH, []) for t in range(0, jump + 1)]
    # The 10-minute average reaches 10% 8 minutes after the jump, the 1h average 5% after 18 minutes.
    checks += [check(t, BOUNCE_RATE_HIGH, [critical]) for t in range(jump + 15, jump + 20)]
    checks += [check(t, BOUNCE_RATE_HIGH, [warning, critical]) for t in range(jump + 30, minutes + 1)]
    run_promtool(promtool, tmp_path, rules, [scenario([series(BOUNCE, points, **ACCOUNT)], checks)])


# -- (7) configuration sets -----------------------------------------------------------------------------


def test_per_configuration_set_alerts(promtool: str, tmp_path: Path) -> None:
    rules = rules_for(monitor({"configurationSets": ["marketing", "transactional"]}))
    minutes = 120

    def at(configuration_set: str) -> dict[str, str]:
        return {**ACCOUNT, "configuration_set": configuration_set}

    input_series = [
        series(BOUNCE, constant(0.03, minutes), **ACCOUNT),
        series(COMPLAINT, constant(0.0005, minutes), **ACCOUNT),
        series(BOUNCE, constant(0.12, minutes), **at("marketing")),
        series(COMPLAINT, constant(0.002, minutes), **at("marketing")),
        series(BOUNCE, constant(0.01, minutes), **at("transactional")),
        series(COMPLAINT, constant(0.0001, minutes), **at("transactional")),
        series(BOUNCE, constant(0.5, minutes), **at("unlisted")),  # not in the spec: not this monitor's
    ]
    bounce = [
        expected(rules, CONFIGURATION_SET_BOUNCE_RATE_HIGH, at("marketing"), "warning", 0.12),
        expected(rules, CONFIGURATION_SET_BOUNCE_RATE_HIGH, at("marketing"), "critical", 0.12),
    ]
    complaint = [expected(rules, CONFIGURATION_SET_COMPLAINT_RATE_HIGH, at("marketing"), "warning", 0.002)]
    checks = []
    for t in range(10, minutes + 1, 10):
        checks += [
            check(t, CONFIGURATION_SET_BOUNCE_RATE_HIGH, bounce),
            check(t, CONFIGURATION_SET_COMPLAINT_RATE_HIGH, complaint),
            check(t, BOUNCE_RATE_HIGH, []),
            check(t, COMPLAINT_RATE_HIGH, []),
        ]
    run_promtool(promtool, tmp_path, rules, [scenario(input_series, checks)])


# -- the files users feed promtool ------------------------------------------------------------------------


def test_cli_rule_files_of_the_examples_pass_promtool_check(promtool: str, tmp_path: Path) -> None:
    from sesmonitor.cli.main import main

    for example in ("basic", "production"):
        out = tmp_path / f"{example}.rules.yaml"
        with out.open("w") as handle:
            assert main(["rules", "-f", str(ROOT / "examples" / f"{example}.yaml")], out=handle) == 0
        proc = subprocess.run(
            [promtool, "check", "rules", str(out)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
