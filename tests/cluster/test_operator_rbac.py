"""The operator runs with exactly the RBAC rules the Helm chart grants: enough for everything it
does (no request of it was ever denied), nothing it does not need (secrets, writing or watching pods,
their logs and exec, deleting, listing children, cluster-scoped objects). Pods are readable (get,
list) so that the status can say why an exporter cannot be reached.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from operator_helpers import (
    CHILD_KINDS,
    OPERATOR_GROUPS,
    OPERATOR_USER,
    RBAC_KINDS,
    Identity,
    OperatorProcess,
    StandInExporters,
    children,
    get_json,
    helm_template,
    sesmonitor,
    wait_monitor_ready,
)

from support.controlplane import Cluster

pytest_plugins = ["fixtures_operator"]

NEEDED = [
    ("list", "sesmonitors.sesmonitor.io"),
    ("watch", "sesmonitors.sesmonitor.io"),
    ("get", "sesmonitors.sesmonitor.io"),
    ("patch", "sesmonitors.sesmonitor.io"),
    ("patch", "sesmonitors.sesmonitor.io --subresource=status"),
    ("update", "sesmonitors.sesmonitor.io --subresource=finalizers"),
    *[(verb, resource) for resource in ("configmaps", "services", "deployments.apps",
                                       "servicemonitors.monitoring.coreos.com",
                                       "prometheusrules.monitoring.coreos.com")
      for verb in ("get", "create", "patch")],
    ("create", "events"),
    ("get", "pods"),
    ("list", "pods"),
]  # fmt: skip

DENIED = [
    ("get", "secrets"),
    ("list", "secrets"),
    ("watch", "secrets"),
    ("watch", "pods"),
    ("create", "pods"),
    ("patch", "pods"),
    ("delete", "pods"),
    ("create", "pods --subresource=exec"),
    ("get", "pods --subresource=log"),
    ("patch", "pods --subresource=status"),
    ("delete", "configmaps"),
    ("list", "configmaps"),
    ("watch", "deployments.apps"),
    ("delete", "deployments.apps"),
    ("update", "deployments.apps"),
    ("delete", "services"),
    ("delete", "prometheusrules.monitoring.coreos.com"),
    ("list", "servicemonitors.monitoring.coreos.com"),
    ("create", "sesmonitors.sesmonitor.io"),
    ("update", "sesmonitors.sesmonitor.io"),
    ("delete", "sesmonitors.sesmonitor.io"),
    ("update", "sesmonitors.sesmonitor.io --subresource=status"),
    ("list", "events"),
    ("delete", "events"),
    ("create", "serviceaccounts --subresource=token"),
    ("create", "roles.rbac.authorization.k8s.io"),
    ("create", "rolebindings.rbac.authorization.k8s.io"),
]
DENIED_CLUSTER = [
    ("list", "namespaces"),
    ("list", "nodes"),
    ("list", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "clusterroles.rbac.authorization.k8s.io"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
    ("list", "clusterkopfpeerings.kopf.dev"),
    ("impersonate", "users"),
]


def can_i(cluster: Cluster, kubeconfig: Path, verb: str, resource: str, *where: str) -> bool:
    """``resource`` may carry ``--subresource=...`` (``TYPE/NAME`` would mean an object's name)."""
    proc = cluster.kubectl(
        "auth", "can-i", verb, *resource.split(), *where, kubeconfig=kubeconfig, check=False
    )
    return proc.stdout.strip() == "yes"


def answered(
    cluster: Cluster, kubeconfig: Path, rules: list[tuple[str, str]], *where: str, answer: bool
) -> list[str]:
    """ "verb resource" of each rule that ``kubectl auth can-i`` answers ``answer`` (True: yes) to."""
    return [f"{verb} {res}" for verb, res in rules if can_i(cluster, kubeconfig, verb, res, *where) == answer]


def from_kubectl(event: dict[str, Any]) -> bool:
    """This module's own probes, made with the operator's credentials."""
    return str(event.get("userAgent", "")).startswith("kubectl")


def rbac_denied(event: dict[str, Any]) -> bool:
    """A request of the operator refused for lack of permission. Not the 403 that any write into a
    namespace being deleted gets (tests delete their namespaces while the operator still reconciles
    their monitors), nor kubectl probes made with the operator's credentials."""
    if from_kubectl(event):
        return False
    status = event.get("responseStatus") or {}
    if status.get("code") == 401:
        return True
    return status.get("code") == 403 and "is being terminated" not in str(status.get("message", ""))


def test_the_chart_grants_what_the_operator_needs(
    control_plane: Cluster, operator_identity: Identity, namespace: str
) -> None:
    missing = answered(control_plane, operator_identity.kubeconfig, NEEDED, "-n", namespace, answer=False)
    assert missing == []
    assert can_i(
        control_plane, operator_identity.kubeconfig, "watch", "sesmonitors.sesmonitor.io", "--all-namespaces"
    )


def test_the_chart_denies_what_the_operator_does_not_need(
    control_plane: Cluster, operator_identity: Identity, namespace: str
) -> None:
    kubeconfig = operator_identity.kubeconfig
    allowed = answered(control_plane, kubeconfig, DENIED, "-n", namespace, answer=True)
    allowed += [
        f"{rule} (cluster)" for rule in answered(control_plane, kubeconfig, DENIED_CLUSTER, answer=True)
    ]
    assert allowed == []
    # The same answers from admin's point of view, impersonating the ServiceAccount.
    as_sa = control_plane.kubectl(
        "auth", "can-i", "list", "secrets", "-n", namespace, f"--as={OPERATOR_USER}", check=False
    )
    assert as_sa.stdout.strip() == "no"
    # And real requests are refused.
    for args in (
        ("get", "secrets", "-n", namespace),
        ("delete", "pod", "anything", "-n", namespace),
        ("get", "namespaces"),
    ):
        proc = control_plane.kubectl(*args, kubeconfig=operator_identity.kubeconfig, check=False)
        assert proc.returncode != 0
        assert "Forbidden" in proc.stderr, proc.stderr


def test_the_operator_was_never_denied_and_used_only_what_it_was_granted(
    control_plane: Cluster, running_operator: OperatorProcess, exporters: StandInExporters, namespace: str
) -> None:
    exporters.serve(namespace, "prod")
    control_plane.apply(sesmonitor("prod", namespace))
    wait_monitor_ready(control_plane, namespace, "prod")
    events = [e for e in control_plane.audit_events(user=OPERATOR_USER) if not from_kubectl(e)]
    assert events, "no audit events of the operator"
    denied = [
        f"{e['verb']} {e['requestURI']}: {e['responseStatus'].get('message')}"
        for e in events
        if rbac_denied(e)
    ]
    assert denied == []
    used = {
        (e["verb"], e.get("objectRef", {}).get("resource"), e.get("objectRef", {}).get("subresource"))
        for e in events
    }
    writes = {u for u in used if u[0] not in {"get", "list", "watch"}}
    assert writes <= {
        ("patch", "sesmonitors", None),
        ("patch", "sesmonitors", "status"),
        ("create", "events", None),
        *{
            ("patch", r, None)
            for r in ("configmaps", "deployments", "services", "servicemonitors", "prometheusrules")
        },
    }, writes
    listed = {u[1] for u in used if u[0] in {"list", "watch"}}
    # Pods: listed (never watched) only for an exporter that cannot be reached, to say why.
    assert listed <= {"sesmonitors", "pods"}, listed
    assert ("watch", "pods", None) not in used


def test_the_namespaced_chart_is_enough_for_a_namespaced_operator(
    control_plane: Cluster,
    operator: OperatorProcess,
    exporters: StandInExporters,
    sesmonitor_crd: object,
    tmp_path: Path,
) -> None:
    """With watchNamespaces the chart grants Roles in those namespaces only, and the operator, run with
    --namespace, works with them and ignores every other namespace."""
    watched, other = f"sesmon-w-{uuid.uuid4().hex[:6]}", f"sesmon-o-{uuid.uuid4().hex[:6]}"
    release_namespace = f"sesmon-rel-{uuid.uuid4().hex[:6]}"
    for ns in (watched, other, release_namespace):
        control_plane.kubectl("create", "namespace", ns)
    docs = helm_template("--set", f"watchNamespaces={{{watched}}}", namespace=release_namespace)
    rbac = [doc for doc in docs if doc.get("kind") in RBAC_KINDS]
    assert sorted(doc["kind"] for doc in rbac) == ["Role", "RoleBinding", "ServiceAccount"]
    assert all(
        doc["metadata"]["namespace"] == watched for doc in rbac if doc["kind"] in {"Role", "RoleBinding"}
    )
    control_plane.apply(rbac)
    account = next(doc["metadata"]["name"] for doc in rbac if doc["kind"] == "ServiceAccount")
    user = f"system:serviceaccount:{release_namespace}:{account}"
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{release_namespace}", "system:authenticated")
    identity = Identity(user, control_plane.user_kubeconfig(user, groups), rbac)
    assert OPERATOR_GROUPS[0] in groups
    control_plane.wait_for(
        lambda: can_i(
            control_plane, identity.kubeconfig, "watch", "sesmonitors.sesmonitor.io", "-n", watched
        ),
        timeout=20,
        what="the RoleBinding to take effect",
    )
    assert not can_i(control_plane, identity.kubeconfig, "watch", "sesmonitors.sesmonitor.io", "-n", other)
    assert not can_i(
        control_plane, identity.kubeconfig, "watch", "sesmonitors.sesmonitor.io", "--all-namespaces"
    )

    operator.stop()  # one operator per namespace: the session's cluster-wide one steps aside
    namespaced = OperatorProcess(identity, exporters, tmp_path, scope=("--namespace", watched))
    try:
        namespaced.start()
        since = 0
        for ns in (watched, other):
            exporters.serve(ns, "prod")
            control_plane.apply(sesmonitor("prod", ns))
        wait_monitor_ready(control_plane, watched, "prod", what="the watched namespace's monitor to be Ready")
        assert len(children(control_plane, watched, "prod")) == len(CHILD_KINDS)
        assert children(control_plane, other, "prod") == {}
        assert (get_json(control_plane, "sesmonitor", "prod", "-n", other) or {}).get("status") is None
        events = control_plane.audit_events(since=since, user=user)
        denied = [
            f"{e['verb']} {e['requestURI']}" for e in events if e["responseStatus"]["code"] in {401, 403}
        ]
        assert denied == [], namespaced.log_tail()
    finally:
        namespaced.stop()
        for ns in (watched, other, release_namespace):
            control_plane.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found")
