#!/bin/sh
# Inside the cgroup2 guest (started by the rootfs's init, from the checkout share): the host's shares
# at their host paths, writable through a tmpfs overlay so the host's copies stay untouched; the tests;
# then the check that the node left nothing in the guest. Writes the result to /results/exit-code.
# /results/guest.env (written by run.sh) sets CHECKOUT, TOOLS, PYTHON_HOME, PYTEST_ARGS, TIMEOUT_SCALE.
set -u
# shellcheck source=/dev/null # written by run.sh
. /results/guest.env
log() { echo "guest: $*"; }
result() { echo "$1" >/results/exit-code; sync; exit 0; }

mkdir -p /mnt/ovl
mount -t tmpfs -o mode=0755 tmpfs /mnt/ovl
share() { # tag lower target: the 9p share at lower, an overlay of it at target
  mkdir -p "$2" "$3" "/mnt/ovl/$1/upper" "/mnt/ovl/$1/work"
  mountpoint -q "$2" || mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,ro "$1" "$2" || return 1
  mount -t overlay overlay -o "lowerdir=$2,upperdir=/mnt/ovl/$1/upper,workdir=/mnt/ovl/$1/work" "$3"
}
share checkout /mnt/checkout "$CHECKOUT" || result 125
share tools /mnt/tools "$TOOLS" || result 125
if [ -n "$PYTHON_HOME" ]; then share python /mnt/python "$PYTHON_HOME" || result 125; fi

ip link set lo up
# As on Docker hosts and this one: pods' Service traffic to a pod on the same bridge needs it.
modprobe br_netfilter
hostname sesmonitor-guest
[ -s /etc/hosts ] || printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >/etc/hosts
log "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"
log "/sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup); controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || grep -q ' cgroup ' /proc/mounts; then
  log "not a cgroup2-only guest"
  result 126
fi

cd "$CHECKOUT" || result 125
export HOME=/root LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SESMONITOR_TOOLS="$TOOLS" SESMONITOR_PREBUILT=/results/prebuilt.txt SESMONITOR_TIMEOUT_SCALE="$TIMEOUT_SCALE"
# The node's and the control plane's logs, copied out every minute and at the end (pytest's tmp_path
# stays in the guest: containerd's snapshots cannot live on 9p).
copy_logs() {
  mkdir -p /results/logs
  find /tmp/pytest-of-root -path '*/logs/*' -name '*.log' -exec cp --parents {} /results/logs/ \; 2>/dev/null
}
(while sleep 60; do copy_logs; done) &
copier=$!
start=$(date +%s)
log "pytest $PYTEST_ARGS"
# shellcheck disable=SC2086 # PYTEST_ARGS is a list of words, quoted by run.sh
{
  eval ".venv/bin/python -m pytest -p no:cacheprovider $PYTEST_ARGS"
  echo $? >/results/pytest.rc
} 2>&1 | tee /results/pytest.log
code=$(tail -n 1 /results/pytest.rc 2>/dev/null || echo 1)
log "pytest exited $code after $(($(date +%s) - start))s"
kill "$copier"
copy_logs

# Nothing of the node may be left: its cgroups, veths, processes.
sleep 2
left=""
for cg in /sys/fs/cgroup/sesmonitor-node-*; do [ -e "$cg" ] && left="$left cgroup:$cg"; done
for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^smn'); do left="$left veth:$link"; done
# By comm, 15 characters at most (containerd-shim-runc-v2 is containerd-shim).
for name in kubelet kube-proxy containerd containerd-shim kube-apiserver etcd coredns; do
  for pid in $(pgrep -x "$name"); do left="$left process:$name($pid)"; done
done
log "cgroups now: $(find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type d -printf '%f ')"
if [ -n "$left" ]; then
  log "left behind:$left"
  [ "$code" = 0 ] && code=3
else
  log "nothing left behind (no sesmonitor-node-* cgroup, no smn* veth, no node process)"
fi
result "$code"
