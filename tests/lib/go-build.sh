# shellcheck shell=bash disable=SC2154  # out and binaries: set by the sourcing script
# The preamble of the Go build scripts (tests/controlplane/build.sh, tests/node/build.sh,
# tests/tools/build.sh), sourced after each sets `out` (its output directory) and `binaries`, and
# defines `complete` (true when every output is there).
#
#   go_build_begin NAME LOCK   prints $out and exits when complete; else checks the toolchain, takes
#                              the cache's LOCK (one build at a time per cache root: parallel pytest
#                              workers, two checkouts) and checks again under it
#   timed NAME CMD...          runs one part; one line each: its time, size and the parts still to
#                              build, so a long cold build reads as progress and not as a hang
#   go_install NAME PKG@V LDFLAGS [TAGS]
#                              `go install` with the module's own go.mod/go.sum (checksum database)
#   k8s_ldflags                version stamping as kubernetes' hack/lib/version.sh does
#   go_build_end               fails when an output is still missing; prints $out
#
# stdout carries only the output directory (the callers read its last line); the rest goes to stderr.

root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
# shellcheck source=SCRIPTDIR/tool-cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/tool-cache.sh"
_go_build_name=build
_go_build_started=$(date +%s)

log() { echo "$_go_build_name: $*" >&2; }

go_build_begin() { # name lock
  _go_build_name=$1
  print_if_complete
  command -v go >/dev/null || { log "'go' not found on PATH (need Go >= 1.26)"; exit 1; }
  mkdir -p "$out/bin"
  lock_tool_cache "$2"
  print_if_complete
  export GOFLAGS="-buildvcs=false"
  export CGO_ENABLED=0
  local b todo=()
  for b in "${binaries[@]}"; do [[ -e $out/bin/$b ]] || todo+=("$b"); done
  log "building ${todo[*]} into $out"
}

# The binaries still missing, in the order of `binaries`, less the one being built.
_left() { # name
  local b left=()
  for b in "${binaries[@]}"; do [[ $b == "$1" || -e $out/bin/$b ]] || left+=("$b"); done
  echo "${left[*]:-nothing}"
}

timed() { # name cmd...
  local name=$1 start end size
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  size=$( [[ -e $out/bin/$name ]] && du -h "$out/bin/$name" | cut -f1 || echo "-")
  log "$name built in $((end - start))s ($size; $((end - _go_build_started))s so far; left: $(_left "$name"))"
  [[ ! -e $out/bin/$name ]] || echo "$name $((end - start))s $(stat -c %s "$out/bin/$name")" >>"$out/build-times.txt"
}

go_install() { # name package@version ldflags [tags]
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && GOBIN="$tmp" go install -trimpath -ldflags "$3" ${4:+-tags "$4"} "$2")
  mv -f "$tmp/$(basename "${2%@*}")" "$out/bin/$1"
  rm -rf "$tmp"
}

k8s_ldflags() { # version
  local major minor flags="-s -w" pkg
  major=${1#v}
  major=${major%%.*}
  minor=${1#v*.}
  minor=${minor%%.*}
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$1 -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

go_build_end() {
  complete || { log "outputs missing after build"; exit 1; }
  log "done in $(($(date +%s) - _go_build_started))s"
  echo "$out"
}
