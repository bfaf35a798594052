# One image for the operator and the exporter; the command picks the role:
#   sesmonitor-operator --all-namespaces      (the Helm chart's Deployment)
#   sesmonitor-exporter --config /etc/sesmonitor/config.json   (what the operator renders)
#
# Build: docker build -t ghcr.io/sesmonitor/sesmonitor:0.1.0 .
# tests/unit/test_dockerfile.py lints this file with hadolint and runs the build stage's steps in a
# clean virtual environment (no Docker engine needed); keep every step a plain RUN/COPY/ENV/WORKDIR.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/sesmonitor
# Dependencies first, from the locked set only: this layer is rebuilt when the lock changes, not
# when the code does. --require-hashes: only the very wheels the locks name (scripts/lock.py), the
# installers (pip, the build backend) as well.
COPY requirements-build.lock requirements.lock ./
RUN /opt/sesmonitor/bin/pip install --require-hashes --only-binary=:all: -r requirements-build.lock \
 && /opt/sesmonitor/bin/pip install --require-hashes --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY operator ./operator
# The package itself, without dependencies (all locked above) and built with the locked setuptools
# (no isolated build fetching an unpinned one); then check that the set is consistent and drop the
# installers, which the final image has no use for.
RUN /opt/sesmonitor/bin/pip install --no-deps --no-build-isolation . \
 && /opt/sesmonitor/bin/pip check \
 && /opt/sesmonitor/bin/pip uninstall -y pip setuptools

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="sesmonitor" \
      org.opencontainers.image.description="Kubernetes operator and exporter for AWS SES reputation" \
      org.opencontainers.image.licenses="Apache-2.0"
# HOME: the numeric user has no passwd entry; /tmp is the one writable place (an emptyDir in the
# chart, whose root filesystem is read-only).
ENV PATH=/opt/sesmonitor/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/sesmonitor /opt/sesmonitor
# Numeric non-root user, so runAsNonRoot can verify it without a passwd lookup.
USER 65532:65532
# 9435: the exporter's /metrics, /status, /healthz, /readyz. 8080, 8081: the operator's liveness
# endpoint and its own /metrics.
EXPOSE 9435 8080 8081
ENTRYPOINT ["sesmonitor-operator"]
