"""Results follow the course: a result records the build of the module it was graded with, a
course change makes it stale and `tito autograde` grades it again and says so, and a fault of the
grader shows its cause on the terminal and fails the run.

On the small fixture course (tests/fixtures/course), one submission: its solution notebook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tito_helpers import MODULE_A, built_course, built_template, module  # noqa: F401 (fixtures)
from tito import course
from tito.grade.course_build import module_build_id
from tito.grade.run import STALE, autograde, find_submissions, load_result, why_grade
from tito.grade.sandbox import Sandbox

pytestmark = pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")


def submit_solution(root: Path, student: str = "s1") -> None:
    a = module(root, MODULE_A)
    folder = root / "submitted" / student / a.name
    folder.mkdir(parents=True)
    shutil.copy(a.source_ipynb, folder / f"{a.name}.ipynb")


def tito(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tito", *args], cwd=root, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


def test_a_result_records_its_build_and_a_course_change_regrades_it(built_course: Path) -> None:
    root = built_course
    submit_solution(root)
    modules = course.discover(root)
    a = module(root, MODULE_A)
    first = autograde(root, modules, selected=[a], workers=1)
    assert [(r.student, r.score, r.max_score) for r in first.graded] == [("s1", 5.0, 5.0)]
    before = module_build_id(root, modules, a)
    assert load_result(root, "s1", a.name).build == before
    assert autograde(root, modules, selected=[a], workers=1).skipped == 1  # current: not graded again

    with a.cases_py.open("a", encoding="utf-8") as spec:  # the instructor edits the spec
        spec.write("\n# a clarified comment\n")
    after = module_build_id(root, modules, a)
    assert after != before
    assert why_grade(root, find_submissions(root, [a])[0], after) == STALE
    done = tito(root, "autograde", "--module", MODULE_A, "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert ("1 stale result(s) graded again: the course changed since they were graded (reference, spec, "
            f"release notebook or limits): {MODULE_A} 1") in done.stdout
    assert load_result(root, "s1", a.name).build == after


def test_an_internal_grading_error_prints_its_cause_and_fails_the_run(built_course: Path) -> None:
    root = built_course
    submit_solution(root)
    a = module(root, MODULE_A)
    a.release_ipynb.unlink()  # the grader's own input is gone: not the student's fault
    done = tito(root, "autograde", "--module", MODULE_A, "--workers", "1")
    assert done.returncode == 1
    cause = f"tito.errors.TitoError: release/{MODULE_A}/{MODULE_A}.ipynb: missing; run `make release`"
    lines = done.stdout.splitlines()
    assert f"  s1/{MODULE_A}: internal grading error: {cause}" in lines
    assert lines[-2:] == [
        "1 internal grading error(s), a fault of the grader, not of the students (the traceback is in each "
        "result.json):",
        f"  s1/{MODULE_A}: {cause}  (autograded/s1/{MODULE_A}/result.json)"]
