"""A prometheus_client Collector that turns the cached state into metric families.

It reads only the `StateView`: a scrape never calls AWS, whatever the scrape rate. Every series carries
the labels `sesmonitor` (the monitor) and `region`; CloudWatch series add `configuration_set` ("" for the
account-wide series, which Prometheus treats as no label).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sesmonitor import metrics
from sesmonitor.exporter.model.protection import ProtectionStep, rfc3339
from sesmonitor.exporter.model.record import CLAIMS_PAUSE, describe_record
from sesmonitor.exporter.model.series import SeriesKey
from sesmonitor.exporter.model.snapshot import NOT_REFRESHED, SeriesSnapshot
from sesmonitor.exporter.model.state import ExporterState, StateView

BASE_LABELS = (metrics.LABEL_MONITOR, metrics.LABEL_REGION)
SERIES_LABELS = (*BASE_LABELS, metrics.LABEL_CONFIGURATION_SET)
DATAPOINT_LABELS = (*BASE_LABELS, metrics.LABEL_METRIC, metrics.LABEL_CONFIGURATION_SET)


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


class ExporterCollector(Collector):
    def __init__(
        self,
        state: ExporterState,
        monitor: str,
        region: str,
        series_keys: Sequence[SeriesKey],
        clock: Callable[[], float] = time.time,
        *,
        protector: ProtectionStep | None = None,
        request_apis: Sequence[str] = (),
    ) -> None:
        self._state = state
        self._protector = protector
        # APIs counted in sesmonitor_aws_requests_total beside those with a health of their own (the
        # tenants room's calls, read on a schedule of their own)
        self._request_apis = tuple(request_apis)
        self._monitor = monitor
        self._base = [monitor, region]
        self._keys = list(series_keys)
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        view = self._state.view()
        now = self._clock()
        yield from self._cloudwatch(view, now)
        yield from self._account(view)
        yield from self._sending(view)
        yield from self._health(view, now)

    def _snapshots(self, view: StateView) -> list[tuple[SeriesKey, SeriesSnapshot]]:
        if view.series is None:
            return [(key, NOT_REFRESHED) for key in self._keys]
        return [(key, view.series.get(key, NOT_REFRESHED)) for key in self._keys]

    def _cloudwatch(self, view: StateView, now: float) -> Iterator[Metric]:
        snapshots = self._snapshots(view)
        for metric in metrics.CLOUDWATCH_METRICS:
            family = GaugeMetricFamily(
                metric.prometheus_name,
                metric.help + " Newest datapoint within the lookback.",
                labels=SERIES_LABELS,
            )
            for key, snap in snapshots:
                if key.metric == metric.aws_name and snap.value is not None:
                    family.add_metric([*self._base, key.configuration_set], snap.value)
            yield family
        for metric in metrics.COUNT_METRICS:
            counter = CounterMetricFamily(
                metrics.counter_name(metric),
                metric.help + " Sum of every period since the exporter started, added once settled.",
                labels=SERIES_LABELS,
            )
            for key in self._keys:
                counted = view.counters.get(key) if key.metric == metric.aws_name else None
                if counted is not None:
                    counter.add_metric([*self._base, key.configuration_set], counted.total)
            yield counter
        for metric in metrics.WINDOW_AVERAGE_METRICS:
            family = GaugeMetricFamily(
                metrics.window_average_name(metric),
                f"Mean of the {metric.aws_name} datapoints within the configured window.",
                labels=SERIES_LABELS,
            )
            for key, snap in snapshots:
                if key.metric == metric.aws_name and snap.window_average is not None:
                    family.add_metric([*self._base, key.configuration_set], snap.window_average)
            yield family
        age = GaugeMetricFamily(
            metrics.DATAPOINT_AGE_SECONDS,
            "Seconds since the newest datapoint behind a CloudWatch series (its period's start).",
            labels=DATAPOINT_LABELS,
        )
        stamp = GaugeMetricFamily(
            metrics.DATAPOINT_TIMESTAMP_SECONDS,
            "Unix time of the newest datapoint behind a CloudWatch series (its period's start).",
            labels=DATAPOINT_LABELS,
        )
        no_data = GaugeMetricFamily(
            metrics.NO_DATA,
            "1 for a CloudWatch series that is absent, with the reason; no sample while it has data.",
            labels=(*DATAPOINT_LABELS, metrics.LABEL_REASON),
        )
        for key, snap in snapshots:
            labels = [*self._base, key.metric, key.configuration_set]
            snap_age = snap.age_seconds(now)
            if snap.timestamp is not None and snap_age is not None:
                age.add_metric(labels, snap_age)
                stamp.add_metric(labels, snap.timestamp)
            elif snap.no_data_reason:
                no_data.add_metric([*labels, snap.no_data_reason], 1.0)
        yield age
        yield stamp
        yield no_data

    def _account(self, view: StateView) -> Iterator[Metric]:
        account = view.account
        status = GaugeMetricFamily(
            metrics.ENFORCEMENT_STATUS,
            "SES account enforcement status from SESv2 GetAccount: 1 for the current one.",
            labels=(*BASE_LABELS, metrics.LABEL_STATUS),
        )
        gauges = [
            (metrics.SENDING_ENABLED, "1 when SES sending is enabled for the account.", "sending_enabled"),
            (
                metrics.PRODUCTION_ACCESS_ENABLED,
                "1 when the account is out of the SES sandbox.",
                "production_access_enabled",
            ),
            (metrics.QUOTA_MAX_24H_SEND, "Emails the account may send in 24 hours.", "max_24_hour_send"),
            (metrics.QUOTA_MAX_SEND_RATE, "Emails the account may send per second.", "max_send_rate"),
            (metrics.QUOTA_SENT_LAST_24H, "Emails sent in the last 24 hours.", "sent_last_24_hours"),
        ]
        families = [GaugeMetricFamily(name, help_, labels=BASE_LABELS) for name, help_, _ in gauges]
        if account is not None:
            if account.enforcement_status is not None:
                known = list(metrics.ENFORCEMENT_STATUSES)
                if account.enforcement_status not in known:
                    known.append(account.enforcement_status)
                for value in known:
                    status.add_metric([*self._base, value], _flag(value == account.enforcement_status))
            for family, (_, _, attr) in zip(families, gauges, strict=True):
                value = getattr(account, attr)
                if value is not None:
                    family.add_metric(self._base, float(value))
        yield status
        yield from families
        yield from self._account_settings(view)

    def _account_settings(self, view: StateView) -> Iterator[Metric]:
        """The suppression list, the review's appeal case and VDM, from the same GetAccount."""
        account = view.account
        suppression = GaugeMetricFamily(
            metrics.SUPPRESSION_LIST_ENABLED,
            "1 while the account-level suppression list adds bouncing or complaining addresses.",
            labels=BASE_LABELS,
        )
        review = GaugeMetricFamily(
            metrics.REVIEW_INFO,
            "1 while the account has a review (Details.ReviewDetails): its status and appeal case.",
            labels=(*BASE_LABELS, metrics.LABEL_REVIEW_STATUS, metrics.LABEL_CASE_ID),
        )
        vdm = GaugeMetricFamily(
            metrics.VDM_ENABLED, "1 with Virtual Deliverability Manager enabled.", labels=BASE_LABELS
        )
        if account is not None:
            if account.suppressed_reasons is not None:
                suppression.add_metric(self._base, _flag(bool(account.suppressed_reasons)))
            if account.review_status is not None or account.review_case_id is not None:
                review.add_metric(
                    [*self._base, account.review_status or "", account.review_case_id or ""], 1.0
                )
            if account.vdm_enabled is not None:
                vdm.add_metric(self._base, _flag(account.vdm_enabled))
        yield suppression
        yield review
        yield vdm

    def _sending(self, view: StateView) -> Iterator[Metric]:
        """Each listed set's sending switch; for a paused one who paused it; spec.protection's calls."""
        enabled = GaugeMetricFamily(
            metrics.CONFIGURATION_SET_SENDING_ENABLED,
            "1 when SES lets the configuration set send (SESv2 GetConfigurationSet SendingOptions).",
            labels=SERIES_LABELS,
        )
        info = GaugeMetricFamily(
            metrics.CONFIGURATION_SET_PAUSED_INFO,
            "1 for a configuration set whose sending is disabled: who paused it, when, and why.",
            labels=(*SERIES_LABELS, metrics.LABEL_PAUSED_BY, metrics.LABEL_PAUSED_AT, metrics.LABEL_REASON),
        )
        protection = self._protector.view() if self._protector is not None else None
        sets = {one.name: one for one in protection.sets} if protection else {}
        for name, on in view.sending_enabled.items():
            if on is None:
                continue
            enabled.add_metric([*self._base, name], _flag(on))
            if on:
                continue
            one = sets.get(name)
            record = one.record if one is not None else None
            labels = [metrics.PAUSED_BY_UNKNOWN, "", ""]
            if one is not None and one.ours and record is not None and record.state in CLAIMS_PAUSE:
                labels = [metrics.PAUSED_BY_SESMONITOR, rfc3339(record.at), describe_record(record)]
            info.add_metric([*self._base, name, *labels], 1.0)
        yield enabled
        yield info
        missing = GaugeMetricFamily(
            metrics.CONFIGURATION_SET_MISSING,
            "1 for a listed configuration set SES says does not exist (GetConfigurationSet"
            " NotFoundException), 0 for one it found.",
            labels=SERIES_LABELS,
        )
        for name, read in sorted(view.configuration_set_reads.items()):
            if read.ok or read.missing:
                missing.add_metric([*self._base, name], _flag(read.missing))
        yield missing
        target = (*SERIES_LABELS, metrics.LABEL_TENANT, metrics.LABEL_TARGET_KIND)
        actions = CounterMetricFamily(
            metrics.PROTECTION_ACTIONS_TOTAL,
            "spec.protection's calls by target (a configuration set or a tenant), action and outcome"
            " (would_pause writes nothing).",
            labels=(*target, metrics.LABEL_ACTION, metrics.LABEL_OUTCOME),
        )
        failed = GaugeMetricFamily(
            metrics.PROTECTION_ACTION_FAILED,
            "1 while spec.protection's last call for the target (a configuration set or a tenant) failed.",
            labels=(*target, metrics.LABEL_ACTION, metrics.LABEL_CODE),
        )
        if protection is not None:
            kinds = (
                (metrics.TARGET_CONFIGURATION_SET, protection.actions, protection.sets),
                (metrics.TARGET_TENANT, protection.tenant_actions, protection.tenants),
            )
            for kind, counts, targets in kinds:
                for (name, action, outcome), count in sorted(counts.items()):
                    where = _target_labels(kind, name)
                    actions.add_metric([*self._base, *where, action, outcome], float(count))
                for one in targets:
                    if one.failure is not None:
                        where = _target_labels(kind, one.name)
                        failed.add_metric([*self._base, *where, one.failure.action, one.failure.code], 1.0)
        yield actions
        yield failed

    def _health(self, view: StateView, now: float) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            metrics.AWS_REQUESTS_TOTAL,
            "HTTP requests sent to AWS by API and outcome, botocore retries included.",
            labels=(*BASE_LABELS, metrics.LABEL_API, metrics.LABEL_OUTCOME),
        )
        outcomes = list(metrics.OUTCOMES) + sorted(
            {o for (_, o) in view.requests if o not in metrics.OUTCOMES}
        )
        for api in (*view.apis, *self._request_apis):
            for outcome in outcomes:
                requests.add_metric([*self._base, api, outcome], float(view.requests.get((api, outcome), 0)))
        yield requests
        billed = CounterMetricFamily(
            metrics.CLOUDWATCH_METRICS_REQUESTED_TOTAL,
            "CloudWatch metrics requested through GetMetricData: the unit AWS bills.",
            labels=BASE_LABELS,
        )
        billed.add_metric(self._base, float(view.metrics_requested))
        yield billed
        duration = GaugeMetricFamily(
            metrics.REFRESH_DURATION_SECONDS, "Wall time of the last refresh pass.", labels=BASE_LABELS
        )
        if view.refresh_duration is not None:
            duration.add_metric(self._base, view.refresh_duration)
        yield duration
        last_success = GaugeMetricFamily(
            metrics.LAST_SUCCESS_TIMESTAMP_SECONDS,
            "Unix time of the API's last successful read.",
            labels=(*BASE_LABELS, metrics.LABEL_API),
        )
        failures = GaugeMetricFamily(
            metrics.CONSECUTIVE_FAILURES,
            "Failed reads of the API since its last success.",
            labels=(*BASE_LABELS, metrics.LABEL_API),
        )
        stale = GaugeMetricFamily(
            metrics.STALE,
            "1 while the API's served values are not from its latest refresh.",
            labels=(*BASE_LABELS, metrics.LABEL_API),
        )
        for api, health in view.apis.items():
            if health.last_success is not None:
                last_success.add_metric([*self._base, api], health.last_success)
            failures.add_metric([*self._base, api], float(health.consecutive_failures))
            stale.add_metric([*self._base, api], _flag(view.stale(api, now)))
        yield last_success
        yield failures
        yield stale


def _target_labels(kind: str, name: str) -> list[str]:
    """configuration_set, tenant and target_kind of a protected target: its name under its kind's label."""
    if kind == metrics.TARGET_TENANT:
        return ["", name, kind]
    return [name, "", kind]
