#!/usr/bin/env bash
# The cgroup2-only QEMU guest for `make test-cgroup2` (tests/guest/run.sh): a Debian bookworm rootfs
# from mmdebstrap with Debian's kernel, as an ext4 image, plus the kernel and initramfs beside it.
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/guest-<hash of this script and the apt
# sources>/{rootfs.ext4,vmlinuz,initrd.img}; prints the directory (last line of stdout), progress on
# stderr. Idempotent: returns at once when the outputs exist. About 3-5 minutes the first time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
sources=${SESMONITOR_GUEST_SOURCES:-/etc/apt/sources.list.d/debian.sources}
# What the node needs in the guest (the Go-built parts and the venv's Python come in by 9p).
packages=(
  linux-image-amd64 initramfs-tools kmod udev
  iproute2 iptables runc containernetworking-plugins conntrack util-linux
  curl ca-certificates procps python3 git
)
# The guest's initramfs mounts an ext4 root from a virtio disk; 9p and overlay are for run.sh's shares.
modules=(virtio_pci virtio_blk ext4 9p 9pnet_virtio overlay)

log() { echo "build-rootfs: $*" >&2; }
key=$( (cat "${BASH_SOURCE[0]}" "$here/init" "$sources") | sha256sum | cut -c1-16)
out=$root/guest-$key
complete() { [[ -s $out/rootfs.ext4 && -s $out/vmlinuz && -s $out/initrd.img ]]; }
if complete; then
  echo "$out"
  exit 0
fi
[[ $(id -u) == 0 ]] || { log "needs root (mmdebstrap in root mode, mkfs.ext4 -d)"; exit 1; }
for t in mmdebstrap mkfs.ext4; do
  command -v "$t" >/dev/null || { log "'$t' not found (apt-get install mmdebstrap e2fsprogs)"; exit 1; }
done
mkdir -p "$root"
exec 9>"$root/.guest.lock"
flock 9
if complete; then
  echo "$out"
  exit 0
fi
start=$(date +%s)
work=$(mktemp -d "$root/.guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "mmdebstrap bookworm (${#packages[@]} packages) into $work/rootfs"
# shellcheck disable=SC2016 # \$1 is the hooks' own argument (the rootfs)
mmdebstrap --variant=minbase --mode=root --include="$(IFS=,; echo "${packages[*]}")" \
  --customize-hook="printf '%s\n' ${modules[*]} >> \"\$1/etc/initramfs-tools/modules\"" \
  --customize-hook='chroot "$1" update-initramfs -u -k all >/dev/null' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  --customize-hook="install -m 0755 '$here/init' \"\$1/sbin/sesmonitor-guest-init\"" \
  bookworm "$work/rootfs" "$sources" >&2
cp "$work"/rootfs/boot/vmlinuz-* "$work/vmlinuz"
cp "$work"/rootfs/boot/initrd.img-* "$work/initrd.img"
log "ext4 image"
size=$(($(du -sm "$work/rootfs" | cut -f1) + 1024))
mkfs.ext4 -q -L sesguest -d "$work/rootfs" "$work/rootfs.ext4" "${size}M"
mkdir -p "$out"
mv "$work/vmlinuz" "$work/initrd.img" "$work/rootfs.ext4" "$out/"
log "done in $(($(date +%s) - start))s: $out"
echo "$out"
