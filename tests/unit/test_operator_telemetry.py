"""The operator's own metrics: what a reconcile pass, an API error, a deletion and peering write into
them, how they are served on /metrics, and that they stay bounded and hold no secrets."""

from __future__ import annotations

import asyncio
import copy
import datetime
import re
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_operator_apply import MONITOR, FakeApi, World

from sesmonitor.cli.operator_main import build_parser, settings_from
from sesmonitor.operator import peering
from sesmonitor.operator.kube import KubeApi, KubeError, resource_path
from sesmonitor.operator.metrics_endpoint import serve_metrics
from sesmonitor.operator.reconcile import ReconcileFailed
from sesmonitor.operator.settings import OperatorSettings, SettingsError, from_environment, validate
from sesmonitor.operator.telemetry import (
    ACTIVE,
    INFO,
    KUBERNETES_API_ERRORS_TOTAL,
    LAST_SUCCESSFUL_RECONCILE,
    MONITORS,
    PREFIX,
    RECONCILE_DURATION_SECONDS,
    RECONCILES_TOTAL,
    OperatorTelemetry,
)

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def scrape(telemetry: OperatorTelemetry) -> dict[str, list[tuple[dict[str, str], float]]]:
    """{sample name: [(labels, value)]} of the operator's own families (process_* etc. left out)."""
    from prometheus_client import generate_latest

    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(telemetry.registry).decode()):
        for sample in family.samples:
            if sample.name.startswith(PREFIX):
                out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float | None:
    found = [v for have, v in samples.get(name, []) if labels.items() <= have.items()]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


# -- the pure part -------------------------------------------------------------------------------


def test_a_pass_counts_by_result_and_times_and_a_success_stamps_the_monitor() -> None:
    telemetry = OperatorTelemetry(process_metrics=False)
    telemetry.reconciled("mail", "prod", result="success", reason="Applied", seconds=0.2, now=1000.0)
    telemetry.reconciled("mail", "prod", result="error", reason="Forbidden", seconds=0.03, now=1060.0)
    telemetry.reconciled("mail", "bad", result="refused", reason="InvalidSpec", seconds=0.01, now=1070.0)
    samples = scrape(telemetry)
    assert value(samples, RECONCILES_TOTAL, result="success", reason="Applied") == 1
    assert value(samples, RECONCILES_TOTAL, result="error", reason="Forbidden") == 1
    assert value(samples, RECONCILES_TOTAL, result="refused", reason="InvalidSpec") == 1
    assert value(samples, RECONCILE_DURATION_SECONDS + "_count", result="success") == 1
    assert value(samples, RECONCILE_DURATION_SECONDS + "_bucket", result="success", le="0.25") == 1
    assert value(samples, RECONCILE_DURATION_SECONDS + "_bucket", result="success", le="0.1") == 0
    # Every result's histogram exists from the start.
    assert value(samples, RECONCILE_DURATION_SECONDS + "_count", result="deleted") == 0
    # The failure after the success leaves the success's time; a monitor never reconciled has none.
    assert samples[LAST_SUCCESSFUL_RECONCILE] == [({"sesmonitor": "mail/prod"}, 1000.0)]
    with pytest.raises(ValueError, match="unknown reconcile result"):
        telemetry.reconciled("mail", "prod", result="ok", reason="", seconds=0, now=0)


def test_monitors_are_counted_by_ready_and_stalled_reason_and_go_when_deleted() -> None:
    telemetry = OperatorTelemetry(process_metrics=False)
    ready = {"type": "Ready", "status": "True", "reason": "Monitoring", "message": "fine"}
    for name in ("a", "b"):
        telemetry.observe_conditions("mail", name, [ready, {"type": "BounceRateHealthy", "status": "True"}])
        telemetry.reconciled("mail", name, result="success", reason="Applied", seconds=0.1, now=5.0)
    telemetry.observe_conditions(
        "mail",
        "c",
        [
            {"type": "Ready", "status": "False", "reason": "AWSAccessDenied", "message": "arn:aws:iam::1"},
            {"type": "Stalled", "status": "True", "reason": "AWSAccessDenied", "message": "..."},
        ],
    )
    samples = scrape(telemetry)
    assert sorted(samples[MONITORS], key=str) == sorted(
        [
            ({"condition": "Ready", "status": "True", "reason": "Monitoring"}, 2.0),
            ({"condition": "Ready", "status": "False", "reason": "AWSAccessDenied"}, 1.0),
            ({"condition": "Stalled", "status": "True", "reason": "AWSAccessDenied"}, 1.0),
        ],
        key=str,
    )
    # Conditions not counted and messages (which may carry ARNs) are never labels.
    assert "BounceRateHealthy" not in str(samples)
    assert "arn:aws" not in str(samples)
    telemetry.reconciled("mail", "a", result="deleted", reason="Deleted", seconds=0.0, now=6.0)
    telemetry.forget("mail", "c")
    samples = scrape(telemetry)
    assert samples[MONITORS] == [({"condition": "Ready", "status": "True", "reason": "Monitoring"}, 1.0)]
    assert samples[LAST_SUCCESSFUL_RECONCILE] == [({"sesmonitor": "mail/b"}, 5.0)]


def test_a_paused_replica_reports_no_monitors_until_it_works_again() -> None:
    telemetry = OperatorTelemetry(peering="sesmonitor", process_metrics=False)
    telemetry.reconciled("mail", "prod", result="success", reason="Applied", seconds=0.1, now=5.0)
    assert value(scrape(telemetry), ACTIVE) == 1
    assert value(scrape(telemetry), INFO) == 1
    assert scrape(telemetry)[INFO][0][0] == {"version": "0.1.0", "mode": "peering", "peering": "sesmonitor"}
    telemetry.set_active(False)
    telemetry.reconciled("mail", "prod", result="success", reason="Applied", seconds=0.1, now=6.0)
    samples = scrape(telemetry)
    assert value(samples, ACTIVE) == 0
    assert LAST_SUCCESSFUL_RECONCILE not in samples
    telemetry.set_active(True)
    telemetry.reconciled("mail", "prod", result="success", reason="Applied", seconds=0.1, now=7.0)
    assert scrape(telemetry)[LAST_SUCCESSFUL_RECONCILE] == [({"sesmonitor": "mail/prod"}, 7.0)]
    standalone = scrape(OperatorTelemetry(process_metrics=False))
    assert standalone[INFO][0][0]["mode"] == "standalone"


def test_api_errors_by_operation_and_code() -> None:
    telemetry = OperatorTelemetry(process_metrics=False)
    telemetry.api_error("apply", 403)
    telemetry.api_error("apply", 403)
    telemetry.api_error("get", 0)
    samples = scrape(telemetry)
    assert value(samples, KUBERNETES_API_ERRORS_TOTAL, operation="apply", code="403") == 2
    assert value(samples, KUBERNETES_API_ERRORS_TOTAL, operation="get", code="none") == 1


def test_names_follow_prometheus_conventions_and_labels_are_bounded() -> None:
    telemetry = OperatorTelemetry()
    telemetry.reconciled("mail", "prod", result="success", reason="Applied", seconds=0.1, now=5.0)
    telemetry.observe_conditions(
        "mail", "prod", [{"type": "Ready", "status": "True", "reason": "Monitoring"}]
    )
    telemetry.api_error("get", 500)
    from prometheus_client import generate_latest

    families = list(text_string_to_metric_families(generate_latest(telemetry.registry).decode()))
    # (The operator turns prometheus_client's *_created series off at startup: see runner.run.)
    ours = {f.name: f for f in families if f.name.startswith(PREFIX) and not f.name.endswith("_created")}
    assert set(ours) == {
        RECONCILES_TOTAL.removesuffix("_total"),
        RECONCILE_DURATION_SECONDS,
        KUBERNETES_API_ERRORS_TOTAL.removesuffix("_total"),
        MONITORS,
        LAST_SUCCESSFUL_RECONCILE,
        ACTIVE,
        INFO,
    }
    for family in ours.values():
        assert re.fullmatch(r"sesmonitor_operator_[a-z_]+", family.name)
        assert family.documentation
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram" or "timestamp" in family.name:
            assert family.name.endswith("_seconds")
    labels = {key for f in ours.values() for s in f.samples for key in s.labels}
    assert labels == {"result", "reason", "le", "operation", "code", "condition", "status", "sesmonitor"} | {
        "version",
        "mode",
        "peering",
    }
    # The process' own series come with it (memory, CPU, open files), as from any Prometheus client.
    assert any(f.name == "process_resident_memory_bytes" for f in families)


# -- the reconciler writes them -------------------------------------------------------------------


def test_reconcile_passes_reach_the_metrics() -> None:
    world = World()
    world.now = NOW
    world.reconciler.reconcile("mail", "prod")
    samples = scrape(world.reconciler.telemetry)
    assert value(samples, RECONCILES_TOTAL, result="success", reason="Applied") == 1
    assert samples[LAST_SUCCESSFUL_RECONCILE] == [({"sesmonitor": "mail/prod"}, NOW.timestamp())]
    assert value(samples, MONITORS, condition="Ready", status="True") == 1
    # A failure the cluster must fix: error, with Reconciled's reason; the last success stays.
    world.api.missing_kinds = frozenset({"ServiceMonitor", "PrometheusRule"})
    world.now = NOW + datetime.timedelta(minutes=1)
    with pytest.raises(ReconcileFailed):
        world.reconciler.reconcile("mail", "prod")
    samples = scrape(world.reconciler.telemetry)
    assert value(samples, RECONCILES_TOTAL, result="error", reason="PrometheusOperatorMissing") == 1
    assert samples[LAST_SUCCESSFUL_RECONCILE] == [({"sesmonitor": "mail/prod"}, NOW.timestamp())]
    assert value(samples, MONITORS, condition="Stalled", status="True", reason="PrometheusOperatorMissing")
    # The SesMonitor deleted: its series go.
    world.reconciler.forget("mail", "prod", "uid-1")
    assert world.reconciler.reconcile("mail", "prod").gone
    samples = scrape(world.reconciler.telemetry)
    assert LAST_SUCCESSFUL_RECONCILE not in samples
    assert MONITORS not in samples
    assert value(samples, RECONCILES_TOTAL, result="deleted", reason="Deleted") == 1


def test_a_refused_spec_and_a_failed_read_of_the_monitor() -> None:
    world = World()
    world.api.objects[FakeApi.key(MONITOR)]["spec"] = {"region": "nowhere"}
    with pytest.raises(ReconcileFailed):
        world.reconciler.reconcile("mail", "prod")
    samples = scrape(world.reconciler.telemetry)
    assert value(samples, RECONCILES_TOTAL, result="refused", reason="InvalidSpec") == 1
    assert value(samples, MONITORS, condition="Ready", status="False", reason="InvalidSpec") == 1

    class Unreachable(FakeApi):
        def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
            raise KubeError(0, "ConnectionError", "connection refused")

    world = World()
    world.reconciler.api = Unreachable()
    with pytest.raises(KubeError):
        world.reconciler.reconcile("mail", "prod")
    samples = scrape(world.reconciler.telemetry)
    assert value(samples, RECONCILES_TOTAL, result="error", reason="APIUnavailable") == 1


class FakeApiException(Exception):
    def __init__(self, status: int, body: str) -> None:
        self.status, self.body, self.reason = status, body.encode(), "Error"


class FakeClient:
    """The ApiClient's call_api: answers from a queue of (status, body) or raises an OSError."""

    def __init__(self, answers: list[tuple[int, str] | OSError]) -> None:
        self.answers = answers

    def call_api(self, *_args: Any, **_kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        answer = self.answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        status, body = answer
        if status >= 400:
            exc = ApiException(status=status, reason="Error")
            exc.body = body.encode()
            raise exc

        class Response:
            data = body.encode()

        return Response()


def test_failed_api_calls_are_reported_but_a_get_of_a_missing_object_is_not() -> None:
    reported: list[tuple[str, int]] = []
    forbidden = '{"kind": "Status", "reason": "Forbidden", "message": "no"}'
    missing = '{"kind": "Status", "reason": "NotFound", "message": "x", "details": {"name": "prod"}}'
    client = FakeClient([(404, missing), (403, forbidden), OSError("connection refused"), (200, "{}")])
    api = KubeApi(client, on_error=lambda operation, status: reported.append((operation, status)))
    assert api.get("v1", "ConfigMap", "mail", "prod") is None
    with pytest.raises(KubeError):
        api.apply(copy.deepcopy(MONITOR), "sesmonitor-operator")
    with pytest.raises(KubeError):
        api.patch_status("sesmonitor.io/v1alpha1", "SesMonitor", "mail", "prod", {"a": 1})
    assert api.list_objects("v1", "Pod", "mail", {"a": "b"}) == []
    assert reported == [("apply", 403), ("patch_status", 0)]


def test_peering_objects_have_paths() -> None:
    assert resource_path("kopf.dev/v1", "ClusterKopfPeering", "", "sesmonitor") == (
        "/apis/kopf.dev/v1/clusterkopfpeerings/sesmonitor"
    )
    assert resource_path("kopf.dev/v1", "KopfPeering", "mail", "sesmonitor") == (
        "/apis/kopf.dev/v1/namespaces/mail/kopfpeerings/sesmonitor"
    )


# -- peering -------------------------------------------------------------------------------------


def entry(priority: int, seen: datetime.datetime, lifetime: int = 60) -> dict[str, Any]:
    return {"priority": priority, "lifetime": lifetime, "lastseen": seen.isoformat()}


def test_a_replica_pauses_for_a_live_peer_of_higher_or_equal_priority_as_kopf_does() -> None:
    me, now = "pod-a", NOW
    recent, old = now - datetime.timedelta(seconds=10), now - datetime.timedelta(seconds=90)
    assert peering.replica_active(None, me, 0, now)
    assert peering.replica_active({me: entry(0, recent)}, me, 0, now)
    assert peering.replica_active({me: entry(5, recent), "pod-b": entry(1, recent)}, me, 5, now)
    assert not peering.replica_active({"pod-b": entry(10, recent)}, me, 5, now)
    assert not peering.replica_active({"pod-b": entry(5, recent)}, me, 5, now)  # kopf pauses both
    assert peering.replica_active({"pod-b": entry(10, old)}, me, 5, now)  # dead
    assert not peering.replica_active({"pod-b": entry(10, old, lifetime=120)}, me, 5, now)


def test_replicas_of_one_priority_get_distinct_ones_and_the_oldest_works() -> None:
    """Every replica of a Deployment has the chart's one priority; kopf pauses all of a shared one."""
    started = NOW.timestamp()
    first, second = peering.replica_priority(0, started), peering.replica_priority(0, started + 0.004)
    assert first > second  # the replica that started first keeps working
    status = {"pod-a": entry(first, NOW), "pod-b": entry(second, NOW)}
    assert peering.replica_active(status, "pod-a", first, NOW)
    assert not peering.replica_active(status, "pod-b", second, NOW)
    # A higher configured priority wins whenever it started; a lower one never does.
    assert (
        peering.replica_priority(1, started + 10**6) > first > peering.replica_priority(-1, started - 10**6)
    )
    extreme = peering.MAX_CONFIGURED_PRIORITY
    for configured in (extreme, -extreme):
        value = peering.replica_priority(configured, started)
        assert abs(value) < 2**53  # exact as a JSON number everywhere
        assert int(float(value)) == value
    with pytest.raises(ValueError, match="outside"):
        peering.replica_priority(extreme + 1, started)


def test_the_priority_flag_refuses_what_cannot_be_kept_exact(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["--peering", "sesmonitor", "--priority", "-800"])
    assert settings_from(args, OperatorSettings()).peering_priority == -800
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--priority", "801"])
    assert "801 is outside -800..800" in capsys.readouterr().err


def test_observe_reports_each_reading_and_keeps_the_state_when_a_read_fails() -> None:
    reports: list[bool] = []
    answers: list[Any] = [
        [{"status": {"pod-b": entry(9, NOW)}}],
        RuntimeError("403"),
        [{"status": {}}, None],
    ]

    def read() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def run() -> None:
        task = asyncio.create_task(
            peering.observe(read, "pod-a", 0, reports.append, interval=0, clock=lambda: NOW)
        )
        while answers:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert reports[:2] == [False, True]


# -- serving -------------------------------------------------------------------------------------


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def test_metrics_are_served_to_ipv4_and_ipv6_clients() -> None:
    telemetry = OperatorTelemetry()
    telemetry.reconciled("mail", "prod", result="success", reason="Applied", seconds=0.1, now=5.0)

    async def scrape_twice() -> list[tuple[int, str, str]]:
        async with serve_metrics("http://[::]:0/metrics", telemetry.registry) as (host, port):
            assert host == "::"
            urls = [f"http://127.0.0.1:{port}/metrics", f"http://[::1]:{port}/metrics"]
            return [await asyncio.to_thread(fetch, url) for url in urls]

    for status, content_type, body in asyncio.run(scrape_twice()):
        assert status == 200
        assert content_type.startswith("text/plain; version=")
        assert 'sesmonitor_operator_reconciles_total{reason="Applied",result="success"} 1.0' in body
        assert (
            'sesmonitor_operator_last_successful_reconcile_timestamp_seconds{sesmonitor="mail/prod"}' in body
        )


def test_the_metrics_endpoint_comes_from_a_flag_or_the_environment_and_is_checked() -> None:
    assert from_environment({"SESMONITOR_METRICS": "http://[::]:8081/metrics"}).metrics_endpoint == (
        "http://[::]:8081/metrics"
    )
    assert from_environment({}).metrics_endpoint is None
    args = build_parser().parse_args(["--metrics", "http://[::]:9000/metrics"])
    assert settings_from(args, OperatorSettings()).metrics_endpoint == "http://[::]:9000/metrics"
    with pytest.raises(SettingsError, match="metrics endpoint"):
        validate(OperatorSettings(metrics_endpoint="http://[::]/metrics"))
    with pytest.raises(SettingsError, match="both ask for port 8080"):
        validate(
            OperatorSettings(
                liveness_endpoint="http://[::]:8080/healthz", metrics_endpoint="http://[::]:8080/metrics"
            )
        )
