#!/usr/bin/env bash
# Build a real Kubernetes control plane for the cluster tests, from Go modules only:
#   bin/kube-apiserver, bin/kube-controller-manager, bin/kubectl  (k8s.io/kubernetes, ./k8s)
#   bin/etcd                                                      (go.etcd.io/etcd/server/v3, ./etcd)
# prometheus-operator (its CRDs too) comes with the node: ../node/build.sh; helm has a directory of
# its own (../tools/helm.sh), so that a Helm update does not rebuild Kubernetes.
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/k8s-<v>-etcd-<v>/
# Idempotent: if every output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
# Takes 10-25 minutes on 2 cores the first time (mostly kube-apiserver).
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/go-build.sh
source "$here/../lib/go-build.sh"
out=$root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION
binaries=(etcd kube-apiserver kube-controller-manager kubectl)

complete() {
  local b
  for b in "${binaries[@]}"; do [[ -x $out/bin/$b ]] || return 1; done
}

go_build_begin build.sh .build.lock
k8s_ldflags=$(k8s_ldflags "$K8S_VERSION")

build_k8s() { # name package
  (cd "$here/k8s" && go build -trimpath -ldflags "$k8s_ldflags" -o "$out/bin/.$1.tmp" "$2")
  mv -f "$out/bin/.$1.tmp" "$out/bin/$1"
}

build_etcd() {
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/bin/.etcd.tmp" go.etcd.io/etcd/server/v3)
  mv -f "$out/bin/.etcd.tmp" "$out/bin/etcd"
}

[[ -x $out/bin/etcd ]] || timed etcd build_etcd
[[ -x $out/bin/kube-apiserver ]] || timed kube-apiserver build_k8s kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
[[ -x $out/bin/kube-controller-manager ]] ||
  timed kube-controller-manager build_k8s kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
[[ -x $out/bin/kubectl ]] || timed kubectl build_k8s kubectl k8s.io/kubernetes/cmd/kubectl

go_build_end
