.PHONY: setup test check demo crd docs

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
