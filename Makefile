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
STUDENTS ?= 40
KIT     ?= build/student-kit

.PHONY: help setup export notebooks release lint test test-e2e test-quick checkpoints bench demo clean \
        synth autograde feedback grades report lab student-kit

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@# bubblewrap is the sandbox that student code runs in (apt-get works: CI runs as root)
	@command -v bwrap >/dev/null || (apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null)) || \
		echo "warning: bubblewrap could not be installed; grading will refuse untrusted code"
	@# Debian's chromium is the browser of the real-browser tests (tests/e2e, driven by Playwright,
	@# which never downloads a browser of its own); ~1 min to install; without it those tests skip
	@command -v chromium >/dev/null || timeout 300 sh -c 'apt-get install -y -q chromium >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)' || \
		echo "warning: chromium could not be installed; the browser tests (tests/e2e) will skip"
	@# Debian's postgresql: the tests start a real server from its initdb and pg_ctl (tests/postgres.py);
	@# only its binaries are used (Debian's own cluster, if it starts one, is never touched)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		timeout 300 sh -c 'apt-get install -y -q postgresql >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null)' || \
		echo "warning: postgresql could not be installed; the PostgreSQL gradebook tests will skip"
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

test: $(STAMP)  ## the whole suite: lint, freshness, package, oracle, checkpoints under 20 seeds
	$(TITO) lint
	$(PYTEST) -n 2 --checkpoint-seeds=$(SEEDS)

test-e2e: $(STAMP)  ## the real-browser tests alone (JupyterLab in headless Chromium; part of make test)
	$(PYTEST) tests/e2e -m e2e -q

test-quick: $(STAMP)  ## the inner loop: everything not marked slow
	$(PYTEST) -n 2 -m "not slow"

checkpoints: $(STAMP)  ## run every checkpoint against TINYTORCH_ROOT (default: the reference)
	$(PYTEST) checkpoints $(wildcard source/*/checkpoint_*.py) -q

bench: $(STAMP)  ## benchmarks: ratios measured side by side in one run
	$(PY) -m benchmarks

demo: $(STAMP)  ## the main job: build, lint, a synthetic class of 40, grade, feedback, grades, report (REBUILD=1: a fresh class)
	$(TITO) demo --students $(STUDENTS) $(if $(REBUILD),--rebuild)

synth: $(STAMP)  ## write a synthetic class (STUDENTS=40) into submitted/
	$(TITO) synth --students $(STUDENTS)

autograde: $(STAMP)  ## grade new or changed submissions (sandboxed, one worker per core)
	$(TITO) autograde

feedback: $(STAMP)  ## feedback/<student>/<module>/<module>.html
	$(TITO) feedback

grades: $(STAMP)  ## grades.csv (nbgrader export) and grades_canvas.csv
	$(TITO) grades

report: $(STAMP)  ## report/index.html with figures
	$(TITO) report

student-kit: $(STAMP)  ## the folder students get (KIT=build/student-kit, replaced): release, checkpoints, guide, tools
	$(TITO) student-kit $(KIT) --force

LAB_PORT ?= 8888
lab: $(STAMP)  ## JupyterLab 4 on the course root with nbgrader's extension and jupytext (LAB_PORT=8888)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter lab --config="$(CURDIR)/jupyter_server_config.py" \
		--ServerApp.root_dir="$(CURDIR)" \
		--port=$(LAB_PORT) $(LAB_ARGS)

clean:  ## remove derived notebooks and caches (never touches student data)
	rm -f source/*/*.ipynb
	rm -rf .pytest_cache .hypothesis .tito
