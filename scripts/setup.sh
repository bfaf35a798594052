#!/usr/bin/env bash
# Install everything the tests and the demo need; safe to run again (each step skips what is there).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
# The test node's images (tests/node/images.sh, `make image`): buildah, and mmdebstrap for the Debian base.
command -v buildah >/dev/null || need_apt+=(buildah)
command -v mmdebstrap >/dev/null || need_apt+=(mmdebstrap)
command -v shellcheck >/dev/null || need_apt+=(shellcheck) # tests/node/test_images.py
# The test node: runc, the CNI plugins and iptables from Debian (kubelet, containerd: tests/node/build.sh).
[ -x /usr/sbin/runc ] || need_apt+=(runc)
[ -x /usr/lib/cni/bridge ] || need_apt+=(containernetworking-plugins)
command -v iptables >/dev/null || need_apt+=(iptables)
command -v conntrack >/dev/null || need_apt+=(conntrack)
command -v curl >/dev/null || need_apt+=(curl)
command -v nsenter >/dev/null || need_apt+=(util-linux)
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The Debian service would hold Prometheus's default port (promtool is what the rules tier uses).
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus prometheus-alertmanager prometheus-node-exporter 2>/dev/null || true
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum requirements.lock requirements-dev.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip==25.3
  .venv/bin/python -m pip install -q -r requirements-dev.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
# The security scanners (checkov, parliament) in a venv of their own: checkov pins boto3 and more to
# exact versions that conflict with requirements.lock (requirements-scan.lock says which).
if [ ! -x .venv-scan/bin/python ]; then
  echo "setup: creating .venv-scan"
  python3 -m venv .venv-scan
fi
scan_stamp=.venv-scan/.installed-$(sha256sum requirements-scan.lock | cut -c1-16)
if [ ! -f "$scan_stamp" ]; then
  echo "setup: installing the security scanners"
  .venv-scan/bin/python -m pip install -q --upgrade pip==25.3
  .venv-scan/bin/python -m pip install -q -r requirements-scan.lock
  touch "$scan_stamp"
fi

# kube-apiserver, kube-controller-manager, kubectl, etcd and helm, built from Go modules once per version.
bash tests/controlplane/build.sh
# The unit tier's linters (actionlint for .github/workflows/, chart-testing's ct): once per version.
bash tests/tools/build.sh >/dev/null
# kubelet, kube-scheduler, kube-proxy, containerd, CoreDNS, prometheus-operator, Prometheus, pause:
# once per version.
node=$(bash tests/node/build.sh)
# The images the node runs (ours from the Dockerfile): rebuilt only where their inputs changed.
bash tests/node/images.sh --bin-dir "$node/bin" >/dev/null
