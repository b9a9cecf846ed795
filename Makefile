# sagestack: every target that needs set-up does it itself, so `make demo` and `make test`
# work as the first commands typed on a fresh machine with Python 3.11 and make.

PYTHON_BOOTSTRAP ?= python3.11
VENV        := .venv
CHECKOV_VENV := .venv-checkov
BIN         := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# The CDK app and its tests never need credentials; this keeps a stray profile out of synth.
export CDK_DISABLE_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

SETUP_STAMP   := $(VENV)/.setup-done
NPM_STAMP     := node_modules/.npm-ci-done
CHECKOV_STAMP := $(CHECKOV_VENV)/.setup-done

.PHONY: setup synth test lint checkov demo baselines clean

setup: $(SETUP_STAMP) $(NPM_STAMP) $(CHECKOV_STAMP)

$(SETUP_STAMP): pyproject.toml
	@command -v $(PYTHON_BOOTSTRAP) >/dev/null 2>&1 || { echo "make: $(PYTHON_BOOTSTRAP) not found; install Python 3.11 or run make PYTHON_BOOTSTRAP=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json package-lock.json $(SETUP_STAMP)
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins an old boto3 and packaging that break sagemaker 3.x: it gets its own virtualenv.
$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON_BOOTSTRAP) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

# The main job: the whole lifecycle locally (emulator, deploy, train, register, serve, invoke).
demo: setup
	$(BIN)/sagestack demo $(DEMO_ARGS)

synth: $(SETUP_STAMP) $(NPM_STAMP)
	cdk synth --quiet
	@echo "templates written to cdk.out/"

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Rewrites tests/baselines/ from a fresh synth of every environment; commit the result.
baselines: $(SETUP_STAMP) $(NPM_STAMP)
	$(BIN)/sagestack baselines refresh

# ruff, the type checker (zero errors) and the layer contract ([tool.importlinter]).
# training_code/ is checked as the containers see it: the shared scripts import each other as
# top-level modules, and each family folder is flattened beside them (MYPYPATH=..).
FAMILY_DIRS := $(wildcard training_code/*/train.py)
lint: $(SETUP_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy training_code/*.py
	for family in $(dir $(FAMILY_DIRS)); do \
		(cd $$family && MYPYPATH=.. $(abspath $(BIN))/mypy --no-namespace-packages \
			--config-file $(abspath pyproject.toml) *.py) || exit 1; \
	done
	$(BIN)/lint-imports

clean:
	rm -rf cdk.out build .pytest_cache
