"""tito.execute: per-cell outcomes of a notebook run in a fresh kernel with a chosen env and cwd."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tito import course
from tito.build import export
from tito.build.partial import modules_before, partial_reference
from tito.execute import execute_notebook, kernel_env
from tito_helpers import make_course

pytestmark = pytest.mark.slow


def _notebook(*sources: str, graded: int | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if graded is not None:
        nb.cells[graded].metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 2}
    return nb


def test_partial_reference_env_cwd_and_outcomes(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    modules = course.discover(root)
    export.export(modules)
    reference = partial_reference(root, tmp_path / "partial", modules_before(modules, modules[1]))
    cwd = tmp_path / "work"
    cwd.mkdir()
    nb = _notebook(
        "import os, tinytorch.core.fixture_a as a\nassert a.add_one(1) == 2",
        "import tinytorch.core.fixture_b",
        "assert os.getcwd() == os.environ['EXPECTED_CWD']",
        "raise NotImplementedError('stub')",
        graded=3,
    )
    run = execute_notebook(nb, cwd=cwd, env=kernel_env([reference], {"EXPECTED_CWD": str(cwd)}), timeout=30)
    assert run.kernel_error is None
    assert [(o.index, o.passed, o.ename) for o in run.outcomes] == [
        (0, True, None), (1, False, "ModuleNotFoundError"), (2, True, None), (3, False, "NotImplementedError")]
    graded = run.graded[0]
    assert (graded.grade_id, graded.points, graded.evalue) == ("t", 2.0, "stub")
    assert "NotImplementedError: stub" in graded.traceback and "\x1b[" not in graded.traceback
    assert nb.cells[0].outputs == []  # the caller's notebook is not modified


def test_timeout_becomes_an_outcome_and_the_run_continues(tmp_path: Path) -> None:
    nb = _notebook("import time\ntime.sleep(30)", "x = 1")
    run = execute_notebook(nb, cwd=tmp_path, timeout=2)
    assert [(o.passed, o.ename) for o in run.outcomes] == [(False, "CellTimeoutError"), (True, None)]
