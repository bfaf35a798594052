#!/usr/bin/env bash
# Tools for the unit tier, from Go modules. `build.sh` (lint):
#   bin/actionlint   (github.com/rhysd/actionlint, the workflows in .github/workflows/)
#   bin/ct           (github.com/helm/chart-testing/v3, `ct lint` of the chart)
#   etc/             ct's default chart_schema.yaml and lintconf.yaml, from the same module
# `build.sh gitops`: what GitOps tools make of a SesMonitor's status (tests/unit/test_gitops_health.py):
#   bin/kstatus-check  (kstatus-check/: sigs.k8s.io/cli-utils' status.Compute, Flux's reading)
#   bin/argocd-health  (argocd-health/: a health.lua run as Argo CD runs it, on github.com/yuin/gopher-lua)
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/lint-actionlint-<v>-ct-<v>/, or
# gitops-cli-utils-<v>-gopher-lua-<v>-<hash of the two programs' sources>/ (they are ours: a change
# to them must not find the old binaries).
# Idempotent: if every output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
CT_VERSION=v3.14.0
# The versions in kstatus-check/go.mod and argocd-health/go.mod (checked below).
CLI_UTILS_VERSION=v0.37.2
GOPHER_LUA_VERSION=v1.1.2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/go-build.sh
source "$here/../lib/go-build.sh"

# Inside each program's own module: its go.mod and go.sum pin every dependency (-mod=readonly).
build_own() { # name
  (cd "$here/$1" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out/bin/.$1.tmp" .)
  mv -f "$out/bin/.$1.tmp" "$out/bin/$1"
}

if [[ ${1:-lint} == gitops ]]; then
  for pin in "kstatus-check sigs.k8s.io/cli-utils $CLI_UTILS_VERSION" "argocd-health github.com/yuin/gopher-lua $GOPHER_LUA_VERSION"; do
    read -r dir module version <<<"$pin"
    grep -qE "^(require)?[[:space:]]*$module $version\b" "$here/$dir/go.mod" ||
      { echo "tools/build.sh: $dir/go.mod does not require $module $version" >&2; exit 1; }
  done
  sources=$(cd "$here" && cat kstatus-check/go.mod kstatus-check/go.sum kstatus-check/*.go \
    argocd-health/go.mod argocd-health/go.sum argocd-health/*.go | sha256sum | cut -c1-12)
  out=$root/gitops-cli-utils-$CLI_UTILS_VERSION-gopher-lua-$GOPHER_LUA_VERSION-$sources
  binaries=(kstatus-check argocd-health)
  complete() { [[ -x $out/bin/kstatus-check && -x $out/bin/argocd-health ]]; }
  go_build_begin tools/build.sh .build.lock
  [[ -x $out/bin/kstatus-check ]] || timed kstatus-check build_own kstatus-check
  [[ -x $out/bin/argocd-health ]] || timed argocd-health build_own argocd-health
  go_build_end
  exit 0
fi
out=$root/lint-actionlint-$ACTIONLINT_VERSION-ct-$CT_VERSION
binaries=(actionlint ct)

complete() {
  [[ -x $out/bin/actionlint && -x $out/bin/ct && -f $out/etc/chart_schema.yaml && -f $out/etc/lintconf.yaml ]]
}

go_build_begin tools/build.sh .build.lock
mkdir -p "$out/etc"

[[ -x $out/bin/actionlint ]] ||
  timed actionlint go_install actionlint "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" "-s -w"

# `go install ct@version` first asks for the module's version list (deprecation check), which the
# module proxy refuses for chart-testing; downloading the exact version and building inside it
# uses the module's own go.mod/go.sum just the same.
build_ct() {
  local dir
  dir=$(go mod download -json "github.com/helm/chart-testing/v3@$CT_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION" \
    -o "$out/bin/.ct.tmp" ./ct)
  mv -f "$out/bin/.ct.tmp" "$out/bin/ct"
  cp "$dir/etc/chart_schema.yaml" "$dir/etc/lintconf.yaml" "$out/etc/"
}
[[ -x $out/bin/ct && -f $out/etc/lintconf.yaml ]] || timed ct build_ct

go_build_end
