"""Run nbgrader's own `generate_assignment` on one module, from Python.

nbgrader does the clearing, locking and checksumming; tito only loads the course's
nbgrader_config.py, turns nbgrader's result dict into an exception that names the module, and
checks that the release holds nothing but the student notebook.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from tito.course import CONFIG_FILE, Module
from tito.errors import TitoError


def load_config(root: Path) -> Config:
    """The course's nbgrader_config.py, as the nbgrader apps would load it, rooted at `root`."""
    if not (root / CONFIG_FILE).is_file():
        raise TitoError(f"{root / CONFIG_FILE}: missing; nbgrader needs it to know the course")
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    config.CourseDirectory.root = str(root.resolve())
    return config


def generate(root: Path, module: Module) -> Path:
    """`nbgrader generate_assignment <module> --force --create`; returns the release notebook."""
    if not module.source_ipynb.is_file():
        raise TitoError(f"{module.rel(module.source_ipynb)}: missing; run `tito notebooks` first")
    result = _run_nbgrader(root, module.name)
    if not result.get("success"):
        detail = (result.get("log", "") + result.get("error", "")).strip()
        raise TitoError(f"{module.name}: nbgrader generate_assignment failed:\n{detail}")
    _check_contents(module)
    return module.release_ipynb


def check_spec(module: Module) -> None:
    """Refuse to release a module its spec cannot grade: no cases.py, a graded cell without cases, a
    case bound to no cell, checkpoint points that do not add up (the lint's `spec` rule). Releasing
    it would hand students a notebook whose every submission is graded wrongly or not at all."""
    from tito.lint import context
    from tito.lint.rules import spec

    findings = spec.check(context.load(module, [module]))
    if findings:
        raise TitoError(f"{module.name}: not released, its spec cannot grade it (see source/AUTHORING.md):\n"
                        + "\n".join(str(f) for f in findings))


def _run_nbgrader(root: Path, name: str) -> dict:
    # imported here: nbgrader is slow to import and only this stage needs it
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _put_scripts_on_path()
    config = load_config(root)
    config.NbGraderAPI.log_level = logging.WARNING
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    return api.generate_assignment(name, force=True, create=True)


def _put_scripts_on_path() -> None:
    """nbgrader runs the `alembic` executable to open the gradebook; it lives beside our python.

    `.venv/bin/python -m tito` (what the Makefile runs) does not put `.venv/bin` on PATH.
    """
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, path]) if path else scripts


def _check_contents(module: Module) -> None:
    """The release is exactly the student notebook: anything else (a .py!) may leak solutions."""
    files = sorted(p for p in module.release_dir.rglob("*") if p.is_file())
    extra = [module.rel(p) for p in files if p != module.release_ipynb]
    if not module.release_ipynb.is_file():
        raise TitoError(f"{module.rel(module.release_ipynb)}: nbgrader reported success but wrote no notebook")
    if extra:
        raise TitoError(f"{module.rel(module.release_dir)}: unexpected files in the release: {', '.join(extra)}")
