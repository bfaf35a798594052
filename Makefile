.PHONY: setup test check demo crd docs manifests

setup:
	bash scripts/setup.sh

check: setup
	.venv/bin/ruff format --check operator tests scripts benchmarks
	.venv/bin/ruff check operator tests scripts benchmarks
	.venv/bin/mypy
	.venv/bin/lint-imports

test: check
	.venv/bin/python -m pytest -q

demo: setup
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
