"""A real Kubernetes node for tests: containerd, runc, the CNI bridge, kubelet and kube-proxy, in a
network namespace and a mount namespace of its own.

    net = NodeNetwork.claim()                       # a free slot: addresses, names, cgroup root
    cp = ControlPlane(bin, bind_address=net.host_ip, service_cidr=net.service_cidr, serve_nodes=True, ...)
    node = Node(net, cp, tools).start()             # namespaces, containerd, images, kubelet, kube-proxy
    node.command("ip", "addr")                      # any command, inside the node's namespaces
    node.stop()                                     # processes, cgroups, namespaces: all gone

What the host keeps untouched: its routes (the only new one is the veth's own /30), firewall, sysctls and
paths. The node's namespaces are held by one ``unshare`` process; every node process is started inside
them by ``nsenter`` and put in the node's own cgroup (``<hierarchy>/<cgroup_root>/node``: each v1
controller's, the hybrid layout's empty cgroup2 too, or on cgroup v2 the one unified hierarchy; the
kubelet's ``cgroupRoot`` is ``<cgroup_root>``), so tear-down finds every process, the containers'
too. Inside the mount namespace tmpfs covers the paths containerd, the CNI plugins and the kubelet hard-code
(``/run``, ``/var/lib``, ``/var/log``), and private files cover the kernel sysctls the kubelet
rewrites. Pods reach only the host end of the veth (the apiserver and test servers listen there);
there is no default route, so no egress.

Slots (``NodeNetwork.claim``) keep two runs on one machine apart: each has its own addresses, veth,
cgroup root and lock file; claiming a slot first removes what a crashed earlier owner left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import ipaddress
import os
import signal
import string
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import yaml

from support.controlplane import ControlPlane, _kubeconfig, _write_private
from support.processes import die_with_parent, tail, wait_child_ready
from support.tools import runc_path
from support.waiting import scaled

__all__ = ["Node", "NodeError", "NodeNetwork"]

FILES = Path(__file__).resolve().parents[1] / "node" / "files"
SLOTS = 32
LOCK_DIR = Path(os.environ.get("SESMONITOR_NODE_LOCKS", "/tmp/sesmonitor-nodes"))
CGROUP_FS = Path("/sys/fs/cgroup")
NODE_NAME = "sesmonitor-node"
CNI_BIN_DIR = Path("/usr/lib/cni")
# Kernel sysctls (global, not per network namespace) that the kubelet sets at start.
KUBELET_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
# The hard-coded paths get a tmpfs each inside the node's mount namespace.
PRIVATE_TMPFS = ("/run", "/var/lib", "/var/log")
# The kubelet's own default, on the node's private /var/lib: its unix sockets (pod-resources,
# device-plugins) must fit the 108 bytes of sun_path, which a root under pytest's tmp_path can exceed.
KUBELET_ROOT = "/var/lib/kubelet"


class NodeError(RuntimeError):
    """A node part did not start (the message carries the tail of its log) or a command failed."""


def render_file(name: str, values: Mapping[str, object]) -> str:
    """One of tests/node/files/ with its ``$placeholders`` filled; a missing value is an error."""
    return string.Template((FILES / name).read_text()).substitute({k: str(v) for k, v in values.items()})


# The controllers the kubelet validates on a cgroup2 root (cpu, cpuset, memory, pids, and hugetlb
# when the kernel has it) plus io, which it sets for pods: enabled for the node's subtree on cgroup v2.
V2_CONTROLLERS = ("cpu", "cpuset", "memory", "pids", "io", "hugetlb")
# Those the kubelet refuses to start without (its cgroup2 root check).
V2_REQUIRED = ("cpu", "cpuset", "memory", "pids")
# The v1 hierarchies the kubelet and runc use (the hybrid layout adds its cgroup2 at unified/).
V1_NAMES = ("cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio", "systemd")


@dataclasses.dataclass(frozen=True)
class CgroupLayout:
    """What is mounted under /sys/fs/cgroup: ``kind`` is "v1", "hybrid" (v1 plus a controller-less
    cgroup2 at unified/) or "v2" (cgroup2 at /sys/fs/cgroup itself); ``hierarchies`` are the mount
    points the node makes its cgroup in."""

    kind: str
    hierarchies: tuple[Path, ...]


def cgroup_layout(mountinfo: str, root: Path = CGROUP_FS) -> CgroupLayout:
    """The layout from /proc/self/mountinfo's text (pure: unit-tested on the three kinds)."""
    v1: dict[str, Path] = {}
    v2: list[Path] = []
    for line in mountinfo.splitlines():
        fields, sep, rest = line.partition(" - ")
        parts, tail_ = fields.split(), rest.split()
        if not sep or len(parts) < 5 or len(tail_) < 3:
            continue
        point, fstype = Path(parts[4].replace("\\040", " ")), tail_[0]
        if fstype == "cgroup2" and point in (root, root / "unified"):
            v2.append(point)
        elif fstype == "cgroup" and point.parent == root:
            options = set(tail_[2].split(","))
            for name in V1_NAMES:
                if name in options or f"name={name}" in options:
                    # Debian's systemd mounts cpu,cpuacct together: one hierarchy, under its own name.
                    v1.setdefault(name, point)
    if root in v2:
        return CgroupLayout("v2", (root,))
    seen: dict[Path, None] = {}
    for name in V1_NAMES:
        if name in v1:
            seen.setdefault(v1[name], None)
    if v2:
        return CgroupLayout("hybrid", (*seen, *v2))
    return CgroupLayout("v1", tuple(seen))


def v2_controllers_to_enable(available: str) -> list[str]:
    """The ``+name`` words for cgroup.subtree_control: ours among a ``cgroup.controllers`` line."""
    present = set(available.split())
    return [f"+{c}" for c in V2_CONTROLLERS if c in present]


def _cgroup_controllers() -> list[Path]:
    """The cgroup hierarchies the node uses, as this machine mounts them (see ``cgroup_layout``)."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    return list(cgroup_layout(mountinfo).hierarchies)


def make_cgroup_tree(dirs: Sequence[Path]) -> None:
    """Each top cgroup with a leaf ``node/`` for the node's own processes. On a cgroup2 hierarchy with
    controllers (v2; the hybrid one has none) they are enabled in the parent's and the top's
    subtree_control, so the kubelet's kubepods/ under the top gets them; cgroup2 allows processes only
    in a cgroup that has none enabled for children, hence the leaf. The root's subtree_control is left
    as it is afterwards: systemd enables these at boot on every v2 host, and other slots may use them."""
    for top in dirs:
        top.mkdir(parents=True, exist_ok=True)
        controllers = top.parent / "cgroup.controllers"
        if controllers.exists():
            enable = v2_controllers_to_enable(controllers.read_text())
            for cg in (top.parent, top):
                # One at a time: a write of several fails whole when the kernel refuses one (cpu, on a
                # host whose other cgroups run real-time threads); only the kubelet's own are required.
                for word in enable:
                    try:
                        (cg / "cgroup.subtree_control").write_text(word)
                    except OSError as err:
                        if word[1:] in V2_REQUIRED:
                            raise NodeError(
                                f"cannot enable {word[1:]} in {cg}/cgroup.subtree_control: {err}"
                            ) from err
        (top / "node").mkdir(exist_ok=True)


# --------------------------------------------------------------------------------------------------
# Addresses and names of one slot
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NodeNetwork:
    """Everything that must differ between two nodes on one machine, derived from a slot number.

    Addresses come from the ranges set aside for network test beds, so they never collide with a
    network the machine is on: IPv4 198.18.0.0/15 (RFC 2544): the veth 198.19.<slot>.0/30, pods
    198.18.<2 slot>.0/24, Services 198.18.<2 slot + 1>.0/24; IPv6 2001:2::/48 (RFC 5180): the veth
    2001:2:0:1<slot>::/64, pods 2001:2:0:2<slot>::/64, Services 2001:2:0:3<slot>::/112 (slot in hex).
    The cluster is dual-stack, IPv4 first (its default family, as on most clusters).
    """

    slot: int
    lock: IO[str] | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def claim(cls) -> NodeNetwork:
        """The first slot no live run holds; what a dead holder left there is removed first."""
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        claimed: NodeNetwork | None = None
        # Every slot no one holds is cleaned, not only the one taken: a crash may have left any of them.
        for slot in range(SLOTS):
            fh = (LOCK_DIR / f"slot-{slot}.lock").open("a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            net = cls(slot, fh)
            net.remove_leftovers()
            if claimed is None:
                claimed = net
            else:
                net.release()
        if claimed is None:
            raise NodeError(f"all {SLOTS} node slots in {LOCK_DIR} are taken")
        return claimed

    def release(self) -> None:
        if self.lock is not None:
            self.lock.close()

    @property
    def host_ip(self) -> str:
        return f"198.19.{self.slot}.1"

    @property
    def node_ip(self) -> str:
        return f"198.19.{self.slot}.2"

    @property
    def link_prefix(self) -> int:
        return 30

    @property
    def host_ip6(self) -> str:
        return f"2001:2:0:{0x100 + self.slot:x}::1"

    @property
    def node_ip6(self) -> str:
        return f"2001:2:0:{0x100 + self.slot:x}::2"

    @property
    def pod_cidr(self) -> str:
        return f"198.18.{2 * self.slot}.0/24"

    @property
    def pod_cidr6(self) -> str:
        return f"2001:2:0:{0x200 + self.slot:x}::/64"

    @property
    def service_cidr(self) -> str:
        """Both families, as kube-apiserver's --service-cluster-ip-range takes them."""
        return f"198.18.{2 * self.slot + 1}.0/24,2001:2:0:{0x300 + self.slot:x}::/112"

    @property
    def cluster_dns(self) -> str:
        return str(ipaddress.ip_network(self.service_cidr.split(",")[0])[10])

    @property
    def host_veth(self) -> str:
        return f"smn{self.slot}h"

    @property
    def cgroup_root(self) -> str:
        return f"sesmonitor-node-{self.slot}"

    def cgroup_dirs(self) -> list[Path]:
        return [c / self.cgroup_root for c in _cgroup_controllers()]

    def remove_leftovers(self) -> None:
        """Kill whatever still runs in this slot's cgroups, remove them, and the veth if it is left."""
        kill_cgroup_tree(self.cgroup_dirs())
        if Path(f"/sys/class/net/{self.host_veth}").exists():
            subprocess.run(["ip", "link", "del", self.host_veth], check=False, capture_output=True)


def _cgroup_pids(dirs: Sequence[Path]) -> set[int]:
    pids: set[int] = set()
    for top in dirs:
        if not top.is_dir():
            continue
        for procs in top.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in procs.read_text().split())
    return pids


def kill_cgroup_tree(dirs: Sequence[Path], timeout: float = 30) -> None:
    """Kill every process in the trees (cgroup.kill where the kernel has it: cgroup2 since 5.14, one
    write for the whole subtree; else SIGKILL to each pid, again until none is left), then remove the
    (now empty) cgroups, deepest first."""
    deadline = time.monotonic() + timeout
    for top in dirs:
        with contextlib.suppress(OSError):
            (top / "cgroup.kill").write_text("1")
    while pids := _cgroup_pids(dirs):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise NodeError(f"processes {sorted(pids)} survive SIGKILL in {[str(d) for d in dirs]}")
        time.sleep(0.1)
    for top in dirs:
        if not top.is_dir():
            continue
        for sub in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                sub.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


# --------------------------------------------------------------------------------------------------
# The node
# --------------------------------------------------------------------------------------------------


class NodeProcess:
    """A long-running node part (containerd, kubelet, kube-proxy) inside the node's namespaces."""

    def __init__(self, node: Node, name: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.node = node
        self.name = name
        self.log_path = node.workdir / "logs" / f"{name}.log"
        log = self.log_path.open("ab")
        log.write(f"$ {' '.join(args)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            node.enter(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            preexec_fn=node.preexec,  # noqa: PLW1509 - prctl and a write to cgroup.procs only
        )
        log.close()

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, ready: Callable[[], bool], timeout: float) -> None:
        wait_child_ready(
            self.proc,
            ready,
            name=self.name,
            log_path=self.log_path,
            timeout=scaled(timeout),
            error=NodeError,
            log_lines=40,
        )

    def stop(self, timeout: float = 15) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Node:
    """One node: ``start()`` runs the steps in order, each timed in ``step_seconds``; a failed step
    tears down what the earlier ones made (the logs stay in ``workdir/logs``)."""

    def __init__(
        self,
        network: NodeNetwork,
        node_bin: Path,
        image_archives: Mapping[str, Path],
        workdir: Path,
        *,
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.net = network
        self._cp: ControlPlane | None = None
        self.node_bin = node_bin
        self.images = dict(image_archives)
        self.workdir = workdir
        self.log = log
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.holder: subprocess.Popen[bytes] | None = None
        self.procs: dict[str, NodeProcess] = {}
        self.step_seconds: dict[str, float] = {}
        self._stopped = False

    # -- running things inside ---------------------------------------------------------------------

    @property
    def holder_pid(self) -> int:
        if self.holder is None:
            raise NodeError("the node's namespaces do not exist yet")
        return self.holder.pid

    def enter(self, args: Sequence[str]) -> list[str]:
        """``args`` as a command line that runs inside the node's network and mount namespaces."""
        return ["nsenter", f"--target={self.holder_pid}", "--net", "--mount", "--", *map(str, args)]

    def preexec(self) -> None:  # pragma: no cover - runs in the child between fork and exec
        die_with_parent()
        pid = str(os.getpid())
        for cg in self.net.cgroup_dirs():
            with contextlib.suppress(OSError):
                (cg / "node" / "cgroup.procs").write_text(pid)

    def command(self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None) -> str:
        """Run a command inside the node; its stdout, or NodeError with stdout+stderr."""
        proc = subprocess.run(
            self.enter(args),
            capture_output=True,
            text=True,
            timeout=scaled(timeout),
            check=False,
            input=input,
        )
        if check and proc.returncode != 0:
            raise NodeError(f"{' '.join(args)} exited with {proc.returncode}: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def http_get(self, url: str, timeout: float = 5) -> str:
        """GET ``url`` from inside the node (its loopback, pods, Services); the body, or "" on failure."""
        return self.command("curl", "-fsS", "--max-time", str(timeout), url, check=False, timeout=timeout + 5)

    def ctr(self, *args: str, timeout: float = 300) -> str:
        return self.command(
            str(self.node_bin / "ctr"),
            "--address=/run/containerd/containerd.sock",
            "--namespace=k8s.io",
            *args,
            timeout=timeout,
        )

    def _env(self) -> dict[str, str]:
        path = f"{self.node_bin}:/usr/sbin:/usr/bin:/sbin:/bin"
        return {"PATH": path, "HOME": str(self.workdir), "LANG": "C.UTF-8"}

    def spawn(self, name: str, args: Sequence[str]) -> NodeProcess:
        proc = NodeProcess(self, name, [str(a) for a in args], self._env())
        self.procs[name] = proc
        return proc

    # -- bring-up ------------------------------------------------------------------------------------

    @property
    def cp(self) -> ControlPlane:
        if self._cp is None:
            raise NodeError("the node has no control plane yet (start)")
        return self._cp

    def prepare(self) -> Node:
        """The namespaces and the veth: the control plane binds the veth's host end, so this comes first."""
        return self._run_steps([("namespaces", self._make_namespaces), ("network", self._make_network)])

    def start(self, control_plane: ControlPlane, timeout: float = 180) -> Node:
        """Join ``control_plane`` (started with this node's addresses and ``serve_nodes``)."""
        self._cp = control_plane
        return self._run_steps(
            [
                ("files", self._write_files),
                ("containerd", self._start_containerd),
                ("images", self._import_images),
                ("kubelet", self._start_kubelet),
                ("kube-proxy", self._start_kube_proxy),
                ("node ready", lambda: self._wait_node_ready(timeout)),
            ]
        )

    def _run_steps(self, steps: Sequence[tuple[str, Callable[[], None]]]) -> Node:
        try:
            for name, step in steps:
                started = time.monotonic()
                self.log(f"node: {name}")
                step()
                self.step_seconds[name] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise
        return self

    def _make_namespaces(self) -> None:
        make_cgroup_tree(self.net.cgroup_dirs())
        # The holder: an `unshare` whose child sleeps forever; it dies with us (parent-death signal).
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "--", "sleep", "infinity"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=self.preexec,  # noqa: PLW1509 - prctl and a write to cgroup.procs only
        )
        deadline = time.monotonic() + 10
        own_net = os.readlink("/proc/self/ns/net")
        while os.readlink(f"/proc/{self.holder.pid}/ns/net") == own_net:
            if self.holder.poll() is not None or time.monotonic() > deadline:
                raise NodeError("unshare did not create the node's namespaces")
            time.sleep(0.02)
        mounts = [f"mount -t tmpfs -o mode=0755 tmpfs {path}" for path in PRIVATE_TMPFS]
        # Private copies of the sysctls the kubelet writes: it sees and sets its own values.
        sysctl_dir = self.workdir / "sysctl"
        sysctl_dir.mkdir(exist_ok=True)
        for key in KUBELET_SYSCTLS:
            source = Path("/proc/sys") / key
            if source.exists():
                private = sysctl_dir / key.replace("/", ".")
                private.write_text(source.read_text())
                mounts.append(f"mount --bind {private} {source}")
        self.command("sh", "-ec", "; ".join(["ip link set lo up", *mounts]))

    def _make_network(self) -> None:
        net = self.net
        # A pod's DNS query to the CoreDNS Service is DNAT'd to a pod on the same bridge, whose answer
        # is bridged straight back: only br_netfilter lets conntrack undo the DNAT (Docker hosts and
        # this one have it loaded; a bare Debian kernel, like the cgroup2 guest's, does not).
        if not Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists():
            raise NodeError("the node's pods need br_netfilter: run `modprobe br_netfilter` (as root) first")
        subprocess.run(
            [
                "ip",
                "link",
                "add",
                net.host_veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                str(self.holder_pid),
            ],
            check=True,
            capture_output=True,
        )
        for address in (f"{net.host_ip}/{net.link_prefix}", f"{net.host_ip6}/64"):
            subprocess.run(
                ["ip", "addr", "add", address, "dev", net.host_veth, *(["nodad"] if ":" in address else [])],
                check=True,
                capture_output=True,
            )
        subprocess.run(["ip", "link", "set", net.host_veth, "up"], check=True, capture_output=True)
        self.command(
            "sh",
            "-ec",
            f"ip addr add {net.node_ip}/{net.link_prefix} dev eth0; "
            f"ip -6 addr add {net.node_ip6}/64 dev eth0 nodad; ip link set eth0 up; "
            # The node routes its pods' packets (the node's own, namespaced, settings).
            "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding",
        )

    def _write_files(self) -> None:
        d = self.workdir
        net = self.net
        ca = self.cp.ca
        (d / "cni").mkdir(exist_ok=True)
        (d / "cni" / "10-sesmonitor.conflist").write_text(
            render_file("cni.conflist", {"pod_cidr": net.pod_cidr, "pod_cidr6": net.pod_cidr6})
        )
        (d / "containerd.toml").write_text(
            render_file(
                "containerd.toml",
                {
                    "containerd_root": d / "containerd",
                    "pause_image": self.pause_image,
                    "runc": runc_path(),
                    "cni_bin_dir": CNI_BIN_DIR,
                    "cni_conf_dir": d / "cni",
                },
            )
        )
        cert, key = ca.issue(f"system:node:{NODE_NAME}", ["system:nodes"], server=False)
        self._kubeconfig("kubelet", cert, key)
        serving_cert, serving_key = ca.issue(
            NODE_NAME, server=True, dns_names=[NODE_NAME], ip_addresses=[net.node_ip, net.node_ip6]
        )
        _write_private(d / "kubelet.crt", serving_cert)
        _write_private(d / "kubelet.key", serving_key)
        (d / "resolv.conf").write_text(f"nameserver {net.cluster_dns}\n")
        (d / "kubelet.yaml").write_text(
            render_file(
                "kubelet.yaml",
                {
                    "cgroup_root": net.cgroup_root,
                    "node_ip": net.node_ip,
                    "tls_cert": d / "kubelet.crt",
                    "tls_key": d / "kubelet.key",
                    "client_ca": self.cp.ca_path,
                    "cluster_dns": net.cluster_dns,
                    "resolv_conf": d / "resolv.conf",
                },
            )
        )
        proxy_cert, proxy_key = ca.issue("system:kube-proxy", ["system:node-proxier"])
        self._kubeconfig("kube-proxy", proxy_cert, proxy_key)
        (d / "kube-proxy.yaml").write_text(
            render_file(
                "kube-proxy.yaml",
                {
                    "kubeconfig": d / "kube-proxy.kubeconfig",
                    "node_name": NODE_NAME,
                    "pod_cidrs": f"{net.pod_cidr},{net.pod_cidr6}",
                    "node_ip": net.node_ip,
                    "node_ip6": net.node_ip6,
                },
            )
        )

    def _kubeconfig(self, name: str, cert: bytes, key: bytes) -> Path:
        path = self.workdir / f"{name}.kubeconfig"
        config = _kubeconfig(self.cp.server_url, self.cp.ca.cert_pem, name, cert, key)
        return _write_private(path, yaml.safe_dump(config).encode())

    @property
    def pause_image(self) -> str:
        for ref in self.images:
            if "/pause:" in ref:
                return ref
        raise NodeError(f"no pause image among {sorted(self.images)}")

    def _start_containerd(self) -> None:
        proc = self.spawn(
            "containerd",
            [
                self.node_bin / "containerd",
                f"--config={self.workdir / 'containerd.toml'}",
                "--log-level=info",
            ],
        )
        proc.wait_ready(
            lambda: Path(f"/proc/{proc.proc.pid}").exists() and bool(self.ctr("version", timeout=5)), 60
        )

    def _import_images(self) -> None:
        present = self.ctr("images", "list", "--quiet")
        for ref, archive in self.images.items():
            if ref in present.split():
                continue
            self.ctr("images", "import", "--no-unpack=false", "--local=false", str(archive))
        missing = set(self.images) - set(self.ctr("images", "list", "--quiet").split())
        if missing:
            raise NodeError(f"images not registered after import: {sorted(missing)}")

    def _start_kubelet(self) -> None:
        d = self.workdir
        proc = self.spawn(
            "kubelet",
            [
                self.node_bin / "kubelet",
                f"--config={d / 'kubelet.yaml'}",
                f"--kubeconfig={d / 'kubelet.kubeconfig'}",
                f"--root-dir={KUBELET_ROOT}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={self.net.node_ip},{self.net.node_ip6}",
                "--v=1",
            ],
        )
        proc.wait_ready(lambda: self.http_get("http://127.0.0.1:10248/healthz") == "ok", 120)

    def _start_kube_proxy(self) -> None:
        proc = self.spawn(
            "kube-proxy",
            [self.node_bin / "kube-proxy", f"--config={self.workdir / 'kube-proxy.yaml'}", "--v=1"],
        )
        proc.wait_ready(lambda: bool(self.http_get("http://127.0.0.1:10256/healthz")), 60)

    def _wait_node_ready(self, timeout: float) -> None:
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        last = "not registered"
        while time.monotonic() < deadline:
            for proc in self.procs.values():
                if not proc.running():
                    raise NodeError(f"{proc.name} exited; log {proc.log_path}:\n{tail(proc.log_path, 40)}")
            status, body = self.cp.request("GET", f"/api/v1/nodes/{NODE_NAME}")
            if status == 200 and isinstance(body, dict):
                conditions = {c["type"]: c for c in body.get("status", {}).get("conditions", [])}
                ready = conditions.get("Ready", {})
                if ready.get("status") == "True":
                    return
                last = f"Ready={ready.get('status')}: {ready.get('message')}"
            time.sleep(0.5)
        kubelet = self.procs["kubelet"].log_path
        raise NodeError(
            f"node not Ready after {timeout}s ({last}); kubelet log {kubelet}:\n{tail(kubelet, 40)}"
        )

    # -- tear-down -----------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the kubelet first (so it restarts nothing), then everything left in the node's cgroups,
        then the namespaces (the veth goes with them)."""
        if self._stopped:
            return
        self._stopped = True
        for name in ("kubelet", "kube-proxy", "containerd"):
            proc = self.procs.get(name)
            if proc is not None:
                proc.stop()
        kill_cgroup_tree(self.net.cgroup_dirs())
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(timeout=10)
        self.net.remove_leftovers()

    def logs(self) -> Iterator[tuple[str, Path]]:
        for name, proc in self.procs.items():
            yield name, proc.log_path
