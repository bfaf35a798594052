"""The operator against a real API server, running with the Helm chart's RBAC.

Every test starts from a fresh namespace; the operator (one process for the session, reconciling
every INTERVAL seconds) reads a stand-in exporter for /status.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from operator_helpers import (
    CHILD_KINDS,
    INTERVAL,
    OPERATOR_USER,
    TEST_EXPORTER_IMAGE,
    OperatorProcess,
    StandInExporters,
    children,
    condition,
    events_for,
    get_json,
    sesmonitor,
)

from sesmonitor.api import load
from sesmonitor.operator.apply import OwnerReference, differences, prepare
from sesmonitor.render import RenderDefaults, render_all
from support.controlplane import Cluster

pytest_plugins = ["fixtures_operator"]

CREATE_TIMEOUT = 10  # "within a few seconds"
DRIFT_TIMEOUT = 10 * INTERVAL + 5
# kube-controller-manager's garbage collector notices resource types added after it started (our CRD,
# prometheus-operator's) in its 30-second discovery resync; after that it deletes at once.
GC_TIMEOUT = 90


def create(cluster: Cluster, namespace: str, name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    cluster.apply(sesmonitor(name, namespace, spec))
    obj = get_json(cluster, "sesmonitor", name, "-n", namespace)
    assert obj is not None
    return obj


def create_ready(cluster: Cluster, exporters: StandInExporters, namespace: str, name: str) -> None:
    """Serve the monitor's status, create it, and wait for its children and its Ready condition."""
    exporters.serve(namespace, name)
    create(cluster, namespace, name)
    wait_children(cluster, namespace, name)
    wait_condition(cluster, namespace, name, "Ready", "True")


def wait_children(
    cluster: Cluster,
    namespace: str,
    name: str,
    timeout: float = CREATE_TIMEOUT,
    *,
    until: Callable[[dict[str, Any]], bool] | None = None,
    what: str | None = None,
) -> dict[str, Any]:
    """The monitor's children by kind, once all of them exist and ``until(children)`` holds."""
    found: dict[str, Any] = {}

    def done() -> bool:
        nonlocal found
        found = children(cluster, namespace, name)
        return len(found) == len(CHILD_KINDS) and (until is None or until(found))

    cluster.wait_for(done, timeout=timeout, what=what or f"the children of {namespace}/{name}")
    return found


def wait_condition(
    cluster: Cluster, namespace: str, name: str, kind: str, status: str, *,
    reason: str | None = None, timeout: float = CREATE_TIMEOUT,
) -> dict[str, Any]:  # fmt: skip
    obj: dict[str, Any] | None = None

    def reached() -> bool:
        nonlocal obj
        obj = get_json(cluster, "sesmonitor", name, "-n", namespace)
        cond = condition(obj, kind)
        return cond.get("status") == status and (reason is None or cond.get("reason") == reason)

    cluster.wait_for(reached, timeout=timeout, what=f"{kind}={status} ({reason}) on {namespace}/{name}")
    assert obj is not None
    return obj


def rendered(monitor: dict[str, Any], cluster_id: str = "") -> list[dict[str, Any]]:
    """What the operator should have applied for the live monitor (with the API server's defaults);
    `cluster_id` (the kube-system namespace's UID, which the operator reads) names the cluster in
    spec.protection's records."""
    owner = OwnerReference(
        "sesmonitor.io/v1alpha1", "SesMonitor", monitor["metadata"]["name"], monitor["metadata"]["uid"]
    )
    defaults = RenderDefaults(exporter_image=TEST_EXPORTER_IMAGE, cluster_id=cluster_id)
    return [prepare(child, owner) for child in render_all(load(monitor), defaults)]


def rule_expressions(rule: dict[str, Any]) -> list[str]:
    return [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]


def operator_writes(cluster: Cluster, since: int) -> list[str]:
    return [
        f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('subresource', '')}"
        f" {e['objectRef'].get('namespace')}/{e['objectRef'].get('name')}"
        for e in cluster.write_events(since=since, user=OPERATOR_USER)
    ]


def empty_exporter_config(control_plane: Cluster, namespace: str) -> None:
    """A hand edit the operator must undo: the exporter's config.json emptied."""
    control_plane.kubectl(
        "patch", "-n", namespace, "configmap/sesmon-prod", "--type=merge",
        "-p", '{"data": {"config.json": "{}"}}',
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------


def test_create_makes_every_child_with_owner_references(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod")
    started = time.monotonic()
    monitor = create(
        control_plane, namespace, "prod", {"region": "eu-west-1", "configurationSets": ["marketing"]}
    )
    found = wait_children(control_plane, namespace, "prod")
    elapsed = time.monotonic() - started
    assert elapsed < CREATE_TIMEOUT

    uid = monitor["metadata"]["uid"]
    for kind, obj in found.items():
        refs = obj["metadata"]["ownerReferences"]
        assert refs == [
            {
                "apiVersion": "sesmonitor.io/v1alpha1",
                "kind": "SesMonitor",
                "name": "prod",
                "uid": uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ], kind
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "sesmonitor-operator"
        assert not obj["metadata"].get("finalizers")
    # Content: exactly what `render` produces for this spec, as the API server stored it.
    for desired in rendered(monitor):
        live = found[desired["kind"].lower()]
        assert differences(desired, live) == [], desired["kind"]
    config = json.loads(found["configmap"]["data"]["config.json"])
    assert config["monitor"] == f"{namespace}/prod"
    assert config["configuration_sets"] == ["marketing"]
    container = found["deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == TEST_EXPORTER_IMAGE
    assert found["service"]["spec"]["ports"][0]["port"] == 9435
    assert any("0.05" in expr for expr in rule_expressions(found["prometheusrule"]))

    # The monitor carries no finalizer, and its status says it is reconciled.
    obj = wait_condition(control_plane, namespace, "prod", "Ready", "True")
    assert not obj["metadata"].get("finalizers")
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert condition(obj, "Reconciled")["reason"] == "Applied"


def test_update_of_thresholds_and_window_changes_the_rules(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod")
    create(control_plane, namespace, "prod")
    before = wait_children(control_plane, namespace, "prod")["prometheusrule"]
    assert any(e.endswith("[1h])) >= 0.05") for e in rule_expressions(before))

    spec = {
        "region": "eu-west-1",
        "window": "2h",
        "thresholds": {
            "bounceRate": {"warning": "2%", "critical": "4%"},
            "complaintRate": {"warning": "0.08%", "critical": "0.3%"},
        },
    }
    control_plane.apply(sesmonitor("prod", namespace, spec))
    after: dict[str, Any] = {}

    def updated() -> bool:
        nonlocal after
        after = children(control_plane, namespace, "prod")
        exprs = rule_expressions(after["prometheusrule"])
        return any(e.endswith("[2h])) >= 0.02") for e in exprs)

    control_plane.wait_for(updated, timeout=CREATE_TIMEOUT, what="the PrometheusRule to follow the new spec")
    exprs = rule_expressions(after["prometheusrule"])
    # Warning averages over spec.window; critical over 10 minutes, so it fires soon after a jump.
    assert any(e.endswith("[2h])) >= 0.0008") for e in exprs)
    assert any(e.endswith("[10m])) >= 0.04") for e in exprs)
    assert any(e.endswith("[10m])) >= 0.003") for e in exprs)
    assert not any("[1h]" in e for e in exprs)
    assert json.loads(after["configmap"]["data"]["config.json"])["window_seconds"] == 7200
    # Updated in place: the same objects, not new ones.
    assert after["prometheusrule"]["metadata"]["uid"] == before["metadata"]["uid"]
    obj = wait_condition(control_plane, namespace, "prod", "Ready", "True")
    assert obj["metadata"]["generation"] == 2
    assert obj["status"]["observedGeneration"] == 2


def test_unchanged_spec_means_zero_writes(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    create_ready(control_plane, exporters, namespace, "prod")

    def settled() -> bool:  # kopf has recorded the handled spec: its one write after a change
        obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace) or {}
        return "operator.sesmonitor.io/last-handled-configuration" in obj["metadata"].get("annotations", {})

    control_plane.wait_for(settled, timeout=CREATE_TIMEOUT, what="kopf to record the handled spec")

    def quiet_cluster() -> bool:  # earlier tests' namespaces are gone: nothing anywhere is changing
        phases = control_plane.kubectl("get", "namespaces", "-o", "jsonpath={.items[*].status.phase}")
        return "Terminating" not in phases.stdout

    control_plane.wait_for(quiet_cluster, timeout=60, what="earlier tests' namespaces to be deleted")
    time.sleep(INTERVAL)
    served = len(exporters.requests)
    since = control_plane.audit_offset()
    time.sleep(3.5 * INTERVAL)
    events = control_plane.audit_events(since=since, user=OPERATOR_USER)
    # The timer did run in the quiet period (it read the monitor and its children at least twice)...
    reads = [e for e in events if e["verb"] == "get" and e["objectRef"].get("namespace") == namespace]
    monitor_reads = [e for e in reads if e["objectRef"].get("resource") == "sesmonitors"]
    assert len(monitor_reads) >= 2, reads
    assert {e["objectRef"]["resource"] for e in reads} >= {
        "sesmonitors", "configmaps", "deployments", "services", "servicemonitors", "prometheusrules",
    }  # fmt: skip
    # ...read the exporter's /status, whose refresh time moved on every answer as a real exporter's
    # does (`operator_helpers.as_served`)...
    assert len([r for r in exporters.requests[served:] if r.startswith(f"/{namespace}/prod/")]) >= 2
    # ...and wrote nothing, anywhere: the refresh time alone is nothing a reader of the status sees.
    assert operator_writes(control_plane, since) == [], running_operator.log_tail(120)


def test_deleted_children_come_back(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod")
    create(control_plane, namespace, "prod")
    before = wait_children(control_plane, namespace, "prod")
    control_plane.kubectl(
        "delete",
        "-n",
        namespace,
        "configmap/sesmon-prod",
        "prometheusrule/sesmon-prod",
        "service/sesmon-prod",
    )
    after = wait_children(
        control_plane,
        namespace,
        "prod",
        DRIFT_TIMEOUT,
        until=lambda now: all(
            now[k]["metadata"]["uid"] != before[k]["metadata"]["uid"]
            for k in ("configmap", "prometheusrule", "service")
        ),
        what="the deleted children to be recreated",
    )
    assert after["deployment"]["metadata"]["uid"] == before["deployment"]["metadata"]["uid"]


def test_edited_children_are_restored(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod")
    monitor = create(control_plane, namespace, "prod")
    found = wait_children(control_plane, namespace, "prod")
    original_rules = found["prometheusrule"]["spec"]
    # Hand edits of fields the operator sets: an alert's expression and threshold label, the replica
    # count, the exporter's configuration, a label.
    control_plane.kubectl(
        "patch", "-n", namespace, "prometheusrule/sesmon-prod", "--type=json",
        "-p", json.dumps([
            {"op": "replace", "path": "/spec/groups/0/rules/0/expr", "value": "vector(0)"},
            {"op": "replace", "path": "/spec/groups/0/rules/0/labels/severity", "value": "none"},
            {"op": "remove", "path": "/spec/groups/0/rules/1"},
        ]),
    )  # fmt: skip
    control_plane.kubectl("scale", "-n", namespace, "deployment/sesmon-prod", "--replicas=3")
    empty_exporter_config(control_plane, namespace)
    control_plane.kubectl(
        "label",
        "-n",
        namespace,
        "service/sesmon-prod",
        "--overwrite",
        "app.kubernetes.io/managed-by=someone-else",
    )
    now = wait_children(
        control_plane,
        namespace,
        "prod",
        DRIFT_TIMEOUT,
        until=lambda now: all(differences(d, now[d["kind"].lower()]) == [] for d in rendered(monitor)),
        what="the edited children to be restored",
    )
    assert now["prometheusrule"]["spec"] == original_rules
    assert now["deployment"]["spec"]["replicas"] == 1
    assert now["service"]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "sesmonitor-operator"


def test_delete_garbage_collects_the_children(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    create_ready(control_plane, exporters, namespace, "prod")
    obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace)
    assert obj is not None
    assert not obj["metadata"].get("finalizers")

    control_plane.kubectl("delete", "-n", namespace, "sesmonitor/prod", "--wait=false")
    # No finalizer holds it: it is gone at once.
    control_plane.wait_for(
        lambda: get_json(control_plane, "sesmonitor", "prod", "-n", namespace) is None,
        timeout=5,
        what="the monitor to go",
    )
    # kube-controller-manager's garbage collector removes the children through their owner references,
    # and the operator (whose timer stopped) does not bring them back.
    control_plane.wait_for(
        lambda: children(control_plane, namespace, "prod") == {},
        timeout=GC_TIMEOUT,
        what="garbage collection of the children",
    )
    time.sleep(3 * INTERVAL)
    assert children(control_plane, namespace, "prod") == {}


def test_status_conditions_printer_columns_and_events(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod", bounce=0.0712, complaint=0.0002, enforcement="HEALTHY")
    create(control_plane, namespace, "prod")
    obj = wait_condition(
        control_plane, namespace, "prod", "BounceRateHealthy", "False", reason="AboveWarning"
    )
    status = obj["status"]
    assert status["bounceRate"] == "7.12%"
    assert status["complaintRate"] == "0.02%"
    assert status["enforcementStatus"] == "HEALTHY"
    assert status["sendingEnabled"] is True
    assert "lastRefreshTime" not in status  # it changes on every refresh; the exporter's metrics have it
    bounce = condition(obj, "BounceRateHealthy")
    assert bounce["message"] == (
        "bounce rate 7.12% (mean of CloudWatch's datapoints over the last 1h)"
        " is at or above the warning threshold 5% (critical 10%)"
    )
    assert condition(obj, "ComplaintRateHealthy")["reason"] == "BelowThreshold"
    assert "0.02%" in condition(obj, "ComplaintRateHealthy")["message"]
    assert "0.1%" in condition(obj, "ComplaintRateHealthy")["message"]
    assert (condition(obj, "AccountHealthy")["status"], condition(obj, "AccountHealthy")["reason"]) == (
        "True",
        "Healthy",
    )
    assert (condition(obj, "ExporterReady")["status"], condition(obj, "ExporterReady")["reason"]) == (
        "True",
        "Serving",
    )
    # Ready: the monitor works; the rate is the business of BounceRateHealthy and the alerts.
    assert (condition(obj, "Ready")["status"], condition(obj, "Ready")["reason"]) == ("True", "Monitoring")
    for cond in obj["status"]["conditions"]:
        assert cond["observedGeneration"] == 1
        assert cond["lastTransitionTime"].endswith("Z")

    table = control_plane.kubectl("get", "sesmon", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "REGION", "BOUNCE", "COMPLAINT", "ACCOUNT", "READY", "REASON", "AGE"]
    assert table[1].split()[:7] == ["prod", "eu-west-1", "7.12%", "0.02%", "HEALTHY", "True", "Monitoring"]

    # The account goes under review and the bounce rate past critical: conditions and columns follow.
    transition = condition(obj, "BounceRateHealthy")["lastTransitionTime"]
    exporters.serve(namespace, "prod", bounce=0.1234, complaint=0.006, enforcement="PROBATION")
    obj = wait_condition(control_plane, namespace, "prod", "AccountHealthy", "False", reason="UnderReview")
    obj = wait_condition(
        control_plane, namespace, "prod", "BounceRateHealthy", "False", reason="AboveCritical"
    )
    # Still False: the transition time did not move.
    assert condition(obj, "BounceRateHealthy")["lastTransitionTime"] == transition
    assert condition(obj, "ComplaintRateHealthy")["reason"] == "AboveCritical"
    assert condition(obj, "Ready")["reason"] == "Monitoring"
    table = control_plane.kubectl("get", "sesmon", "prod", "-n", namespace).stdout.splitlines()
    assert table[1].split()[:6] == ["prod", "eu-west-1", "12.34%", "0.6%", "PROBATION", "True"]

    # Recovery makes every condition True.
    exporters.serve(namespace, "prod", bounce=0.01, complaint=0.0001, enforcement="HEALTHY")
    obj = wait_condition(control_plane, namespace, "prod", "AccountHealthy", "True")
    assert all(c["status"] == "True" for c in obj["status"]["conditions"])
    table = control_plane.kubectl("get", "sesmon", "prod", "-n", namespace).stdout.splitlines()
    assert table[1].split()[:6] == ["prod", "eu-west-1", "1%", "0.01%", "HEALTHY", "True"]

    # Each change of a rate or account condition was announced with an Event.
    def announced() -> bool:
        reasons = [e["reason"] for e in events_for(control_plane, namespace, "prod")]
        return all(
            r in reasons
            for r in ("AboveWarning", "AboveCritical", "UnderReview", "BelowThreshold", "Healthy")
        )

    control_plane.wait_for(announced, timeout=10, what="Events for the condition changes")
    events = events_for(control_plane, namespace, "prod")
    warning = next(e for e in events if e["reason"] == "UnderReview")
    assert warning["type"] == "Warning"
    assert "PROBATION" in warning["message"]
    assert warning["source"]["component"] == "sesmonitor-operator"

    # The exporter goes away: ExporterReady says so, with what its Deployment says (here: no pod, for
    # the control plane runs no Deployment controller); the last rates stay on show.
    exporters.documents.pop(f"{namespace}/prod")
    obj = wait_condition(control_plane, namespace, "prod", "ExporterReady", "False", reason="NoExporterPod")
    assert "404" in condition(obj, "ExporterReady")["message"]
    assert condition(obj, "BounceRateHealthy")["status"] == "Unknown"
    assert obj["status"]["bounceRate"] == "1%"


def test_restart_mid_reconcile_converges_without_duplicates(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    # Enough monitors that the first child, seen through kubectl (a process per look), comes well before
    # the last: with 8 the operator once applied all 40 children between two looks.
    names = [f"m{i}" for i in range(24)]
    for name in names:
        exporters.serve(namespace, name)
    manifests = [sesmonitor(name, namespace) for name in names]
    control_plane.apply(manifests)
    total = len(names) * len(CHILD_KINDS)

    def some_child_exists() -> bool:
        listed = control_plane.kubectl_json("get", ",".join(CHILD_KINDS), "-n", namespace)
        return len(listed["items"]) > 0

    control_plane.wait_for(some_child_exists, timeout=CREATE_TIMEOUT, interval=0.02, what="the first child")
    running_operator.kill()  # SIGKILL: no chance to finish anything
    at_kill = len(control_plane.kubectl_json("get", ",".join(CHILD_KINDS), "-n", namespace)["items"])
    print(f"children when the operator was killed: {at_kill}/{total}")
    assert at_kill < total, "the operator finished before it was killed: nothing was interrupted"

    running_operator.start()

    def converged() -> bool:
        for name in names:
            obj = get_json(control_plane, "sesmonitor", name, "-n", namespace)
            if condition(obj, "Ready").get("status") != "True":
                return False
        return True

    control_plane.wait_for(converged, timeout=60, what="every monitor to be Ready after the restart")
    listed = control_plane.kubectl_json("get", ",".join(CHILD_KINDS), "-n", namespace)["items"]
    assert len(listed) == total
    for name in names:
        found = children(control_plane, namespace, name)  # asserts one per kind
        assert sorted(found) == sorted(CHILD_KINDS)
        uid = get_json(control_plane, "sesmonitor", name, "-n", namespace)["metadata"]["uid"]  # type: ignore[index]
        for obj in found.values():
            assert [r["uid"] for r in obj["metadata"]["ownerReferences"]] == [uid]
    # Restarted and converged, it is quiet again.
    time.sleep(INTERVAL)
    since = control_plane.audit_offset()
    time.sleep(2.5 * INTERVAL)
    assert [w for w in operator_writes(control_plane, since) if f" {namespace}/" in w] == []


def test_resume_annotation_lands_in_the_config_map_and_survives_the_childrens_apply(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    """With the chart's RBAC (no verb added): the annotation becomes the ConfigMap's resume.json under
    the resume field manager, and the operator's own apply of the ConfigMap (after a hand edit of
    config.json) neither removes that key nor is undone by it."""
    exporters.serve(namespace, "prod")
    spec = {
        "region": "eu-west-1",
        "configurationSets": ["marketing"],
        "protection": {"mode": "Enforce", "configurationSets": ["marketing"]},
    }
    monitor = create(control_plane, namespace, "prod", spec)
    wait_children(control_plane, namespace, "prod")
    control_plane.kubectl("annotate", "-n", namespace, "sesmonitor/prod", "sesmonitor.io/resume=marketing")

    def config_map() -> dict[str, Any]:
        found = get_json(control_plane, "configmap", "sesmon-prod", "-n", namespace, "--show-managed-fields")
        assert found is not None
        return found

    control_plane.wait_for(
        lambda: "resume.json" in config_map()["data"], timeout=DRIFT_TIMEOUT, what="resume.json written"
    )
    requests = json.loads(config_map()["data"]["resume.json"])["requests"]
    assert list(requests) == ["marketing"]
    owners = {
        entry["manager"]: entry["fieldsV1"].get("f:data", {})
        for entry in config_map()["metadata"]["managedFields"]
    }
    assert set(owners["sesmonitor-operator-resume"]) == {"f:resume.json"}
    assert "f:resume.json" not in owners["sesmonitor-operator"]

    def annotation_removed() -> bool:
        obj = get_json(control_plane, "sesmonitor", "prod", "-n", namespace) or {}
        return "sesmonitor.io/resume" not in (obj["metadata"].get("annotations") or {})

    control_plane.wait_for(annotation_removed, timeout=DRIFT_TIMEOUT, what="the annotation removed")
    # Drift in config.json: the children's apply restores it and leaves resume.json as it was.
    empty_exporter_config(control_plane, namespace)
    kube_system = control_plane.kubectl_json("get", "namespace", "kube-system")["metadata"]["uid"]
    desired = next(c for c in rendered(monitor, kube_system) if c["kind"] == "ConfigMap")
    control_plane.wait_for(
        lambda: differences(desired, config_map()) == [], timeout=DRIFT_TIMEOUT, what="config.json restored"
    )
    assert json.loads(config_map()["data"]["resume.json"])["requests"] == requests
