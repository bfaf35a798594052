#!/usr/bin/env bash
# Build the sesmonitor image (operator and exporter in one) from ./Dockerfile: `make image`.
#
#   IMAGE=ref         the image reference; default <chart's image.repository>:<chart's appVersion>,
#                     i.e. what `helm install` of deploy/helm/sesmonitor-operator pulls
#   PUSH=1            push IMAGE after the build (log in to its registry first)
#   ENGINE=name       docker, podman or buildah; default the first of them that is installed
#                     (docker only if its daemon answers)
#   PYTHON_IMAGE=ref  the Dockerfile's base (default python:3.11-slim-bookworm); with no registry to
#                     pull from, a local image, e.g. the one tests/node/images.sh makes from Debian
#
# With podman or buildah, the host's pip configuration reaches the build's RUN steps without a
# change to the Dockerfile: /etc/pip.conf, $PIP_CONFIG_FILE and the PIP_* variables are merged into
# one pip.conf mounted at /etc/pip.conf, and every file or directory it names (the CA bundle of
# `cert`, `find-links` directories) is mounted read-only at the same path. A machine behind a TLS
# proxy or a private index then builds as it installs. Docker cannot mount into RUN steps without
# changing the Dockerfile, so there the build uses the image's own configuration only.
#
# Progress goes to stderr; the last line on stdout is the image reference (the image ID follows
# it with buildah/podman, for callers that cache on it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "build-image: $*" >&2; }

chart=deploy/helm/sesmonitor-operator
if [[ -z ${IMAGE:-} ]]; then
  # What the chart deploys: image.repository, and image.tag or else the chart's appVersion.
  image_value() {
    awk -v key="$1:" '/^image:/ { i = 1; next } /^[^[:space:]#]/ { i = 0 }
      i && $1 == key { gsub(/"/, "", $2); print $2; exit }' "$chart/values.yaml"
  }
  repository=$(image_value repository)
  app_version=$(image_value tag)
  [[ -n $app_version ]] ||
    app_version=$(sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}.*/\1/p' "$chart/Chart.yaml")
  [[ -n $repository && -n $app_version ]] || {
    log "cannot read image.repository / appVersion from $chart"
    exit 1
  }
  IMAGE=$repository:$app_version
fi

# --print-image: the reference only (tests/node/images.sh keys its cache on it).
if [[ ${1:-} == --print-image ]]; then
  echo "$IMAGE"
  exit 0
fi

if [[ -z ${ENGINE:-} ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    ENGINE=docker
  elif command -v podman >/dev/null; then
    ENGINE=podman
  elif command -v buildah >/dev/null; then
    ENGINE=buildah
  else
    log "no container engine: install docker, podman or buildah (Debian: apt-get install buildah)"
    exit 1
  fi
fi

args=(-t "$IMAGE" -f Dockerfile)
[[ -z ${PYTHON_IMAGE:-} ]] || args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The merged pip configuration and the host paths it names (see the header), for podman/buildah.
pip_mounts() {
  python3 - "$tmp/pip.conf" <<'EOF'
import configparser, os, sys

conf = configparser.RawConfigParser()
conf.read(["/etc/pip.conf", os.environ.get("PIP_CONFIG_FILE") or "/nonexistent"])
if not conf.has_section("global"):
    conf.add_section("global")
for name, value in os.environ.items():
    if name.startswith("PIP_") and name != "PIP_CONFIG_FILE" and value:
        conf.set("global", name[4:].lower().replace("_", "-"), value)
if not any(conf.items(s) for s in conf.sections()):
    sys.exit(0)
with open(sys.argv[1], "w") as f:
    conf.write(f)
print(f"{sys.argv[1]}:/etc/pip.conf")
paths = set()
for section in conf.sections():
    for _, value in conf.items(section):
        for word in value.split():
            if word.startswith("/") and os.path.exists(word):
                paths.add(os.path.realpath(word) + ":" + word)
# pip (truststore) also reads the system store: give it the host's, which the named CA bundle
# usually is.
ca = "/etc/ssl/certs/ca-certificates.crt"
if os.path.exists(ca):
    paths.add(os.path.realpath(ca) + ":" + ca)
print("\n".join(sorted(paths)))
EOF
}

case $ENGINE in
  buildah | podman)
    while IFS= read -r m; do
      [[ -n $m ]] && args+=(--volume "$m:ro")
    done < <(pip_mounts)
    # chroot isolation and the host's network: no network namespace or firewall rules to set up,
    # so it also works inside containers and locked-down hosts. --layers keeps the dependency layer
    # while only the code changes; --pull=false uses a local base when there is one.
    args+=(--network host --layers --force-rm --pull=false)
    [[ $ENGINE == podman ]] || args+=(--isolation "${BUILDAH_ISOLATION:-chroot}")
    build=("$ENGINE" build)
    ;;
  docker)
    build=(docker build)
    ;;
  *)
    log "ENGINE=$ENGINE: expected docker, podman or buildah"
    exit 1
    ;;
esac

log "building $IMAGE with $ENGINE${PYTHON_IMAGE:+ on $PYTHON_IMAGE}"
start=$(date +%s)
if ! "${build[@]}" "${args[@]}" . >&2; then
  [[ -n ${PYTHON_IMAGE:-} ]] ||
    log "hint: with no registry to pull python:3.11-slim-bookworm from, pass PYTHON_IMAGE= (a local" \
      "image; tests/node/images.sh makes localhost/sesmonitor-test/python:3.11-bookworm from Debian)"
  exit 1
fi
log "built $IMAGE in $(($(date +%s) - start))s"

if [[ ${PUSH:-} == 1 ]]; then
  log "pushing $IMAGE"
  "$ENGINE" push "$IMAGE" >&2
fi

case $ENGINE in
  buildah) echo "$IMAGE $(buildah images --no-trunc --format '{{.ID}}' "$IMAGE" | head -n1)" ;;
  podman) echo "$IMAGE $(podman image inspect --format '{{.Id}}' "$IMAGE")" ;;
  *) echo "$IMAGE" ;;
esac
