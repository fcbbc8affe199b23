# Portway: `make run` and `make test` work from a fresh clone; each creates .venv when missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The venv is (re)built when pyproject.toml changes; the stamp records a finished install.
VENV_STAMP := $(VENV)/.portway-installed
ARGS ?=

$(VENV_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]} ($(PYTHON)); set PYTHON=python3.11"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(VENV_STAMP)

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Targets:\n"} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: venv
venv: $(VENV_STAMP) ## Create .venv and install Portway with its dev tools

.PHONY: run
run: $(VENV_STAMP) ## Run the pipeline locally on the bundled dataset (ARGS="--threshold 0.9" to pass flags)
	$(VENV)/bin/portway run $(ARGS)

.PHONY: test
test: $(VENV_STAMP) ## Run the test suite (unit, local pipeline, offline validation; cluster tests skip)
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: $(VENV_STAMP) ## Lint with ruff
	$(VENV)/bin/ruff check src components pipelines tests bench scripts

.PHONY: ci
ci: test ## What .ci/run runs

.PHONY: charts-lint
charts-lint: $(VENV_STAMP) ## helm lint --strict and render every chart with each ci/*-values.yaml (Helm's library, no binary)
	$(PY) -m portway.devtools.charts lint

# kind targets need docker (with a running engine), kind, helm, kubectl and network access;
# scripts/kind.sh checks for them first and stops with a message naming what is missing.
.PHONY: kind-up
kind-up: ## Create a kind cluster: Argo Workflows, cert-manager, KServe (Standard), MinIO (pinned versions)
	@bash scripts/kind.sh up

.PHONY: kind-run
kind-run: ## Compile the pipeline (CPU-sized), submit it to the kind cluster and wait for it
	@bash scripts/kind.sh check run
	@$(MAKE) --no-print-directory venv
	@PY=$(PY) bash scripts/kind.sh run

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	@bash scripts/kind.sh down

.PHONY: compile
compile: $(VENV_STAMP) ## Compile the pipeline to build/ct.kfp.yaml (KFP IR) and build/ct.argo.yaml (Argo Workflow)
	$(VENV)/bin/portway compile --target kfp -o build/ct.kfp.yaml
	$(VENV)/bin/portway compile --target argo -o build/ct.argo.yaml

.PHONY: golden
golden: $(VENV_STAMP) ## Rewrite tests/golden/* from the current compilers (after an intended pipeline change; review the diff)
	$(PY) -m pytest -q -p no:cacheprovider tests/compile/test_kfp_target.py tests/compile/test_argo_target.py -k golden --update-goldens

.PHONY: image
image: $(VENV_STAMP) ## Build the component image, tagged with the package version (needs a running Docker engine)
	@image="$$($(PY) -c 'from portway.config import DEFAULT_IMAGE; print(DEFAULT_IMAGE)')"; \
	version="$$($(PY) -c 'from portway import __version__; print(__version__)')"; \
	command="docker build --build-arg PORTWAY_VERSION=$$version -t $$image ."; \
	echo "$$command"; \
	command -v docker >/dev/null 2>&1 || { echo "make image: no docker CLI on PATH; run the command above where Docker is installed." >&2; exit 1; }; \
	docker info >/dev/null 2>&1 || { echo "make image: the Docker engine is not reachable (docker info failed); start it, or run the command above elsewhere." >&2; exit 1; }; \
	$$command

.PHONY: clean
clean: ## Remove run folders and build output (keeps .venv)
	rm -rf runs build .pytest_cache

.PHONY: bench
bench: $(VENV_STAMP) ## Run the benchmarks (~15 min); writes bench/results.json and BENCHMARKS.md
	$(PY) bench/benchmarks.py $(BENCH_ARGS)
