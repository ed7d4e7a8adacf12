# The instructor's verbs. `make help` lists them. Every target runs inside the repo's own
# virtual environment (.venv/), which `make setup` creates idempotently.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV    := .venv
PY      := $(VENV)/bin/python
TITO    := $(PY) -m tito
PYTEST  := $(PY) -m pytest
STAMP   := $(VENV)/.installed
SEEDS   ?= 20

.PHONY: help setup export notebooks release lint test test-quick checkpoints bench demo clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,lab]' --config-settings editable_mode=compat
	@# PyTorch is the oracle for the reference package's tests and the benchmark's baseline;
	@# 2.13.0 is the CPU build this machine carries on disk. Without it, oracle tests skip.
	-$(PY) -m pip install -q torch==2.13.0
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv/ and install the kit (idempotent)

export: $(STAMP)  ## export the #| export cells of source/ into the reference package tinytorch/
	$(TITO) export

notebooks: $(STAMP)  ## derive source/NN/NN.ipynb from the jupytext sources
	$(TITO) notebooks

release: $(STAMP)  ## build source notebooks and run nbgrader generate_assignment into release/
	$(TITO) release

lint: $(STAMP)  ## check the release: parses, fails only by stubs, no leaks, sound metadata
	$(TITO) lint

test: $(STAMP)  ## the whole suite: lint, freshness, package, oracle, checkpoints under $(SEEDS) seeds
	$(TITO) lint
	$(PYTEST) -n 2 --checkpoint-seeds=$(SEEDS)

test-quick: $(STAMP)  ## the inner loop: everything not marked slow
	$(PYTEST) -n 2 -m "not slow"

checkpoints: $(STAMP)  ## run every checkpoint against TINYTORCH_ROOT (default: the reference)
	$(PYTEST) checkpoints -q

bench: $(STAMP)  ## benchmarks: ratios measured side by side in one run
	$(PY) -m benchmarks

demo: $(STAMP)  ## build the whole course and execute every source notebook
	$(TITO) demo

clean:  ## remove derived notebooks and caches (never touches student data)
	rm -f source/*/*.ipynb
	rm -rf .pytest_cache .hypothesis .tito
