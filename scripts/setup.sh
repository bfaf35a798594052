#!/usr/bin/env bash
# Install what the demo or the tests need; safe to run again (each part skips what is there).
#
# Usage: scripts/setup.sh [all|demo|checks|cluster]
#   demo     what `make demo` runs: the cluster's Debian packages, .venv, the control plane, helm, the
#            node, the images
#   checks   ruff, mypy, import-linter and the unit, rules and aws tiers: .venv, the scanners' .venv-scan,
#            promtool, amtool, shellcheck, helm (tests/tools/helm.sh), the lint tools and
#            Renovate's validator (npm)
#   cluster  the cluster and e2e tiers: what the demo needs
#   all      (default) checks and cluster
# One line per part when it starts and when it ends, with its time and the parts still to come.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-all}
case $target in
  demo | cluster) parts=(apt venv controlplane helm node images) ;;
  checks) parts=(apt venv scanners helm lint-tools renovate) ;;
  all) parts=(apt venv scanners controlplane helm lint-tools renovate node images) ;;
  *) echo "setup: unknown target '$target' (all, demo, checks, cluster)" >&2; exit 2 ;;
esac
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

started=$(date +%s)
declare -A what=(
  [apt]="Debian packages"
  [venv]="Python packages (.venv)"
  [scanners]="security scanners (.venv-scan)"
  [controlplane]="control plane: etcd, kube-apiserver, kube-controller-manager, kubectl (cold: ~9 min)"
  [helm]="helm: Helm 4 for the tests and make chart, Helm 3 for its install test (cold: ~3 min each)"
  [lint-tools]="lint tools: actionlint, ct; kstatus-check, argocd-health (cold: ~2 min)"
  [renovate]="Renovate's config validator and Node 24, from npm (cold: ~40 s)"
  [node]="node: containerd, CoreDNS, prometheus-operator, Prometheus, kubelet, ... (cold: ~12-15 min)"
  [images]="images: Debian bookworm base, ours from the Dockerfile, Prometheus, ... (cold: ~2 min)"
)
n=0
part() { # name cmd...: runs one part, timed, saying what is left
  local name=$1 t0 left
  shift
  n=$((n + 1))
  t0=$(date +%s)
  echo "setup [$n/${#parts[@]}] ${what[$name]}" >&2
  "$@"
  left=("${parts[@]:n}")
  echo "setup [$n/${#parts[@]}] $name: $(($(date +%s) - t0))s (total $(($(date +%s) - started))s; left: ${left[*]:-nothing})" >&2
}

apt_packages() {
  local need=() cluster=false
  { wants node || wants images; } && cluster=true
  if wants scanners; then # the checks
    command -v promtool >/dev/null || need+=(prometheus)
    command -v shellcheck >/dev/null || need+=(shellcheck) # workflows, build scripts
    # amtool for the unit tier (the node's Alertmanager image installs bookworm's own, whatever the host).
    command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
    command -v npm >/dev/null || need+=(npm) # Renovate's validator (tests/tools/renovate.sh)
  fi
  # The images' base is Debian bookworm on any host: on Ubuntu or Fedora mmdebstrap needs Debian's
  # keys (tests/node/test_images.py checks that it would use them).
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
  if $cluster; then
    # The node's images (tests/node/images.sh, `make image`): buildah, and mmdebstrap for the Debian base.
    command -v buildah >/dev/null || need+=(buildah)
    command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
    # runc: the host's when it has one new enough (Docker's containerd.io ships one and conflicts with
    # Debian's package), else Debian's. The CNI plugins and iptables are Debian's (tests/node/build.sh).
    bash tests/node/runc.sh >/dev/null 2>&1 || need+=(runc)
    [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
    command -v iptables >/dev/null || need+=(iptables)
    command -v conntrack >/dev/null || need+=(conntrack)
    command -v curl >/dev/null || need+=(curl)
    command -v nsenter >/dev/null || need+=(util-linux)
  fi
  if ((${#need[@]})); then
    echo "setup: installing Debian packages: ${need[*]}" >&2
    local sudo="" removes
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    # Never at the cost of a package the host has (a container runtime above all): refuse instead.
    removes=$(apt-get install -s -qq --no-install-recommends "${need[@]}" | sed -n 's/^Remv \([^ ]*\).*/\1/p')
    if [[ -n $removes ]]; then
      echo "setup: installing ${need[*]} would remove ${removes//$'\n'/ }; not done. Install the" \
        "equivalents by hand (for runc: SESMONITOR_RUNC=/path/to/runc, version >= tests/node/runc.sh's)" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # The Debian service would hold Prometheus's default port (promtool is what the rules tier uses).
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl stop prometheus prometheus-alertmanager prometheus-node-exporter 2>/dev/null || true
  fi
}

python_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp
  stamp=.venv/.installed-$(sha256sum requirements.lock requirements-dev.lock pyproject.toml | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip==25.3
    .venv/bin/python -m pip install -q -r requirements-dev.lock
    .venv/bin/python -m pip install -q --no-deps -e .
    touch "$stamp"
  fi
}

# checkov pins boto3 and more to exact versions that conflict with requirements.lock
# (requirements-scan.lock says which): the scanners get a venv of their own.
scanners_venv() {
  [ -x .venv-scan/bin/python ] || python3 -m venv .venv-scan
  local stamp
  stamp=.venv-scan/.installed-$(sha256sum requirements-scan.lock | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    .venv-scan/bin/python -m pip install -q --upgrade pip==25.3
    .venv-scan/bin/python -m pip install -q -r requirements-scan.lock
    touch "$stamp"
  fi
}

lint_tools() { bash tests/tools/build.sh >/dev/null && bash tests/tools/build.sh gitops >/dev/null; }
node_bin=""
helms() { bash tests/tools/helm.sh >/dev/null && bash tests/tools/helm.sh v3 >/dev/null; }
node() { node_bin=$(bash tests/node/build.sh)/bin; }
# The images the node runs (ours from the Dockerfile): rebuilt only where their inputs changed.
images() { bash tests/node/images.sh --bin-dir "${node_bin:-$(bash tests/node/build.sh)/bin}" >/dev/null; }

for p in "${parts[@]}"; do
  case $p in
    apt) part apt apt_packages ;;
    venv) part venv python_venv ;;
    scanners) part scanners scanners_venv ;;
    controlplane) part controlplane bash tests/controlplane/build.sh >/dev/null ;;
    helm) part helm helms ;;
    lint-tools) part lint-tools lint_tools ;;
    renovate) part renovate bash tests/tools/renovate.sh >/dev/null ;;
    node) part node node ;;
    images) part images images ;;
  esac
done
echo "setup: $target ready in $(($(date +%s) - started))s" >&2
