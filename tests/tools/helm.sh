#!/usr/bin/env bash
# The helm the tests and `make chart` use, from its Go module. `helm.sh`:
#   bin/helm   (helm.sh/helm/v4/cmd/helm, HELM_VERSION)
# `helm.sh v3`: the Helm 3 the chart must still install with (tests/cluster/test_helm3_install.py):
#   bin/helm   (helm.sh/helm/v3/cmd/helm, HELM3_VERSION)
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/helm-<version>/, a directory of its own so
# that a Helm update rebuilds helm only, not the control plane (tests/controlplane/build.sh).
# Idempotent: if every output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
set -euo pipefail

HELM_VERSION=v4.3.2
HELM3_VERSION=v3.21.4

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case ${1:-v4} in
  v4) version=$HELM_VERSION module=helm.sh/helm/v4 ;;
  v3) version=$HELM3_VERSION module=helm.sh/helm/v3 ;;
  *) echo "usage: $0 [v4|v3]" >&2; exit 2 ;;
esac
root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
out=$root/helm-$version
binaries=(helm)
# kube-version: what this helm says Kubernetes is to `helm template` and `helm lint` without a
# cluster, checked after the build. A plain `go install` of Helm 3 says v1.20, which Chart.yaml's
# kubeVersion refuses.
stamp=$out/kube-version
complete() { [[ -x $out/bin/helm && -f $stamp ]]; }

# shellcheck source=SCRIPTDIR/../lib/go-build.sh
source "$here/../lib/go-build.sh"
go_build_begin tools/helm.sh .build.lock

# The Kubernetes minor a release binary defaults to: its k8s.io/client-go's (v0.M.x is Kubernetes 1.M).
dir=$(go mod download -json "$module@$version" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
minor=$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9][0-9]*\)\..*|\1|p' "$dir/go.mod")
[[ -n $minor ]] || { log "no k8s.io/client-go in $module $version's go.mod"; exit 1; }

flags="-s -w -X $module/internal/version.version=$version -X $module/internal/version.gitTreeState=clean"
if [[ $module == helm.sh/helm/v3 ]]; then
  # Helm 3's default is two variables its release Makefile sets from client-go's version. Helm 4
  # reads client-go's version from the binary's own build information, which `go install` records.
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
fi

build_helm() {
  rm -f "$stamp"
  go_install helm "$module/cmd/helm@$version" "$flags"
}

# What `helm template` renders for .Capabilities.KubeVersion with no cluster, from a chart of one file.
check_kube_version() {
  local chart said
  chart=$(mktemp -d)
  mkdir "$chart/templates"
  printf 'apiVersion: v2\nname: kube-version\nversion: 0.0.0\n' >"$chart/Chart.yaml"
  echo 'kubeVersion: {{ .Capabilities.KubeVersion.Version }}' >"$chart/templates/v.yaml"
  said=$(env -u KUBECONFIG "$out/bin/helm" template v "$chart" | sed -n 's/^kubeVersion: //p')
  rm -rf "$chart"
  [[ $said == "v1.$minor.0" ]] ||
    { log "helm $version says Kubernetes is '$said', not v1.$minor.0 (its client-go's)"; exit 1; }
  echo "$said" >"$stamp"
}

[[ -x $out/bin/helm ]] || timed helm build_helm
[[ -f $stamp ]] || check_kube_version
go_build_end
