"""tito.lint: each rule rejects its broken fixture (tests/fixtures/lint/) with the exact finding.

Static rules run with `execute=False`; the two execution rules start kernels and are marked slow.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tito import course
from tito.build import notebooks
from tito.lint import Finding, lint
from tito.release import generate
from tito_helpers import BROKEN, MODULE_A, MODULE_B, break_module_a, built_course, built_template  # noqa: F401

SRC = f"source/{MODULE_A}/{MODULE_A}.py"  # findings name the .py the author edits, at its line
REL = f"release/{MODULE_A}/{MODULE_A}.ipynb"


def _lint_a(root: Path, variant: str | None = None, *, release: bool = False, execute: bool = False) -> list[Finding]:
    """Lint module A, optionally after swapping in a broken source (and re-releasing it)."""
    if variant:
        a = break_module_a(root, variant)
        notebooks.build(a)
        if release:
            generate(root, a)
    modules = course.discover(root)
    return lint(modules, [modules[0]], execute=execute).findings


def _where(findings: list[Finding], rule: str) -> list[tuple[str, str, int | None, str | None, int | None]]:
    return [(f.rule, f.file, f.cell, f.grade_id, f.line) for f in findings if f.rule == rule]


def _message(findings: list[Finding], rule: str, cell: int | None) -> str:
    return next(f.message for f in findings if f.rule == rule and f.cell == cell)


def test_valid_course_has_no_static_findings(built_course: Path) -> None:
    modules = course.discover(built_course)
    assert lint(modules, execute=False).findings == []


def test_finding_prints_file_cell_grade_id_line_rule() -> None:
    finding = Finding("release-parse", MODULE_A, REL, 12, "test-add", 3, "does not parse")
    assert str(finding) == f"{REL}: cell 12 (test-add) line 3: [release-parse] does not parse"
    on_source = Finding("imports", MODULE_A, SRC, 1, "a-imports", 10, "imports x")
    assert str(on_source) == f"{SRC}:10: cell 1 (a-imports): [imports] imports x"
    assert str(Finding("release-missing", MODULE_A, REL, None, None, None, "missing")) == f"{REL}: [release-missing] missing"


def test_release_parse_catches_stub_at_wrong_indentation(built_course: Path) -> None:
    """Seed 003: nbgrader succeeds, but the stub breaks the method; only reading the release shows it."""
    findings = _lint_a(built_course, "release_parse", release=True)
    assert _where(findings, "release-parse") == [("release-parse", REL, 2, "a-scaler", 12)]
    assert "does not parse: unexpected indent" in _message(findings, "release-parse", 2)
    assert _where(findings, "solution-placement") == [("solution-placement", SRC, 2, "a-scaler", 19)]
    assert "at column 4 inside `__call__` (def at column 4)" in _message(findings, "solution-placement", 2)


def test_missing_release_is_a_finding(built_course: Path) -> None:
    shutil.rmtree(built_course / "release" / MODULE_A)
    findings = _lint_a(built_course)
    assert [(f.rule, f.file, f.cell) for f in findings] == [("release-missing", REL, None)]


def test_solution_placement(built_course: Path) -> None:
    findings = _lint_a(built_course, "solution_placement")
    assert _where(findings, "solution-placement") == [
        ("solution-placement", SRC, 2, "a-add-one", 11),
        ("solution-placement", SRC, 3, "a-blank", 17),  # the whole cell: its marker line
        ("solution-placement", SRC, 4, "a-unclosed", 27),
    ]
    assert "outside any function body" in _message(findings, "solution-placement", 2)
    assert "nbgrader would blank it whole" in _message(findings, "solution-placement", 3)
    assert "never closed by END SOLUTION" in _message(findings, "solution-placement", 4)


def test_metadata(built_course: Path) -> None:
    findings = _lint_a(built_course, "metadata")
    assert _where(findings, "metadata") == [
        ("metadata", SRC, 3, "test-add-one", 17),  # the cell's marker, which holds its metadata
        ("metadata", SRC, 4, "test-add-one", 20),
        ("metadata", SRC, 5, "test-zero-points", 23),
        ("metadata", SRC, 6, "test-forgotten", 26),
    ]
    assert "not locked" in _message(findings, "metadata", 3)
    assert "grade_id 'test-add-one' already used by cell 3" in _message(findings, "metadata", 4)
    assert "points > 0 (has 0)" in _message(findings, "metadata", 5)
    assert "not graded" in _message(findings, "metadata", 6)


def test_file_ref(built_course: Path) -> None:
    findings = _lint_a(built_course, "file_ref")
    assert _where(findings, "file-ref") == [("file-ref", SRC, 2, "a-add-one", 13)]
    assert "__file__" in _message(findings, "file-ref", 2)


def test_imports(built_course: Path) -> None:
    findings = _lint_a(built_course, "imports")
    assert _where(findings, "imports") == [
        ("imports", SRC, 1, "a-imports", 10),
        ("imports", SRC, 1, "a-imports", 11),
        ("imports", SRC, 2, "test-add-one", 20),
        ("imports", SRC, 2, "test-add-one", 21),
    ]
    messages = [f.message for f in findings if f.rule == "imports"]
    assert "tinytorch.core.fixture_b from a later module (02_fixture_b)" in messages[0]
    assert "tinytorch.core.fixture_a, this module's own export target" in messages[1]
    assert messages[2].startswith("imports tito.tools.testing: not stdlib")


def test_imports_between_a_modules_own_files(built_course: Path) -> None:
    """A second file's cell may not import the first file at the top (the notebook defined it
    already; in a release run the file is absent); the first file may fetch the second on first
    use (a deferred import in an export cell), and no other cell may import either."""
    source = course.discover(built_course)[0].source_py
    cells = (
        '# %% nbgrader={"grade": false, "grade_id": "a-twice", "locked": true, "schema_version": 3, '
        '"solution": false, "task": false}\n#| export core.fixture_twice\n'
        'from tinytorch.core.fixture_a import add_one\n\n\ndef add_two_by_ones(x):\n    return add_one(add_one(x))\n\n'
        '# %% nbgrader={"grade": false, "grade_id": "a-fetch", "locked": true, "schema_version": 3, '
        '"solution": false, "task": false}\n#| export\ndef twice():\n'
        '    from tinytorch.core.fixture_twice import add_two_by_ones\n    return add_two_by_ones\n\n'
        '# %%\ndef narrative():\n    from tinytorch.core.fixture_twice import add_two_by_ones\n\n')
    text = source.read_text()
    marker = '# %% nbgrader={"grade": true, "grade_id": "test-add-one"'
    source.write_text(text.replace(marker, cells + marker, 1))
    modules = course.discover(built_course)
    findings = [f for f in lint(modules, [modules[0]], execute=False).findings if f.rule == "imports"]
    assert [(f.grade_id, f.message) for f in findings] == [
        ("a-twice", "imports tinytorch.core.fixture_a, this module's own export target (the reference solution)"),
        (None, "imports tinytorch.core.fixture_twice, this module's own export target (the reference solution)")]


def test_imports_of_earlier_modules_are_allowed(built_course: Path) -> None:
    modules = course.discover(built_course)
    assert lint(modules, [modules[1]], execute=False).findings == []


def test_leak_names_release_file_and_source_cell(built_course: Path) -> None:
    shutil.copytree(BROKEN / "leak" / "release", built_course / "release", dirs_exist_ok=True)
    findings = _lint_a(built_course)
    notes = f"release/{MODULE_A}/notes.md"
    assert _where(findings, "leak") == [("leak", notes, None, None, 5)]
    messages = [f.message for f in findings]
    assert messages[0] == f"solution text from {SRC}:31 (cell 2, a-add-one) leaked: 'result_of_adding = x + 1'"


def test_leak_inside_a_release_notebook_names_the_cell(built_course: Path) -> None:
    release = built_course / REL
    release.write_text(release.read_text().replace('"assert add_one(1) == 2"', '"assert add_one(1) == 2\\n",\n    "return result_of_adding"'))
    findings = _lint_a(built_course)
    assert _where(findings, "leak") == [("leak", REL, 3, "test-add-one", 2)]


def test_spec_covers_every_graded_cell_and_the_notebook_hides_no_test(built_course: Path) -> None:
    spec = course.discover(built_course)[0].cases_py
    spec.write_text(spec.read_text() + '''

@case("test-scalar")
def typo_in_the_cell(tt, rng):
    return {"x": 1}


@case("test-scaler", points=2)
def points_on_an_ordinary_cell(tt, rng):
    return {"x": 1}
''')
    findings = _lint_a(built_course, "spec")
    cases = f"source/{MODULE_A}/cases.py"
    found = {(f.file, f.cell, f.grade_id, f.line): f.message for f in findings if f.rule == "spec"}
    assert found == {
        (SRC, 4, "test-scaler", 59):
            f"hidden tests in the notebook: student code can read them at grading time; move them to hidden cases in {cases}",
        (cases, None, None, 26): "case bound to 'test-scalar', which is no graded cell of 01_fixture_a",
        (SRC, 5, "test-orphan", 63): f"graded cell without cases in {cases}: nothing could score it",
        (cases, None, "test-scaler", 31): "a case of test-scaler carries points: only the checkpoint cell's cases do "
                                          "(an ordinary cell scores its own points when all its cases agree)"}


def test_a_missing_spec_is_a_finding(built_course: Path) -> None:
    course.discover(built_course)[0].cases_py.unlink()
    findings = _lint_a(built_course)
    assert [(f.rule, f.file, f.message) for f in findings] == [
        ("spec", f"source/{MODULE_A}/cases.py", "missing: every module needs its spec of cases (see source/AUTHORING.md)")]


@pytest.mark.slow
def test_valid_course_executes_cleanly(built_course: Path) -> None:
    modules = course.discover(built_course)
    report = lint(modules)
    assert report.findings == []
    summary = {(s.module, s.graded_cells, s.points, s.source_passed, s.release_failed) for s in report.summaries}
    assert summary == {(MODULE_A, 2, 5.0, 2, 2), (MODULE_B, 1, 5.0, 1, 1)}


@pytest.mark.slow
def test_source_exec(built_course: Path) -> None:
    findings = _lint_a(built_course, "source_exec", release=True, execute=True)
    assert _where(findings, "source-exec") == [
        ("source-exec", SRC, 2, None, 14),
        ("source-exec", SRC, 3, "test-add-one", 17),
        ("source-exec", SRC, 4, "test-noisy", 20),
    ]
    assert "cell raises on the solution: NameError" in _message(findings, "source-exec", 2)
    assert "graded test fails on the solution: AssertionError: the test expects the wrong value" in _message(findings, "source-exec", 3)
    assert "writes to stderr" in _message(findings, "source-exec", 4)
    assert _where(findings, "release-wrong-failure") == []


@pytest.mark.slow
def test_release_exec(built_course: Path) -> None:
    findings = _lint_a(built_course, "release_exec", release=True, execute=True)
    assert _where(findings, "release-passes-without-solution") == [
        ("release-passes-without-solution", REL, 3, "test-constant", None)]
    assert _where(findings, "release-wrong-failure") == [("release-wrong-failure", REL, 4, "test-demo-value", None)]
    assert "fails with NameError: name 'demo_value' is not defined instead of NotImplementedError" in _message(
        findings, "release-wrong-failure", 4)
    assert _where(findings, "source-exec") == []
    # the same test passes on the full source, but grading skips the demo cell it leans on
    assert _where(findings, "tests-self-contained") == [("tests-self-contained", SRC, 4, "test-demo-value", 20)]
    assert "NameError: name 'demo_value' is not defined" in _message(findings, "tests-self-contained", 4)


CHECKPOINT_CELL = '''

# %% nbgrader={"grade": true, "grade_id": "fixture_a-checkpoint", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
assert add_one(2) == 3
'''
CHECKPOINT_CASES = '''

@case("fixture_a-checkpoint", points=3)
def checkpoint_calls_the_student(tt, rng):
    return {"add_one(2)": tt.fixture_a.add_one(2)}


@case("fixture_a-checkpoint", points=1)
def checkpoint_checks_nothing_written(tt, rng):
    return {"a constant": 42}
'''


@pytest.mark.slow
def test_a_checkpoint_case_that_the_blank_release_passes_is_a_finding(built_course: Path) -> None:
    """The checkpoint cell is scored by its cases alone: one that agrees on the untouched release
    gives every blank submission its point."""
    a = course.discover(built_course)[0]
    a.source_py.write_text(a.source_py.read_text() + CHECKPOINT_CELL)
    a.cases_py.write_text(a.cases_py.read_text() + CHECKPOINT_CASES)
    notebooks.build(a)
    generate(built_course, a)
    findings = _lint_a(built_course, execute=True)
    cases = f"source/{MODULE_A}/cases.py"
    line = a.cases_py.read_text().splitlines().index('@case("fixture_a-checkpoint", points=1)') + 1
    assert [(f.rule, f.file, f.grade_id, f.line, f.message) for f in findings] == [
        ("blank-release-scores", cases, "fixture_a-checkpoint", line,
         "case checkpoint_checks_nothing_written agrees with the reference on the untouched release: a blank "
         "submission would score its 1 point(s) (1 in all); make it call what the student writes")]
