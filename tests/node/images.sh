#!/usr/bin/env bash
# Build the container images the single-node test cluster runs, with no registry to pull from, as OCI
# archives for `ctr -n k8s.io images import <archive>` (each archive carries its reference in the
# org.opencontainers.image.ref.name annotation, which ctr keeps as the image name):
#
#   localhost/sesmonitor-test/debian:bookworm-minbase   Debian bookworm minbase + ca-certificates (mmdebstrap)
#   localhost/sesmonitor-test/python:3.11-bookworm      that + python3, python3-venv, python-is-python3
#   <chart image.repository>:<appVersion>               ours: ./Dockerfile, unchanged, on the python base,
#                                                       through scripts/build-image.sh (`make image`)
#   registry.k8s.io/pause:3.10.2                        containerd v2.4.2's default sandbox image
#   registry.k8s.io/coredns/coredns:v1.15.0
#   quay.io/prometheus-operator/prometheus-operator:v0.93.1
#   quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1
#   quay.io/prometheus/prometheus:v3.13.1               on the minbase, laid out as upstream's image
#     (these five: the versions in the node build's versions.env, beside --bin-dir)
#   quay.io/prometheus/alertmanager:v0.25.0             Debian bookworm's prometheus-alertmanager, installed
#                                                       on the minbase (its module's web UI assets are not in
#                                                       its zip, so it is not built from Go here)
#
# Usage: tests/node/images.sh --bin-dir DIR
#        tests/node/images.sh --print-sources   where the Debian base would come from, and exit
#   DIR holds the static binaries pause, coredns, prometheus-operator, prometheus-config-reloader and
#   prometheus (tests/node/build.sh's bin/; Debian's Prometheus lacks Kubernetes service discovery).
#   Alertmanager is bookworm's package, installed inside the base (not the host's: on Ubuntu or Fedora
#   the host's version differs). Needs root, buildah and mmdebstrap.
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/images-<hash of versions and inputs>/
#   <name>.tar per image and images.txt, one "<ref> <file>" line per archive.
# Idempotent: when that directory is complete it is printed at once. Each image is cached on its own
# key (its recipe, i.e. the function that builds it, and its inputs): a change to operator/ rebuilds
# only our image (and only the Dockerfile's last steps), new binaries only their images; the base
# rootfs only when the Debian sources or its recipe change. Images are built in a buildah storage
# inside the cache (images-work/), never in /var/lib/containers.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
# Measured here (2 cores): cold 1.5 minutes (rootfs 30 s, up to 2 minutes when the mirror is slow;
# python layer 7 s; ours 35 s; the other six 15 s); after a change to operator/ 10-30 s; warm 2 s.
set -euo pipefail

SUITE=bookworm
BASE_PACKAGES=ca-certificates
PYTHON_PACKAGES="python3 python3-venv python-is-python3"
BASE_REF=localhost/sesmonitor-test/debian:bookworm-minbase
PYTHON_REF=localhost/sesmonitor-test/python:3.11-bookworm
# The binaries' versions: from the node build's versions.env beside --bin-dir when there is one
# (the tags must be what the binaries are: prometheus-operator defaults its config-reloader image to
# ...:v<its own version>), else these. 3.10.2 is containerd v2.4.2's DefaultSandboxImage
# (internal/cri/config/config.go).
PAUSE_VERSION=3.10.2
COREDNS_VERSION=v1.15.0
PROMOP_VERSION=v0.93.1
PROMETHEUS_VERSION=v3.13.1
ALERTMANAGER_VERSION=v0.25.0 # Debian bookworm's prometheus-alertmanager

log() { echo "images.sh: $*" >&2; }
die() {
  log "$*"
  exit 1
}
usage() { sed -n '/^# Usage:/,/^# Output:/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; }

bin_dir=""
print_sources=0
while (($#)); do
  case $1 in
    --bin-dir) bin_dir=${2:?--bin-dir needs a directory}; shift 2 ;;
    --bin-dir=*) bin_dir=${1#--bin-dir=}; shift ;;
    --print-sources) print_sources=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; die "unknown argument: $1" ;;
  esac
done
# Where the bookworm base comes from, whatever the host runs (Ubuntu's archive is not Debian's):
#   IMAGES_DEBIAN_MIRROR=URI       a Debian archive (a local mirror, a snapshot): $SUITE and $SUITE-updates
#   IMAGES_APT_SOURCES="FILE ..."  sources.list files, pasted into the rootfs as they are
#   neither: the host's apt sources when the host is Debian $SUITE (its mirror, its proxy: what works
#   here), else mmdebstrap's default for a Debian stable release (Debian's archive with updates and
#   security), checked against debian-archive-keyring (scripts/setup.sh installs it).
# mmdebstrap copies them into the rootfs, so apt works in it too.
os_release=${IMAGES_OS_RELEASE:-/etc/os-release}
# shellcheck source=/dev/null
host_is_suite() { (. "$os_release" 2>/dev/null && [[ ${ID:-} == debian && ${VERSION_CODENAME:-} == "$SUITE" ]]); }
apt_sources=() # mmdebstrap's MIRROR arguments: one-line entries or files
mmdebstrap_keyring=()
if [[ -n ${IMAGES_DEBIAN_MIRROR:-} ]]; then
  apt_sources=("deb $IMAGES_DEBIAN_MIRROR $SUITE main" "deb $IMAGES_DEBIAN_MIRROR $SUITE-updates main")
elif [[ -n ${IMAGES_APT_SOURCES:-} ]]; then
  read -r -a apt_sources <<<"$IMAGES_APT_SOURCES"
elif host_is_suite; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && grep -qE '^[[:space:]]*(deb|Types:)' "$f" && apt_sources+=("$f")
  done
  ((${#apt_sources[@]})) || die "no apt sources found (set IMAGES_DEBIAN_MIRROR or IMAGES_APT_SOURCES)"
fi
debian_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if ! host_is_suite && [[ -f $debian_keyring ]]; then
  mmdebstrap_keyring=("--keyring=$debian_keyring")
fi
if [[ $print_sources == 1 ]]; then
  if ((${#apt_sources[@]})); then printf '%s\n' "${apt_sources[@]}"; else echo "mmdebstrap's default for $SUITE"; fi
  ((${#mmdebstrap_keyring[@]} == 0)) || printf '%s\n' "${mmdebstrap_keyring[@]}"
  exit 0
fi

[[ -n $bin_dir ]] || { usage; die "--bin-dir is required"; }
bin_dir=$(cd "$bin_dir" && pwd)
versions=$bin_dir/../versions.env
if [[ -f $versions ]]; then
  v_() { sed -n "s/^$1=\([A-Za-z0-9._-]*\)\$/\1/p" "$versions" | tail -n1; }
  PAUSE_VERSION=$(v_ PAUSE_VERSION)
  COREDNS_VERSION=$(v_ COREDNS_VERSION)
  PROMOP_VERSION=$(v_ PROMOP_VERSION)
  PROMETHEUS_VERSION=$(v_ PROMETHEUS_VERSION)
  [[ -n $PAUSE_VERSION && -n $COREDNS_VERSION && -n $PROMOP_VERSION && -n $PROMETHEUS_VERSION ]] ||
    die "$versions lacks one of the *_VERSION lines"
fi
PROMETHEUS_REF=quay.io/prometheus/prometheus:$PROMETHEUS_VERSION
ALERTMANAGER_REF=quay.io/prometheus/alertmanager:$ALERTMANAGER_VERSION
PAUSE_REF=registry.k8s.io/pause:$PAUSE_VERSION
COREDNS_REF=registry.k8s.io/coredns/coredns:$COREDNS_VERSION
PROMOP_REF=quay.io/prometheus-operator/prometheus-operator:$PROMOP_VERSION
RELOADER_REF=quay.io/prometheus-operator/prometheus-config-reloader:$PROMOP_VERSION
for b in pause coredns prometheus-operator prometheus-config-reloader prometheus; do
  [[ -x $bin_dir/$b ]] || die "$bin_dir/$b: missing or not executable"
done
[[ $(id -u) == 0 ]] || die "needs root (mmdebstrap and buildah with a private storage)"
for t in buildah mmdebstrap python3 git; do
  command -v "$t" >/dev/null || die "'$t' not found (scripts/setup.sh installs buildah and mmdebstrap)"
done
prometheus_bin=$bin_dir/prometheus
"$prometheus_bin" --version 2>&1 | grep -q "version ${PROMETHEUS_VERSION#v}" ||
  die "$prometheus_bin is not Prometheus $PROMETHEUS_VERSION"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
work=$root/images-work
mkdir -p "$work/rootfs" "$work/archives" "$work/tmp" "$work/var-lib-containers"

# Run in a private mount namespace: buildah (containers/image) keeps a blob-info cache in
# /var/lib/containers/cache for root with no option to move it, so that path is bound to one in the
# cache here; and the overlay mounts of buildah's working containers and mmdebstrap's /proc, /dev
# mounts go away with the namespace even after a crash.
if [[ -z ${_SESMONITOR_IMAGES_NS:-} ]]; then
  mkdir -p /var/lib/containers # the mount point (buildah would create it anyway)
  exec env _SESMONITOR_IMAGES_NS=1 unshare --mount --propagation private \
    bash "${BASH_SOURCE[0]}" --bin-dir "$bin_dir"
fi
mount --bind "$work/var-lib-containers" /var/lib/containers
# buildah's layer blobs in transit, mmdebstrap's chroot, build-image.sh's pip.conf.
export TMPDIR=$work/tmp/run-$$
mkdir -p "$TMPDIR"

# A private containers-storage. overlay needs a filesystem that is not itself overlayfs.
driver=${IMAGES_STORAGE_DRIVER:-}
if [[ -z $driver ]]; then
  driver=overlay
  [[ $(findmnt -no FSTYPE -T "$work" 2>/dev/null) != overlay ]] || driver=vfs
fi
cat >"$work/storage-$driver.conf.tmp" <<EOF
[storage]
driver = "$driver"
graphroot = "$work/storage-$driver"
runroot = "$work/run-$driver"
EOF
mv -f "$work/storage-$driver.conf.tmp" "$work/storage-$driver.conf"
export CONTAINERS_STORAGE_CONF=$work/storage-$driver.conf
export BUILDAH_ISOLATION=chroot

digest16() { sha256sum | cut -c1-16; }
image_id() { buildah images --no-trunc --format '{{.ID}}' "$1" 2>/dev/null | head -n1 || true; }

# ---- recipes: each key covers its function's text (declare -f) and its inputs ----

rootfs_tar() { echo "$work/rootfs/$SUITE-minbase-$key_base.tar"; }

make_base() {
  local tar tmp c
  tar=$(rootfs_tar)
  if [[ ! -s $tar ]]; then
    tmp=$work/rootfs/.tmp-$$.tar
    # No docs, man pages, locales; merged /usr without the usrmerge package (and its perl).
    mmdebstrap --variant=minbase --format=tar --include="${BASE_PACKAGES// /,}" \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Check-Valid-Until "false"' \
      "${mmdebstrap_keyring[@]}" "$SUITE" "$tmp" "${apt_sources[@]}" >&2
    mv -f "$tmp" "$tar"
  fi
  c=$(new_container scratch)
  buildah add --quiet "$c" "$tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label org.opencontainers.image.description="Debian $SUITE minbase ($BASE_PACKAGES), mmdebstrap" "$c"
  commit "$c" "$BASE_REF" "$BASE_REF-$key_base"
}

make_python() {
  local c
  c=$(new_container "$BASE_REF-$key_base")
  buildah run --network host "$c" -- sh -ec "
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PYTHON_PACKAGES >/dev/null
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old /var/lib/dpkg/*-old
    python --version" >&2
  # As the official python images: CMD python3, UTF-8 locale.
  buildah config --env LANG=C.UTF-8 --cmd python3 \
    --label org.opencontainers.image.description="Debian $SUITE minbase with $PYTHON_PACKAGES" "$c"
  commit "$c" "$PYTHON_REF" "$PYTHON_REF-$key_python"
}

make_ours() {
  local out ref id
  out=$(ENGINE=buildah IMAGE=$OURS_REF PYTHON_IMAGE=$PYTHON_REF-$key_python PUSH='' \
    bash "$repo/scripts/build-image.sh" | tail -n1)
  read -r ref id <<<"$out"
  [[ $ref == "$OURS_REF" && -n $id ]] || die "scripts/build-image.sh printed '$out'"
  # The previous build of ours is superseded; its dependency layers stay as the build cache.
  [[ -z $ours_old_id || $ours_old_id == "$id" ]] || buildah rmi "$ours_old_id" >/dev/null 2>&1 || true
}

# /etc for the images made from scratch: numeric users as upstream's bases (busybox nobody 65534,
# distroless nonroot 65532), a sticky /tmp; make_static adds the base's CA bundle.
stage_scratch_etc() { # dir
  mkdir -p "$1/etc" "$1/tmp"
  chmod 1777 "$1/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' >"$1/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' 'nobody:x:65534:' >"$1/etc/group"
  echo 'hosts: files dns' >"$1/etc/nsswitch.conf"
}

# A static binary on scratch, as upstream's Dockerfile puts it. name ref src dest user entrypoint...
make_static() {
  local name=$1 ref=$2 src=$3 dest=$4 user=$5 stage c
  shift 5
  stage=$TMPDIR/stage/$name
  rm -rf "$stage"
  mkdir -p "$stage$(dirname "$dest")"
  [[ $name == pause ]] || stage_scratch_etc "$stage"
  install -m 0755 "$src" "$stage$dest"
  # Upstream's CoreDNS image binds :53 as 65532 through this file capability.
  [[ $name != coredns ]] || setcap cap_net_bind_service=+ep "$stage$dest"
  c=$(new_container scratch)
  buildah copy --quiet "$c" "$stage" / >/dev/null
  [[ $name == pause ]] || buildah copy --quiet --from "$BASE_REF-$key_base" "$c" \
    /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
  buildah config --user "$user" --workingdir / --entrypoint "$(json_array "$@")" \
    --label org.opencontainers.image.description="$name built from source for the sesmonitor test node" "$c"
  [[ $name != coredns ]] || buildah config --port 53 --port 53/udp "$c"
  commit "$c" "$ref"
  rm -rf "$stage"
}

make_prometheus() {
  local stage=$TMPDIR/stage/prometheus c
  rm -rf "$stage"
  mkdir -p "$stage/usr/bin" "$stage/etc/prometheus" "$stage/prometheus"
  install -m 0755 "$prometheus_bin" "$stage/usr/bin/prometheus" # /bin is /usr/bin (merged /usr)
  cat >"$stage/etc/prometheus/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
EOF
  c=$(new_container "$BASE_REF-$key_base")
  buildah copy --quiet "$c" "$stage" / >/dev/null
  buildah run "$c" -- chown -R 65534:65534 /etc/prometheus /prometheus >&2
  commit_as_upstream "$c" "$PROMETHEUS_REF" prometheus 9090 --storage.tsdb.path \
    "Prometheus $PROMETHEUS_VERSION on Debian $SUITE"
  rm -rf "$stage"
}

make_alertmanager() {
  local c
  c=$(new_container "$BASE_REF-$key_base")
  # policy-rc.d: the package's maintainer scripts must not start the daemon inside the build.
  buildah run --network host "$c" -- sh -ec "
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old /var/lib/dpkg/*-old
    rm -f /usr/sbin/policy-rc.d
    v=\$(prometheus-alertmanager --version 2>&1 | head -n1)
    case \"\$v\" in *'version ${ALERTMANAGER_VERSION#v}'*) ;; *) echo \"bookworm's Alertmanager is '\$v', not $ALERTMANAGER_VERSION\" >&2; exit 1 ;; esac
    ln -s prometheus-alertmanager /usr/bin/alertmanager
    mkdir -p /etc/alertmanager /alertmanager
    printf '%s\n' 'route:' '  receiver: default' 'receivers:' '  - name: default' >/etc/alertmanager/alertmanager.yml
    chown -R 65534:65534 /etc/alertmanager /alertmanager" >&2
  commit_as_upstream "$c" "$ALERTMANAGER_REF" alertmanager 9093 --storage.path \
    "Alertmanager $ALERTMANAGER_VERSION on Debian $SUITE"
}

# As upstream's images: nobody, /<name> the working directory and data volume, /etc/<name>/<name>.yml
# the configuration (prometheus-operator passes args only); then committed as <ref>.
commit_as_upstream() { # container ref name port storage-flag description
  local c=$1 ref=$2 name=$3 port=$4 storage=$5 description=$6
  buildah config --user 65534:65534 --workingdir "/$name" --port "$port" --volume "/$name" \
    --entrypoint "[\"/bin/$name\"]" \
    --cmd "[\"--config.file=/etc/$name/$name.yml\", \"$storage=/$name\"]" \
    --label org.opencontainers.image.description="$description" \
    "$c"
  commit "$c" "$ref"
}

# ---- buildah helpers ----

containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work/rootfs/.tmp-$$.tar" "$TMPDIR"
}
trap cleanup EXIT

new_container() { # image
  local c
  c=$(buildah from --pull=never --quiet "$1")
  containers+=("$c")
  echo "$c"
}

commit() { # container ref [extra tags...]
  local c=$1 ref=$2 old id
  shift 2
  old=$(image_id "$ref")
  id=$(buildah commit --quiet --rm "$c" "$ref")
  (($#)) && buildah tag "$id" "$@"
  [[ -z $old || $old == *"$id"* ]] || buildah rmi "$old" >/dev/null 2>&1 || true
}

json_array() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }

# ---- keys ----

file_hash() { sha256sum "$1" | cut -d' ' -f1; }
key_base=$({
  echo "$SUITE $BASE_PACKAGES"
  declare -f make_base
  for s in "${apt_sources[@]}" "${mmdebstrap_keyring[@]}"; do if [[ -f $s ]]; then cat "$s"; else echo "$s"; fi; done
} | digest16)
key_python=$({
  echo "$key_base $PYTHON_PACKAGES"
  declare -f make_python
} | digest16)

# Our image: the chart's reference, and everything the Dockerfile copies.
OURS_REF=$(ENGINE=none bash "$repo/scripts/build-image.sh" --print-image)
ours_key() {
  local python_id=$1
  {
    echo "$OURS_REF $python_id"
    declare -f make_ours
    file_hash "$repo/scripts/build-image.sh"
    git -C "$repo" ls-files --cached --others --exclude-standard -z -- \
      Dockerfile .dockerignore LICENSE requirements-build.lock requirements.lock pyproject.toml README.md \
      operator |
      sort -zu | while IFS= read -r -d '' f; do [[ -f $repo/$f ]] && echo "$f $(file_hash "$repo/$f")"; done
  } | digest16
}

declare -A key ref file
names=(pause coredns prometheus-operator prometheus-config-reloader prometheus alertmanager sesmonitor)
ref=([pause]=$PAUSE_REF [coredns]=$COREDNS_REF [prometheus-operator]=$PROMOP_REF
  [prometheus-config-reloader]=$RELOADER_REF [prometheus]=$PROMETHEUS_REF
  [alertmanager]=$ALERTMANAGER_REF [sesmonitor]=$OURS_REF)
static_key() { # name binary
  { echo "${ref[$1]}"; declare -f make_static stage_scratch_etc build_and_export; file_hash "$2"; echo "$key_base"; } |
    digest16
}
key[pause]=$(static_key pause "$bin_dir/pause")
key[coredns]=$(static_key coredns "$bin_dir/coredns")
key[prometheus-operator]=$(static_key prometheus-operator "$bin_dir/prometheus-operator")
key[prometheus-config-reloader]=$(static_key prometheus-config-reloader "$bin_dir/prometheus-config-reloader")
key[prometheus]=$({
  echo "$PROMETHEUS_REF $key_base"
  declare -f make_prometheus commit_as_upstream
  file_hash "$prometheus_bin"
} | digest16)
key[alertmanager]=$({ echo "$ALERTMANAGER_REF $key_base"; declare -f make_alertmanager commit_as_upstream; } | digest16)

out_dir() { printf '%s\n' "${names[@]}" | while read -r n; do echo "$n ${key[$n]}"; done | digest16; }
complete() { # out
  local f
  [[ -s $1/images.txt ]] || return 1
  while read -r _ f; do [[ -s $1/$f ]] || return 1; done <"$1/images.txt"
  return 0
}

python_id=$(image_id "$PYTHON_REF-$key_python")
if [[ -n $python_id ]]; then
  key[sesmonitor]=$(ours_key "$python_id")
  out=$root/images-$(out_dir)
  if complete "$out"; then
    touch "$out"
    echo "$out"
    exit 0
  fi
fi

# One build at a time per cache root.
exec 9>"$root/.images.lock"
flock 9
find "$work/tmp" -mindepth 1 -maxdepth 1 ! -name "run-$$" -mmin +180 -exec rm -rf {} + 2>/dev/null || true

timings=()
timed() { # label cmd...
  local label=$1 start
  shift
  start=$(date +%s)
  "$@"
  timings+=("$label $(($(date +%s) - start))s")
  log "$label: $(($(date +%s) - start))s"
}

[[ ! -f $(rootfs_tar) ]] || touch "$(rootfs_tar)"
if [[ -z $(image_id "$BASE_REF-$key_base") ]]; then
  log "building $BASE_REF (Debian $SUITE minbase)"
  timed base make_base
fi
python_id=$(image_id "$PYTHON_REF-$key_python")
if [[ -z $python_id ]]; then
  log "building $PYTHON_REF"
  timed python make_python
  python_id=$(image_id "$PYTHON_REF-$key_python")
fi
# The nice names point at this key's images (a different checkout may have moved them).
buildah tag "$BASE_REF-$key_base" "$BASE_REF"
buildah tag "$PYTHON_REF-$key_python" "$PYTHON_REF"
key[sesmonitor]=$(ours_key "$python_id")
out=$root/images-$(out_dir)
if complete "$out"; then
  echo "$out"
  exit 0
fi

build_and_export() { # name archive
  local n=$1 a=$2
  case $n in
    sesmonitor)
      ours_old_id=$(image_id "$OURS_REF")
      make_ours
      ;;
    pause) make_static pause "$PAUSE_REF" "$bin_dir/pause" /pause 65535:65535 /pause ;;
    coredns) make_static coredns "$COREDNS_REF" "$bin_dir/coredns" /coredns 65532:65532 /coredns ;;
    prometheus-operator)
      make_static prometheus-operator "$PROMOP_REF" "$bin_dir/prometheus-operator" /bin/operator \
        65534:65534 /bin/operator
      ;;
    prometheus-config-reloader)
      make_static prometheus-config-reloader "$RELOADER_REF" "$bin_dir/prometheus-config-reloader" \
        /bin/prometheus-config-reloader 65534:65534 /bin/prometheus-config-reloader
      ;;
    prometheus) make_prometheus ;;
    alertmanager) make_alertmanager ;;
  esac
  buildah push --quiet "${ref[$n]}" "oci-archive:$a.tmp:${ref[$n]}" >&2
  mv -f "$a.tmp" "$a"
}

archive() { # name: build unless cached, then export
  local n=$1 a
  a=$work/archives/$n-${key[$n]}.tar
  file[$n]=$a
  if [[ -s $a ]]; then
    touch "$a"
    timings+=("$n cached")
    return 0
  fi
  log "building ${ref[$n]}"
  timed "$n" build_and_export "$n" "$a"
  # Only ours (the build cache of its next build) and the bases stay in the storage.
  [[ $n == sesmonitor ]] || buildah rmi "${ref[$n]}" >/dev/null 2>&1 || true
}

for n in "${names[@]}"; do archive "$n"; done

tmp_out=$out.tmp-$$
rm -rf "$tmp_out"
mkdir -p "$tmp_out"
for n in "${names[@]}"; do
  ln -f "${file[$n]}" "$tmp_out/$n.tar"
  echo "${ref[$n]} $n.tar" >>"$tmp_out/images.txt"
done
for t in "${timings[@]}"; do echo "$t" >>"$tmp_out/build-times.txt"; done
rm -rf "$out"
mv "$tmp_out" "$out"

# Prune: keep the six most recently used output directories and the archives they link (a run
# that finds its directory complete touches it), rootfs tarballs unused for a month, and base
# images of other keys (another checkout that needs one rebuilds it).
touch "$out"
find "$root" -mindepth 1 -maxdepth 1 -type d -name 'images-*' ! -name images-work -printf '%T@ %p\n' |
  sort -rn | tail -n +7 | cut -d' ' -f2- | while IFS= read -r d; do rm -rf "$d"; done
find "$work/archives" -type f -name '*.tar' -links 1 -delete
find "$work/rootfs" -type f -mtime +30 -delete
for r in "$BASE_REF" "$PYTHON_REF"; do
  buildah images --format '{{.Name}}:{{.Tag}}' "${r%:*}" 2>/dev/null | grep -E -- "^$r-[0-9a-f]{16}\$" |
    grep -v -e "-$key_base\$" -e "-$key_python\$" | while IFS= read -r t; do buildah rmi "$t" >/dev/null 2>&1 || true; done ||
    true
done
# Dangling layers (superseded builds' steps) once the storage passes 4 GiB; only the next build of
# ours pays for it (its dependency layer is rebuilt).
if (($(du -sk "$work/storage-$driver" | cut -f1) > 4 * 1024 * 1024)); then
  log "pruning the buildah storage"
  buildah rmi --prune >/dev/null 2>&1 || true
fi
complete "$out" || die "outputs missing after build"
echo "$out"
