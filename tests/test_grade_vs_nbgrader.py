"""Stock `nbgrader autograde` and `tito autograde` agree, cell by cell, on the same submissions.

A small version of `benchmarks/grading.py` for CI: two honest students and one buggy one on two
cheap modules, written once into a throwaway course copy that is duplicated before anyone grades.
Stock nbgrader (the CLI, one call per module) grades one copy, tito the other; both gradebooks are
read with SQL and compared per (student, module, graded cell).

The deliberate difference: tito scores every graded cell by its notebook test AND its cases
(differential, compared outside the sandbox), and the checkpoint cell by its cases' points; stock
nbgrader by the notebook alone. For an honest submission both give full points, so everything is
compared; for the buggy one the checkpoint is left out.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from benchmarks.grading import HONEST, bin_env, gradebook_cells, gradebook_totals, make_course
from tito import course
from tito.grade.pipeline import checkpoint_cell_id
from tito.grade.run import autograde
from tito.grade.sandbox import Sandbox

# a bug that fails an ordinary test cell, per module (source/NN_name/bugs.py)
BUGGY = {"01_tensor": "tensor-matmul-elementwise", "03_layers": "parameters-no-dedup"}
MODULES = list(BUGGY)
BUGGY_STUDENT = "s900"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code"),
    pytest.mark.skipif(shutil.which("nbgrader", path=bin_env()["PATH"]) is None, reason="no nbgrader CLI"),
]


def add_buggy_student(root: Path, student: str) -> None:
    """`student` submits each module with its catalogued bug (same layout as tito.synth writes)."""
    from tito.synth.variants import submission

    modules = {m.name: m for m in course.discover(root)}
    for name, bug in BUGGY.items():
        folder = root / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(submission(modules[name], bug=bug), folder / f"{name}.ipynb")
        honest = next((root / "submitted").glob(f"*/{name}/timestamp.txt"))
        shutil.copy(honest, folder / "timestamp.txt")


@pytest.fixture(scope="module")
def both_gradebooks(tmp_path_factory):
    from tito.synth.generate import generate_class

    work = tmp_path_factory.mktemp("vs-nbgrader")
    stock = make_course(work / "stock")
    generate_class(stock, 2, seed=7, modules=MODULES, mix=HONEST)
    add_buggy_student(stock, BUGGY_STUDENT)
    ours = work / "ours"
    shutil.copytree(stock, ours)

    for name in MODULES:
        done = subprocess.run(["nbgrader", "autograde", name, "--force"], cwd=stock, env=bin_env(),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = autograde(ours, course.discover(ours), workers=2)
    assert len(summary.graded) == 3 * len(MODULES)
    assert all(r.status == "graded" for r in summary.graded)
    return stock, ours


def test_every_graded_cell_scores_the_same(both_gradebooks):
    stock, ours = (gradebook_cells(root) for root in both_gradebooks)
    assert set(stock) == set(ours), "both gradebooks must hold the same graded cells"
    students = {student for student, _, _ in stock}
    assert len(students) == 3 and BUGGY_STUDENT in students
    checkpoints = {checkpoint_cell_id(m) for m in MODULES}
    compared = {key for key in stock if key[0] != BUGGY_STUDENT or key[2] not in checkpoints}
    assert len(compared) >= 3 * 2 * 8, "too few cells compared to mean anything"
    differ = {key: (stock[key], ours[key]) for key in sorted(compared) if stock[key] != ours[key]}
    assert differ == {}


def test_the_bugs_are_caught_by_both(both_gradebooks):
    """The comparison is not vacuous: the buggy student loses exactly the bug's cells on both sides."""
    from tito.synth.bugs import catalogue

    for root in both_gradebooks:
        by_name = catalogue(course.discover(root)).by_name
        cells = gradebook_cells(root)
        for module, bug in BUGGY.items():
            checkpoint = checkpoint_cell_id(module)
            failed = {c for (s, m, c), score in cells.items()
                      if s == BUGGY_STUDENT and m == module and c != checkpoint and score == 0}
            assert failed == set(by_name[bug].failing_cells) - {checkpoint}, (root.name, module)


def test_honest_totals_are_identical_and_full(both_gradebooks):
    stock, ours = (gradebook_totals(root) for root in both_gradebooks)
    honest = {key for key in stock if key[0] != BUGGY_STUDENT}
    assert len(honest) == 2 * len(MODULES)
    assert {k: stock[k] for k in honest} == {k: ours[k] for k in honest}
    assert all(stock[k] == 120.0 for k in honest)


def test_stock_feedback_and_the_gradebook_hold_no_hidden_test(both_gradebooks):
    """nbgrader keeps every source cell in the gradebook and shows the executed notebook in its
    feedback (jupyter/nbgrader#917 showed hidden tests there): with hidden coverage in the specs'
    hidden cases, no notebook cell has any to keep or show."""
    import sqlite3

    stock, _ = both_gradebooks
    for module in MODULES:
        done = subprocess.run(["nbgrader", "generate_feedback", module, "--force"], cwd=stock, env=bin_env(),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    pages = sorted((stock / "feedback").rglob("*.html"))
    assert len(pages) == 3 * len(MODULES)
    with sqlite3.connect(stock / "gradebook.db") as db:
        sources = [row[0] or "" for row in db.execute("select source from source_cell")]
    assert len(sources) >= 2 * 8
    assert any("def test_" in text for text in sources)  # the gradebook does hold the test cells
    for text in sources + [page.read_text() for page in pages]:
        assert "HIDDEN TESTS" not in text
