"""The kit's own small files: its README, Makefile, .gitignore and pyproject.toml.

The pyproject installs tito (the student's side of it) with the course's own runtime
dependencies, read from the course's pyproject.toml so the two never disagree, plus pytest for
the checkpoints and JupyterLab for `make lab`.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

README = """\
# TinyTorch: your course folder

You build `tinytorch`, a deep-learning framework in numpy, one module at a time. This folder is
everything you need: the notebooks you fill in (`release/NN_name/NN_name.ipynb`), the checkpoints
(`checkpoints/`), the course tools (`tito/`) and, once your instructor publishes the reference code
of a module (after its deadline), that code in `release/_reference/`.

```bash
make setup   # once: .venv/ with tito, JupyterLab and nbgrader (Python 3.11)
make lab     # JupyterLab on this folder: open release/01_tensor/01_tensor.ipynb
.venv/bin/tito config student-id ID     # once: the id your course knows you by
.venv/bin/tito check 01_tensor          # your notebook's tests and the checkpoint (or: make check MODULE=01_tensor)
.venv/bin/tito build                    # your own tinytorch, from your notebooks (or: make build)
.venv/bin/tito submit 01_tensor --zip   # the zip to upload to your LMS (or: make submit MODULE=01_tensor)
```

In JupyterLab's terminals (`make lab`), and after `source .venv/bin/activate`, plain `tito` works.
`.venv/bin/tito --help` lists your commands.

The guide, step by step: [docs/students.md](docs/students.md).
"""

MAKEFILE = """\
# The student's verbs. `make help` lists them. Everything runs in this folder's own virtual
# environment (.venv/), which `make setup` creates once.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
TITO     := $(VENV)/bin/tito
LAB_PORT ?= 8888
TINYTORCH_ROOT ?= .tito/student-build
MODULE   ?= 01_tensor

.PHONY: help setup lab check build submit checkpoints

help:  ## list the targets
\t@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\\n", $$1, $$2}'

$(STAMP): pyproject.toml
\t@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
\t$(PY) -m pip install -q -e '.[lab]' --config-settings editable_mode=compat
\t@touch $(STAMP)

setup: $(STAMP)  ## create .venv/ with tito, JupyterLab and nbgrader (once)

lab: $(STAMP)  ## JupyterLab on this folder with nbgrader's extension (LAB_PORT=8888)
\tPATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter lab --config="$(CURDIR)/jupyter_server_config.py" \\
\t\t--ServerApp.root_dir="$(CURDIR)" --port=$(LAB_PORT) $(LAB_ARGS)

check: $(STAMP)  ## your notebook's tests and the module's checkpoint (MODULE=01_tensor)
\t$(TITO) check $(MODULE)

build: $(STAMP)  ## your own tinytorch from your notebooks, into .tito/student-build
\t$(TITO) build

submit: $(STAMP)  ## the zip of a module to upload to your LMS (MODULE=01_tensor)
\t$(TITO) submit $(MODULE) --zip

checkpoints: $(STAMP)  ## the checkpoints of the modules your build has reached (after `make build`)
\tTINYTORCH_ROOT="$(TINYTORCH_ROOT)" $(PY) -m pytest checkpoints -q -rs
"""

GITIGNORE = """\
.venv/
.tito/
submissions/
__pycache__/
.ipynb_checkpoints/
*.egg-info/
"""


def write_files(root: Path, dest: Path) -> None:
    """Write the kit's README.md, Makefile, .gitignore and pyproject.toml into `dest`."""
    for name, text in (("README.md", README), ("Makefile", MAKEFILE), (".gitignore", GITIGNORE),
                       ("pyproject.toml", pyproject(root))):
        (dest / name).write_text(text, encoding="utf-8")


def pyproject(root: Path) -> str:
    """The kit's pyproject.toml, its requirements taken from the course's."""
    course = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project, extras = course["project"], course["project"]["optional-dependencies"]
    needs = project["dependencies"] + [spec for spec in extras["dev"] if _name(spec) == "pytest"]
    slow = [m for m in course["tool"]["pytest"]["ini_options"]["markers"] if m.startswith("slow:")]
    return "\n".join([
        "# Installs the course tools (tito) and what the notebooks and checkpoints need: `make setup`.",
        "[build-system]",
        f"requires = {_list(course['build-system']['requires'])}",
        f"build-backend = {json.dumps(course['build-system']['build-backend'])}",
        "",
        "[project]",
        'name = "tinytorch-student-kit"',
        f"version = {json.dumps(project['version'])}",
        'description = "A TinyTorch student\'s course folder: the notebooks, the checkpoints and tito."',
        f"requires-python = {json.dumps(project['requires-python'])}",
        f"dependencies = {_list(needs)}",
        "",
        "[project.optional-dependencies]",
        f"lab = {_list(extras['lab'])}",
        "",
        "[project.scripts]",
        'tito = "tito.cli:main"',
        "",
        "[tool.setuptools.packages.find]",
        'include = ["tito*"]',
        "",
        "[tool.pytest.ini_options]",
        'testpaths = ["checkpoints"]',
        'python_files = ["checkpoint_*.py"]',
        f"markers = {_list(slow)}",
        "",
    ])


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def _list(values: list[str]) -> str:
    """A TOML array of strings (JSON's string escapes are TOML's)."""
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"
