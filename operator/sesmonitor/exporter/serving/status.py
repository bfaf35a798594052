"""The `/status` document (`sesmonitor.contract.ExporterStatus`) from the cached state. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sesmonitor import contract, metrics
from sesmonitor.exporter.model.events import ServiceEventSeen, empty_breakdown
from sesmonitor.exporter.model.protection import ProtectionView
from sesmonitor.exporter.model.series import ACCOUNT, SeriesKey
from sesmonitor.exporter.model.snapshot import SeriesSnapshot
from sesmonitor.exporter.model.state import StateView
from sesmonitor.exporter.serving.finding_status import findings_status
from sesmonitor.exporter.serving.tenant_status import tenants_status


def rfc3339(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def rate_status(snap: SeriesSnapshot | None, now: float) -> contract.RateStatus:
    if snap is None:
        return contract.empty_rate()
    age = snap.age_seconds(now)
    return contract.RateStatus(
        current=snap.value,
        window_average=snap.window_average,
        timestamp=rfc3339(snap.timestamp),
        age_seconds=round(age, 3) if age is not None else None,
        no_data_reason=snap.no_data_reason if snap.value is None else None,
    )


def _rates(view: StateView, scope: str, now: float) -> dict[str, contract.RateStatus]:
    series = view.series or {}
    return {
        "bounce_rate": rate_status(series.get(SeriesKey(metrics.BOUNCE_RATE.aws_name, scope)), now),
        "complaint_rate": rate_status(series.get(SeriesKey(metrics.COMPLAINT_RATE.aws_name, scope)), now),
    }


def counts_without_data(view: StateView, count_sets: Sequence[str]) -> dict[str, list[str]]:
    """Each opted-in set's count metrics that never had a datapoint since the exporter started."""
    if view.series is None:
        return {}
    out = {}
    for name in count_sets:
        missing = [
            m.aws_name for m in metrics.COUNT_METRICS if SeriesKey(m.aws_name, name) not in view.counts_seen
        ]
        if missing:
            out[name] = missing
    return out


def events_status(view: StateView, queue_url: str) -> contract.EventsStatus:
    events = view.events
    counts = events.counts
    return contract.EventsStatus(
        queue_url=queue_url,
        messages={o: (counts.messages.get(o, 0) if counts else 0) for o in metrics.EVENTS_MESSAGE_OUTCOMES},
        queue_visible=events.queue_visible,
        queue_in_flight=events.queue_in_flight,
        oldest_received_age_seconds=events.oldest_received_age,
        last_hour=counts.last_hour if counts else empty_breakdown(),
        loop_restarts=events.loop_restarts,
        redrive_policy_read=events.redrive is not None,
        dead_letter_queue=events.redrive.dead_letter_target_arn if events.redrive else None,
        max_receive_count=events.redrive.max_receive_count if events.redrive else None,
        service_events={
            kind: service_event_status(seen)
            for kind, seen in sorted((counts.last_service_events if counts else {}).items())
        },
    )


def service_event_status(seen: ServiceEventSeen) -> contract.ServiceEventStatus:
    event = seen.event
    return contract.ServiceEventStatus(
        detail_type=event.detail_type,
        resource=event.resource_arn,
        tenant=event.tenant_name,
        status=event.status,
        origin=event.origin,
        cause=event.cause,
        type=event.finding_type,
        impact=event.impact,
        time=rfc3339(event.time),
        received=rfc3339(seen.received) or "",
        outcome=seen.outcome,
    )


def build_status(
    view: StateView,
    monitor: str,
    region: str,
    configuration_sets: Sequence[str],
    now: float,
    *,
    count_sets: Sequence[str] = (),
    events_queue_url: str | None = None,
    protection: ProtectionView | None = None,
    tenants: contract.TenantsConfig | None = None,
    findings: contract.FindingsConfig | None = None,
) -> contract.ExporterStatus:
    account = contract.empty_account()
    if view.account is not None:
        a = view.account
        account = contract.AccountStatus(
            enforcement_status=a.enforcement_status,
            sending_enabled=a.sending_enabled,
            production_access_enabled=a.production_access_enabled,
            max_24_hour_send=a.max_24_hour_send,
            sent_last_24_hours=a.sent_last_24_hours,
            max_send_rate=a.max_send_rate,
            suppressed_reasons=list(a.suppressed_reasons) if a.suppressed_reasons is not None else None,
            review_status=a.review_status,
            review_case_id=a.review_case_id,
            vdm_enabled=a.vdm_enabled,
        )
    account_rates = _rates(view, ACCOUNT, now)
    apis = {
        name: contract.ApiHealth(
            last_success_time=rfc3339(api.last_success),
            consecutive_failures=api.consecutive_failures,
            stale=view.stale(name, now),
            last_error=api.last_error,
            last_error_time=rfc3339(api.last_error_time),
            last_error_code=api.last_error_code,
            last_error_kind=api.last_error_kind,
        )
        for name, api in view.apis.items()
    }
    return contract.ExporterStatus(
        monitor=monitor,
        region=region,
        ready=view.ready(now),
        stale=view.any_stale(now),
        bounce_rate=account_rates["bounce_rate"],
        complaint_rate=account_rates["complaint_rate"],
        account=account,
        last_refresh_time=rfc3339(view.last_full_refresh),
        last_error=view.last_error(),
        configuration_sets={name: _rates(view, name, now) for name in configuration_sets},
        apis=apis,
        counts_without_data=counts_without_data(view, count_sets),
        events=events_status(view, events_queue_url) if events_queue_url else None,
        protection=protection.status(now) if protection is not None else {},
        protection_tenants=protection.tenant_status(now) if protection is not None else {},
        tenants=tenants_status(view.tenants, tenants) if tenants is not None else None,
        findings=findings_status(view.findings, findings) if findings is not None else None,
        configuration_sets_missing=list(view.missing_configuration_sets),
    )
