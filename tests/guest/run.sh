#!/usr/bin/env bash
# `make test-cgroup2`: the node tests and the user-path smoke in a QEMU guest that mounts only the
# unified cgroup2 hierarchy (cgroup_no_v1=all), as Debian 12, Ubuntu 22.04+ and GitHub's runners do.
# This machine is cgroup v1 (hybrid), so the guest is where the node's v2 code runs for real.
#
# The guest: Debian bookworm's kernel and a minbase rootfs (build-rootfs.sh, cached), TCG emulation,
# 8 GiB, 2 vCPUs, no network device. The checkout, the Go-built tool cache and the venv's Python are
# shared read-only by 9p at their host paths (the guest writes through a tmpfs overlay); one host
# directory takes the results. Exit status: the guest's (pytest's, or 3 when the node left something).
#
#   SESMONITOR_GUEST_TESTS   pytest arguments (default: the node tests and the user-path smoke)
#   SESMONITOR_GUEST_TIMEOUT seconds before QEMU is stopped (default 5400)
#   SESMONITOR_GUEST_ACCEL   QEMU accelerator (default tcg,thread=multi; kvm stalls in early boot here)
#   SESMONITOR_GUEST_SCALE   the tests' timeout multiplier in the guest (default 6)
#   SESMONITOR_GUEST_RESULTS where the logs go (default a new /tmp/sesmonitor-guest.XXXXXX)
set -euo pipefail
cd "$(dirname "$0")/../.."
checkout=$PWD
log() { echo "test-cgroup2: $*" >&2; }
[[ $(id -u) == 0 ]] || { log "needs root (the rootfs build; the guest's node runs as its root)"; exit 1; }

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if ((${#need[@]})); then
  log "installing Debian packages: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[[ -x .venv/bin/python ]] || { log "no .venv here: run scripts/setup.sh first"; exit 1; }

tools=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
start=$(date +%s)
guest=$(bash tests/guest/build-rootfs.sh)
results=${SESMONITOR_GUEST_RESULTS:-$(mktemp -d /tmp/sesmonitor-guest.XXXXXX)}
mkdir -p "$results"
rm -f "$results"/exit-code "$results"/pytest.rc
# The guest has no Go, buildah or mmdebstrap: the host's (warm) build scripts name their outputs.
node_dir=$(bash tests/node/build.sh)
{
  echo "controlplane/build.sh $(bash tests/controlplane/build.sh)"
  echo "tools/helm.sh $(bash tests/tools/helm.sh)"
  echo "node/build.sh $node_dir"
  echo "node/images.sh $(bash tests/node/images.sh --bin-dir "$node_dir/bin")"
} >"$results/prebuilt.txt"
# The venv's own Python (pyenv's here), shared at its path so .venv/bin/python runs in the guest;
# one under /usr is Debian's, which the guest has (bookworm's python3) already.
python_home=$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')
[[ $python_home == /usr || $python_home == /usr/* ]] && python_home=""
tests=${SESMONITOR_GUEST_TESTS:-"tests/cluster/test_node.py tests/cluster/test_user_path.py -k 'test_node or test_operator_pod_runs_under_its_service_account or test_exporter_pod_serves_and_status_shows_rates'"}
{
  printf 'CHECKOUT=%q\nTOOLS=%q\nPYTHON_HOME=%q\n' "$checkout" "$tools" "$python_home"
  printf 'PYTEST_ARGS=%q\nTIMEOUT_SCALE=%q\n' "-v -rfE --durations=20 $tests" "${SESMONITOR_GUEST_SCALE:-6}"
} >"$results/guest.env"

shares=(-virtfs "local,path=$results,mount_tag=results,security_model=none,id=results")
for share in "checkout:$checkout" "tools:$tools" ${python_home:+"python:$python_home"}; do
  shares+=(-virtfs "local,path=${share#*:},mount_tag=${share%%:*},security_model=none,readonly=on,id=${share%%:*}")
done
log "guest $guest; results and logs in $results"
set +e
# timeout stops QEMU if the guest hangs; -no-reboot makes a guest reboot or panic end QEMU too.
timeout -k 30 "${SESMONITOR_GUEST_TIMEOUT:-5400}" qemu-system-x86_64 \
  -accel "${SESMONITOR_GUEST_ACCEL:-tcg,thread=multi}" -cpu max -m 8G -smp 2 \
  -display none -monitor none -serial stdio -no-reboot -nic none \
  -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 panic=-1 init=/sbin/sesmonitor-guest-init" \
  -drive "file=$guest/rootfs.ext4,if=virtio,format=raw,snapshot=on" \
  "${shares[@]}" </dev/null 2>&1 | tee "$results/console.log"
qemu=${PIPESTATUS[0]}
set -e
code=$(cat "$results/exit-code" 2>/dev/null || true)
log "QEMU exited $qemu after $(($(date +%s) - start))s; guest result: ${code:-none}; logs in $results"
if [[ -z $code ]]; then
  ((qemu == 124)) && log "the guest ran out of time (SESMONITOR_GUEST_TIMEOUT)"
  exit 125
fi
exit "$code"
