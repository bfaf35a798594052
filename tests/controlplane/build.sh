#!/usr/bin/env bash
# Build a real Kubernetes control plane for the cluster tests, from Go modules only:
#   bin/kube-apiserver, bin/kube-controller-manager, bin/kubectl  (k8s.io/kubernetes, ./k8s)
#   bin/etcd                                                      (go.etcd.io/etcd/server/v3, ./etcd)
#   bin/helm                                                      (helm.sh/helm/v3/cmd/helm)
# prometheus-operator (its CRDs too) comes with the node: ../node/build.sh.
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/k8s-<v>-etcd-<v>-helm-<v>/
# Idempotent: if every output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
# Takes 10-25 minutes on 2 cores the first time (mostly kube-apiserver).
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.22.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
out=$root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION

binaries=(kube-apiserver kube-controller-manager kubectl etcd helm)

complete() {
  local b c
  for b in "${binaries[@]}"; do [[ -x $out/bin/$b ]] || return 1; done
  return 0
}

if complete; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: 'go' not found on PATH (need Go >= 1.26)" >&2; exit 1; }

mkdir -p "$out/bin"
# One build at a time per cache root (parallel pytest workers, two checkouts, ...).
exec 9>"$root/.build.lock"
flock 9
if complete; then
  echo "$out"
  exit 0
fi

export GOFLAGS="-buildvcs=false"
export CGO_ENABLED=0
log() { echo "build.sh: $*" >&2; }

timed() { # name cmd...
  local name=$1 start end
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  log "$name built in $((end - start))s ($(du -h "$out/bin/$name" | cut -f1))"
  echo "$name $((end - start))s $(stat -c %s "$out/bin/$name")" >>"$out/build-times.txt"
}

# Version stamping as kubernetes' hack/lib/version.sh does (else `kubectl version` says v0.0.0-master).
k8s_major=${K8S_VERSION#v}
k8s_major=${k8s_major%%.*}
k8s_minor=${K8S_VERSION#v*.}
k8s_minor=${k8s_minor%%.*}
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$k8s_major"
  k8s_ldflags+=" -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

build_k8s() { # name package
  (cd "$here/k8s" && go build -trimpath -ldflags "$k8s_ldflags" -o "$out/bin/.$1.tmp" "$2")
  mv -f "$out/bin/.$1.tmp" "$out/bin/$1"
}

build_etcd() {
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/bin/.etcd.tmp" go.etcd.io/etcd/server/v3)
  mv -f "$out/bin/.etcd.tmp" "$out/bin/etcd"
}

build_helm() {
  local tmp
  tmp=$(mktemp -d)
  # `go install pkg@version` builds with helm's own go.mod/go.sum (verified by the checksum database).
  (cd "$tmp" && GOBIN="$tmp" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  mv -f "$tmp/helm" "$out/bin/helm"
  rm -rf "$tmp"
}

[[ -x $out/bin/etcd ]] || timed etcd build_etcd
[[ -x $out/bin/helm ]] || timed helm build_helm
[[ -x $out/bin/kube-apiserver ]] || timed kube-apiserver build_k8s kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
[[ -x $out/bin/kube-controller-manager ]] ||
  timed kube-controller-manager build_k8s kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
[[ -x $out/bin/kubectl ]] || timed kubectl build_k8s kubectl k8s.io/kubernetes/cmd/kubectl

complete || { log "outputs missing after build"; exit 1; }
echo "$out"
