.PHONY: setup test test-fast test-cluster test-cgroup2 check demo crd docs manifests locks image chart

setup:
	bash scripts/setup.sh

# Format, lint, types, layering (what the fast CI job starts with).
check:
	bash scripts/setup.sh checks
	.venv/bin/ruff format --check operator tests scripts benchmarks
	.venv/bin/ruff check operator tests scripts benchmarks
	.venv/bin/mypy
	.venv/bin/lint-imports

# README's test command: every check and every tier; the two halves below run side by side
# (scripts/test-tiers.sh says why).
test: setup
	bash scripts/test-tiers.sh

# The two CI jobs (.github/workflows/ci.yml): the checks and the tiers without a cluster; the tiers with one.
test-fast: check
	.venv/bin/python -m pytest -q --durations=15 tests/unit tests/rules tests/aws tests/node

test-cluster:
	bash scripts/setup.sh cluster
	.venv/bin/python -m pytest -q --durations=25 tests/cluster tests/e2e

# The node tests and the user-path smoke in a cgroup2-only QEMU guest (tests/guest/run.sh; root;
# docs/testing.md "cgroup v2": run before every release).
test-cgroup2:
	bash scripts/setup.sh cluster
	bash tests/guest/run.sh

# Builds only what the demo runs (no lint tools, no scanners).
demo:
	bash scripts/setup.sh demo
	.venv/bin/python scripts/demo.py

crd: setup
	.venv/bin/sesmonitor crd > crds/sesmonitor.io_sesmonitors.yaml

docs: setup
	.venv/bin/sesmonitor docs > docs/configuration.md

# The Kustomize base (deploy/kustomize/base/) from `helm template`; a test fails when it is stale.
# Run after `make crd` too: the chart carries a copy of crds/.
manifests: setup
	cp crds/*.yaml deploy/helm/sesmonitor-operator/crds/
	.venv/bin/python scripts/manifests.py

# The --hash lines of the Python locks for their pins, after a pin changed (scripts/lock.py, with the
# uv requirements-dev.lock pins): the image installs requirements.lock with --require-hashes.
locks: setup
	.venv/bin/python scripts/lock.py

# The sesmonitor image from the Dockerfile with docker, podman or buildah (ENGINE=), tagged from the
# chart (image.repository:appVersion) unless IMAGE= is given; PUSH=1 pushes it; PYTHON_IMAGE= picks
# the base (e.g. tests/node/images.sh's Debian-built one where python:3.11-slim cannot be pulled).
image:
	IMAGE="$(IMAGE)" PUSH="$(PUSH)" ENGINE="$(ENGINE)" PYTHON_IMAGE="$(PYTHON_IMAGE)" bash scripts/build-image.sh

# The chart as a versioned archive (dist/sesmonitor-operator-<version>.tgz), with the helm the tests build.
chart: setup
	mkdir -p dist
	"$$(bash tests/tools/helm.sh)/bin/helm" package deploy/helm/sesmonitor-operator --destination dist
