"""The course cycle in a real browser, as docs/students.md and docs/instructors.md describe it.

A student opens module 01 in JupyterLab, meets the stubs' NotImplementedError, pastes in the
solution through the editor, sees the tests pass and the in-notebook check pass, validates with
nbgrader's Validate button and submits from nbgrader's Assignments panel. The instructor collects
that very submission with tito, grades it in the sandbox, writes the feedback page, sees the score
in Formgrader and opens the feedback page. Separately, an instructor opens a jupytext source as a
notebook.

Two JupyterLab servers, as in a real course: the student's on a copy of the course repository as a
student clones it (sources, release, reference, checkpoints; no gradebook), the instructor's on a
full course (`tito release` run, a roster imported, the gradebook). A temporary nbgrader exchange
joins them. The student's nbgrader settings live where nbgrader's docs put a student's: a Jupyter
config directory (here the server's own, under the test's tmp folder), never the course file.

Each step saves a screenshot; with TITO_UPDATE_DOCS_IMAGES=1 they are the pictures of the docs.
"""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from lab_helpers import (LONG, REPO, chromium, code_cell, expect, menu, new_page, open_notebook, replace_cell_source,
                         require_browser, run_all_cells, running_lab, save_notebook, screenshot)

from tito.grade.sandbox import Sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MODULE = "01_tensor"
NOTEBOOK = f"release/{MODULE}/{MODULE}.ipynb"
STUDENT = "s001"
ROSTER = "id,first_name,last_name,email\ns001,Ada,Lovelace,ada@example.org\n"
# what a clone of the repository brings that the cycle uses (conftest.py and pyproject.toml: the
# checkpoints' pytest options, which the student's check passes)
COURSE_PARTS = ("source", "release", "tinytorch", "checkpoints", "nbgrader_config.py", "jupyter_server_config.py",
                "conftest.py", "pyproject.toml")


# --- the two courses and the exchange between them ----------------------------------------------


def _copy_course(dest: Path) -> Path:
    """The course as it is committed: jupytext sources (not their derived notebooks), the release,
    the reference package, the checkpoints and the configuration files."""
    dest.mkdir(parents=True)
    for part in COURSE_PARTS:
        if (REPO / part).is_file():
            shutil.copy(REPO / part, dest / part)
            continue
        ignored = ("__pycache__", "*.ipynb") if part == "source" else ("__pycache__",)
        shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns(*ignored))
    return dest


def _instructor_runs(root: Path, *args: str) -> str:
    """`python -m <args>` in the course `root`, as the instructor types it: its output, or the test
    fails showing it."""
    done = subprocess.run([sys.executable, "-m", *args], cwd=root, capture_output=True, text=True, timeout=600)
    if done.returncode:
        pytest.fail(f"`{' '.join(args)}` failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@pytest.fixture(scope="module")
def exchange(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exchange")


@pytest.fixture(scope="module")
def instructor_course(tmp_path_factory, exchange: Path) -> Path:
    """A full instructor course: released with `tito release`, a one-student roster in the
    gradebook, and module 01 released into the exchange with `nbgrader release_assignment`."""
    require_browser()
    root = _copy_course(tmp_path_factory.mktemp("instructor") / "course")
    with (root / "nbgrader_config.py").open("a") as config:  # the test's exchange, set as docs/instructors.md says
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
        # the student's browser session runs as this test's own unix user: the collect checks owners
        config.write(f"c.SafeExchangeCollect.unix_users = {{{STUDENT!r}: {getpass.getuser()!r}}}\n")
    (root / "roster.csv").write_text(ROSTER)
    _instructor_runs(root, "tito", "release", "--module", MODULE)
    _instructor_runs(root, "tito", "collect", "roster", "roster.csv")
    _instructor_runs(root, "nbgrader", "release_assignment", MODULE)
    return root


@pytest.fixture(scope="module")
def student_course(tmp_path_factory) -> Path:
    require_browser()
    return _copy_course(tmp_path_factory.mktemp("student") / "course")


def _student_nbgrader_config(student: Path, exchange: Path, cache: Path) -> str:
    """The student's own nbgrader settings: the course's exchange, their id at the course (nbgrader
    would otherwise take the login name), and release/ as the folder of their assignments, so the
    notebook they open under release/ is the one the Assignments panel submits."""
    return (f"c.Exchange.root = {str(exchange)!r}\n"
            f"c.Exchange.assignment_dir = {str(student / 'release')!r}\n"
            f"c.Exchange.cache = {str(cache)!r}\n"
            f"c.CourseDirectory.student_id = {STUDENT!r}\n")


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def student_lab(student_course: Path, exchange: Path, tmp_path_factory):
    state = tmp_path_factory.mktemp("student-lab")
    config = _student_nbgrader_config(student_course, exchange, state / "nbgrader-cache")
    with running_lab(student_course, state, user_nbgrader_config=config) as lab:
        yield lab


@pytest.fixture(scope="module")
def instructor_lab(instructor_course: Path, tmp_path_factory):
    with running_lab(instructor_course, tmp_path_factory.mktemp("instructor-lab")) as lab:
        yield lab


# --- what the notebooks hold ---------------------------------------------------------------------


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solutions(instructor_course: Path) -> dict[str, str]:
    """grade_id -> the student's answer: the instructor's solution cell without the solution
    markers (the release has a stub in their place; a student never types them)."""
    source = nbformat.read(instructor_course / "source" / MODULE / f"{MODULE}.ipynb", as_version=4)
    markers = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
    return {_grade_id(cell): "\n".join(line for line in cell.source.splitlines() if not markers.match(line))
            for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def _release_cells(student_course: Path) -> list:
    return nbformat.read(student_course / NOTEBOOK, as_version=4).cells


def _code_indices(cells, wanted) -> list[int]:
    """Positions among the code cells (what `code_cell` counts) of the cells `wanted` accepts."""
    code = [cell for cell in cells if cell.cell_type == "code"]
    return [i for i, cell in enumerate(code) if wanted(cell)]


def _is_test(cell) -> bool:
    nbgrader = cell.metadata.get("nbgrader", {})
    return bool(nbgrader.get("grade")) and not nbgrader.get("solution")


# --- the student ---------------------------------------------------------------------------------


def _student_meets_the_stub(page) -> None:
    run_all_cells(page)
    error = page.locator(".jp-OutputArea-output", has_text="NotImplementedError").first
    error.wait_for(timeout=LONG)  # Run All stops at the first cell that calls a stub
    error.scroll_into_view_if_needed()
    screenshot(page, "lab_release_stub_error")
    text = error.inner_text()
    assert "NotImplementedError" in text and "raise NotImplementedError()" in text


def _student_pastes_the_solutions(page, cells, solutions: dict[str, str]) -> None:
    answers = _code_indices(cells, lambda cell: _grade_id(cell) in solutions)
    assert len(answers) == len(solutions) > 0, "every solution cell of the source has its cell in the release"
    code = [cell for cell in cells if cell.cell_type == "code"]
    for index in answers:
        cell = code_cell(page, index)
        cell.scroll_into_view_if_needed()
        replace_cell_source(page, cell, solutions[_grade_id(code[index])])
    code_cell(page, answers[0]).evaluate("node => node.scrollIntoView({block: 'start'})")
    screenshot(page, "lab_student_solution_typed")
    save_notebook(page)


def _student_reruns_and_the_tests_pass(page, cells) -> None:
    """Restart the kernel, clear every output, run all: every test cell runs, no cell fails."""
    code_cell(page, 0).locator(".jp-InputPrompt").click()
    menu(page, "Kernel", "Restart Kernel and Clear Outputs of All Cells")
    page.locator(".jp-Dialog button.jp-mod-accept", has_text="Restart").click()
    expect(page.locator(".jp-Notebook .jp-OutputArea-output")).to_have_count(0)
    run_all_cells(page)
    failure = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    last_ran = code_cell(page, -1).locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]"))
    last_ran.or_(failure.first).wait_for(timeout=LONG)
    assert failure.count() == 0, failure.first.inner_text()[:2000]
    tests = _code_indices(cells, _is_test)
    for index in tests:
        expect(code_cell(page, index).locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
    code_cell(page, tests[-1]).evaluate("node => node.scrollIntoView({block: 'start'})")
    screenshot(page, "lab_student_tests_pass")


def _student_sees_the_check_pass(page, cells) -> None:
    """The closing cell's check_module ran (Run All ran it last) and says all is well."""
    tests = len(_code_indices(cells, _is_test))
    report = code_cell(page, -1).locator(".jp-OutputArea")
    report.evaluate("node => node.scrollIntoView({block: 'end'})")
    screenshot(page, "lab_student_check_passes")
    text = report.inner_text()
    assert f"{tests}/{tests} cells passed" in text and "all good" in text, text


def _student_validates(page) -> None:
    page.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=LONG)
    screenshot(page, "lab_validate_success")
    assert "Success! Your notebook passes all the tests." in dialog.inner_text()
    dialog.locator("button.jp-mod-accept").click()


def _student_submits(page, exchange: Path) -> None:
    menu(page, "Nbgrader", "Assignment List")
    downloaded = page.locator("#fetched_assignments_list .list_item", has_text=MODULE)
    downloaded.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ UTC")).wait_for(timeout=LONG)
    screenshot(page, "lab_assignments_submitted")
    inbound = list((exchange / "tinytorch" / "inbound").glob(f"{STUDENT}+{MODULE}+*/{MODULE}.ipynb"))
    assert len(inbound) == 1, "the Submit button put exactly one submission into the exchange"


# --- the instructor ------------------------------------------------------------------------------


def _instructor_grades(root: Path) -> tuple[float, float]:
    """Collect, grade, write feedback with the kit; the score and maximum nbgrader's gradebook holds."""
    collected = _instructor_runs(root, "tito", "collect", "exchange", "--module", MODULE)
    assert STUDENT in collected
    _instructor_runs(root, "tito", "autograde", "--module", MODULE)
    _instructor_runs(root, "tito", "feedback", "--module", MODULE)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="tinytorch") as gradebook:
        submission = gradebook.find_submission(MODULE, STUDENT)
        return submission.score, submission.max_score


def _as_formgrader_shows(number: float) -> str:
    """A score as formgrader's JavaScript prints it: rounded to 2 decimals, no trailing `.0`."""
    return f"{round(number, 2):g}"


def _instructor_sees_the_score_in_formgrader(page, lab, score: float, max_score: float) -> None:
    page.goto(lab.lab_url("grading"))
    menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator(".jp-MainAreaWidget:not(.lm-mod-hidden) iframe[src*='/formgrader']")
    assignment = formgrader.locator("tr", has_text=MODULE)
    assignment.locator("td.num-submissions a").wait_for()
    screenshot(page, "lab_formgrader_assignments")
    assignment.locator("td.num-submissions a").click()
    row = formgrader.locator("tr", has_text=STUDENT)
    row.locator("td.score", has_text="/").wait_for()
    screenshot(page, "lab_formgrader_submissions")
    assert row.locator("td.score").inner_text().strip() == f"{_as_formgrader_shows(score)} / {_as_formgrader_shows(max_score)}"
    assert "Lovelace, Ada" in row.inner_text(), "the roster's name is shown"


def _instructor_opens_the_feedback_page(page, lab, score: float, max_score: float) -> None:
    page.goto(lab.lab_url("grading", f"feedback/{STUDENT}/{MODULE}/{MODULE}.html"))
    feedback = page.frame_locator(".jp-HTMLViewer iframe")
    total = feedback.locator("p.score")
    total.wait_for()
    screenshot(page, "lab_feedback_page")
    assert re.sub(r"\s+", " ", total.inner_text()).startswith(f"{score:g} / {max_score:g} points")
    expect(feedback.get_by_text("tensor-creation", exact=True)).to_be_visible()


@pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")
def test_a_student_submits_in_jupyterlab_and_the_instructor_sees_the_grade(
        browser, student_lab, student_course, instructor_course, instructor_lab, exchange) -> None:
    cells = _release_cells(student_course)
    page = new_page(browser)
    open_notebook(page, student_lab, "student", NOTEBOOK)
    _student_meets_the_stub(page)
    _student_pastes_the_solutions(page, cells, _solutions(instructor_course))
    _student_reruns_and_the_tests_pass(page, cells)
    _student_sees_the_check_pass(page, cells)
    _student_validates(page)
    _student_submits(page, exchange)

    score, max_score = _instructor_grades(instructor_course)
    assert score == max_score > 0, "the pasted solution earns every point"
    page = new_page(browser)
    _instructor_sees_the_score_in_formgrader(page, instructor_lab, score, max_score)
    _instructor_opens_the_feedback_page(page, instructor_lab, score, max_score)


def test_an_instructor_opens_a_source_as_a_notebook(browser, instructor_lab, instructor_course) -> None:
    """Right-click the jupytext source > Open With > Jupytext Notebook: notebook cells, with
    nbgrader's metadata on them (Create Assignment shows each graded cell's type, id and points)."""
    source = nbformat.read(instructor_course / "source" / MODULE / f"{MODULE}.ipynb", as_version=4)
    test_index = next(i for i, cell in enumerate(source.cells) if _grade_id(cell) == "tensor-creation")
    page = new_page(browser)
    page.goto(instructor_lab.lab_url("authoring", f"source/{MODULE}"))
    page.locator(".jp-DirListing-item", has_text=f"{MODULE}.py").click(button="right")
    page.locator(".lm-Menu-item", has_text="Open With").hover()
    page.locator(".lm-Menu-item", has_text="Jupytext Notebook").click()
    notebook_cells = page.locator(".jp-Notebook .jp-Cell")
    notebook_cells.nth(test_index).wait_for()
    page.locator(".jp-SideBar [title*='Create Assignment']").click()
    panel = page.locator(".nbgrader-CreateAssignmentWidget .nbgrader-CellWidget").nth(test_index)
    panel.scroll_into_view_if_needed()
    notebook_cells.nth(test_index).evaluate("node => node.scrollIntoView({block: 'start'})")
    screenshot(page, "lab_source_as_notebook")
    expect(notebook_cells).to_have_count(len(source.cells))
    expect(notebook_cells.nth(test_index)).to_contain_text("def test_tensor_creation")
    expect(panel.locator("select")).to_have_value("tests")
    expect(panel.locator("input[type='text']").first).to_have_value("tensor-creation")
    expect(panel.locator("input[type='number']")).to_have_value("10")
