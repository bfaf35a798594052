"""The alert rules of one SesMonitor, as plain data: a PrometheusRule's `spec.groups` or a rule file.

Design (tests/rules/test_promtool.py runs each rule through promtool against the situation it is for):

- Every series is selected by ``sesmonitor="<namespace>/<name>"`` (and ``configuration_set=""`` for the
  account-wide ones), so two monitors never read each other's data, and metric names come only from
  `sesmonitor.metrics`.
- Rates are judged on ``avg_over_time(series[window])``: CloudWatch publishes reputation datapoints only
  while mail is sent, and an instant ``rate > x`` alert fires and resolves with every sending burst.
- Every expression is aggregated ``max by (<contract labels>)``: the alert's identity is the monitor
  (and configuration set), not the exporter pod, so an exporter restart (new pod, new target labels)
  neither resolves nor duplicates an alert.
- Warning and critical share one alert name and differ in `severity`: at 14% both fire. Inhibit the
  warning with the `equal` list of the shipped Alertmanager example (deploy/alertmanager/alertmanager.yaml),
  ``[alertname, sesmonitor, configuration_set]``: the alert's whole identity, not
  ``[namespace, alertname]``, with which one monitor's critical would hide another monitor's warning
  in the same namespace. Every alert carries the monitor's `namespace` and `sesmonitor` labels for that
  (and for routing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sesmonitor import metrics
from sesmonitor.api import SesMonitor, parse_duration
from sesmonitor.api.alerts import (
    ACCOUNT_UNDER_REVIEW,
    AWS_READ_ERRORS,
    BOUNCE_RATE_HIGH,
    BOUNCE_RATE_RISING,
    COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_BOUNCE_RATE_HIGH,
    CONFIGURATION_SET_COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_MISSING,
    CONFIGURATION_SET_PAUSED,
    EXPORTER_DOWN,
    NO_REPUTATION_DATA,
    PROTECTION_FAILED,
    SEND_QUOTA_NEARLY_USED,
    SENDING_PAUSED,
    SUPPRESSION_LIST_OFF,
)
from sesmonitor.render.alerting import AlertBuilder
from sesmonitor.render.defaults import DEFAULT_RUNBOOK_BASE_URL
from sesmonitor.render.event_rules import event_rules
from sesmonitor.render.names import child_names
from sesmonitor.render.promql import any_of, duration, eq, fraction, quote, regex, selector
from sesmonitor.render.tenant_rules import finding_rules, suppression_alert, tenant_rules

# The alert names come from sesmonitor.api.alerts, so the spec can name them (spec.alerting.disabled).
ACCOUNT_ALERTS: Final = (
    BOUNCE_RATE_HIGH,
    COMPLAINT_RATE_HIGH,
    BOUNCE_RATE_RISING,
    ACCOUNT_UNDER_REVIEW,
    SENDING_PAUSED,
    SEND_QUOTA_NEARLY_USED,
    NO_REPUTATION_DATA,
    EXPORTER_DOWN,
    AWS_READ_ERRORS,
    SUPPRESSION_LIST_OFF,  # render.tenant_rules: GetAccount's, always rendered
)
CONFIGURATION_SET_ALERTS: Final = (
    CONFIGURATION_SET_BOUNCE_RATE_HIGH,
    CONFIGURATION_SET_COMPLAINT_RATE_HIGH,
    CONFIGURATION_SET_PAUSED,
    CONFIGURATION_SET_MISSING,
)
PROTECTION_ALERTS: Final = (PROTECTION_FAILED,)  # with spec.protection in DryRun or Enforce

# The trend: a least-squares line through the window average, sampled every TREND_STEP over TREND_RANGE,
# extrapolated TREND_HORIZON ahead. 6h smooths single bursts yet notices the seed's +4%/day within hours.
TREND_RANGE: Final = "6h"
TREND_STEP: Final = "5m"
TREND_HORIZON: Final = "24h"
TREND_HORIZON_SECONDS: Final = 24 * 3600
# A sustained rise: the window average rose, at the pace the horizon needs, in each of TREND_SEGMENTS
# consecutive segments of TREND_SEGMENT_SECONDS (together TREND_RANGE).
TREND_SEGMENTS: Final = 3
TREND_SEGMENT_SECONDS: Final = 2 * 3600
# Critical judges this short average (or spec.window when shorter): the exporter's series has no gaps, so
# critical needs no long window, and a jump past AWS's pause level fires within it plus `for`.
CRITICAL_WINDOW: Final = "10m"
# Consecutive failed refreshes (of one AWS API) before the monitor reports itself blind.
AWS_FAILURES_THRESHOLD: Final = 3


def _label_ref(name: str) -> str:
    """An alert template reference to a label, which Prometheus expands per alert."""
    return "{{ $labels." + name + " }}"


MONITOR: Final = _label_ref(metrics.LABEL_MONITOR)
CONFIGURATION_SET: Final = _label_ref(metrics.LABEL_CONFIGURATION_SET)
METRIC: Final = _label_ref(metrics.LABEL_METRIC)
API: Final = _label_ref(metrics.LABEL_API)
VALUE_PERCENT: Final = "{{ $value | humanizePercentage }}"

ACCOUNT_LABELS: Final = (metrics.LABEL_MONITOR, metrics.LABEL_REGION)
SET_LABELS: Final = (metrics.LABEL_MONITOR, metrics.LABEL_REGION, metrics.LABEL_CONFIGURATION_SET)


def group_name(monitor: SesMonitor) -> str:
    return f"sesmonitor/{monitor.key}"


def _by(labels: tuple[str, ...]) -> str:
    return ", ".join(labels)


def _max_by(labels: tuple[str, ...], expr: str) -> str:
    return f"max by ({_by(labels)}) ({expr})"


@dataclass(frozen=True)
class _Rate:
    """One reputation rate and its thresholds, as the rules need them."""

    metric: metrics.CloudWatchMetric
    noun: str  # "bounce" | "complaint"
    warning: str  # percent strings as written in the spec
    critical: str
    aws_levels: str  # a sentence on what AWS does at which level


@dataclass(frozen=True)
class _Scope:
    """Where the rate alerts judge: the account, or each listed configuration set."""

    names: Mapping[str, str]  # rate noun -> alert name
    series: Callable[[str], str]  # metric name -> its selector in this scope
    labels: tuple[str, ...]  # the alert's identity
    subject: str  # words after "rate" in the description
    summary_subject: str  # the same in the (static) summary
    consequence: str  # the description's last sentence ("" for the rate's AWS levels)


class _Builder(AlertBuilder):
    def __init__(self, monitor: SesMonitor, runbook_base_url: str) -> None:
        super().__init__(monitor, runbook_base_url)
        spec = monitor.spec
        self.window = duration(spec.window)
        self.critical_window = duration(
            f"{min(parse_duration(spec.window), parse_duration(CRITICAL_WINDOW))}s"
        )
        self.service = child_names(monitor.name).service
        self.bounce = _Rate(
            metrics.BOUNCE_RATE,
            "bounce",
            spec.thresholds.bounce_rate.warning,
            spec.thresholds.bounce_rate.critical,
            "AWS reviews an account at a 5% bounce rate and may pause its sending at 10%.",
        )
        self.complaint = _Rate(
            metrics.COMPLAINT_RATE,
            "complaint",
            spec.thresholds.complaint_rate.warning,
            spec.thresholds.complaint_rate.critical,
            "AWS reviews an account at a 0.1% complaint rate and may pause its sending at 0.5%.",
        )

    # -- selectors -----------------------------------------------------------------------------------

    def account(self, metric: str, *extra: Any) -> str:
        return selector(
            metric, eq(metrics.LABEL_MONITOR, self.key), eq(metrics.LABEL_CONFIGURATION_SET, ""), *extra
        )

    def sets(self, metric: str) -> str:
        return selector(
            metric,
            eq(metrics.LABEL_MONITOR, self.key),
            regex(metrics.LABEL_CONFIGURATION_SET, any_of(self.spec.configuration_sets)),
        )

    def up(self) -> str:
        return selector(metrics.UP, eq("namespace", self.monitor.namespace), eq("service", self.service))

    def window_average(
        self, series: str, labels: tuple[str, ...], window: str | None = None, offset: int = 0
    ) -> str:
        shift = f" offset {duration(f'{offset}s')}" if offset else ""
        return _max_by(labels, f"avg_over_time({series}[{window or self.window}]{shift})")

    # -- the alerts ----------------------------------------------------------------------------------

    def rate_alerts(self, rate: _Rate, scope: _Scope) -> list[dict[str, Any]]:
        """Warning and critical for one rate in one scope (the account, or the listed sets).

        Warning judges the `spec.window` average, which bridges the gaps of CloudWatch's series.
        Critical judges a short average (CRITICAL_WINDOW, or the window when shorter) of the exporter's
        gap-free series: a jump past AWS's pause level fires within that average's catch-up plus `for`,
        and a missed scrape only thins the average, it never empties it.
        """
        series = scope.series(rate.metric.prometheus_name)
        averages = {
            "warning": (self.window, self.window_average(series, scope.labels)),
            "critical": (
                self.critical_window,
                self.window_average(series, scope.labels, self.critical_window),
            ),
        }
        rules = []
        for level, threshold in (("warning", rate.warning), ("critical", rate.critical)):
            window, average = averages[level]
            rules.append(
                self.alert(
                    scope.names[rate.noun],
                    f"{average} >= {fraction(threshold)}",  # AWS acts when a rate reaches a level
                    severity=self.severities()[level],
                    summary=(
                        f"SES {rate.noun} rate{scope.summary_subject} is at or above {threshold} ({level})"
                    ),
                    description=(
                        f"The {window} average SES {rate.noun} rate{scope.subject} ({MONITOR},"
                        f" {self.spec.region}) is {VALUE_PERCENT}, at or above the {level}"
                        f" threshold of {threshold}. {scope.consequence or rate.aws_levels}"
                    ),
                    keep_firing=True,
                )
            )
        return rules

    def trend_alert(self) -> dict[str, Any]:
        """A sustained rise only: the window average rose in each of the last TREND_SEGMENTS segments of
        TREND_RANGE, every one of them at a pace that reaches the threshold within TREND_HORIZON, and the
        least-squares line through TREND_RANGE reaches it too. A one-time step lifts the window average for
        one window's length, so it shows in at most two neighbouring segments and never fires."""
        rate = self.bounce
        series = self.account(rate.metric.prometheus_name)
        average = self.window_average(series, ACCOUNT_LABELS)
        threshold = fraction(rate.warning)
        projected = f"predict_linear(({average})[{TREND_RANGE}:{TREND_STEP}], {TREND_HORIZON_SECONDS})"
        # The rise a segment needs: the rest of the way to the threshold, spread over the horizon.
        needed = f"(({threshold} - {average}) / {TREND_HORIZON_SECONDS // TREND_SEGMENT_SECONDS})"
        segments = []
        for index in range(TREND_SEGMENTS):
            newer = self.window_average(series, ACCOUNT_LABELS, offset=index * TREND_SEGMENT_SECONDS)
            older = self.window_average(series, ACCOUNT_LABELS, offset=(index + 1) * TREND_SEGMENT_SECONDS)
            segments.append(f"(({newer} - {older}) > {needed})")
        return self.alert(
            BOUNCE_RATE_RISING,
            f"({projected} >= {threshold}) and ({average} < {threshold}) and " + " and ".join(segments),
            severity=self.severities()["warning"],
            summary=f"SES bounce rate is rising toward {rate.warning}",
            description=(
                f"The {self.window} average SES bounce rate of {MONITOR} in {self.spec.region}"
                f" is still below the warning threshold of {rate.warning}, but it has risen steadily for"
                f" {TREND_RANGE}, and at that pace it reaches {VALUE_PERCENT} within {TREND_HORIZON}."
            ),
        )

    def enforcement(self, status: str) -> str:
        return _max_by(
            ACCOUNT_LABELS, self.account(metrics.ENFORCEMENT_STATUS, eq(metrics.LABEL_STATUS, status))
        )

    def under_review(self) -> str:
        """PROBATION, with the review's status and appeal case (GetAccount Details.ReviewDetails) as labels
        when AWS gives them; without them the alert still fires, unlabelled."""
        probation = f"({self.enforcement('PROBATION')} == 1)"
        case = (metrics.LABEL_REVIEW_STATUS, metrics.LABEL_CASE_ID)
        info = _max_by((*ACCOUNT_LABELS, *case), self.account(metrics.REVIEW_INFO))
        on = f"on ({_by(ACCOUNT_LABELS)})"
        return f"({probation} * {on} group_left ({_by(case)}) {info}) or {on} {probation}"

    def account_alerts(self) -> list[dict[str, Any]]:
        critical = self.severities()["critical"]
        sending = _max_by(ACCOUNT_LABELS, self.account(metrics.SENDING_ENABLED))
        return [
            self.alert(
                ACCOUNT_UNDER_REVIEW,
                self.under_review(),
                severity=critical,
                summary="SES account is under review (PROBATION)",
                description=(
                    f"AWS has put the SES account of {MONITOR} in {self.spec.region} under"
                    " review (enforcement status PROBATION). Bring the bounce and complaint rates down before"
                    " AWS pauses its sending."
                    f"{{{{ if $labels.{metrics.LABEL_CASE_ID} }}}} The review's appeal case is"
                    f" {_label_ref(metrics.LABEL_CASE_ID)}"
                    f" (status {_label_ref(metrics.LABEL_REVIEW_STATUS)}): answer it in the AWS Support"
                    " Center.{{ end }}"
                ),
            ),
            self.alert(
                SENDING_PAUSED,
                f"({self.enforcement('SHUTDOWN')} == 1) or ({sending} == 0)",
                severity=critical,
                summary="SES sending is paused",
                description=(
                    f"AWS has paused sending for the SES account of {MONITOR} in {self.spec.region}"
                    " (enforcement status SHUTDOWN, or sending disabled): no mail goes out."
                ),
            ),
        ]

    def quota_alert(self) -> dict[str, Any]:
        quota = self.spec.thresholds.send_quota
        sent = _max_by(ACCOUNT_LABELS, self.account(metrics.QUOTA_SENT_LAST_24H))
        # Max24HourSend is -1 for an unlimited quota; a 0 would make any sending an infinite share.
        limit = _max_by(ACCOUNT_LABELS, f"{self.account(metrics.QUOTA_MAX_24H_SEND)} > 0")
        return self.alert(
            SEND_QUOTA_NEARLY_USED,
            f"{sent} / {limit} > {fraction(quota)}",
            severity=self.severities()["warning"],
            summary=f"SES 24-hour send quota is more than {quota} used",
            description=(
                f"The SES account of {MONITOR} in {self.spec.region} has used"
                f" {VALUE_PERCENT} of its 24-hour send quota (threshold {quota});"
                " SES rejects mail once the quota is used up."
            ),
        )

    def health_alerts(self) -> list[dict[str, Any]]:
        warning = self.severities()["warning"]
        rates = (self.bounce.metric, self.complaint.metric)

        def no_data(reasons: tuple[str, ...], labels: tuple[str, ...]) -> str:
            return _max_by(
                labels,
                selector(
                    metrics.NO_DATA,
                    eq(metrics.LABEL_MONITOR, self.key),
                    regex(metrics.LABEL_METRIC, any_of(m.aws_name for m in rates)),
                    regex(metrics.LABEL_REASON, any_of(reasons)),
                ),
            )

        # Mail was sent and the rate is absent for a reason the exporter cannot explain (or CloudWatch
        # answered with an error). Absent because nothing was sent, or nothing bounced (complained) yet,
        # is how AWS publishes a clean account's rates: no alert.
        unexplained = no_data(
            metrics.NO_DATA_UNEXPLAINED_REASONS, (*SET_LABELS, metrics.LABEL_METRIC, metrics.LABEL_REASON)
        )
        # A series that is simply missing, without the exporter saying why (and while it is scraped:
        # a down exporter is SESMonitorExporterDown's to report), counts as no data too.
        # (With the region matcher, absent() carries the `region` label as the other branch does.)
        region = eq(metrics.LABEL_REGION, self.spec.region)
        absent = " or ".join(
            f"label_replace(absent({self.account(m.prometheus_name, region)}),"
            f' {quote(metrics.LABEL_METRIC)}, {quote(m.aws_name)}, "", "")'
            for m in rates
        )
        explained = selector(
            metrics.NO_DATA, eq(metrics.LABEL_MONITOR, self.key), eq(metrics.LABEL_CONFIGURATION_SET, "")
        )
        up = self.up()
        exporter_down = f"(max by (namespace, service) ({up}) == 0) or absent({up})"
        on_labels = _by((metrics.LABEL_MONITOR, metrics.LABEL_CONFIGURATION_SET, metrics.LABEL_METRIC))
        explained_on = _by((metrics.LABEL_MONITOR, metrics.LABEL_METRIC))
        lookback = duration(self.spec.exporter.lookback)
        by_api = (*ACCOUNT_LABELS, metrics.LABEL_API)
        failures = _max_by(
            by_api, selector(metrics.CONSECUTIVE_FAILURES, eq(metrics.LABEL_MONITOR, self.key))
        )
        stale = _max_by(by_api, selector(metrics.STALE, eq(metrics.LABEL_MONITOR, self.key)))
        rules = [
            self.alert(
                NO_REPUTATION_DATA,
                f"({unexplained} == 1) or on ({on_labels})"
                f" ((({absent}) unless on ({explained_on}) {explained}) unless on () ({exporter_down}))",
                severity=warning,
                summary="No SES reputation data: the rate alerts of this monitor cannot fire",
                description=(
                    f"Mail was sent within the lookback ({lookback}) of the exporter of {MONITOR}, and some"
                    f" of it bounced or complained, but there is no {METRIC} datapoint and the exporter"
                    f" cannot tell why (CloudWatch data missing or delayed, a query error: the reason label"
                    f" of {metrics.NO_DATA} says which)."
                ),
            ),
        ]
        if self.spec.configuration_sets:
            disabled = no_data((metrics.NO_DATA_REPUTATION_DISABLED,), (*SET_LABELS, metrics.LABEL_REASON))
            rules.append(
                self.alert(
                    NO_REPUTATION_DATA,
                    f"{disabled} == 1",
                    severity=warning,
                    summary=(
                        "A configuration set publishes no reputation metrics: its rate alerts cannot fire"
                    ),
                    description=(
                        f"Reputation metrics are disabled for configuration set {CONFIGURATION_SET}"
                        f" ({MONITOR}, {self.spec.region}): SES GetConfigurationSet reports"
                        " ReputationOptions.ReputationMetricsEnabled false, so AWS publishes no"
                        " Reputation.BounceRate or Reputation.ComplaintRate for it. Enable them with"
                        " `aws sesv2 put-configuration-set-reputation-options --configuration-set-name"
                        f" {CONFIGURATION_SET} --reputation-metrics-enabled` (or in the SES console:"
                        " the configuration set's Reputation options)."
                    ),
                )
            )
        return [
            *rules,
            self.alert(
                EXPORTER_DOWN,
                exporter_down,
                severity=warning,
                summary="sesmonitor exporter is down: SES alerts of this monitor cannot fire",
                description=(
                    f"Prometheus cannot scrape the exporter of {self.key} (Service"
                    f" {self.monitor.namespace}/{self.service}), so the SES bounce and complaint alerts of"
                    " this monitor cannot fire."
                ),
            ),
            self.alert(
                AWS_READ_ERRORS,
                # Failing again and again, or stale without a recent failure (a refresh loop that hangs).
                f"({failures} >= {AWS_FAILURES_THRESHOLD}) or (({stale} == 1) unless ({failures} > 0))",
                severity=warning,
                summary="sesmonitor exporter cannot read AWS: its SES values are stale",
                description=(
                    f"The exporter of {MONITOR} has not refreshed its {API}"
                    f" data from AWS ({AWS_FAILURES_THRESHOLD} or more failures in a row, or no successful"
                    " refresh for several refresh intervals), so the alerts of this monitor judge old values."
                    f" Check its credentials and IAM permissions; {metrics.AWS_REQUESTS_TOTAL} counts the"
                    " outcomes."
                ),
            ),
        ]

    def protection_alerts(self) -> list[dict[str, Any]]:
        """A listed set's sending is disabled (by spec.protection or anyone), and a protection call failed
        (on a set or a protected tenant)."""
        rules = self.configuration_set_alerts() if self.spec.configuration_sets else []
        if self.spec.protection.mode != "Off":
            rules.append(self.protection_failed_alert())
        return rules

    def configuration_set_alerts(self) -> list[dict[str, Any]]:
        critical = self.severities()["critical"]
        paused = f"({_max_by(SET_LABELS, self.sets(metrics.CONFIGURATION_SET_SENDING_ENABLED))} == 0)"
        info_labels = (metrics.LABEL_PAUSED_BY, metrics.LABEL_PAUSED_AT, metrics.LABEL_REASON)
        info = _max_by((*SET_LABELS, *info_labels), self.sets(metrics.CONFIGURATION_SET_PAUSED_INFO))
        # Who, when and why come from the info series; without it the alert still fires, unlabelled.
        on = f"on ({_by(SET_LABELS)})"
        expr = f"({paused} * {on} group_left ({_by(info_labels)}) {info}) or {on} {paused}"
        at, why = _label_ref(metrics.LABEL_PAUSED_AT), _label_ref(metrics.LABEL_REASON)
        namespace, name = self.monitor.namespace, self.monitor.name
        resume = (
            f"`sesmonitor resume -n {namespace} {name} {CONFIGURATION_SET}` (or `kubectl annotate sesmonitor"
            f" -n {namespace} {name} sesmonitor.io/resume={CONFIGURATION_SET}`)"
        )
        missing = _max_by(SET_LABELS, self.sets(metrics.CONFIGURATION_SET_MISSING))
        protected = (
            " The set is in spec.protection: no protection acts on it while it is missing; the other"
            " sets are read and protected as usual."
            if self.spec.protection.mode != "Off"
            else ""
        )
        return [
            self.alert(
                CONFIGURATION_SET_MISSING,
                f"{missing} == 1",
                severity=self.severities()["warning"],
                summary="A configuration set the monitor lists does not exist in SES",
                description=(
                    f"SES answers NotFoundException for configuration set {CONFIGURATION_SET} ({MONITOR},"
                    f" {self.spec.region}): it was deleted, or spec.configurationSets misspells it. No"
                    f" rate of it can be judged.{protected} Fix the name in the"
                    " SesMonitor, or check the set: aws sesv2 get-configuration-set"
                    f" --configuration-set-name {CONFIGURATION_SET}"
                ),
            ),
            self.alert(
                CONFIGURATION_SET_PAUSED,
                expr,
                severity=critical,
                summary="An SES configuration set is paused: its mail is not sent",
                description=(
                    f"Sending is disabled for configuration set {CONFIGURATION_SET} ({MONITOR},"
                    f" {self.spec.region})."
                    f'{{{{ if eq $labels.{metrics.LABEL_PAUSED_BY} "{metrics.PAUSED_BY_SESMONITOR}" }}}}'
                    f" sesmonitor's protection paused it at {at} ({why} at or above its level), before AWS"
                    " could pause the whole account. Find what drives the rate (a list, a campaign) and stop"
                    f" it; then resume: {resume}. No new pause of the set happens for the cooldown after"
                    " that."
                    "{{ else }}"
                    " sesmonitor did not pause it (someone else did, by hand or script) and never resumes it:"
                    " aws sesv2 put-configuration-set-sending-options --configuration-set-name"
                    f" {CONFIGURATION_SET} --sending-enabled"
                    "{{ end }}"
                ),
            ),
        ]

    def protection_failed_alert(self) -> dict[str, Any]:
        """A protection call failed: on a listed configuration set, or on a protected tenant (target_kind)."""
        kind, tenant = metrics.LABEL_TARGET_KIND, metrics.LABEL_TENANT
        labels = (*SET_LABELS, tenant, kind, metrics.LABEL_ACTION, metrics.LABEL_CODE)
        parts = []
        if self.spec.configuration_sets:
            parts.append(self.sets(metrics.PROTECTION_ACTION_FAILED))
        if self.spec.protection.tenants:
            parts.append(
                selector(
                    metrics.PROTECTION_ACTION_FAILED,
                    eq(metrics.LABEL_MONITOR, self.key),
                    eq(kind, metrics.TARGET_TENANT),
                    regex(tenant, any_of(self.spec.protection.tenants)),
                )
            )
        failed = _max_by(labels, " or ".join(parts))
        action, code = _label_ref(metrics.LABEL_ACTION), _label_ref(metrics.LABEL_CODE)
        is_tenant = f'{{{{ if eq $labels.{kind} "{metrics.TARGET_TENANT}" }}}}'
        target = (
            f"{is_tenant}tenant {_label_ref(tenant)}"
            f"{{{{ else }}}}configuration set {CONFIGURATION_SET}{{{{ end }}}}"
        )
        return self.alert(
            PROTECTION_FAILED,
            f"{failed} == 1",
            severity=self.severities()["critical"],
            summary="sesmonitor protection could not act on a configuration set or tenant",
            description=(
                f"The exporter of {MONITOR} tried to {action} {target}"
                f" and AWS answered {code}. With AccessDenied, its IAM policy lacks protection's"
                " actions: `sesmonitor iam-policy -f <monitor.yaml>` prints them"
                " (docs/protection.md). A failed pause paused nothing: sesmonitor writes its record"
                " into the target's tags first and pauses only once that is written; BadRequestException"
                " there is most often SES's limit of 50 tags on it (remove some). The exporter"
                " tries again after a backoff (up to 10 minutes) and this fires until a call"
                " succeeds; `kubectl get sesmon` says why in its Protection condition."
                " Until it can act, pause it by hand if its rate is high: "
                f"{is_tenant}aws sesv2 update-reputation-entity-customer-managed-status"
                " --reputation-entity-type RESOURCE --reputation-entity-reference <the tenant's ARN>"
                " --sending-status DISABLED{{ else }}aws sesv2"
                f" put-configuration-set-sending-options --configuration-set-name {CONFIGURATION_SET}"
                " --no-sending-enabled{{ end }}"
            ),
        )

    def scopes(self) -> list[_Scope]:
        account = _Scope(
            names={"bounce": BOUNCE_RATE_HIGH, "complaint": COMPLAINT_RATE_HIGH},
            series=self.account,
            labels=ACCOUNT_LABELS,
            subject="",
            summary_subject="",
            consequence="",
        )
        if not self.spec.configuration_sets:
            return [account]
        sets = _Scope(
            names={
                "bounce": CONFIGURATION_SET_BOUNCE_RATE_HIGH,
                "complaint": CONFIGURATION_SET_COMPLAINT_RATE_HIGH,
            },
            series=self.sets,
            labels=SET_LABELS,
            subject=f" of configuration set {CONFIGURATION_SET}",
            summary_subject=" of a configuration set",
            consequence="AWS judges the whole account: mail sent through this set drives its rate up.",
        )
        return [account, sets]

    def rules(self) -> list[dict[str, Any]]:
        rules = []
        for scope in self.scopes():
            rules += self.rate_alerts(self.bounce, scope)
            rules += self.rate_alerts(self.complaint, scope)
        rules.append(self.trend_alert())
        rules += self.account_alerts()
        rules.append(self.quota_alert())
        rules += self.health_alerts()
        rules += event_rules(self)  # only with spec.events
        rules += self.protection_alerts()
        rules.append(suppression_alert(self))
        rules += tenant_rules(self)  # only with spec.tenants
        rules += finding_rules(self)  # only with spec.findings
        disabled = set(self.spec.alerting.disabled)
        return [rule for rule in rules if rule["alert"] not in disabled]


def rule_groups(
    monitor: SesMonitor, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
) -> list[dict[str, Any]]:
    """The rule groups of one monitor (one group), for a PrometheusRule's spec or a rule file.

    `runbook_base_url` is the operator's (RenderDefaults.runbook_base_url); the spec's wins."""
    return [{"name": group_name(monitor), "rules": _Builder(monitor, runbook_base_url).rules()}]


def rule_file(monitors: list[SesMonitor], runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL) -> dict[str, Any]:
    """A Prometheus rule file holding the groups of `monitors`, as `promtool check rules` reads it."""
    return {"groups": [group for monitor in monitors for group in rule_groups(monitor, runbook_base_url)]}
