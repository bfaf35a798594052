#!/usr/bin/env bash
# The runc the test node's containerd runs containers with: the host's own when it has one new enough,
# so a host with Docker's packages (containerd.io ships /usr/bin/runc and conflicts with Debian's runc
# package) keeps its runtime; else none, and scripts/setup.sh installs Debian's.
#
# Usage: tests/node/runc.sh           prints the path; exits 1 (with the reason on stderr) when none fits
#   SESMONITOR_RUNC=PATH              that runc and no other (it must still be new enough)
#
# The oldest version accepted is the oldest these tests have run: Debian bookworm's 1.1.5.
set -euo pipefail

MIN_VERSION=1.1.5

version_of() { # runc -> x.y.z, or nothing
  "$1" --version 2>/dev/null | sed -n '1s/^runc version v\{0,1\}\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p'
}

new_enough() { # version
  [[ -n $1 && $(printf '%s\n%s\n' "$MIN_VERSION" "$1" | sort -V | head -n1) == "$MIN_VERSION" ]]
}

candidates=()
if [[ -n ${SESMONITOR_RUNC:-} ]]; then
  candidates=("$SESMONITOR_RUNC")
else
  found=$(command -v runc || true)
  [[ -z $found ]] || candidates+=("$found")
  candidates+=(/usr/local/sbin/runc /usr/local/bin/runc /usr/sbin/runc /usr/bin/runc /sbin/runc /bin/runc)
fi

seen=()
for runc in "${candidates[@]}"; do
  [[ -x $runc ]] || continue
  version=$(version_of "$runc")
  if new_enough "$version"; then
    echo "$runc"
    exit 0
  fi
  seen+=("$runc (${version:-no version})")
done
if ((${#seen[@]})); then
  echo "runc.sh: no runc >= $MIN_VERSION: found ${seen[*]}" >&2
else
  echo "runc.sh: no runc found (${candidates[*]})" >&2
fi
exit 1
