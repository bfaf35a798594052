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

root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
out=$root/lint-actionlint-$ACTIONLINT_VERSION-ct-$CT_VERSION

complete() {
  [[ -x $out/bin/actionlint && -x $out/bin/ct && -f $out/etc/chart_schema.yaml && -f $out/etc/lintconf.yaml ]]
}

if complete; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "tools/build.sh: 'go' not found on PATH (need Go >= 1.26)" >&2; exit 1; }

mkdir -p "$out/bin" "$out/etc"
exec 9>"$root/.build.lock"
flock 9
if complete; then
  echo "$out"
  exit 0
fi

export GOFLAGS="-buildvcs=false"
export CGO_ENABLED=0
log() { echo "tools/build.sh: $*" >&2; }

if [[ ! -x $out/bin/actionlint ]]; then
  log "building actionlint $ACTIONLINT_VERSION"
  tmp=$(mktemp -d)
  (cd "$tmp" && GOBIN="$tmp" go install -trimpath -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION")
  mv -f "$tmp/actionlint" "$out/bin/actionlint"
  rm -rf "$tmp"
fi

if [[ ! -x $out/bin/ct || ! -f $out/etc/lintconf.yaml ]]; then
  # `go install ct@version` first asks for the module's version list (deprecation check), which the
  # module proxy refuses for chart-testing; downloading the exact version and building inside it
  # uses the module's own go.mod/go.sum just the same.
  log "building ct $CT_VERSION"
  dir=$(go mod download -json "github.com/helm/chart-testing/v3@$CT_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION" \
    -o "$out/bin/.ct.tmp" ./ct)
  mv -f "$out/bin/.ct.tmp" "$out/bin/ct"
  cp "$dir/etc/chart_schema.yaml" "$dir/etc/lintconf.yaml" "$out/etc/"
fi

complete || { log "outputs missing after build"; exit 1; }
echo "$out"
