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
# shellcheck source=SCRIPTDIR/../lib/go-build.sh
source "$here/../lib/go-build.sh"
out=$root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION
binaries=(etcd helm kube-apiserver kube-controller-manager kubectl)

# helm built with `go install` says Kubernetes v1.20 to `helm template` and `helm lint` (the
# default the release Makefile overrides with client-go's version), which Chart.yaml's kubeVersion
# refuses: the stamp says this helm was built with the default its release binary has.
helm_stamp=$out/helm-kube-version
complete() {
  local b
  for b in "${binaries[@]}"; do [[ -x $out/bin/$b ]] || return 1; done
  [[ -f $helm_stamp ]]
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

# As helm's Makefile: the default Kubernetes version is the minor of the client-go it requires
# (k8s.io/client-go v0.M.x is Kubernetes 1.M).
build_helm() {
  local dir minor flags pkg
  dir=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  minor=$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9][0-9]*\)\..*|\1|p' "$dir/go.mod")
  [[ -n $minor ]] || { log "no k8s.io/client-go in helm $HELM_VERSION's go.mod"; exit 1; }
  flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  flags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  rm -f "$helm_stamp"
  go_install helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "$flags"
  echo "v1.$minor.0" >"$helm_stamp"
}

[[ -x $out/bin/etcd ]] || timed etcd build_etcd
[[ -x $out/bin/helm && -f $helm_stamp ]] || timed helm build_helm
[[ -x $out/bin/kube-apiserver ]] || timed kube-apiserver build_k8s kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
[[ -x $out/bin/kube-controller-manager ]] ||
  timed kube-controller-manager build_k8s kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
[[ -x $out/bin/kubectl ]] || timed kubectl build_k8s kubectl k8s.io/kubernetes/cmd/kubectl

go_build_end
