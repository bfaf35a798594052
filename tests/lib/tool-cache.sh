# shellcheck shell=bash disable=SC2154  # out: set by the sourcing script, with `complete`
# The build-once step of every tool script (tests/lib/go-build.sh's, tests/tools/renovate.sh), sourced
# after the script sets `root` (the cache root) and `out` (its output directory) and defines `complete`
# (true when every output is there).
#
#   print_if_complete       prints $out and exits when complete (so a warm cache costs nothing)
#   lock_tool_cache LOCK    takes the cache root's LOCK file: one build at a time per cache root
#                           (parallel pytest workers, two checkouts); check again after it

print_if_complete() {
  if complete; then
    echo "$out"
    exit 0
  fi
}

lock_tool_cache() { # lock
  mkdir -p "$root"
  exec 9>"$root/$1"
  flock 9
}
