#!/usr/bin/env bash
# Build the node half of the test cluster from Go modules and Debian's C toolchain only:
#   bin/kubelet, bin/kube-scheduler, bin/kube-proxy     (k8s.io/kubernetes, ../controlplane/k8s)
#   bin/containerd, bin/containerd-shim-runc-v2, bin/ctr (github.com/containerd/containerd/v2)
#   bin/coredns                                          (github.com/coredns/coredns)
#   bin/prometheus-operator, bin/prometheus-config-reloader, prometheus-operator/{crds,rbac}/
#                                                        (github.com/prometheus-operator/prometheus-operator)
#   bin/prometheus                                       (github.com/prometheus/prometheus)
#   bin/pause                                            (kubernetes' build/pause/linux/pause.c, gcc -static)
# Prometheus comes from its module, not Debian's package: Debian builds it without Kubernetes service
# discovery, which every ServiceMonitor needs. Alertmanager is Debian's (tests/node/images.sh): its
# module's web UI assets are not in the module zip, so it does not build from the module.
# runc, the CNI plugins and iptables come from Debian (scripts/setup.sh installs them).
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/node-<every version below>/
# Idempotent: if every output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
set -euo pipefail

K8S_VERSION=v1.36.3        # the same module as ../controlplane/build.sh
CONTAINERD_VERSION=v2.4.2
COREDNS_VERSION=v1.15.0
# The newest version whose nested pkg/client module is served by the module proxy (v0.94.x's is not).
PROMOP_VERSION=v0.93.1     # also in ./promop/go.mod
# The newest of prometheus-operator v0.93.1's compatibility matrix.
PROMETHEUS_VERSION=v3.13.1
PROMETHEUS_MODULE_VERSION=v0.313.1 # Prometheus 3.x's Go module tags: v0.3MM.P for 3.MM.P

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/go-build.sh
source "$here/../lib/go-build.sh"
k8s_module=$here/../controlplane/k8s
out=$root/node-k8s-$K8S_VERSION-containerd-$CONTAINERD_VERSION-coredns-$COREDNS_VERSION-promop-$PROMOP_VERSION
out+=-prometheus-$PROMETHEUS_VERSION

binaries=(pause containerd containerd-shim-runc-v2 ctr coredns prometheus-operator prometheus-config-reloader
  prometheus kubelet kube-scheduler kube-proxy)

complete() {
  local b
  for b in "${binaries[@]}"; do [[ -x $out/bin/$b ]] || return 1; done
  [[ -s $out/prometheus-operator/crds/monitoring.coreos.com_prometheuses.yaml ]] && [[ -s $out/versions.env ]]
}

command -v gcc >/dev/null || complete || { echo "node/build.sh: 'gcc' not found on PATH" >&2; exit 1; }
go_build_begin node/build.sh .node-build.lock

module_dir() { # module@version -> its directory in the module cache
  local tmp dir
  tmp=$(mktemp -d)
  dir=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$tmp"
  [[ -n $dir ]] || { log "could not download $1"; return 1; }
  echo "$dir"
}

k8s_ldflags=$(k8s_ldflags "$K8S_VERSION")

build_k8s() { # name
  (cd "$k8s_module" && go build -trimpath -ldflags "$k8s_ldflags" -o "$out/bin/.$1.tmp" "k8s.io/kubernetes/cmd/$1")
  mv -f "$out/bin/.$1.tmp" "$out/bin/$1"
}

ctrd_pkg=github.com/containerd/containerd/v2
ctrd_ldflags="-s -w -X $ctrd_pkg/version.Version=$CONTAINERD_VERSION -X $ctrd_pkg/version.Package=$ctrd_pkg"
# No btrfs or devmapper snapshotters (cgo); the overlayfs and native snapshotters are pure Go.
ctrd_tags="no_btrfs no_devmapper no_zfs"

promop_module=github.com/prometheus-operator/prometheus-operator@$PROMOP_VERSION
promop_ldflags="-s -w -X github.com/prometheus/common/version.Version=${PROMOP_VERSION#v}"

# Its go.mod has replace directives, which `go install pkg@version` refuses: built from ./promop,
# a module that requires it and its nested modules at $PROMOP_VERSION.
build_promop() { # name package
  (cd "$here/promop" && go build -trimpath -ldflags "$promop_ldflags" -o "$out/bin/.$1.tmp" "$2")
  mv -f "$out/bin/.$1.tmp" "$out/bin/$1"
}

# Its CRDs and the example RBAC and Deployment of the operator and of a Prometheus, as shipped.
copy_promop_manifests() {
  local dir tmp
  dir=$(module_dir "$promop_module")
  tmp=$out/.prometheus-operator.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp/crds" "$tmp/rbac"
  cp "$dir"/example/prometheus-operator-crd/monitoring.coreos.com_*.yaml "$tmp/crds/"
  cp -r "$dir/example/rbac/prometheus-operator" "$dir/example/rbac/prometheus" "$tmp/rbac/"
  chmod -R u+w,a+rX "$tmp"
  rm -rf "$out/prometheus-operator"
  mv "$tmp" "$out/prometheus-operator"
}

# Inside the module as its own main module: Prometheus' go.mod has a replace directive (a version pin),
# which `go install pkg@version` refuses. The module cache is read-only; the build writes only to -o.
build_in_module() { # name module@version package ldflags
  local dir
  dir=$(module_dir "$2")
  # GOWORK=off: the module ships a go.work naming directories its zip leaves out.
  (cd "$dir" && GOWORK=off go build -trimpath -ldflags "$4" -o "$out/bin/.$1.tmp" "$3")
  mv -f "$out/bin/.$1.tmp" "$out/bin/$1"
}
prom_ldflags() { # version
  echo "-s -w -X github.com/prometheus/common/version.Version=${1#v} -X github.com/prometheus/common/version.Branch=HEAD"
}

build_pause() {
  local dir tmp
  dir=$(module_dir "k8s.io/kubernetes@$K8S_VERSION")
  tmp=$(mktemp -d)
  gcc -Os -Wall -Werror -static -DVERSION="v$(sed -n 's/^TAG ?= *//p' "$dir/build/pause/Makefile")" \
    -o "$tmp/pause" "$dir/build/pause/linux/pause.c"
  strip "$tmp/pause"
  mv -f "$tmp/pause" "$out/bin/pause"
  # The image tag kubernetes publishes this source as (build/pause/Makefile's TAG).
  sed -n 's/^TAG ?= *//p' "$dir/build/pause/Makefile" >"$out/pause-version"
  rm -rf "$tmp"
}

[[ -x $out/bin/pause ]] || timed pause build_pause
[[ -x $out/bin/containerd ]] || timed containerd go_install containerd "$ctrd_pkg/cmd/containerd@$CONTAINERD_VERSION" "$ctrd_ldflags" "$ctrd_tags"
[[ -x $out/bin/containerd-shim-runc-v2 ]] ||
  timed containerd-shim-runc-v2 go_install containerd-shim-runc-v2 "$ctrd_pkg/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" "$ctrd_ldflags" "$ctrd_tags"
[[ -x $out/bin/ctr ]] || timed ctr go_install ctr "$ctrd_pkg/cmd/ctr@$CONTAINERD_VERSION" "$ctrd_ldflags" "$ctrd_tags"
[[ -x $out/bin/coredns ]] ||
  timed coredns go_install coredns "github.com/coredns/coredns@$COREDNS_VERSION" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
[[ -s $out/prometheus-operator/crds/monitoring.coreos.com_prometheuses.yaml ]] || copy_promop_manifests
[[ -x $out/bin/prometheus-operator ]] || timed prometheus-operator build_promop prometheus-operator \
  github.com/prometheus-operator/prometheus-operator/cmd/operator
[[ -x $out/bin/prometheus-config-reloader ]] ||
  timed prometheus-config-reloader build_promop prometheus-config-reloader \
    github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader
[[ -x $out/bin/prometheus ]] ||
  timed prometheus build_in_module prometheus "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" \
    ./cmd/prometheus "$(prom_ldflags "$PROMETHEUS_VERSION")"
for b in kubelet kube-scheduler kube-proxy; do
  [[ -x $out/bin/$b ]] || timed "$b" build_k8s "$b"
done

cat >"$out/versions.env" <<VERSIONS
K8S_VERSION=$K8S_VERSION
CONTAINERD_VERSION=$CONTAINERD_VERSION
COREDNS_VERSION=$COREDNS_VERSION
PROMOP_VERSION=$PROMOP_VERSION
PROMETHEUS_VERSION=$PROMETHEUS_VERSION
PAUSE_VERSION=$(cat "$out/pause-version")
VERSIONS

go_build_end
