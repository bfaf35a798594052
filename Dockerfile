# One image for the operator and the exporter; the command picks the role:
#   sesmonitor-operator --all-namespaces      (the Helm chart's Deployment)
#   sesmonitor-exporter --config /etc/sesmonitor/config.json   (what the operator renders)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/sesmonitor
COPY requirements.lock ./
RUN /opt/sesmonitor/bin/pip install --upgrade pip==25.3 \
 && /opt/sesmonitor/bin/pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN /opt/sesmonitor/bin/pip install --no-deps . \
 && /opt/sesmonitor/bin/pip uninstall -y pip

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="sesmonitor" \
      org.opencontainers.image.description="Kubernetes operator and exporter for AWS SES reputation" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/sesmonitor/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /opt/sesmonitor /opt/sesmonitor
# Numeric non-root user, so runAsNonRoot can verify it without a passwd lookup.
USER 65532:65532
EXPOSE 9435 8080
ENTRYPOINT ["sesmonitor-operator"]
