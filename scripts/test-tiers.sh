#!/usr/bin/env bash
# `make test` after setup: its two halves side by side instead of one after the other.
# The cluster and e2e tiers spend most of their minutes waiting on the wall clock (a node starting,
# alerts' `for`, the demo's bursts), while `make test-fast` (ruff, mypy, import-linter, the unit, rules
# and aws tiers, the node scripts) is CPU work of about 5 minutes: run beside them, it costs little.
# The cluster half streams to the terminal; the fast half's output comes as one block when it ends.
# Exit status: 0 only if both halves passed. Ctrl-C stops both (each cleans up what it started).
set -uo pipefail
cd "$(dirname "$0")/.." || exit

# Job control: the fast half gets its own process group, so SIGINT is not ignored in it (bash ignores
# it in background jobs otherwise). A terminal's Ctrl-C then reaches only the foreground half; when
# that half says it was interrupted, the fast half is stopped the same way (and by the trap below when
# the script itself gets the signal).
set -m
fast_log=$(mktemp -t sesmonitor-test-fast.XXXXXX)
started=$(date +%s)
(
  make --no-print-directory test-fast >"$fast_log" 2>&1
  rc=$?
  printf '\n===== make test-fast: exit %s after %ss =====\n' "$rc" "$(($(date +%s) - started))"
  cat "$fast_log"
  printf '===== end of make test-fast =====\n'
  exit "$rc"
) &
fast=$!
stop_fast() { kill -INT -- "-$fast" 2>/dev/null; }
trap stop_fast INT TERM

.venv/bin/python -m pytest -q --durations=25 tests/cluster tests/e2e
cluster_rc=$?
# pytest's exit status 2 is "interrupted" (KeyboardInterrupt); 128+n, killed by signal n.
if [ "$cluster_rc" -eq 2 ] || [ "$cluster_rc" -gt 128 ]; then stop_fast; fi
wait "$fast"
fast_rc=$?
rm -f "$fast_log"
printf 'make test: test-fast exit %s, cluster and e2e tiers exit %s, %ss in all\n' \
  "$fast_rc" "$cluster_rc" "$(($(date +%s) - started))"
[ "$fast_rc" -eq 0 ] && [ "$cluster_rc" -eq 0 ]
