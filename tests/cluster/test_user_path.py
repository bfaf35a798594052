"""The path a user takes, on the real node: `helm install` as README says, the operator Pod under its
ServiceAccount, a SesMonitor, the exporter Pod from our image reading (simulated) SES, and
`kubectl get sesmon` showing the rates the operator read through the exporter's Service DNS name.

Each story's SesMonitor is applied at once, right after the install (``staged``): their exporter Pods
are scheduled, started and read AWS side by side, so the tests mostly find their condition already
there instead of each waiting a minute of its own for a Pod and a first read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from operator_helpers import condition as condition_of

from support.gitops_health import argocd_health, kstatus
from support.kube_cluster import NodeCluster
from support.live_ses import SesAccountProcess
from support.monitors import monitor_document
from support.tools import crds_dir, gitops_tools_dir, helm_path
from support.user_stack import readme_helm_install
from support.waiting import scaled, wait_for

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"
RELEASE_NAMESPACE = "sesmonitor-system"
PROMETHEUS_OPERATOR_CRDS = (
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
)


def wait_operator_rolled_out(cluster: NodeCluster) -> None:
    cluster.kubectl(
        "-n", RELEASE_NAMESPACE, "rollout", "status", "deployment/sesmonitor-operator", "--timeout=180s",
        timeout=200,
    )  # fmt: skip


def pods(cluster: NodeCluster, namespace: str, selector: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.kubectl_json("-n", namespace, "get", "pods", "-l", selector)[
        "items"
    ]
    return items


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", [])
    )


@pytest.fixture(scope="module")
def installed(kube_cluster: NodeCluster) -> Iterator[NodeCluster]:
    kube_cluster.apply_crds([crds_dir() / name for name in PROMETHEUS_OPERATOR_CRDS])
    helm = [str(helm_path()), *readme_helm_install()[1:]]
    proc = kube_cluster.run_with_kubeconfig(helm, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    wait_operator_rolled_out(kube_cluster)
    yield kube_cluster
    kube_cluster.run_with_kubeconfig(
        [
            str(helm_path()),
            "uninstall",
            "sesmonitor-operator",
            "-n",
            RELEASE_NAMESPACE,
            "--wait",
        ]
    )


@pytest.fixture(scope="module")
def accounts(
    kube_cluster: NodeCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SesAccountProcess]]:
    """The simulated accounts the stories read, seeded side by side: ses (the seed story), denied (every
    call denied, as with IRSA or IAM set up wrong from the first start) and outage (the seed again,
    for the test that takes it away)."""
    workdir = tmp_path_factory.mktemp("ses")
    started = {
        key: SesAccountProcess(scenario, workdir, name=name, host=kube_cluster.net.host_ip).start(wait=False)
        for key, scenario, name in (
            ("ses", "seed", "ses-seed"),
            ("denied", "healthy", "ses-denied"),
            ("outage", "seed", "ses-outage"),
        )
    }
    try:
        for account in started.values():
            account.wait_ready()
        started["denied"].control("POST", "faults", {"operation": "*", "kind": "access_denied"})
        yield started
    finally:
        for account in started.values():
            account.stop()


@pytest.fixture(scope="module")
def ses(accounts: dict[str, SesAccountProcess]) -> SesAccountProcess:
    return accounts["ses"]


def allow_exporter_images(cluster: NodeCluster, *images: str) -> None:
    """`helm upgrade --reuse-values` with only ``images`` in the exporter policy's allowedImages."""
    helm = [str(helm_path()), "upgrade", "sesmonitor-operator", str(CHART)]
    allowed = f"--set=exporter.policy.allowedImages={{{','.join(images)}}}"
    proc = cluster.run_with_kubeconfig([*helm, "-n", RELEASE_NAMESPACE, "--reuse-values", allowed], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    wait_operator_rolled_out(cluster)


def monitor(namespace: str, endpoint_url: str, **spec: Any) -> dict[str, Any]:
    aws = {"endpointURL": endpoint_url, "credentialsSecretRef": {"name": "ses-monitor-aws"}}
    return monitor_document({"aws": aws, **spec}, name="ses", namespace=namespace)


def new_namespace(cluster: NodeCluster, name: str) -> str:
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl(
        "-n", name, "create", "secret", "generic", "ses-monitor-aws",
        "--from-literal=AWS_ACCESS_KEY_ID=AKIDTEST", "--from-literal=AWS_SECRET_ACCESS_KEY=test",
    )  # fmt: skip
    return name


def condition(cluster: NodeCluster, namespace: str, kind: str) -> dict[str, Any]:
    return condition_of(cluster.kubectl_json("-n", namespace, "get", "sesmonitor", "ses"), kind)


def exporter_pods(cluster: NodeCluster, namespace: str) -> list[dict[str, Any]]:
    return pods(cluster, namespace, "app.kubernetes.io/component=exporter")


POD_STATES = {
    # More memory than the node has: the scheduler's own message.
    "unschedulable": (
        {"exporter": {"resources": {"requests": {"memory": "900Gi"}, "limits": {"memory": "900Gi"}}}},
        {"Unschedulable"},
        "Insufficient memory",
    ),
    # Too little memory to import boto3: the kernel kills it, the kubelet backs off.
    "oom": (
        {"exporter": {"resources": {"requests": {"memory": "8Mi"}, "limits": {"memory": "8Mi"}}}},
        {"CrashLoopBackOff", "RunContainerError", "CreateContainerError"},
        "exporter pod",
    ),
}


MISSING_IMAGE = "registry.example/sesmonitor/sesmonitor:0.0.0-missing"
# namespace -> (the account it reads, its spec beyond region and aws, with the credentials Secret?)
STORIES: dict[str, tuple[str, dict[str, Any], bool]] = {
    "mail": ("ses", {}, True),
    "denied": ("denied", {}, True),
    "outage": ("outage", {}, True),
    "badimage": ("ses", {"exporter": {"image": MISSING_IMAGE}}, True),
    "nosecret": ("ses", {}, False),
    **{f"pod-{case}": ("ses", spec, True) for case, (spec, _, _) in POD_STATES.items()},
}


@pytest.fixture(scope="module")
def staged(installed: NodeCluster, accounts: dict[str, SesAccountProcess]) -> NodeCluster:
    """Every story's namespace and SesMonitor (``STORIES``), applied together."""
    for ns, (account, spec, with_secret) in STORIES.items():
        if with_secret:
            new_namespace(installed, ns)
        else:
            installed.kubectl("create", "namespace", ns)
        installed.apply(monitor(ns, accounts[account].endpoint_url, **spec))
    return installed


@pytest.fixture(scope="module")
def missing_image_allowed(staged: NodeCluster) -> str:
    """The chart's exporter policy, upgraded to allow ``MISSING_IMAGE`` (badimage/ses's image)."""
    allow_exporter_images(staged, MISSING_IMAGE)
    return MISSING_IMAGE


def test_operator_pod_runs_under_its_service_account(installed: NodeCluster) -> None:
    (pod,) = pods(installed, RELEASE_NAMESPACE, "app.kubernetes.io/name=sesmonitor-operator")
    assert pod["spec"]["serviceAccountName"] == "sesmonitor-operator"
    assert ready(pod), pod["status"]
    (status,) = pod["status"]["containerStatuses"]
    assert status["restartCount"] == 0, status
    assert pod["spec"]["nodeName"] == "sesmonitor-node"


@pytest.fixture(scope="module")
def mail_exporter(staged: NodeCluster) -> dict[str, Any]:
    """The exporter Pod of mail/ses (examples/static-credentials.yaml's shape), once Ready."""
    installed, ns = staged, "mail"

    def exporter_ready() -> dict[str, Any] | None:
        found = exporter_pods(installed, ns)
        return found[0] if len(found) == 1 and ready(found[0]) else None

    pod: dict[str, Any] = wait_for(exporter_ready, 180, "the exporter pod Ready")
    return pod


def test_exporter_pod_serves_and_status_shows_rates(
    installed: NodeCluster, mail_exporter: dict[str, Any]
) -> None:
    security = mail_exporter["spec"]["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert mail_exporter["spec"]["containers"][0]["image"].startswith("ghcr.io/sesmonitor/sesmonitor:")

    def bounce_column() -> str | None:
        out = installed.kubectl("-n", "mail", "get", "sesmon", "ses").stdout
        match = re.search(r"\s(\d+\.\d+)%\s", out)
        return out if match and float(match.group(1)) > 10 else None

    table = wait_for(bounce_column, 240, "kubectl get sesmon to show the seed's bounce rate")
    assert "us-east-1" in table


def test_exporter_serves_over_ipv6_too(installed: NodeCluster, mail_exporter: dict[str, Any]) -> None:
    """The node is dual-stack: the exporter (listening on [::]) answers on its IPv6 pod address and
    through an IPv6-only Service, as on an IPv6 EKS cluster."""
    assert installed.node is not None
    ips = [p["ip"] for p in mail_exporter["status"]["podIPs"]]
    ip6 = next(ip for ip in ips if ":" in ip)
    assert "aws_ses" in installed.node.http_get(f"http://[{ip6}]:9435/metrics")
    installed.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "exporter-v6", "namespace": "mail"},
            "spec": {
                "ipFamilies": ["IPv6"],
                "ipFamilyPolicy": "SingleStack",
                "selector": {"app.kubernetes.io/component": "exporter"},
                "ports": [{"name": "metrics", "port": 9435}],
            },
        }
    )
    cluster_ip = installed.kubectl_json("-n", "mail", "get", "service", "exporter-v6")["spec"]["clusterIP"]
    assert ":" in cluster_ip
    # From a pod, as Prometheus would scrape it (the node itself has no route to Service ranges).
    script = (
        "import urllib.request\n"
        "url = 'http://exporter-v6.mail.svc:9435/metrics'\n"
        "print('aws_ses' in urllib.request.urlopen(url, timeout=10).read().decode())"
    )
    code, log = installed.run_python_pod("probe-ipv6", script, namespace="mail")
    assert (code, log.strip()) == (0, "True")


# --------------------------------------------------------------------------------------------------
# Failure paths, as a user meets them


def test_aws_denied_from_the_first_start_shows_the_aws_error(staged: NodeCluster) -> None:
    installed, ns = staged, "denied"

    def denied() -> dict[str, Any] | None:
        ready = condition(installed, ns, "Ready")
        return ready if ready.get("reason") == "AWSAccessDenied" else None

    ready_condition = wait_for(denied, 240, "Ready to carry the AWS error")
    assert ready_condition["status"] == "False"
    assert "not authorized" in ready_condition["message"]
    # The exporter serves (Ready, in its Service's endpoints) though AWS denies it: that is how the
    # operator could read the error at all.
    (pod,) = exporter_pods(installed, ns)
    assert ready(pod), pod["status"]
    table = installed.kubectl("-n", ns, "get", "sesmon").stdout
    assert "AWSAccessDenied" in table, table


def test_exporter_pod_deleted_is_restored_and_aws_unreachable_keeps_last_values(
    staged: NodeCluster, accounts: dict[str, SesAccountProcess]
) -> None:
    installed, ns, account = staged, "outage", accounts["outage"]
    wait_for(
        lambda: (condition(installed, ns, "Ready").get("status") == "True") or None,
        240,
        "the monitor Ready",
    )
    (first,) = exporter_pods(installed, ns)
    bounce = installed.kubectl_json("-n", ns, "get", "sesmonitor", "ses")["status"]["bounceRate"]

    installed.kubectl("-n", ns, "delete", "pod", first["metadata"]["name"], "--wait=false")

    def replaced() -> dict[str, Any] | None:
        found = [p for p in exporter_pods(installed, ns) if p["metadata"]["uid"] != first["metadata"]["uid"]]
        return found[0] if len(found) == 1 and ready(found[0]) else None

    wait_for(replaced, 180, "a new exporter pod, Ready")

    account.kill()  # AWS unreachable from now on

    def unreachable() -> dict[str, Any] | None:
        exporter = condition(installed, ns, "ExporterReady")
        return exporter if exporter.get("reason") == "AWSUnreachable" else None

    wait_for(unreachable, 240, "ExporterReady to say AWS is unreachable")
    status = installed.kubectl_json("-n", ns, "get", "sesmonitor", "ses")["status"]
    assert status["bounceRate"] == bounce  # the last values are kept


def test_exporter_image_not_allowed_then_allowed_but_missing_says_so(
    staged: NodeCluster, request: pytest.FixtureRequest
) -> None:
    """An image the chart's policy does not allow creates nothing; once an admin allows it (a private
    mirror, say) and the tag does not exist, the kubelet's pull error is the status."""
    installed, ns, image = staged, "badimage", MISSING_IMAGE

    def denied() -> dict[str, Any] | None:
        ready_condition = condition(installed, ns, "Ready")
        return ready_condition if ready_condition.get("reason") == "PolicyDenied" else None

    assert image in wait_for(denied, 180, "Ready to say PolicyDenied")["message"]
    assert exporter_pods(installed, ns) == []
    assert installed.kubectl("-n", ns, "get", "deployments", "-o", "name").stdout.strip() == ""

    request.getfixturevalue("missing_image_allowed")

    def pull_error() -> dict[str, Any] | None:
        exporter = condition(installed, ns, "ExporterReady")
        return exporter if exporter.get("reason") in ("ImagePullBackOff", "ErrImagePull") else None

    exporter_condition = wait_for(pull_error, 240, "ExporterReady to name the image pull failure")
    assert "0.0.0-missing" in exporter_condition["message"]


def test_operator_pod_deleted_mid_reconcile_converges_without_duplicates(
    installed: NodeCluster, ses: SesAccountProcess
) -> None:
    namespaces = [new_namespace(installed, f"restart-{i}") for i in range(3)]
    for ns in namespaces:
        installed.apply(monitor(ns, ses.endpoint_url))
    # While it works on them, the operator's pod goes away; its Deployment brings a new one.
    (operator_pod,) = pods(installed, RELEASE_NAMESPACE, "app.kubernetes.io/name=sesmonitor-operator")
    installed.kubectl(
        "-n", RELEASE_NAMESPACE, "delete", "pod", operator_pod["metadata"]["name"], "--wait=false"
    )
    wait_operator_rolled_out(installed)
    for ns in namespaces:
        wait_for(
            lambda ns=ns: (condition(installed, ns, "Reconciled").get("status") == "True") or None,
            180,
            f"{ns}/ses reconciled",
        )
        for kind in ("configmap", "deployment", "service", "servicemonitor", "prometheusrule"):
            names = installed.kubectl(
                "-n", ns, "get", kind, "-l", "app.kubernetes.io/managed-by=sesmonitor-operator", "-o", "name"
            ).stdout.split()
            assert len(names) == 1, (ns, kind, names)


@pytest.mark.parametrize("case", sorted(POD_STATES))
def test_exporter_pod_states_reach_the_status(staged: NodeCluster, case: str) -> None:
    """What the real scheduler and kubelet say about the exporter's pod is the status' reason."""
    _, reasons, words = POD_STATES[case]
    installed, ns = staged, f"pod-{case}"

    def explained() -> dict[str, Any] | None:
        exporter = condition(installed, ns, "ExporterReady")
        return exporter if exporter.get("reason") in reasons else None

    exporter_condition = wait_for(explained, 240, f"ExporterReady to say one of {sorted(reasons)}")
    assert words in exporter_condition["message"], exporter_condition


def test_missing_credentials_secret_says_so(staged: NodeCluster) -> None:
    installed, ns = staged, "nosecret"  # a namespace without the Secret ses-monitor-aws

    def explained() -> dict[str, Any] | None:
        exporter = condition(installed, ns, "ExporterReady")
        return exporter if exporter.get("reason") == "CreateContainerConfigError" else None

    exporter_condition = wait_for(explained, 180, "ExporterReady to name the missing Secret")
    assert "ses-monitor-aws" in exporter_condition["message"]


# --------------------------------------------------------------------------------------------------
# What `kubectl wait`, kstatus (Flux's health checks) and Argo CD's health.lua make of it (issue 19)


@pytest.fixture(scope="module")
def gitops_tools() -> Path:
    """kstatus-check and argocd-health, resolved before any wait starts: a cold build takes a minute."""
    return gitops_tools_dir()


def kubectl_wait(cluster: NodeCluster, namespace: str, condition_type: str, seconds: float) -> None:
    """`kubectl wait --for=condition=TYPE sesmonitor/ses`: returns once it holds, fails after ``seconds``."""
    cluster.kubectl(
        "-n", namespace, "wait", f"--for=condition={condition_type}", "sesmonitor/ses",
        f"--timeout={scaled(seconds):.0f}s", timeout=seconds + 30,
    )  # fmt: skip


def gitops_readings(
    cluster: NodeCluster, namespace: str
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """ses as the API server has it, with what kstatus and Argo CD read in that very object."""
    obj: dict[str, Any] = cluster.kubectl_json("-n", namespace, "get", "sesmonitor", "ses")
    ((flux,), (argo,)) = kstatus([obj]), argocd_health([obj])
    return obj, flux, argo


@pytest.mark.usefixtures("gitops_tools")
def test_a_working_monitor_is_ready_for_kubectl_wait_kstatus_and_argo_cd(
    installed: NodeCluster, mail_exporter: dict[str, Any]
) -> None:
    kubectl_wait(installed, "mail", "Ready", 240)

    def current() -> tuple[dict[str, Any], dict[str, str], dict[str, str]] | None:
        read = gitops_readings(installed, "mail")
        return read if (read[1]["status"], read[2]["status"]) == ("Current", "Healthy") else None

    obj, flux, argo = wait_for(current, 60, "kstatus Current and Argo CD Healthy")
    ready_condition = condition_of(obj, "Ready")
    assert flux["message"] == "Resource is Ready"
    assert argo["message"] == f"{ready_condition['reason']}: {ready_condition['message']}"
    assert condition_of(obj, "Stalled").get("status") != "True", obj["status"]


@pytest.mark.usefixtures("gitops_tools")
def test_aws_access_denied_stalls_for_kubectl_wait_kstatus_and_argo_cd(staged: NodeCluster) -> None:
    """AWS denying the exporter's identity is Stalled with AWS's words: a Flux Kustomization fails with
    them at once instead of waiting out its timeout, and Argo CD shows the Application Degraded."""
    installed, ns = staged, "denied"
    kubectl_wait(installed, ns, "Stalled", 240)

    obj, flux, argo = gitops_readings(installed, ns)
    stalled = condition_of(obj, "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "AWSAccessDenied"), obj["status"]
    assert "is not authorized to perform this action" in stalled["message"], stalled
    assert condition_of(obj, "Ready")["status"] == "False", obj["status"]
    assert flux == {"status": "Failed", "message": stalled["message"]}
    assert argo == {"status": "Degraded", "message": f"{stalled['reason']}: {stalled['message']}"}


@pytest.mark.usefixtures("gitops_tools")
def test_an_image_that_cannot_be_pulled_stalls_for_kubectl_wait_kstatus_and_argo_cd(
    staged: NodeCluster, missing_image_allowed: str
) -> None:
    """An allowed image that does not exist: the kubelet's pull error is Stalled, its words the message."""
    installed, ns = staged, "badimage"  # PolicyDenied (also Stalled) until the image was allowed
    kubectl_wait(installed, ns, "Stalled", 240)

    def pull_stalled() -> tuple[dict[str, Any], dict[str, str], dict[str, str]] | None:
        read = gitops_readings(installed, ns)
        # The kubelet alternates between the two while it backs off; both stall.
        reason = condition_of(read[0], "Stalled").get("reason")
        return read if reason in ("ImagePullBackOff", "ErrImagePull") else None

    obj, flux, argo = wait_for(pull_stalled, 240, "Stalled to name the image pull failure")
    stalled = condition_of(obj, "Stalled")
    assert stalled["status"] == "True", obj["status"]
    assert "0.0.0-missing" in stalled["message"], stalled
    assert flux == {"status": "Failed", "message": stalled["message"]}
    assert argo == {"status": "Degraded", "message": f"{stalled['reason']}: {stalled['message']}"}


def docs_own_registry_install() -> list[str]:
    """docs/install.md's "Until a release exists" helm install, word for word (continuations joined)."""
    text = (ROOT / "docs" / "install.md").read_text()
    block = text.split("make image IMAGE=registry.example/sesmonitor:0.1.0 PUSH=1", 1)[1].split("```", 1)[0]
    command = block.split("helm install ", 1)[1].replace("\\\n", " ")
    return ["helm", "install", *shlex.split(command)]


def test_the_docs_own_registry_install_runs_a_locally_built_image(
    installed: NodeCluster, ses: SesAccountProcess
) -> None:
    """docs/install.md, until a release exists: `make image IMAGE=registry.example/sesmonitor:0.1.0`
    (here: our image, built by the same scripts/build-image.sh, tagged so in the node's containerd, as
    a push and pull would leave it), then its `helm install ... --set image.repository=...`."""
    assert installed.node is not None
    ours = next(ref for ref in installed.images if ref.startswith("ghcr.io/sesmonitor/sesmonitor:"))
    installed.node.ctr("images", "tag", "--force", ours, "registry.example/sesmonitor:0.1.0")
    helm = str(helm_path())
    installed.run_with_kubeconfig(
        [helm, "uninstall", "sesmonitor-operator", "-n", RELEASE_NAMESPACE, "--wait"]
    )
    proc = installed.run_with_kubeconfig([helm, *docs_own_registry_install()[1:]], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    wait_operator_rolled_out(installed)
    # The uninstalled release's pod may still be shutting down (helm's --wait does not wait for pods).
    (operator_pod,) = [
        pod
        for pod in pods(installed, RELEASE_NAMESPACE, "app.kubernetes.io/name=sesmonitor-operator")
        if "deletionTimestamp" not in pod["metadata"]
    ]
    assert operator_pod["spec"]["containers"][0]["image"] == "registry.example/sesmonitor:0.1.0"

    ns = new_namespace(installed, "own-registry")
    installed.apply(monitor(ns, ses.endpoint_url))

    def exporter_ready() -> dict[str, Any] | None:
        found = exporter_pods(installed, ns)
        return found[0] if len(found) == 1 and ready(found[0]) else None

    pod = wait_for(exporter_ready, 180, "the exporter pod, from the same image, Ready")
    assert pod["spec"]["containers"][0]["image"] == "registry.example/sesmonitor:0.1.0"
