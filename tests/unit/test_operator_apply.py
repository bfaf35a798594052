"""Applying children and one reconcile pass, against an in-memory API server; settings and CLI parsing."""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

import pytest

from sesmonitor.api import load
from sesmonitor.contract import ExporterStatus
from sesmonitor.operator.apply import (
    RENDERED_HASH_ANNOTATION,
    OwnerReference,
    apply_children,
    differences,
    parse_quantity,
    prepare,
)
from sesmonitor.operator.exporter_client import parse_status
from sesmonitor.operator.kube import KubeError, resource_path
from sesmonitor.operator.reconcile import ReconcileFailed, Reconciler, backoff, outcome_of
from sesmonitor.operator.settings import (
    OperatorSettings,
    SettingsError,
    from_environment,
    validate,
)
from sesmonitor.operator.shapes import ExporterReading
from sesmonitor.render import RenderDefaults, render_all
from support.exporter_documents import exporter_status
from support.monitors import monitor_document

MONITOR = monitor_document(region="eu-west-1", uid="uid-1", generation=1)
OWNER = OwnerReference("sesmonitor.io/v1alpha1", "SesMonitor", "prod", "uid-1")


def server_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """What an API server adds to a stored object (a few representative defaults)."""
    obj = copy.deepcopy(obj)
    meta = obj["metadata"]
    meta.setdefault("uid", f"uid-{obj['kind']}")
    meta["resourceVersion"] = str(int(meta.get("resourceVersion", "0")) + 1)
    meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
    meta["managedFields"] = [{"manager": "sesmonitor-operator", "operation": "Apply"}]
    if obj["kind"] == "Service":
        obj["spec"].setdefault("clusterIP", "10.0.0.17")
        obj["spec"].setdefault("type", "ClusterIP")
        for port in obj["spec"]["ports"]:
            port.setdefault("protocol", "TCP")
    if obj["kind"] == "Deployment":
        obj["spec"].setdefault("progressDeadlineSeconds", 600)
        pod = obj["spec"]["template"]["spec"]
        pod.setdefault("dnsPolicy", "ClusterFirst")
        for container in pod["containers"]:
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            resources = container.get("resources", {})
            for group in resources.values():
                for key, value in list(group.items()):
                    group[key] = str(value)
        # A Deployment controller that rolls out at once (test_reconcile_a_rollout_is_reconciling
        # holds one back).
        replicas = obj["spec"].get("replicas", 1)
        obj["status"] = {"replicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas}
    return obj


class FakeApi:
    def __init__(self, missing_kinds: frozenset[str] = frozenset()) -> None:
        self.objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str]] = []
        self.reads = 0
        self.lists: list[tuple[str, str, dict[str, str]]] = []
        self.missing_kinds = missing_kinds
        self.apply_errors: dict[str, KubeError] = {}  # kind -> what applying it raises
        self.status_errors: list[KubeError] = []  # what the next status writes raise, in turn
        self.managers: list[tuple[str, str, str]] = []  # (kind, name, field manager) of each apply
        # Server-side apply's ownership, as far as the tests need it: the ConfigMap data keys each
        # field manager applied; an apply leaves the keys other managers own alone.
        self.owned: dict[tuple[tuple[str, str, str, str], str], set[str]] = {}

    @staticmethod
    def key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
        meta = obj["metadata"]
        return (obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])

    def _check_type(self, kind: str) -> None:
        if kind in self.missing_kinds:
            raise KubeError(
                404, "NotFound", "the server could not find the requested resource", type_missing=True
            )

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.reads += 1
        self._check_type(kind)
        found = self.objects.get((api_version, kind, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def list_objects(
        self, api_version: str, kind: str, namespace: str, selector: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        self.reads += 1
        self.lists.append((kind, namespace, dict(selector)))
        return [
            copy.deepcopy(obj)
            for (version, k, ns, _), obj in sorted(self.objects.items())
            if (version, k, ns) == (api_version, kind, namespace)
            and selector.items() <= obj["metadata"].get("labels", {}).items()
        ]

    def apply(self, obj: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        self._check_type(obj["kind"])
        if obj["kind"] in self.apply_errors:
            raise self.apply_errors[obj["kind"]]
        self.writes.append(("apply", obj["kind"], obj["metadata"]["name"]))
        self.managers.append((obj["kind"], obj["metadata"]["name"], field_manager))
        existing = self.objects.get(self.key(obj))
        stored = copy.deepcopy(dict(obj))
        if existing is not None:
            stored["metadata"]["uid"] = existing["metadata"]["uid"]
            stored["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            if obj["kind"] == "ConfigMap":
                self._merge_managers(stored, existing, field_manager)
        if obj["kind"] == "ConfigMap":
            self.owned[(self.key(obj), field_manager)] = set(obj.get("data") or {})
        self.objects[self.key(obj)] = server_defaults(stored)
        return copy.deepcopy(self.objects[self.key(obj)])

    def _merge_managers(self, stored: dict[str, Any], existing: Mapping[str, Any], manager: str) -> None:
        """Keep what other field managers set: data keys this one never applied, and metadata it omits."""
        mine = self.owned.get((self.key(stored), manager), set())
        kept = {k: v for k, v in (existing.get("data") or {}).items() if k not in mine}
        stored["data"] = {**kept, **(stored.get("data") or {})}
        for key in ("labels", "annotations", "ownerReferences"):
            if key not in stored["metadata"] and key in existing["metadata"]:
                stored["metadata"][key] = copy.deepcopy(existing["metadata"][key])

    def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        if self.status_errors:
            raise self.status_errors.pop(0)
        self.writes.append(("status", kind, name))
        obj = self.objects[(api_version, kind, namespace, name)]
        current = obj.setdefault("status", {})
        for key, value in status.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = copy.deepcopy(value)
        return copy.deepcopy(obj)


def children() -> list[dict[str, Any]]:
    return render_all(load(MONITOR), RenderDefaults())


# --------------------------------------------------------------------------------------------------
# differences()
# --------------------------------------------------------------------------------------------------


def live_copy(obj: dict[str, Any]) -> dict[str, Any]:
    return server_defaults(copy.deepcopy(obj))


@pytest.mark.parametrize("index", range(5))
def test_live_object_with_server_defaults_does_not_differ(index: int) -> None:
    desired = prepare(children()[index], OWNER)
    assert differences(desired, live_copy(desired)) == []


def test_quantities_compare_by_value() -> None:
    assert parse_quantity("1") == parse_quantity("1000m") == parse_quantity(1)
    assert parse_quantity("64Mi") == 64 * 2**20
    assert parse_quantity("1e3") == 1000
    assert parse_quantity("abc") is None
    desired = {"spec": {"resources": {"limits": {"cpu": 1, "memory": "0.5Gi"}}}}
    live = {"spec": {"resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}}}}
    assert differences(desired, live) == []
    # Outside resources a string is a string.
    assert differences({"data": {"a": "1000m"}}, {"data": {"a": "1"}}) == ["data.a"]


def test_changed_missing_and_extra_fields() -> None:
    desired = prepare(children()[4], OWNER)  # PrometheusRule
    live = live_copy(desired)
    live["spec"]["groups"][0]["rules"][0]["expr"] = "vector(0)"
    assert differences(desired, live) == [
        f"spec.groups[{desired['spec']['groups'][0]['name']}].rules[0].expr"
    ]
    live = live_copy(desired)
    del live["metadata"]["labels"]["app.kubernetes.io/part-of"]
    assert differences(desired, live) == ["metadata.labels.app.kubernetes.io/part-of"]
    live = live_copy(desired)
    live["metadata"]["labels"]["someone-else"] = "added"
    live["metadata"]["annotations"]["note"] = "hand-written"
    assert differences(desired, live) == []
    live = live_copy(desired)
    live["spec"]["groups"][0]["rules"].append({"alert": "Extra", "expr": "vector(1)"})
    assert differences(desired, live) == [f"spec.groups[{desired['spec']['groups'][0]['name']}].rules"]


def test_named_items_others_added_are_left_alone() -> None:
    desired = prepare(children()[1], OWNER)  # Deployment
    live = live_copy(desired)
    pod = live["spec"]["template"]["spec"]
    pod["containers"].append({"name": "injected-sidecar", "image": "proxy"})
    assert differences(desired, live) == []
    pod["containers"] = [c for c in pod["containers"] if c["name"] == "injected-sidecar"]
    assert differences(desired, live) == ["spec.template.spec.containers[exporter]"]


def test_owner_references_of_others_are_tolerated_ours_required() -> None:
    desired = prepare(children()[0], OWNER)
    live = live_copy(desired)
    live["metadata"]["ownerReferences"].append(
        {"apiVersion": "v1", "kind": "Other", "name": "x", "uid": "u2"}
    )
    assert differences(desired, live) == []
    live["metadata"]["ownerReferences"] = live["metadata"]["ownerReferences"][1:]
    assert differences(desired, live) == ["metadata.ownerReferences[uid-1]"]


def test_rendered_hash_catches_fields_no_longer_rendered() -> None:
    monitor = copy.deepcopy(MONITOR)
    monitor["spec"]["prometheus"] = {"serviceMonitorLabels": {"release": "kps"}}
    old = prepare(render_all(load(monitor), RenderDefaults())[3], OWNER)
    new = prepare(children()[3], OWNER)
    # The old live object contains everything the new one renders, except the hash.
    assert differences(new, live_copy(old)) == [f"metadata.annotations.{RENDERED_HASH_ANNOTATION}"]


def test_prepare_adds_owner_and_hash_without_touching_the_input() -> None:
    child = children()[2]
    before = copy.deepcopy(child)
    desired = prepare(child, OWNER)
    assert child == before
    assert desired["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "sesmonitor.io/v1alpha1",
            "kind": "SesMonitor",
            "name": "prod",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert len(desired["metadata"]["annotations"][RENDERED_HASH_ANNOTATION]) == 20
    assert prepare(child, OWNER) == desired


# --------------------------------------------------------------------------------------------------
# apply_children()
# --------------------------------------------------------------------------------------------------


def test_apply_creates_then_writes_nothing() -> None:
    api = FakeApi()
    report = apply_children(api, children(), OWNER, "sesmonitor-operator")
    assert len(report.created) == 5
    assert len(api.writes) == 5
    report = apply_children(api, children(), OWNER, "sesmonitor-operator")
    assert report.writes == 0
    assert len(report.unchanged) == 5
    assert len(api.writes) == 5


def test_apply_restores_deleted_and_edited_children() -> None:
    api = FakeApi()
    apply_children(api, children(), OWNER, "m")
    cm_key = next(k for k in api.objects if k[1] == "ConfigMap")
    del api.objects[cm_key]
    svc_key = next(k for k in api.objects if k[1] == "Service")
    api.objects[svc_key]["spec"]["ports"][0]["port"] = 1234
    report = apply_children(api, children(), OWNER, "m")
    assert report.created == ["ConfigMap sesmon-prod"]
    assert [u.split(" (")[0] for u in report.updated] == ["Service sesmon-prod"]
    assert len(api.writes) == 7


class PruningApi(FakeApi):
    """An API server whose PrometheusRule CRD predates keep_firing_for: it prunes it from every write."""

    def apply(self, obj: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        obj = copy.deepcopy(dict(obj))
        if obj["kind"] == "PrometheusRule":
            for group in obj["spec"]["groups"]:
                for rule in group["rules"]:
                    rule.pop("keep_firing_for", None)
        return super().apply(obj, field_manager)


def test_a_crd_that_prunes_keep_firing_for_is_applied_once_and_reported() -> None:
    """Detect the pruned field, say so in Reconciled's message, and never re-apply on its account;
    a hand edit of another field of the rule is still repaired."""
    api = PruningApi()
    first = apply_children(api, children(), OWNER, "m")
    assert len(api.writes) == 5
    assert first.pruned == [
        "PrometheusRule sesmon-prod: keep_firing_for dropped by the installed CRD (4 fields)"
    ]
    for _ in range(3):
        again = apply_children(api, children(), OWNER, "m")
        assert again.writes == 0
        assert again.pruned == first.pruned
    assert len(api.writes) == 5
    outcome = outcome_of(again)
    assert outcome.ok
    assert "keep_firing_for" in outcome.message
    assert "v0.69" in outcome.message
    rule_key = next(k for k in api.objects if k[1] == "PrometheusRule")
    api.objects[rule_key]["spec"]["groups"][0]["rules"][0]["for"] = "1h"
    repaired = apply_children(api, children(), OWNER, "m")
    assert [u.split(" (")[0] for u in repaired.updated] == ["PrometheusRule sesmon-prod"]
    assert len(api.writes) == 6


def test_missing_prometheus_operator_types_do_not_stop_the_exporter() -> None:
    api = FakeApi(missing_kinds=frozenset({"ServiceMonitor", "PrometheusRule"}))
    report = apply_children(api, children(), OWNER, "m")
    assert [label.split()[0] for label in report.created] == ["ConfigMap", "Deployment", "Service"]
    assert [f.kind for f in report.failed] == ["ServiceMonitor", "PrometheusRule"]


# --------------------------------------------------------------------------------------------------
# Reconciler
# --------------------------------------------------------------------------------------------------


def exporter_doc(bounce: float | None = 0.01) -> ExporterStatus:
    return exporter_status("mail/prod", bounce=bounce, complaint=0.0001)


class World:
    def __init__(self, missing_kinds: frozenset[str] = frozenset()) -> None:
        self.api = FakeApi(missing_kinds)
        self.api.objects[FakeApi.key(MONITOR)] = copy.deepcopy(MONITOR)
        self.events: list[tuple[str, str, str]] = []
        self.fetched: list[str] = []
        self.doc: ExporterStatus | None = exporter_doc()
        self.now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        self.reconciler = Reconciler(
            api=self.api,
            settings=OperatorSettings(exporter_url_template="http://127.0.0.1:1/{namespace}/{name}"),
            post=lambda obj, type_, reason, message: self.events.append((type_, reason, message)),
            fetch=self.fetch,
            clock=lambda: self.now,
        )

    def fetch(self, url: str, timeout: float) -> ExporterReading:
        self.fetched.append(url)
        if self.doc is None:
            return ExporterReading(error="connection refused", url=url)
        return ExporterReading(status=self.doc, url=url)

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.api.objects[FakeApi.key(MONITOR)]["status"]
        return status


def test_reconcile_twice_writes_once() -> None:
    world = World()
    result = world.reconciler.reconcile("mail", "prod")
    assert result.report is not None
    assert len(result.report.created) == 5
    assert result.status_written
    assert world.fetched == ["http://127.0.0.1:1/mail/prod/status"]
    writes = len(world.api.writes)
    assert writes == 6
    world.now += datetime.timedelta(minutes=1)
    result = world.reconciler.reconcile("mail", "prod")
    assert len(world.api.writes) == writes, world.api.writes[writes:]
    assert not result.status_written
    assert world.events == []


def test_reconcile_rate_change_writes_status_and_posts_an_event() -> None:
    world = World()
    world.reconciler.reconcile("mail", "prod")
    world.doc = exporter_doc(0.07)
    world.reconciler.reconcile("mail", "prod")
    assert world.api.writes[-1] == ("status", "SesMonitor", "prod")
    assert world.status["bounceRate"] == "7%"
    assert world.events == [
        (
            "Warning",
            "AboveWarning",
            "BounceRateHealthy BelowThreshold -> AboveWarning: bounce rate 7%"
            " (mean of CloudWatch's datapoints over the last 1h) is at or above"
            " the warning threshold 5% (critical 10%)",
        )
    ]


def test_an_event_is_posted_before_the_status_that_records_it() -> None:
    """A replica stopped between the two posts the Event again rather than never."""
    world = World()
    world.reconciler.reconcile("mail", "prod")
    order: list[str] = []
    world.reconciler.post = lambda obj, type_, reason, message: order.append(f"event {reason}")
    writes_status = world.api.patch_status

    def patch_status(*args: Any) -> dict[str, Any]:
        order.append("status")
        return writes_status(*args)

    world.api.patch_status = patch_status  # type: ignore[method-assign]
    world.doc = exporter_doc(0.07)
    world.api.status_errors = [KubeError(500, "InternalError", "etcd leader changed")]
    with pytest.raises(ReconcileFailed):
        world.reconciler.reconcile("mail", "prod")
    assert order == ["event AboveWarning", "status"]  # posted, although the status write then failed
    assert world.status["bounceRate"] != "7%"
    world.reconciler.reconcile("mail", "prod")  # the transition is still unrecorded: posted again
    assert order[-2:] == ["event AboveWarning", "status"]
    assert world.status["bounceRate"] == "7%"
    world.reconciler.reconcile("mail", "prod")  # recorded now: nothing more
    assert order.count("event AboveWarning") == 2


def test_reconcile_failure_sets_condition_posts_event_and_raises() -> None:
    world = World(missing_kinds=frozenset({"ServiceMonitor", "PrometheusRule"}))
    with pytest.raises(ReconcileFailed) as failure:
        world.reconciler.reconcile("mail", "prod")
    assert failure.value.reason == "PrometheusOperatorMissing"
    assert not failure.value.permanent
    reconciled = next(c for c in world.status["conditions"] if c["type"] == "Reconciled")
    assert reconciled["reason"] == "PrometheusOperatorMissing"
    assert "ServiceMonitor" in reconciled["message"]
    assert world.status["observedGeneration"] == 1
    assert any(c["type"] == "Stalled" and c["status"] == "True" for c in world.status["conditions"])
    assert [e[:2] for e in world.events] == [("Warning", "ReconcileFailed")]
    # The same failure again: no new status write, no new Event.
    writes = len(world.api.writes)
    with pytest.raises(ReconcileFailed):
        world.reconciler.reconcile("mail", "prod")
    assert len(world.api.writes) == writes
    assert len(world.events) == 1
    # The CRDs appear: it recovers, says so, and catches up observedGeneration.
    world.api.missing_kinds = frozenset()
    world.reconciler.reconcile("mail", "prod")
    assert world.status["observedGeneration"] == 1
    assert world.events[-1][:2] == ("Normal", "Reconciled")


def test_reconcile_invalid_spec_is_permanent() -> None:
    world = World()
    world.api.objects[FakeApi.key(MONITOR)]["spec"] = {"region": "nowhere"}
    with pytest.raises(ReconcileFailed) as failure:
        world.reconciler.reconcile("mail", "prod")
    assert failure.value.permanent
    assert failure.value.reason == "InvalidSpec"
    assert "spec.region" in failure.value.message
    assert world.fetched == []
    assert [w[0] for w in world.api.writes] == ["status"]


def test_reconcile_of_a_deleted_monitor_does_nothing() -> None:
    world = World()
    del world.api.objects[FakeApi.key(MONITOR)]
    assert world.reconciler.reconcile("mail", "prod").gone
    assert world.api.writes == []
    world = World()
    world.reconciler.forget("mail", "prod", "uid-1")
    assert world.reconciler.reconcile("mail", "prod").gone
    assert world.api.writes == []


def test_backoff_doubles_and_is_capped() -> None:
    settings = OperatorSettings(reconcile_interval=60, max_backoff=300)
    assert [backoff(n, settings) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert backoff(0, OperatorSettings(reconcile_interval=1)) == 1


# --------------------------------------------------------------------------------------------------
# Handlers, settings, paths, the exporter document
# --------------------------------------------------------------------------------------------------


def test_handlers_never_need_a_finalizer() -> None:
    from sesmonitor.operator.handlers import TIMER_ID, build_registry, requires_finalizer

    registry = build_registry(30.0)
    assert not requires_finalizer(registry)
    timers = [h for h in registry._spawning.get_all_handlers() if h.id == TIMER_ID]
    assert len(timers) == 1
    assert timers[0].interval == 30.0


def test_resource_paths() -> None:
    assert resource_path("v1", "ConfigMap", "ns", "a") == "/api/v1/namespaces/ns/configmaps/a"
    assert (
        resource_path("monitoring.coreos.com/v1", "PrometheusRule", "ns", "a")
        == "/apis/monitoring.coreos.com/v1/namespaces/ns/prometheusrules/a"
    )
    assert (
        resource_path("sesmonitor.io/v1alpha1", "SesMonitor", "ns", "a", "status")
        == "/apis/sesmonitor.io/v1alpha1/namespaces/ns/sesmonitors/a/status"
    )
    with pytest.raises(ValueError, match="does not manage Secret"):
        resource_path("v1", "Secret", "ns", "a")


def test_settings_from_environment() -> None:
    settings = from_environment(
        {
            "SESMONITOR_WATCH_NAMESPACES": "a, b",
            "SESMONITOR_RECONCILE_INTERVAL": "2m",
            "SESMONITOR_EXPORTER_URL_TEMPLATE": "http://127.0.0.1:8001/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy",
            "SESMONITOR_EXPORTER_IMAGE": "example/exporter:1",
        }
    )
    assert settings.namespaces == ("a", "b")
    assert not settings.clusterwide
    assert settings.reconcile_interval == 120
    assert settings.standalone
    assert settings.render_defaults.exporter_image == "example/exporter:1"
    # Out of the cluster, through `kubectl proxy` and the apiserver's Service proxy (docs/install.md).
    assert settings.exporter_status_url("a", "x", "sesmon-x") == (
        "http://127.0.0.1:8001/api/v1/namespaces/a/services/sesmon-x:9435/proxy/status"
    )
    assert (
        from_environment({}).exporter_status_url("a", "y", "sesmon-y") == "http://sesmon-y.a.svc:9435/status"
    )
    assert from_environment({}).clusterwide
    with pytest.raises(SettingsError):
        validate(OperatorSettings(exporter_url_template="http://{nope}"))
    with pytest.raises(SettingsError):
        from_environment({"SESMONITOR_RECONCILE_INTERVAL": "soon"})


def test_cli_flags_override_environment() -> None:
    from sesmonitor.cli.operator_main import build_parser, settings_from

    base = from_environment({"SESMONITOR_WATCH_NAMESPACES": "a", "SESMONITOR_PEERING": "p"})
    args = build_parser().parse_args(
        ["-A", "--standalone", "--reconcile-interval", "1.5", "--log-format", "json"]
    )
    settings = settings_from(args, base)
    assert settings.clusterwide
    assert settings.standalone
    assert settings.reconcile_interval == 1.5
    assert settings.log_format == "json"
    args = build_parser().parse_args(["-n", "x", "-n", "y", "--peering", "sesmonitor"])
    settings = settings_from(args, base)
    assert settings.namespaces == ("x", "y")
    assert settings.peering_name == "sesmonitor"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["-n", "x", "-A"])


def test_exporter_status_document_parsing() -> None:
    doc = exporter_doc()
    assert parse_status(doc.to_json()) == doc
    with pytest.raises(ValueError, match="not JSON"):
        parse_status("<html>")
    with pytest.raises(ValueError, match="bounce_rate"):
        parse_status('{"monitor": "a/b"}')
    broken = doc.to_json().replace('"current": 0.01', '"current": "high"')
    with pytest.raises(ValueError, match=r"bounce_rate\.current"):
        parse_status(broken)


def test_failures_become_kopf_retries_with_backoff() -> None:
    import kopf

    from sesmonitor.operator.handlers import run_reconcile

    world = World(missing_kinds=frozenset({"PrometheusRule"}))
    with pytest.raises(kopf.TemporaryError) as temporary:
        run_reconcile(world.reconciler, "mail", "prod", retry=3)
    assert temporary.value.delay == 40  # min(5s, interval 60s) doubled three times
    assert "PrometheusOperatorMissing" in str(temporary.value)

    world = World()
    world.api.objects[FakeApi.key(MONITOR)]["spec"] = {"region": "eu-west-1", "window": "1m"}
    with pytest.raises(kopf.PermanentError, match="InvalidSpec"):
        run_reconcile(world.reconciler, "mail", "prod", retry=0)

    world = World()
    run_reconcile(world.reconciler, "mail", "prod", retry=0)  # success raises nothing


def test_a_terminating_namespace_is_recognised_only_when_every_failure_says_so() -> None:
    from sesmonitor.operator.apply import ApplyReport, ChildFailure
    from sesmonitor.operator.reconcile import namespace_terminating

    terminating = KubeError(
        403, "Forbidden", "unable to create new content in namespace mail because it is being terminated"
    )
    denied = KubeError(403, "Forbidden", 'configmaps is forbidden: User "op" cannot create resource')
    assert namespace_terminating(ApplyReport(failed=[ChildFailure("ConfigMap", "a", terminating)]))
    assert not namespace_terminating(ApplyReport())
    assert not namespace_terminating(
        ApplyReport(
            failed=[ChildFailure("ConfigMap", "a", terminating), ChildFailure("Service", "a", denied)]
        )
    )


def test_reconcile_refresh_time_alone_changing_writes_nothing() -> None:
    world = World()
    world.reconciler.reconcile("mail", "prod")
    writes = len(world.api.writes)
    for minute in range(1, 6):  # a real exporter: a new refresh time every pass, nothing else new
        assert world.doc is not None
        world.doc = dataclasses.replace(world.doc, last_refresh_time=f"2026-01-01T00:0{minute}:00Z")
        world.now += datetime.timedelta(minutes=1)
        assert not world.reconciler.reconcile("mail", "prod").status_written
    assert world.api.writes[writes:] == []
    assert "lastRefreshTime" not in world.status


def test_reconcile_reads_the_pods_of_an_unreachable_exporter_only() -> None:
    world = World()
    world.reconciler.reconcile("mail", "prod")
    assert world.api.lists == []  # reachable: no pod is read
    labels = world.api.objects[("apps/v1", "Deployment", "mail", "sesmon-prod")]["spec"]["selector"]
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x": not found'}
    world.api.objects[("v1", "Pod", "mail", "sesmon-prod-1")] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sesmon-prod-1", "namespace": "mail", "labels": labels["matchLabels"]},
        "status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": waiting}}]},
    }
    world.doc = None  # connection refused
    world.reconciler.reconcile("mail", "prod")
    assert world.api.lists == [("Pod", "mail", labels["matchLabels"])]
    ready = next(c for c in world.status["conditions"] if c["type"] == "ExporterReady")
    assert ready["reason"] == "ImagePullBackOff"
    assert ready["message"].startswith(
        'exporter pod sesmon-prod-1: ImagePullBackOff: Back-off pulling image "x"'
    )
    assert "connection refused" in ready["message"]


def test_reconcile_transient_failure_is_reconciling_and_retried() -> None:
    world = World()
    world.api.apply_errors["Service"] = KubeError(409, "Conflict", "the object has been modified")
    with pytest.raises(ReconcileFailed) as failure:
        world.reconciler.reconcile("mail", "prod")
    assert not failure.value.permanent
    by_type = {c["type"]: c for c in world.status["conditions"]}
    assert (by_type["Reconciling"]["status"], by_type["Reconciling"]["reason"]) == ("True", "Conflict")
    assert "Stalled" not in by_type
    world.api.apply_errors["Service"] = KubeError(503, "ServiceUnavailable", "etcdserver: leader changed")
    with pytest.raises(ReconcileFailed):
        world.reconciler.reconcile("mail", "prod")
    by_type = {c["type"]: c for c in world.status["conditions"]}
    assert by_type["Reconciling"]["reason"] == "APIUnavailable"
    assert "Stalled" not in by_type
    # Refused by policy: only a person can fix it.
    world.api.apply_errors["Service"] = KubeError(403, "Forbidden", "denied by policy no-services")
    with pytest.raises(ReconcileFailed):
        world.reconciler.reconcile("mail", "prod")
    by_type = {c["type"]: c for c in world.status["conditions"]}
    assert (by_type["Stalled"]["status"], by_type["Stalled"]["reason"]) == ("True", "Forbidden")
    assert "Reconciling" not in by_type
    del world.api.apply_errors["Service"]
    world.reconciler.reconcile("mail", "prod")
    assert {c["type"] for c in world.status["conditions"]}.isdisjoint({"Reconciling", "Stalled"})


def test_reconcile_a_rollout_is_reconciling_and_a_new_pod_that_cannot_pull_is_stalled() -> None:
    world = World()
    world.reconciler.reconcile("mail", "prod")
    deployment = world.api.objects[("apps/v1", "Deployment", "mail", "sesmon-prod")]
    deployment["status"]["updatedReplicas"] = 0  # the old pod still serves /status
    labels = deployment["spec"]["selector"]["matchLabels"]
    new_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sesmon-prod-2", "namespace": "mail", "labels": labels},
        "status": {"phase": "Pending"},
    }
    world.api.objects[("v1", "Pod", "mail", "sesmon-prod-2")] = new_pod
    world.reconciler.reconcile("mail", "prod")
    by_type = {c["type"]: c for c in world.status["conditions"]}
    assert by_type["Ready"]["status"] == "True"  # the monitor works meanwhile
    reconciling = by_type["Reconciling"]
    assert (reconciling["status"], reconciling["reason"]) == ("True", "RollingOut")
    assert reconciling["message"] == (
        "the exporter is rolling out: Deployment sesmon-prod: 0 of 1 exporter pods updated"
        " (exporter pod sesmon-prod-2 is pending)"
    )
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x:2": not found'}
    new_pod["status"]["containerStatuses"] = [{"state": {"waiting": waiting}}]
    world.reconciler.reconcile("mail", "prod")
    by_type = {c["type"]: c for c in world.status["conditions"]}
    assert "Reconciling" not in by_type
    stalled = by_type["Stalled"]
    assert (stalled["status"], stalled["reason"]) == ("True", "ImagePullBackOff")
    assert 'Back-off pulling image "x:2": not found' in stalled["message"]
    deployment["status"]["updatedReplicas"] = 1  # rolled back or fixed: the old ReplicaSet serves
    del world.api.objects[("v1", "Pod", "mail", "sesmon-prod-2")]
    lists = len(world.api.lists)
    world.reconciler.reconcile("mail", "prod")
    assert {c["type"] for c in world.status["conditions"]}.isdisjoint({"Reconciling", "Stalled"})
    assert len(world.api.lists) == lists  # rolled out and serving: no pod is read
