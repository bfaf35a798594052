#!/usr/bin/env bash
# Lint tools for the unit tier, from Go modules:
#   bin/actionlint   (github.com/rhysd/actionlint, the workflows in .github/workflows/)
#   bin/ct           (github.com/helm/chart-testing/v3, `ct lint` of the chart)
#   etc/             ct's default chart_schema.yaml and lintconf.yaml, from the same module
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/lint-actionlint-<v>-ct-<v>/
# Idempotent: if every output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
CT_VERSION=v3.14.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/go-build.sh
source "$here/../lib/go-build.sh"
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
