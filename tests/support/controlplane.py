"""A real Kubernetes control plane for tests: etcd + kube-apiserver + kube-controller-manager.

Started the way controller-runtime's envtest does it (local processes on 127.0.0.1, no kubelet, no
scheduler), with a self-made CA so that tests can issue client certificates for any user/group and so
run code under restricted RBAC. The apiserver writes an audit log (JSON lines) so tests can count
requests by user, e.g. "zero writes when nothing changed".

The binaries come from ``tests/controlplane/build.sh`` (see ``support.tools.tools_dir``).

``Cluster`` is the interface tests use; ``ControlPlane`` starts one, ``ExistingCluster`` wraps a
kubeconfig of a cluster that is already running (then user certificates come from the
CertificateSigningRequest API and there is no audit log).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from support.processes import die_with_parent, wait_child_ready
from support.waiting import scaled, wait_for

__all__ = [
    "WRITE_VERBS",
    "AuditUnavailableError",
    "Cluster",
    "ControlPlane",
    "ControlPlaneError",
    "ExistingCluster",
]

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"

# Components that talk to the apiserver all the time; their reads are not worth logging.
_SYSTEM_USERS = [
    "system:apiserver",
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "system:kube-proxy",
    "system:node:sesmonitor-node",
]

AUDIT_POLICY: dict[str, Any] = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived", "ResponseStarted"],
    "rules": [
        {"level": "None", "users": _SYSTEM_USERS, "verbs": ["get", "list", "watch"]},
        # Heartbeats of the node and of leader election: several a minute, of no interest to a test.
        {"level": "None", "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*"]},
        {"level": "Metadata"},
    ],
}

# garbage collection, namespace deletion, default ServiceAccounts and their legacy token secrets, the
# rules of aggregated ClusterRoles (view/edit/admin are empty without it), and
# signing CertificateSigningRequests with the test CA (so ExistingCluster.user_kubeconfig works here too).
DEFAULT_CONTROLLERS = (
    "garbagecollector",
    "namespace",
    "serviceaccount",
    "serviceaccount-token",
    "clusterrole-aggregation",
    "csrsigning",
)


# `kubectl auth can-i` for what the operator does first: the chart's RBAC is in effect once it says yes.
CAN_WATCH_MONITORS = ("auth", "can-i", "watch", "sesmonitors.sesmonitor.io", "--all-namespaces")


class ControlPlaneError(RuntimeError):
    """A component did not start (the message carries the tail of its log) or a call failed."""


class AuditUnavailableError(RuntimeError):
    """The cluster has no audit log this harness can read (an existing cluster)."""


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write_private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "user"


def _kubeconfig(
    server: str,
    ca_pem: bytes,
    user: str,
    cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
) -> dict[str, Any]:
    user_entry: dict[str, Any] = {}
    if cert_pem is not None and key_pem is not None:
        user_entry = {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "test", "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}
        ],
        "users": [{"name": user, "user": user_entry}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": user, "namespace": "default"}}],
        "current-context": "test",
    }


class _CrdLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML 1.1's ``=`` (the "value" type), which big CRDs contain as an enum."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _crd_names(paths: Iterable[Path]) -> list[str]:
    names: list[str] = []
    for path in paths:
        with path.open() as fh:
            for doc in yaml.load_all(fh, Loader=_CrdLoader):  # a SafeLoader subclass
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    names.append(str(doc["metadata"]["name"]))
    return names


# --------------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _week_long(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, *, ca: bool
) -> x509.CertificateBuilder:
    """A certificate valid from an hour ago for a week, for signing (`ca`) or for TLS only."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(hours=1))
        .not_valid_after(_now() + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


class CertificateAuthority:
    """A throw-away CA (ECDSA P-256) that signs the serving certificate and client certificates."""

    def __init__(self, common_name: str = "sesmonitor-test-ca") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.cert = (
            _week_long(name, name, self.key.public_key(), ca=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    def issue(
        self,
        common_name: str,
        organizations: Sequence[str] = (),
        *,
        server: bool = False,
        dns_names: Sequence[str] = (),
        ip_addresses: Sequence[str] = (),
    ) -> tuple[bytes, bytes]:
        """A (certificate PEM, key PEM) pair: a client certificate (CN=user, O=groups) or a serving one."""
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _week_long(x509.Name(attrs), self.cert.subject, key.public_key(), ca=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if dns_names or ip_addresses:
            sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
            sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --------------------------------------------------------------------------------------------------
# The interface tests use
# --------------------------------------------------------------------------------------------------


class Cluster:
    """What tests get from the ``control_plane`` fixture, whether started here or already running."""

    def __init__(self, kubeconfig_path: Path, kubectl_bin: Path | str = "kubectl") -> None:
        self.kubeconfig_path = kubeconfig_path
        self.kubectl_bin = str(kubectl_bin)
        self.audit_log_path: Path | None = None

    # -- subclass hooks --------------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        config = yaml.safe_load(self.kubeconfig_path.read_text())
        current = config.get("current-context")
        context = next(c["context"] for c in config["contexts"] if c["name"] == current)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        return str(cluster["server"])

    def user_kubeconfig(self, user: str, groups: Sequence[str] = ()) -> Path:
        """A kubeconfig that authenticates as ``user`` in ``groups`` (a client certificate)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Release what this object started or wrote (idempotent)."""

    # -- kubectl ---------------------------------------------------------------------------------

    def kubectl(
        self,
        *args: str,
        kubeconfig: Path | None = None,
        check: bool = True,
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster (as admin unless ``kubeconfig`` is given); text output.

        With ``check`` (the default) a non-zero exit raises ``ControlPlaneError`` carrying stderr.
        """
        cmd = [self.kubectl_bin, f"--kubeconfig={kubeconfig or self.kubeconfig_path}", *args]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        proc = subprocess.run(
            cmd, input=input, capture_output=True, text=True, timeout=scaled(timeout), env=env, check=False
        )
        if check and proc.returncode != 0:
            raise ControlPlaneError(
                f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    @contextlib.contextmanager
    def temporary_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> Iterator[str]:
        """The namespace ``name``, created (and labelled) now and deleted, without waiting, afterwards."""
        self.kubectl("create", "namespace", name)
        if labels:
            self.kubectl("label", "namespace", name, *[f"{k}={v}" for k, v in labels.items()])
        try:
            yield name
        finally:
            self.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")

    def run_with_kubeconfig(
        self, args: Sequence[str], *, cwd: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Any command (helm, a script) with this cluster's admin kubeconfig as ``KUBECONFIG``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBECONFIG"))}
        env["KUBECONFIG"] = str(self.kubeconfig_path)
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=scaled(timeout),
            check=False,
        )

    def kubectl_json(self, *args: str, kubeconfig: Path | None = None) -> Any:
        """``kubectl ... -o json`` parsed."""
        return json.loads(self.kubectl(*args, "-o", "json", kubeconfig=kubeconfig).stdout)

    def apply(
        self, manifest: str | dict[str, Any] | list[dict[str, Any]], kubeconfig: Path | None = None
    ) -> None:
        """Server-side apply YAML text or object(s) as admin (or ``kubeconfig``)."""
        if isinstance(manifest, dict):
            text = yaml.safe_dump(manifest)
        elif isinstance(manifest, list):
            text = yaml.safe_dump_all(manifest)
        else:
            text = manifest
        self.kubectl(
            "apply", "--server-side", "--force-conflicts", "--field-manager=tests", "-f", "-",
            input=text, kubeconfig=kubeconfig,
        )  # fmt: skip

    def apply_crds(self, paths: Iterable[Path | str], timeout: float = 60) -> list[str]:
        """Apply CRD files (server-side: big CRDs overflow the client-side annotation) and wait until
        every CRD in them is Established. Returns the CRD names."""
        files = [Path(p) for p in paths]
        for path in files:
            self.kubectl(
                "apply", "--server-side", "--force-conflicts", "--field-manager=tests", "-f", str(path)
            )
        names = _crd_names(files)
        if names:
            self.kubectl(
                "wait", "--for=condition=Established", f"--timeout={int(timeout)}s",
                *[f"customresourcedefinition.apiextensions.k8s.io/{n}" for n in names],
                timeout=timeout + 30,
            )  # fmt: skip
            # Established means served; make sure discovery (used by kubectl/kopf) has caught up too.
            self.wait_for(
                lambda: all(self._discoverable(n) for n in names),
                timeout=timeout,
                what=f"CRDs in discovery: {names}",
            )
        return names

    def _discoverable(self, crd_name: str) -> bool:
        _plural, _, group = crd_name.partition(".")
        proc = self.kubectl("api-resources", f"--api-group={group}", "-o", "name", check=False)
        return proc.returncode == 0 and crd_name in proc.stdout.split()

    @staticmethod
    def wait_for(
        predicate: Callable[[], bool], timeout: float = 30, interval: float = 0.25, what: str = ""
    ) -> None:
        """Poll ``predicate`` until true (``support.waiting``); ``ControlPlaneError`` after ``timeout``."""
        wait_for(predicate, timeout, what or repr(predicate), interval, error=ControlPlaneError)

    def wait_allowed(self, kubeconfig: Path, *args: str, timeout: float = 10, what: str) -> None:
        """Wait until ``kubectl <args>`` as ``kubeconfig`` succeeds (``auth can-i`` exits 0 on "yes"):
        RBAC takes a moment to apply a new binding."""
        self.wait_for(
            lambda: self.kubectl(*args, kubeconfig=kubeconfig, check=False).returncode == 0,
            timeout=timeout,
            what=what,
        )

    # -- audit -----------------------------------------------------------------------------------

    def audit_offset(self) -> int:
        """A mark in the audit log; pass it as ``since`` to see only later events."""
        raise AuditUnavailableError("this cluster has no audit log (not started by ControlPlane)")

    def audit_events(
        self,
        *,
        since: int = 0,
        user: str | None = None,
        verbs: Iterable[str] | None = None,
        sync: bool = True,
    ) -> list[dict[str, Any]]:
        """Parsed audit events (``audit.k8s.io/v1`` Event dicts) logged after byte offset ``since`` (see
        ``audit_offset``), filtered by user name and verbs. With ``sync`` it first makes sure every
        request that completed before this call is in the log (the apiserver may write the event just
        after answering)."""
        verb_set = None if verbs is None else set(verbs)
        events: list[dict[str, Any]] = []
        for event in self._audit_log(since, sync=sync):
            if user is not None and event.get("user", {}).get("username") != user:
                continue
            if verb_set is not None and event.get("verb") not in verb_set:
                continue
            if event.get("objectRef", {}).get("name", "").startswith("sesmonitor-audit-sync-"):
                continue
            events.append(event)
        return events

    def _audit_log(self, since: int, *, sync: bool) -> Iterable[dict[str, Any]]:
        """Every event after ``since``: a subclass with an audit log reads it."""
        del since, sync
        raise AuditUnavailableError("this cluster has no audit log (not started by ControlPlane)")

    def write_events(
        self, *, since: int = 0, user: str | None = None, sync: bool = True
    ) -> list[dict[str, Any]]:
        """Audit events of writes (create/update/patch/delete/deletecollection), optionally by one user."""
        return self.audit_events(since=since, user=user, verbs=WRITE_VERBS, sync=sync)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------------
# A control plane started here
# --------------------------------------------------------------------------------------------------


class ControlPlane(Cluster):
    """etcd + kube-apiserver + kube-controller-manager as local processes.

    >>> cp = ControlPlane(tools_dir() / "bin")   # starts everything; stop() or atexit cleans up
    >>> cp.kubectl("get", "ns")
    """

    def __init__(
        self,
        bin_dir: Path,
        *,
        controllers: Sequence[str] = DEFAULT_CONTROLLERS,
        start_controller_manager: bool = True,
        extra_apiserver_args: Sequence[str] = (),
        startup_timeout: float = 120,
        workdir: Path | None = None,
        keep_workdir: bool = False,
        bind_address: str = "127.0.0.1",
        service_cidr: str = SERVICE_CLUSTER_IP_RANGE,
        serve_nodes: bool = False,
    ) -> None:
        """``serve_nodes``: set up for real kubelets (``support.node``): the Node authorizer and
        NodeRestriction, ServiceAccount tokens for pods, a client certificate for the kubelet API
        (logs, exec) reached at the node's InternalIP. ``bind_address`` is then the host end of the
        node's veth, the one address both the tests and the pods reach."""
        self.bin_dir = Path(bin_dir)
        for name in ("etcd", "kube-apiserver", "kubectl") + (
            ("kube-controller-manager",) if start_controller_manager else ()
        ):
            if not (self.bin_dir / name).is_file():
                raise ControlPlaneError(f"{self.bin_dir / name} is missing (run tests/controlplane/build.sh)")
        self._created_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="sesmonitor-cp-")) if workdir is None else Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(self.workdir / "admin.kubeconfig", self.bin_dir / "kubectl")
        self.keep_workdir = keep_workdir
        self.controllers = tuple(controllers)
        self.startup_timeout = startup_timeout
        self.extra_apiserver_args = tuple(extra_apiserver_args)
        self.bind_address = bind_address
        self.service_cidr = service_cidr
        self.serve_nodes = serve_nodes
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._stopped = False
        self._user_serial = 0
        self.start_seconds: dict[str, float] = {}

        self.ca = CertificateAuthority()
        self.etcd_port = free_port()  # etcd stays on loopback
        self.etcd_url = f"http://127.0.0.1:{self.etcd_port}"
        self.apiserver_port = free_port()
        self._server_url = f"https://{bind_address}:{self.apiserver_port}"
        self._audit_path = self.workdir / "audit.log"
        self.audit_log_path = self._audit_path
        self.ca_path = _write_private(self.workdir / "ca.crt", self.ca.cert_pem)
        _write_private(self.workdir / "ca.key", self.ca.key_pem)

        atexit.register(self.stop)
        try:
            started = time.monotonic()
            self._write_files()
            self._start_etcd()
            self._start_apiserver()
            if start_controller_manager:
                self._start_controller_manager()
            self.start_seconds["total"] = time.monotonic() - started
        except BaseException:
            self.keep_workdir = True  # the logs named in the error stay readable
            self.stop()
            raise

    # -- public ----------------------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        return self._server_url

    def log_path(self, component: str) -> Path:
        """The stdout+stderr log file of ``etcd``, ``kube-apiserver`` or ``kube-controller-manager``."""
        return self.workdir / f"{component}.log"

    def user_kubeconfig(self, user: str, groups: Sequence[str] = ()) -> Path:
        """A kubeconfig with a fresh client certificate for CN=``user``, O=``groups``."""
        cert, key = self.ca.issue(user, list(groups))
        self._user_serial += 1
        path = self.workdir / "users" / f"{self._user_serial:03d}-{_safe_name(user)}.kubeconfig"
        path.parent.mkdir(exist_ok=True)
        config = _kubeconfig(self.server_url, self.ca.cert_pem, user, cert, key)
        _write_private(path, yaml.safe_dump(config).encode())
        return path

    def request(self, method: str, path: str, body: Any = None, *, timeout: float = 10) -> tuple[int, Any]:
        """A raw HTTPS call as admin; returns (status, parsed JSON body or text)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.server_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, context=self._ssl_context, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def audit_offset(self) -> int:
        self._audit_sync()
        try:
            return self._audit_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _audit_log(self, since: int, *, sync: bool) -> Iterable[dict[str, Any]]:
        if sync:
            self._audit_sync()
        return self._read_audit(since)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            proc = self._procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for fh in self._logs.values():
            fh.close()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._created_workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- startup ---------------------------------------------------------------------------------

    def _write_files(self) -> None:
        d = self.workdir
        serving_cert, serving_key = self.ca.issue(
            "kube-apiserver",
            server=True,
            dns_names=[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            ip_addresses=sorted({"127.0.0.1", self.bind_address, self.kubernetes_service_ip}),
        )
        _write_private(d / "apiserver.crt", serving_cert)
        _write_private(d / "apiserver.key", serving_key)
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(d / "sa.key", _key_pem(sa_key))
        _write_private(
            d / "sa.pub",
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        # Front-proxy (aggregation layer) CA and client, as kubeadm sets them up: the apiserver then
        # publishes requestheader settings that delegated authentication (the controller manager's
        # secure port) expects, and aggregated APIs would work.
        proxy_ca = CertificateAuthority("sesmonitor-test-front-proxy-ca")
        _write_private(d / "front-proxy-ca.crt", proxy_ca.cert_pem)
        proxy_cert, proxy_key = proxy_ca.issue("front-proxy-client")
        _write_private(d / "front-proxy-client.crt", proxy_cert)
        _write_private(d / "front-proxy-client.key", proxy_key)
        if self.serve_nodes:
            kubelet_client_cert, kubelet_client_key = self.ca.issue(
                "kube-apiserver-kubelet-client", ["system:masters"]
            )
            _write_private(d / "kubelet-client.crt", kubelet_client_cert)
            _write_private(d / "kubelet-client.key", kubelet_client_key)
        admin_cert, admin_key = self.ca.issue("admin", ["system:masters"])
        _write_private(d / "admin.crt", admin_cert)
        _write_private(d / "admin.key", admin_key)
        _write_private(
            self.kubeconfig_path,
            yaml.safe_dump(
                _kubeconfig(self.server_url, self.ca.cert_pem, "admin", admin_cert, admin_key)
            ).encode(),
        )
        # With --use-service-account-credentials=false every controller acts as this user, whose
        # bootstrap ClusterRole only covers what the manager does outside the controllers; the
        # system:masters group gives the controllers (GC, namespace deletion) the rights that their
        # per-controller ServiceAccounts would have had.
        kcm_cert, kcm_key = self.ca.issue("system:kube-controller-manager", ["system:masters"])
        _write_private(
            d / "kube-controller-manager.kubeconfig",
            yaml.safe_dump(
                _kubeconfig(
                    self.server_url, self.ca.cert_pem, "system:kube-controller-manager", kcm_cert, kcm_key
                )
            ).encode(),
        )
        (d / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY))
        ctx = ssl.create_default_context(cafile=str(self.ca_path))
        ctx.load_cert_chain(str(d / "admin.crt"), str(d / "admin.key"))
        self._ssl_context = ctx

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = self.log_path(name).open("ab")
        self._logs[name] = log
        log.write(f"$ {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only ctypes.prctl, no locks taken
        )
        self._procs[name] = proc
        return proc

    def _wait(self, name: str, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()``; fail with the log tail if the process exits or time runs out."""
        started = time.monotonic()
        wait_child_ready(
            self._procs[name],
            ready,
            name=name,
            log_path=self.log_path(name),
            timeout=scaled(self.startup_timeout),
            error=ControlPlaneError,
            log_lines=40,
        )
        self.start_seconds[name] = time.monotonic() - started

    def _start_etcd(self) -> None:
        peer = f"http://127.0.0.1:{free_port()}"
        self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=sesmonitor-test",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=sesmonitor-test={peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )

        def healthy() -> bool:
            with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as resp:
                return bool(json.loads(resp.read()).get("health") == "true")

        self._wait("etcd", healthy)

    def _start_apiserver(self) -> None:
        d = self.workdir
        self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers={self.etcd_url}",
                f"--bind-address={self.bind_address}",
                f"--advertise-address={self.bind_address}",
                f"--secure-port={self.apiserver_port}",
                f"--cert-dir={d / 'apiserver-certs'}",
                f"--tls-cert-file={d / 'apiserver.crt'}",
                f"--tls-private-key-file={d / 'apiserver.key'}",
                f"--client-ca-file={self.ca_path}",
                *self._authorization_args(),
                f"--requestheader-client-ca-file={d / 'front-proxy-ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={d / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={d / 'front-proxy-client.key'}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={d / 'sa.pub'}",
                f"--service-account-signing-key-file={d / 'sa.key'}",
                f"--service-cluster-ip-range={self.service_cidr}",
                "--allow-privileged=true",
                *self._admission_args(),
                f"--audit-policy-file={d / 'audit-policy.yaml'}",
                f"--audit-log-path={self._audit_path}",
                "--audit-log-format=json",
                "--audit-log-mode=blocking",
                "--audit-log-maxsize=0",
                "--audit-log-maxbackup=0",
                "--profiling=false",
                "--v=1",
                *self.extra_apiserver_args,
            ],
        )

        def ready() -> bool:
            status, body = self.request("GET", "/readyz", timeout=2)
            return status == 200 and str(body).strip() == "ok"

        self._wait("kube-apiserver", ready)

    @property
    def kubernetes_service_ip(self) -> str:
        """The ClusterIP of ``default/kubernetes``: the first address of the Service range."""
        return str(next(ipaddress.ip_network(self.service_cidr.split(",")[0]).hosts()))

    def _authorization_args(self) -> list[str]:
        if not self.serve_nodes:
            return ["--authorization-mode=RBAC"]
        d = self.workdir
        return [
            "--authorization-mode=Node,RBAC",
            f"--kubelet-client-certificate={d / 'kubelet-client.crt'}",
            f"--kubelet-client-key={d / 'kubelet-client.key'}",
            # The node's name does not resolve; its InternalIP does not need to.
            "--kubelet-preferred-address-types=InternalIP",
        ]

    def _admission_args(self) -> list[str]:
        if self.serve_nodes:
            return ["--enable-admission-plugins=NodeRestriction"]
        # No kubelet or token controller for pods: like envtest, do not require SA tokens on pods.
        return ["--disable-admission-plugins=ServiceAccount"]

    def _start_controller_manager(self) -> None:
        d = self.workdir
        self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={d / 'kube-controller-manager.kubeconfig'}",
                f"--authentication-kubeconfig={d / 'kube-controller-manager.kubeconfig'}",
                f"--authorization-kubeconfig={d / 'kube-controller-manager.kubeconfig'}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                f"--cert-dir={d / 'kcm-certs'}",
                "--leader-elect=false",
                f"--controllers={','.join(self.controllers)}",
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={d / 'sa.key'}",
                f"--root-ca-file={self.ca_path}",
                f"--cluster-signing-cert-file={self.ca_path}",
                f"--cluster-signing-key-file={d / 'ca.key'}",
                f"--service-cluster-ip-range={self.service_cidr}",
                "--concurrent-gc-syncs=5",
                "--profiling=false",
                "--v=1",
            ],
        )
        # The serviceaccount controller creating "default" in "default" proves the manager is up
        # and its informers have synced.
        if "serviceaccount" in self.controllers:
            self._wait(
                "kube-controller-manager",
                lambda: (
                    self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default", timeout=2)[0]
                    == 200
                ),
            )

    # -- audit internals -------------------------------------------------------------------------

    def _audit_sync(self, timeout: float = 10) -> None:
        """Send a marker request and wait for its audit event: every request that finished before it
        has then been written (the log backend is blocking)."""
        name = f"sesmonitor-audit-sync-{uuid.uuid4().hex[:12]}"
        self.request("GET", f"/api/v1/namespaces/default/configmaps/{name}")
        wait_for(
            lambda: name.encode() in self._audit_path.read_bytes(),
            timeout,
            f"audit marker {name} in {self._audit_path}",
            0.05,
            error=ControlPlaneError,
        )

    def _read_audit(self, since: int) -> list[dict[str, Any]]:
        try:
            with self._audit_path.open("rb") as fh:
                fh.seek(since)
                raw = fh.read()
        except FileNotFoundError:
            return []
        events: list[dict[str, Any]] = []
        for line in raw.splitlines():
            if line.strip():
                with contextlib.suppress(ValueError):
                    events.append(json.loads(line))
        return events


# --------------------------------------------------------------------------------------------------
# A cluster that is already running
# --------------------------------------------------------------------------------------------------


class ExistingCluster(Cluster):
    """A cluster reached through an admin kubeconfig (``SESMONITOR_TEST_KUBECONFIG``).

    ``user_kubeconfig`` gets a client certificate through the CertificateSigningRequest API (signer
    ``kubernetes.io/kube-apiserver-client``, approved by the admin), which kind, k3s and kubeadm
    clusters sign. There is no audit log.
    """

    def __init__(self, kubeconfig_path: Path, kubectl_bin: Path | str = "kubectl") -> None:
        super().__init__(Path(kubeconfig_path), kubectl_bin)
        self.workdir = Path(tempfile.mkdtemp(prefix="sesmonitor-cluster-"))
        self._csrs: list[str] = []
        self._stopped = False
        atexit.register(self.stop)

    def user_kubeconfig(self, user: str, groups: Sequence[str] = ()) -> Path:
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        csr = (
            x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(key, hashes.SHA256())
        )
        name = f"sesmonitor-test-{_safe_name(user).lower().replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        self.apply(
            {
                "apiVersion": "certificates.k8s.io/v1",
                "kind": "CertificateSigningRequest",
                "metadata": {"name": name},
                "spec": {
                    "request": _b64(csr.public_bytes(serialization.Encoding.PEM)),
                    "signerName": "kubernetes.io/kube-apiserver-client",
                    "expirationSeconds": 86400,
                    "usages": ["client auth", "digital signature"],
                },
            }
        )
        self._csrs.append(name)
        self.kubectl("certificate", "approve", name)
        cert_b64 = ""

        def issued() -> bool:
            nonlocal cert_b64
            cert_b64 = self.kubectl("get", "csr", name, "-o", "jsonpath={.status.certificate}").stdout.strip()
            return bool(cert_b64)

        self.wait_for(issued, timeout=60, what=f"CSR {name} to be signed")
        admin = yaml.safe_load(self.kubeconfig_path.read_text())
        current = admin.get("current-context")
        context = next(c["context"] for c in admin["contexts"] if c["name"] == current)
        cluster = next(c for c in admin["clusters"] if c["name"] == context["cluster"])
        user_entry = {
            "client-certificate-data": cert_b64,
            "client-key-data": _b64(_key_pem(key)),
        }
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": [{"name": user, "user": user_entry}],
            "contexts": [{"name": "test", "context": {"cluster": cluster["name"], "user": user}}],
            "current-context": "test",
        }
        path = self.workdir / f"{name}.kubeconfig"
        _write_private(path, yaml.safe_dump(config).encode())
        return path

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._csrs:
            self.kubectl("delete", "csr", "--ignore-not-found", *self._csrs, check=False)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        shutil.rmtree(self.workdir, ignore_errors=True)
