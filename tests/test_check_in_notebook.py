"""`check_module`: `tito check` from the closing cell of a release notebook.

Run in real kernels (nbclient), from the notebook's folder as Jupyter runs them, on a copy of the
student's side of the course (release/, checkpoints/, the config; no tinytorch/: the student
tools never read it): the repository's, which publishes nothing, and for the earlier modules also
that of a course copy whose config publishes 01-03 and that ran `tito release`
(tests/test_published.py's `published_course`). Also: the cell does nothing in kernels tito or
nbgrader run, grading skips it unless the student edited it, and an edited one that cannot import
tito costs no points.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tito import UNDER_TITO, course
from tito.build.notebooks import to_notebook
from tito.execute import execute_notebook
from tito.grade.prepare import prepare
from tito.grade.run import autograde
from tito.grade.sandbox import Sandbox
from tito.grade.selection import cells_to_run
from tito.lint import lint
from tito.source import nbgrader_meta
from tito.student.in_notebook import check_module
from tito.synth.variants import submission
from test_published import FIRST_THREE, published_course
from tito_helpers import MODULE_A, built_course, built_template  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
TENSOR = MODULES[0]


def _check_cell(module: course.Module) -> int:
    """Index of the module's check cell in its release notebook (the last cell)."""
    return len(nbformat.read(module.release_ipynb, as_version=4).cells) - 1


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_every_module_closes_with_an_ungraded_check_cell(module: course.Module) -> None:
    release = nbformat.read(module.release_ipynb, as_version=4)
    explain, cell = release.cells[-2:]
    assert explain.cell_type == "markdown" and f"`tito check {module.name}`" in explain.source
    assert cell.cell_type == "code" and not nbgrader_meta(cell) and "#|" not in cell.source
    assert cell.source == f'from tito.student import check_module\n\ncheck_module("{module.name}")'
    assert to_notebook(module).cells[-1].source == cell.source


def test_grading_skips_the_untouched_check_cell_and_runs_an_edited_one() -> None:
    instructor = to_notebook(TENSOR)
    release = nbformat.read(TENSOR.release_ipynb, as_version=4)
    index = _check_cell(TENSOR)
    untouched = prepare(instructor, release)
    assert index not in cells_to_run(untouched.notebook, untouched.student_cells)
    edited = copy.deepcopy(release)
    edited.cells[index].source += "  # again"
    prepared = prepare(instructor, edited)
    assert index in cells_to_run(prepared.notebook, prepared.student_cells)


@pytest.mark.parametrize("variable, value, said", [
    (UNDER_TITO, "1", "skipped: running under tito"),
    ("NBGRADER_EXECUTION", "validate", "skipped: running under nbgrader (validate)"),
])
def test_the_check_is_skipped_under_tito_and_nbgrader(monkeypatch, capsys, variable, value, said) -> None:
    monkeypatch.delenv(UNDER_TITO, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv(variable, value)
    check_module("01_tensor")
    assert capsys.readouterr().out == said + "\n"


@pytest.mark.slow
def test_every_kernel_tito_starts_skips_the_check(tmp_path: Path) -> None:
    """tito.execute marks its kernels, so a notebook run by `tito check` or the lint never recurses."""
    cell = nbformat.read(TENSOR.release_ipynb, as_version=4).cells[-1]
    run = execute_notebook(nbformat.v4.new_notebook(cells=[cell]), cwd=tmp_path, timeout=60)
    assert run.outcomes[0].passed
    assert [o.get("text") for o in run.notebook.cells[0].outputs] == ["skipped: running under tito\n"]


def test_the_check_cell_passes_the_lints_imports_rule_only_outside_graded_cells(built_course: Path) -> None:
    a = next(m for m in course.discover(built_course) if m.name == MODULE_A)
    student_tool = "\n\n# %%\nfrom tito.student import check_module\n\ncheck_module('01_fixture_a')\n"
    graded = ('\n\n# %% nbgrader={"grade": true, "grade_id": "test-tool", "locked": true, "points": 1, '
              '"schema_version": 3, "solution": false, "task": false}\nfrom tito.student import check_module\n')
    a.source_py.write_text(a.source_py.read_text() + student_tool)
    modules = course.discover(built_course)
    assert [f for f in lint(modules, [modules[0]], execute=False).findings if f.rule == "imports"] == []
    a.source_py.write_text(a.source_py.read_text() + graded)
    findings = [f for f in lint(modules, [modules[0]], execute=False).findings if f.rule == "imports"]
    assert [(f.grade_id, f.message) for f in findings] == [
        ("test-tool", "imports tito.student: not stdlib, numpy, matplotlib, sklearn or an earlier module's "
                      "tinytorch.core.<x>")]


def test_the_notebook_summary_escapes_what_the_students_code_printed() -> None:
    from tito.student.check import CellReport, CheckReport
    from tito.student.summary import as_html, as_text

    report = CheckReport("01_tensor", "release/01_tensor/01_tensor.ipynb",
                         [CellReport("tensor-creation", 10, False, "AssertionError: <script>x</script>", "read it")],
                         checkpoint=None)
    page = as_html(report, "run this cell again")
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>" not in page
    assert as_text(report, "run this cell again").splitlines() == [
        "  failed  tensor-creation (10 points): AssertionError: <script>x</script>; try: read it",
        "visible tests: 0/1 cells passed (0/10 points; grading also runs its own cases)",
        "checkpoint: none for this module",
        "next: read it (cell tensor-creation), then run this cell again"]


def _student_course(dest: Path, origin: Path = REPO) -> Path:
    """What a student of the course at `origin` has: release/ (with the published reference, if
    the course publishes any), checkpoints/, the config. The module sources are there only because
    `course.discover` reads the module list from them."""
    dest.mkdir()
    for name in ("nbgrader_config.py", "conftest.py", "pyproject.toml"):
        shutil.copy(origin / name, dest)
    shutil.copytree(origin / "release", dest / "release")
    shutil.copytree(origin / "checkpoints", dest / "checkpoints", ignore=shutil.ignore_patterns("__pycache__"))
    for module in course.discover(origin):
        (dest / "source" / module.name).mkdir(parents=True)
        shutil.copy(module.source_py, dest / "source" / module.name)
    return dest


def _run_cell(source: str, cwd: Path) -> list[dict]:
    """One cell in a fresh kernel started the way Jupyter starts it (not by tito), in `cwd`."""
    env = {k: v for k, v in os.environ.items() if k not in (UNDER_TITO, "NBGRADER_EXECUTION")}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute(env=env, cwd=str(cwd))
    return nb.cells[0].outputs


def _saved(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).strftime("%H:%M:%S")


@pytest.mark.slow
def test_check_module_in_a_real_kernel_on_the_stub_release_and_on_a_finished_notebook(tmp_path: Path) -> None:
    root = _student_course(tmp_path / "course")
    cell = nbformat.read(TENSOR.release_ipynb, as_version=4).cells[-1].source

    outputs = _run_cell(cell, root / "release" / "01_tensor")
    stub = root / "release" / "01_tensor" / "01_tensor.ipynb"
    assert outputs[0]["text"] == ("checking the saved notebook release/01_tensor/01_tensor.ipynb "
                                  f"(saved {_saved(stub)}); save first to include your latest edits\n")
    text, page = outputs[1]["data"]["text/plain"], outputs[1]["data"]["text/html"]
    assert ("  failed  tensor-creation (10 points): NotImplementedError: a `raise NotImplementedError()` stub "
            "was reached; try: implement `_to_array` first") in text.splitlines()
    assert "visible tests: 0/9 cells passed (0/120 points; grading also runs its own cases)" in text
    assert "checkpoint checkpoints/checkpoint_01_tensor.py: failed" in text
    assert text.endswith("next: implement `_to_array` first (cell tensor-creation), "
                         "then save the notebook and run this cell again")
    assert "<table>" in page and "implement `_to_array` first" in page and ">failed</b>" in page

    mine = root / "work" / "01_tensor" / "01_tensor.ipynb"
    mine.parent.mkdir(parents=True)
    nbformat.write(submission(TENSOR), str(mine))  # the solution copied from the source's cells
    outputs = _run_cell(cell, mine.parent)
    assert outputs[0]["text"].startswith(
        f"checking the saved notebook work/01_tensor/01_tensor.ipynb (saved {_saved(mine)})")
    text = outputs[1]["data"]["text/plain"]
    assert "visible tests: 9/9 cells passed (120/120 points; grading also runs its own cases)" in text
    assert "checkpoint checkpoints/checkpoint_01_tensor.py: passed" in text and "failed" not in text
    assert text.endswith("all good. next: `tito submit 01_tensor --zip` (or without --zip through the exchange)")


@pytest.mark.slow
@pytest.mark.parametrize("published", [[], FIRST_THREE], ids=["nothing published", "01-03 published"])
def test_check_module_says_which_earlier_module_is_missing_and_how_to_get_it(published: list[str],
                                                                            tmp_path: Path) -> None:
    """05 needs 01-04: every one of them where nothing is published (the untouched release has
    finished none), only 04 where 01-03 are published."""
    origin = published_course(tmp_path / "published", published) if published else REPO
    root = _student_course(tmp_path / "course", origin)
    assert (root / "release" / "_reference").is_dir() == bool(published)
    outputs = _run_cell('from tito.student import check_module\n\ncheck_module("05_autograd")',
                        root / "release" / "05_autograd")
    missing = ("01_tensor", "02_activations", "03_layers", "04_losses")[len(published):]
    assert [o["text"] for o in outputs] == [
        "checking the saved notebook release/05_autograd/05_autograd.ipynb (saved "
        f"{_saved(root / 'release/05_autograd/05_autograd.ipynb')}); save first to include your latest edits\n",
        "error: " + "".join(f"05_autograd needs {name}: finish it in release/{name}/{name}.ipynb or ask your "
                            "instructor to publish its reference\n" for name in missing)]


@pytest.mark.slow
@pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")
def test_an_edited_check_cell_that_cannot_import_tito_costs_no_points_in_the_sandbox(tmp_path: Path) -> None:
    """Grading runs an edited check cell (the student wrote it) where tito is not importable: the
    ModuleNotFoundError is in an ungraded cell, so the score is the untouched notebook's; a
    reviewer flag notes the import."""
    root = tmp_path / "course"
    shutil.copytree(REPO / "source", root / "source", ignore=shutil.ignore_patterns("*.ipynb"))
    for name in ("release", "tinytorch"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", root)
    subprocess.run([sys.executable, "-m", "tito", "release", "--module", "01"], cwd=root, check=True,
                   capture_output=True)
    untouched = submission(TENSOR)
    edited = copy.deepcopy(untouched)
    edited.cells[-1].source = 'from tito.student import check_module\n\ncheck_module("tensor")'
    for student, notebook in (("s001", untouched), ("s002", edited)):
        folder = root / "submitted" / student / "01_tensor"
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / "01_tensor.ipynb"))
    modules = course.discover(root)
    results = {r.student: r for r in autograde(root, modules, selected=modules[:1], workers=1).graded}
    assert results["s001"].score == results["s002"].score == results["s001"].max_score
    assert [f.kind for f in results["s001"].flags if f.kind != "note"] == []
    assert [f.kind for f in results["s002"].flags if f.kind != "note"] == []  # its own tool: no flag
    graded = nbformat.read(root / "autograded" / "s002" / "01_tensor" / "01_tensor.ipynb", as_version=4)
    assert [o.get("ename") for o in graded.cells[-1].outputs] == ["ModuleNotFoundError"]  # it did run
