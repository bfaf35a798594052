"""The test node's cgroup layout decision (support.node.cgroup_layout) on the three kinds of host, from
mountinfo lines as those hosts write them. The proof that the node runs on v2 is `make test-cgroup2`."""

from __future__ import annotations

from pathlib import Path

from support.node import cgroup_layout, v2_controllers_to_enable

CG = Path("/sys/fs/cgroup")
TMPFS = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755"
PROC = "22 1 0:21 / /proc rw,nosuid - proc proc rw"


def _v1(*points: str, systemd: str) -> list[str]:
    """Mountinfo lines of v1 hierarchies at /sys/fs/cgroup/<point> (mount options: the point's
    controllers), numbered from 32; the systemd one, mount options `systemd`, last."""
    mounts = [*((point, point) for point in points), ("systemd", systemd)]
    return [
        f"{n} 31 0:{n} / /sys/fs/cgroup/{point} rw,nosuid - cgroup cgroup rw,{options}"
        for n, (point, options) in enumerate(mounts, start=32)
    ]


# This machine: one hierarchy per controller, the systemd one, and an empty cgroup2 at unified/.
HYBRID = "\n".join(
    [
        PROC,
        TMPFS,
        *_v1(
            "cpu",
            "cpuacct",
            "cpuset",
            "memory",
            "devices",
            "freezer",
            "blkio",
            "pids",
            systemd="name=systemd",
        ),
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    ]
)
# Debian 10's systemd: cpu and cpuacct in one hierarchy, net_cls and others the node does not use.
V1 = "\n".join(
    [TMPFS, *_v1("cpu,cpuacct", "net_cls,net_prio", "memory", "pids", "cpuset", systemd="xattr,name=systemd")]
)
# Debian 12, Ubuntu 22.04+, GitHub's runners, the QEMU guest: only cgroup2, at /sys/fs/cgroup itself.
V2 = "\n".join(
    [
        PROC,
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate",
    ]
)


def test_this_machines_hybrid_layout_keeps_every_v1_hierarchy_and_the_unified_one() -> None:
    layout = cgroup_layout(HYBRID)
    assert layout.kind == "hybrid"
    names = ["cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio", "systemd"]
    assert layout.hierarchies == (*(CG / n for n in names), CG / "unified")


def test_v1_with_joined_controllers_uses_each_mount_once_and_ignores_unused_ones() -> None:
    layout = cgroup_layout(V1)
    assert layout.kind == "v1"
    assert layout.hierarchies == (
        CG / "cpu,cpuacct",
        CG / "cpuset",
        CG / "memory",
        CG / "pids",
        CG / "systemd",
    )


def test_v2_is_the_unified_hierarchy_at_the_root_alone() -> None:
    assert cgroup_layout(V2) == cgroup_layout(V2 + "\n" + HYBRID.splitlines()[-1])
    layout = cgroup_layout(V2)
    assert layout.kind == "v2"
    assert layout.hierarchies == (CG,)


def test_no_cgroup_mounted_gives_no_hierarchy() -> None:
    assert cgroup_layout(PROC).hierarchies == ()


def test_a_cgroup2_elsewhere_is_not_the_hosts() -> None:
    other = "50 22 0:40 / /run/other rw - cgroup2 cgroup2 rw"
    assert cgroup_layout(PROC + "\n" + other).kind == "v1"
    assert cgroup_layout(PROC + "\n" + other).hierarchies == ()


def test_v2_enables_the_kubelets_controllers_the_parent_offers_in_a_fixed_order() -> None:
    assert v2_controllers_to_enable("cpuset cpu io memory hugetlb pids rdma misc") == [
        "+cpu",
        "+cpuset",
        "+memory",
        "+pids",
        "+io",
        "+hugetlb",
    ]
    # The hybrid layout's cgroup2 has every controller bound to v1: nothing to enable.
    assert v2_controllers_to_enable("") == []
    assert v2_controllers_to_enable("memory pids\n") == ["+memory", "+pids"]
