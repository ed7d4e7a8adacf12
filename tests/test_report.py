"""Grade exports (nbgrader's CSV, the Canvas file) and the instructor's report.

Exports are tested against a tmp course whose gradebook is filled through nbgrader's own
Gradebook API, the way the autograde run fills it: one Grade per graded cell with an auto_score,
the checkpoint cell (`<name>-checkpoint`) holding the points of its cases that agreed (the cases
themselves have no rows in the gradebook). The report reads the cases from the results.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from tito.errors import TitoError
from tito.grade.model import CellResult, CheckResult, Flag, GradeResult
from tito.report import export_canvas, export_grades, run_grades, run_report, write_report
from tests.html_text import links, tables, text_by_id

REPO = Path(__file__).resolve().parents[1]
XSS = "<script>alert(1)</script>"

# nbgrader's add_submission emits SQLAlchemy autoflush warnings under SQLAlchemy 2 (harmless).
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


# --- a course with a gradebook -----------------------------------------------------------------

CELLS = {
    "01_tensor": {"tensor-creation": 10, "tensor-arithmetic": 15, "tensor-checkpoint": 5},
    "02_activations": {"activations-relu-test": 20, "activations-checkpoint": 5},
}
SCORES = {  # (module, student) -> {cell: auto_score}
    ("01_tensor", "ada"): {"tensor-creation": 10, "tensor-arithmetic": 7.5, "tensor-checkpoint": 5},
    ("01_tensor", "bob"): {"tensor-creation": 0, "tensor-arithmetic": 0, "tensor-checkpoint": 0},
    ("02_activations", "ada"): {"activations-relu-test": 20, "activations-checkpoint": 1 / 3},
    ("02_activations", "cyd"): {"activations-relu-test": 20, "activations-checkpoint": 5},
}


@pytest.fixture(scope="module")
def gradebook_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once (a new nbgrader gradebook costs seconds), copied for every test."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("gradebook")
    # A new gradebook asks the `alembic` executable for its schema version: a second Python
    # process, seconds on a loaded machine. Ask alembic in this process instead.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("nbgrader.api.get_alembic_version", _alembic_head)
        _fill_gradebook(root)
    return root / "gradebook.db"


def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///unused.db") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


def _fill_gradebook(root: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "tinytorch") as gb:
        for module, cells in CELLS.items():
            gb.add_assignment(module)
            gb.add_notebook(module, module)
            for cell, max_score in cells.items():
                gb.add_grade_cell(cell, module, module, max_score=max_score, cell_type="code")
        gb.add_student("ada", first_name="Ada", last_name="Lovelace", email="ada@example.org", lms_user_id="4711")
        gb.add_student("bob")
        gb.add_student("cyd", first_name="Cyd", last_name="Nguyen")
        gb.add_student("dee", first_name="Dee", last_name="Adams")  # never submitted anything
        for (module, student), grades in SCORES.items():
            stamp = {"timestamp": "2024-05-01 12:00:00"} if student == "ada" else {}
            gb.add_submission(module, student, **stamp)
            for cell, score in grades.items():
                gb.find_grade(cell, module, module, student).auto_score = score
            gb.db.commit()


@pytest.fixture
def graded_course(tmp_path: Path, gradebook_template: Path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copy(gradebook_template, root / "gradebook.db")
    return root


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_export_grades_is_nbgraders_csv(graded_course: Path) -> None:
    path = export_grades(graded_course)
    assert path == graded_course / "grades.csv"
    assert path.read_text(encoding="utf-8").splitlines() == [
        "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,late_submission_penalty,score,max_score",
        "01_tensor,,,bob,,,,0.0,0.0,0.0,30.0",
        "01_tensor,,,dee,Adams,Dee,,0.0,0.0,0.0,30.0",  # no submission: nbgrader writes 0
        "01_tensor,,2024-05-01 12:00:00,ada,Lovelace,Ada,ada@example.org,22.5,0.0,22.5,30.0",
        "01_tensor,,,cyd,Nguyen,Cyd,,0.0,0.0,0.0,30.0",
        "02_activations,,,bob,,,,0.0,0.0,0.0,25.0",
        "02_activations,,,dee,Adams,Dee,,0.0,0.0,0.0,25.0",
        "02_activations,,2024-05-01 12:00:00,ada,Lovelace,Ada,ada@example.org,20.333333333333332,0.0,20.333333333333332,25.0",
        "02_activations,,,cyd,Nguyen,Cyd,,25.0,0.0,25.0,25.0",
    ]


def test_export_canvas_rows(graded_course: Path) -> None:
    path = export_canvas(graded_course)
    assert path == graded_course / "grades_canvas.csv"
    assert read_csv(path) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_tensor (30)", "02_activations (25)"],
        ["    Points Possible", "", "", "", "", "30", "25"],
        ["Adams, Dee", "", "dee", "dee", "", "", ""],  # no submission: empty cells
        ["bob", "", "bob", "bob", "", "0", ""],  # no name in the gradebook: the id
        ["Lovelace, Ada", "4711", "ada", "ada", "", "22.5", "20.33"],
        ["Nguyen, Cyd", "", "cyd", "cyd", "", "", "25"],
    ]
    assert path.read_text(encoding="utf-8").splitlines()[4] == '"Lovelace, Ada",4711,ada,ada,,22.5,20.33'


def set_due_date(root: Path, module: str, due: str) -> None:
    """What an instructor does in formgrader, or with `nbgrader db assignment add <module> --duedate=...`."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "tinytorch") as gb:
        gb.update_or_create_assignment(module, duedate=due)


def grades_row(rows: list[list[str]], module: str, student: str) -> list[str]:
    """The row of grades.csv for one submission (nbgrader orders assignments by due date)."""
    return next(row for row in rows if row[0] == module and row[3] == student)


def use_late_policy(root: Path, **settings) -> None:
    """The course's nbgrader_config.py with other `c.LatePolicy` settings."""
    config = root / "nbgrader_config.py"
    lines = [line for line in config.read_text().splitlines() if not line.startswith("c.LatePolicy.")]
    config.write_text("\n".join(lines + [f"c.LatePolicy.{k} = {v!r}" for k, v in settings.items()]) + "\n")


# ada submitted 01_tensor at 2024-05-01 12:00:00 and scored 22.5 of 30 (the gradebook above). Under
# the shipped policy (10% of the score per started day late, 15 minutes of grace):
@pytest.mark.parametrize(("due", "penalty", "score"), [
    ("2024-05-01 12:00:00", "0.0", "22.5"),  # on time to the second
    ("2024-05-01 11:45:00", "0.0", "22.5"),  # 15 minutes late: within the grace
    ("2024-05-01 11:44:00", "2.25", "20.25"),  # 16 minutes late: one started day, 10%
    ("2024-04-30 12:00:00", "2.25", "20.25"),  # exactly 24 hours late: one day
    ("2024-04-30 10:00:00", "4.5", "18.0"),  # 26 hours late: two started days, 20%
    ("2024-04-20 12:00:00", "22.5", "0.0"),  # 11 days late: all of it, never below 0
])
def test_the_late_policy_in_the_exports(graded_course: Path, due: str, penalty: str, score: str) -> None:
    set_due_date(graded_course, "01_tensor", due)
    grades = read_csv(export_grades(graded_course))
    assert grades_row(grades, "01_tensor", "ada") == [
        "01_tensor", due, "2024-05-01 12:00:00", "ada", "Lovelace", "Ada", "ada@example.org", "22.5", penalty, score, "30.0"]
    assert grades_row(grades, "01_tensor", "bob")[1:] == [  # no submission time: never late
        due, "", "bob", "", "", "", "0.0", "0.0", "0.0", "30.0"]
    canvas = read_csv(export_canvas(graded_course))
    assert canvas[4][:7] == ["Lovelace, Ada", "4711", "ada", "ada", "", score.removesuffix(".0"), "20.33"]


def test_the_late_policy_is_configurable(graded_course: Path) -> None:
    set_due_date(graded_course, "01_tensor", "2024-04-30 10:00:00")  # 26 hours late
    use_late_policy(graded_course, penalty_method="per_day", percent_per_day=25.0, grace_minutes=0.0)
    assert ada_scores(graded_course) == ["22.5", "11.25", "11.25"]  # 2 days x 25%
    use_late_policy(graded_course, penalty_method="zero")  # nbgrader's own method
    assert ada_scores(graded_course) == ["22.5", "22.5", "0.0"]
    use_late_policy(graded_course, penalty_method="none")
    assert ada_scores(graded_course) == ["22.5", "0.0", "22.5"]


def ada_scores(root: Path) -> list[str]:
    """raw_score, late_submission_penalty, score of ada's 01_tensor in a fresh grades.csv."""
    return grades_row(read_csv(export_grades(root)), "01_tensor", "ada")[7:10]


def test_an_extension_moves_the_due_date(graded_course: Path) -> None:
    from datetime import timedelta

    from nbgrader.api import Gradebook

    set_due_date(graded_course, "01_tensor", "2024-04-30 10:00:00")
    with Gradebook(f"sqlite:///{graded_course / 'gradebook.db'}", "tinytorch") as gb:
        gb.find_submission("01_tensor", "ada").extension = timedelta(hours=2)  # now 24 hours late
        gb.db.commit()
    assert ada_scores(graded_course) == ["22.5", "2.25", "20.25"]


def test_exports_refuse_a_missing_gradebook(tmp_path: Path) -> None:
    shutil.copy(REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for export in (export_grades, export_canvas):
        with pytest.raises(TitoError, match="no gradebook yet"):
            export(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbgrader_config.py"]  # nothing created


# --- results for the report --------------------------------------------------------------------


def result(student, module, status="graded", cells=(), checks=(), flags=(), reason=None, total=3.0) -> GradeResult:
    timings = {"prepare": 0.1 * total, "execute": 0.7 * total, "checks": 0.15 * total, "record": 0.05 * total, "total": total}
    return GradeResult(student, module, "cd" * 32, status, reason, list(cells), list(checks), list(flags), timings, {"python": "3.11"})


def cells(a: bool, b: bool, checkpoint: float = 5) -> list[CellResult]:
    """01_tensor's cells as `stages.score` scores them: arithmetic fails on a hidden case when `b`
    is false, the checkpoint cell holds the points of its agreeing cases."""
    return [
        CellResult("tensor-creation", 10, 10 if a else 0, a, None if a else "AssertionError",
                   None if a else "shape (2,) != (3,)", notebook_passed=a),
        CellResult("tensor-arithmetic", 15, 15 if b else 0, b, None if b else "ReferenceMismatch",
                   None if b else "a hidden case: out: got [2. 3.], which differs from the reference",
                   has_hidden_tests=True, notebook_passed=True),
        CellResult("tensor-checkpoint", 5, checkpoint, checkpoint == 5, None if checkpoint == 5 else "ReferenceMismatch",
                   None if checkpoint == 5 else "case backward: grad: expected [1. 2.] got [1. 1.]",
                   notebook_passed=True),
    ]


def checks(a: bool, b: bool, checkpoint: float = 5) -> list[CheckResult]:
    """The cases of `cells(a, b, checkpoint)`: two gate each test cell; the checkpoint cell's three
    carry its 5 points (2 + 2 + 1 for a hidden one), earned in that order."""
    return [
        CheckResult("creation_values", 0, 0, True, cell="tensor-creation"),
        CheckResult("creation_dtype", 0, 0, a, "" if a else "dtype: expected 'float32' got 'int64'", cell="tensor-creation"),
        CheckResult("arithmetic_values", 0, 0, True, cell="tensor-arithmetic"),
        CheckResult("arithmetic_any_shape", 0, 0, b, "" if b else "out: got [2. 3.], which differs from the reference",
                    cell="tensor-arithmetic", hidden=True),
        CheckResult("forward", 2, 2 if checkpoint >= 2 else 0, checkpoint >= 2, cell="tensor-checkpoint"),
        CheckResult("backward", 2, 2 if checkpoint >= 4 else 0, checkpoint >= 4,
                    "" if checkpoint >= 4 else "grad: expected [1. 2.] got [1. 1.]", cell="tensor-checkpoint"),
        CheckResult("batch", 1, 1 if checkpoint == 5 else 0, checkpoint == 5, cell="tensor-checkpoint", hidden=True),
    ]


def class_results() -> list[GradeResult]:
    return [
        result("ada", "01_tensor", cells=cells(True, True), checks=checks(True, True), total=2.0),
        result("bob", "01_tensor", cells=cells(True, False, 2), checks=checks(True, False, 2), total=4.0,
               flags=[Flag("grading-machinery", f"cell 3: sys.settrace(tracer)  # {XSS}")]),
        result("cyd", "01_tensor", status="error", reason=f"notebook is not valid JSON {XSS}", total=0.2),
        result("ada", "02_activations", status="error", reason="timed out after 600 s", total=600.0),
        result("bob", "02_activations", status="error", reason="kernel died", total=1.0),
    ]


def write_results(root: Path, results: list[GradeResult]) -> None:
    for res in results:
        path = root / "autograded" / res.student / res.module / "result.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res.to_json()), encoding="utf-8")


def figures_of(index: Path) -> tuple[list[str], list[str]]:
    """(PNG files in report/, image sources the index references)."""
    written = sorted(p.name for p in index.parent.glob("*.png"))
    referenced = sorted(re.findall(r'<img src="([^"]+)"', index.read_text(encoding="utf-8")))
    return written, referenced


def test_report_contents(graded_course: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = graded_course
    write_results(root, class_results())
    broken = root / "autograded" / "eve" / "01_tensor" / "result.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("[]")
    (root / "feedback" / "bob" / "01_tensor").mkdir(parents=True)
    (root / "feedback" / "bob" / "01_tensor" / "01_tensor.html").write_text("page")

    index = write_report(root)
    assert index == root / "report" / "index.html"
    written, referenced = figures_of(index)
    assert written == referenced == ["cases.png", "cells.png", "scores.png", "timings.png"]
    for name in written:
        assert (index.parent / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = index.read_text(encoding="utf-8")
    # summary: roster of 4 from the gradebook; 01: ada 30/30, bob 12/30, cyd not gradable (0):
    # mean 14, median 12, mean % (100 + 40 + 0) / 3
    assert tables(html)["summary-table"] == [
        ["module", "students", "submissions", "graded", "not graded", "flagged", "late", "max", "mean", "median",
         "mean %", "median time (s)"],
        ["01_tensor", "4", "3", "2", "1", "1", "0", "30", "14", "12", "47%", "2"],
        ["02_activations", "4", "2", "0", "2", "0", "0", "-", "0", "0", "-", "300.5"],
    ]
    # flagged, with escaped evidence, a name from the gradebook and a link to the feedback page
    assert "Flagged submissions (1)" in html
    assert "sys.settrace(tracer)  # &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="../feedback/bob/01_tensor/01_tensor.html">feedback page</a>' in html
    # not graded, with reasons
    assert "Submissions that could not be graded (3)" in html
    assert "notebook is not valid JSON &lt;script&gt;" in html and "timed out after 600 s" in html
    assert "Ada Lovelace" in html and "Cyd Nguyen" in html
    # the unreadable result is listed, not fatal
    assert "autograded/eve/01_tensor/result.json" in html and "not a JSON object" in html
    assert "<script" not in html
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def case_table(html: str, module: str) -> list[list[str]]:
    """The rows of a module's case table: [cell (first row of its group only), case, agreed, graded, rate]."""
    table = re.search(rf'<details id="cases-{module}">(.*?)</details>', html, re.S)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    return [re.findall(r"<td[^>]*>(?:<code>)?([^<]*)", row) for row in rows]


def test_case_pass_rates_are_grouped_by_graded_cell(tmp_path: Path) -> None:
    write_results(tmp_path, class_results())
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert '<h2 id="cases">Pass rate per case</h2>' in html
    assert "<code>01_tensor</code>: 7 cases in 3 graded cells (2 hidden)</summary>" in html
    assert case_table(html, "01_tensor") == [  # over ada and bob (cyd's submission was not graded)
        ["tensor-creation", "creation_values", "2", "2", "100%"],
        ["creation_dtype", "2", "2", "100%"],
        ["tensor-arithmetic", "arithmetic_values", "2", "2", "100%"],
        ["hidden: arithmetic_any_shape", "1", "2", "50%"],
        ["tensor-checkpoint", "forward", "2", "2", "100%"],
        ["backward", "1", "2", "50%"],
        ["hidden: batch", "1", "2", "50%"],
    ]
    assert html.count('rowspan="2"') == 2 and html.count('rowspan="3"') == 1
    assert 'id="cases-02_activations"' not in html  # no graded submission, no cases
    assert "scenario" not in html


def test_case_pass_rates_follow_the_notebook_order_of_cells() -> None:
    from tito.report.stats import case_pass_rates, cases_by_cell

    first = result("ada", "01_tensor", cells=cells(True, True), checks=checks(True, True)[::-1])  # cases out of order
    second = result("bob", "01_tensor", cells=cells(False, True), checks=checks(False, True)
                    + [CheckResult("creation_new", 0, 0, True, cell="tensor-creation")])  # a case added later
    orphan = result("cyd", "01_tensor", cells=cells(True, True), checks=[CheckResult("old_scenario", 5, 0, False)])
    groups = cases_by_cell(case_pass_rates([first, second, orphan]))
    assert [(g.cell, [(c.name, c.passed, c.total) for c in g.cases]) for g in groups] == [
        ("tensor-creation", [("creation_dtype", 1, 2), ("creation_values", 2, 2), ("creation_new", 1, 1)]),
        ("tensor-arithmetic", [("hidden: arithmetic_any_shape", 2, 2), ("arithmetic_values", 2, 2)]),
        ("tensor-checkpoint", [("hidden: batch", 2, 2), ("backward", 2, 2), ("forward", 2, 2)]),
        ("", [("old_scenario", 0, 1)]),  # a result from before cases were bound to cells: last
    ]
    assert [g.hidden for g in groups] == [0, 1, 1, 0]


def test_notes_are_listed_but_not_counted_as_flags(tmp_path: Path) -> None:
    noted = result("ada", "01_tensor", cells=cells(True, True), flags=[Flag("note", "graded copy.ipynb (expected the name 01_tensor.ipynb)")])
    internal = result("bob", "01_tensor", status="error", reason="internal grading error (reported to the instructor):\nTraceback (most recent call last):\n  boom")
    write_results(tmp_path, [noted, internal])
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert "Flagged submissions (0)" in html and "Notes from grading (1)" in html
    assert "graded copy.ipynb (expected the name 01_tensor.ipynb)" in html
    assert "Traceback (most recent call last):\n  boom" in html  # the instructor gets the traceback


def test_startup_is_inside_execute_not_stacked_on_it() -> None:
    from tito.report.stats import stage_names, total_time

    res = result("ada", "01_tensor")
    res.timings = {"prepare": 1.0, "startup": 0.5, "execute": 2.0, "checks": 1.0}
    assert stage_names([res]) == ["prepare", "execute", "checks"]
    assert total_time(res) == 4.0


def test_report_with_no_flags_and_an_error_only_module(tmp_path: Path) -> None:
    results = [r for r in class_results() if not r.flags]
    write_results(tmp_path, results)
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert "No submission was flagged." in html
    assert "Flagged submissions (0)" in html
    written, referenced = figures_of(tmp_path / "report" / "index.html")
    assert written == referenced


def test_report_of_error_only_submissions_draws_what_it_can(tmp_path: Path) -> None:
    write_results(tmp_path, [r for r in class_results() if r.status == "error"])
    index = write_report(tmp_path)
    written, referenced = figures_of(index)
    assert written == referenced == ["timings.png"]
    html = index.read_text(encoding="utf-8")
    assert "Nothing to draw for: Score distribution per module, Pass rate per graded test cell, Pass rate per case, by graded cell." in html
    assert "Submissions that could not be graded (3)" in html


def test_report_of_a_single_submission(tmp_path: Path) -> None:
    write_results(tmp_path, class_results()[:1])
    index = write_report(tmp_path)
    written, referenced = figures_of(index)
    assert written == referenced == ["cases.png", "cells.png", "scores.png", "timings.png"]
    html = index.read_text(encoding="utf-8")
    assert "Every submission was graded." in html


def test_report_with_nothing_graded_yet(tmp_path: Path) -> None:
    index = write_report(tmp_path)
    written, referenced = figures_of(index)
    assert written == referenced == []
    assert "No results yet" in index.read_text(encoding="utf-8")


def test_figures_of_an_earlier_run_do_not_linger(tmp_path: Path) -> None:
    write_results(tmp_path, class_results()[:1])
    write_report(tmp_path)
    shutil.rmtree(tmp_path / "autograded")
    write_results(tmp_path, [result("ada", "01_tensor", cells=cells(True, False))])  # no cases now
    (tmp_path / "report" / "checks.png").write_bytes(b"a figure of an older version")
    written, referenced = figures_of(write_report(tmp_path))
    assert written == referenced == ["cells.png", "scores.png", "timings.png"]


def test_report_in_a_fresh_interpreter_writes_nothing_to_stderr(tmp_path: Path) -> None:
    """A new process: matplotlib's first import, font lookup and drawing all stay quiet."""
    write_results(tmp_path, class_results())
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mplconfig"), PYTHONPATH=str(REPO))
    code = "import sys; from pathlib import Path; from tito.report import write_report; write_report(Path(sys.argv[1]))"
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""
    assert (tmp_path / "report" / "timings.png").is_file()


def test_run_report_prints_the_summary(tmp_path: Path) -> None:
    write_results(tmp_path, class_results())
    out = StringIO()
    index = run_report(tmp_path, Console(file=out, width=200))
    assert index == tmp_path / "report" / "index.html"
    text = out.getvalue()
    assert re.search(r"01_tensor\s+│\s+3\s+│\s+2\s+│\s+1\s+│\s+1\s+│\s+0\s+│\s+14\.0\s+│\s+12\.0", text)
    assert "wrote report/index.html (4 figure(s): cases.png, cells.png, scores.png, timings.png)" in text


# --- spreadsheet formulas (issue 9, item 3) ----------------------------------------------------

HOSTILE_ROSTER = (  # names a student or an LMS controls (the roster import strips spaces and tabs)
    "id,first_name,last_name,email\n"
    'h1,Eve,"=HYPERLINK(""http://x"",""click"")",eve@example.org\n'
    "h2,@SUM(1+1),Mallory,=1+1@example.org\n"
    "h3,+1,Plus,plus@example.org\n"
    "h4,Minus,-2+3,minus@example.org\n"
    "h6,-2,Number,number@example.org\n"
    'h7,"Comma, Inside","x,=1+2",comma@example.org\n'
)
EVIL_ID = "=cmd|' /C calc'!A0"  # a folder under submitted/ becomes a gradebook student id as it is


def _hostile_course(root: Path) -> Path:
    """The graded course, plus the hostile roster (imported as `tito collect roster` does) and
    students whose names start with a tab and a CR (nbgrader's own `db student add` keeps them)."""
    from nbgrader.api import Gradebook

    from tito.collect import import_roster

    roster = root / "roster.csv"
    roster.write_text(HOSTILE_ROSTER, encoding="utf-8")
    report = import_roster(roster, f"sqlite:///{root / 'gradebook.db'}", "tinytorch")
    assert (report.added, report.rejected) == (6, [])
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "tinytorch") as gb:
        gb.add_student("h5", first_name="\tTab", last_name="\rCR", email="tab@example.org")
        gb.add_student(EVIL_ID, first_name="Id", last_name="Zz")
        gb.add_submission("01_tensor", "h4")
        gb.db.commit()
    return root


def _hostile_grades_csv() -> str:
    rows = [  # nbgrader's order (last name, first name); (timestamp, student_id, last, first, email, scores)
        ",bob,,,,{zero}",
        ',h5,"\'\rCR",\'\tTab,tab@example.org,{zero}',
        ",h4,'-2+3,Minus,minus@example.org,{zero}",
        ',h1,"\'=HYPERLINK(""http://x"",""click"")",Eve,eve@example.org,{zero}',
        ",dee,Adams,Dee,,{zero}",
        "2024-05-01 12:00:00,ada,Lovelace,Ada,ada@example.org,{ada}",
        ",h2,Mallory,'@SUM(1+1),'=1+1@example.org,{zero}",
        ",cyd,Nguyen,Cyd,,{cyd}",
        ",h6,Number,-2,number@example.org,{zero}",  # a real negative number stays a number
        ",h3,Plus,'+1,plus@example.org,{zero}",
        ",'=cmd|' /C calc'!A0,Zz,Id,,{zero}",
        ',h7,"x,=1+2","Comma, Inside",comma@example.org,{zero}',  # quoted: no new cell starts at =
    ]
    scores = {"01_tensor": {"zero": "0.0,0.0,0.0,30.0", "ada": "22.5,0.0,22.5,30.0", "cyd": "0.0,0.0,0.0,30.0"},
              "02_activations": {"zero": "0.0,0.0,0.0,25.0", "cyd": "25.0,0.0,25.0,25.0",
                                 "ada": "20.333333333333332,0.0,20.333333333333332,25.0"}}
    lines = ["assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
             "late_submission_penalty,score,max_score"]
    for module, score in scores.items():
        lines += [f"{module},," + row.format(**score) for row in rows]
    return "\r\n".join(lines) + "\r\n"  # RFC 4180's line ends: a CR inside a cell is quoted


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # no newline translation


HOSTILE_CANVAS = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_tensor (30)", "02_activations (25)"],
    ["    Points Possible", "", "", "", "", "30", "25"],
    ["'-2+3, Minus", "", "h4", "h4", "", "0", ""],
    ["'=HYPERLINK(\"http://x\",\"click\"), Eve", "", "h1", "h1", "", "", ""],
    ["Adams, Dee", "", "dee", "dee", "", "", ""],
    ["bob", "", "bob", "bob", "", "0", ""],
    ["CR, Tab", "", "h5", "h5", "", "", ""],  # "Last, First" is built from stripped names
    ["Lovelace, Ada", "4711", "ada", "ada", "", "22.5", "20.33"],
    ["Mallory, @SUM(1+1)", "", "h2", "h2", "", "", ""],  # "@" inside a cell is text
    ["Nguyen, Cyd", "", "cyd", "cyd", "", "", "25"],
    ["Number, -2", "", "h6", "h6", "", "", ""],
    ["Plus, +1", "", "h3", "h3", "", "", ""],
    ["x,=1+2, Comma, Inside", "", "h7", "h7", "", "", ""],
    ["Zz, Id", "", "'" + EVIL_ID, "'" + EVIL_ID, "", "", ""],
]


def test_neutralise_prefixes_formulas_and_keeps_numbers() -> None:
    from tito.report.nbgrader_export import neutralise

    cells = ["=1+1", "+1", "-2+3", "@SUM(1+1)", "\tx", "\rx", "\nx", "\0x", "-", "=", "",
             "-2", "-0.5", "-.5", "-1e-05", "-3.", "2", "a=1", " =1", "'=1", None, 12.5, -3.0]
    assert [neutralise(c) for c in cells] == [
        "'=1+1", "'+1", "'-2+3", "'@SUM(1+1)", "'\tx", "'\rx", "'\nx", "'\0x", "'-", "'=", "",
        "-2", "-0.5", "-.5", "-1e-05", "-3.", "2", "a=1", " =1", "'=1", "", "12.5", "-3.0"]


def test_exports_neutralise_formulas(graded_course: Path) -> None:
    _hostile_course(graded_course)
    assert _text(export_grades(graded_course)) == _hostile_grades_csv()
    assert read_csv(export_canvas(graded_course)) == HOSTILE_CANVAS


@pytest.mark.slow
def test_stock_nbgrader_export_uses_the_course_plugin(graded_course: Path) -> None:
    """`nbgrader export`, the real CLI, in the course directory: nbgrader_config.py's plugin."""
    _hostile_course(graded_course)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    nbgrader = Path(sys.executable).with_name("nbgrader")
    proc = subprocess.run([str(nbgrader), "export"], cwd=graded_course, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Using exporter: SafeCsvExportPlugin" in proc.stderr
    assert _text(graded_course / "grades.csv") == _hostile_grades_csv()
    # `--to` and the course config's narrowing work as in nbgrader's CsvExportPlugin
    proc = subprocess.run([str(nbgrader), "export", "--to", "h.csv", "--student", "['h2']",
                           "--assignment", "['02_activations']"],
                          cwd=graded_course, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert _text(graded_course / "h.csv").splitlines()[1:] == [
        "02_activations,,,h2,Mallory,'@SUM(1+1),'=1+1@example.org,0.0,0.0,0.0,25.0"]


# --- one course as autograde records it: the same numbers in every output (issue 10, item 6) ----

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
SUBMITTED = {"ada": "2024-05-01 12:00:00", "bob": "2024-04-30 09:00:00", "cyd": "2024-04-30 09:30:00"}


@pytest.fixture
def recorded_course(graded_course: Path) -> Path:
    """`class_results()` recorded in the gradebook as `tito autograde` records them, with their
    result files; 01_tensor is due 2024-04-30 10:00, so ada's (30/30) came in 26 hours late."""
    from tito.grade.gradebook import open_gradebook, record

    set_due_date(graded_course, "01_tensor", "2024-04-30 10:00:00")
    with open_gradebook(f"sqlite:///{graded_course / 'gradebook.db'}") as gb:
        gb.remove_submission("02_activations", "cyd")  # every submission of this class has a result
        for res in class_results():
            record(gb, res, res.module, SUBMITTED[res.student], {"tensor-checkpoint", "activations-checkpoint"})
    write_results(graded_course, class_results())
    return graded_course


def test_a_modules_mean_is_the_same_everywhere(recorded_course: Path) -> None:
    """01_tensor: ada 30 - 6 (two started days late, 20%), bob 12, cyd not gradable 0: mean 12."""
    from tito.feedback_pages import write_all

    root = recorded_course
    grades_out, report_out = StringIO(), StringIO()
    run_grades(root, Console(file=grades_out, width=200))
    write_all(root)
    run_report(root, Console(file=report_out, width=200))
    canvas = read_csv(root / "grades_canvas.csv")
    assert [row[5] for row in canvas[2:]] == ["", "12", "24", "0"]  # dee, bob, ada, cyd
    assert statistics.fmean(float(row[5]) for row in canvas[2:] if row[5]) == 12
    assert re.search(r"01_tensor \(30\)\s+│\s+30\s+│\s+3/4\s+│\s+1\s+│\s+12\.0\s", grades_out.getvalue())
    assert re.search(r"02_activations \(25\)\s+│\s+25\s+│\s+2/4\s+│\s+0\s+│\s+0\.0\s", grades_out.getvalue())
    assert re.search(r"01_tensor\s+│\s+3\s+│\s+2\s+│\s+1\s+│\s+1\s+│\s+1\s+│\s+12\.0\s+│\s+12\.0", report_out.getvalue())
    html = (root / "report" / "index.html").read_text(encoding="utf-8")
    assert tables(html)["summary-table"][1] == [
        "01_tensor", "4", "3", "2", "1", "1", "1", "30", "12", "12", "40%", "2"]


def test_module_mean_counts_every_submission_after_its_penalty() -> None:
    from tito.report.stats import module_mean
    from tito.results import Entry, Lateness

    ada, bob, cyd = class_results()[:3]  # 30/30, 12/30, not gradable
    late = Lateness(datetime(2024, 5, 1, 12), datetime(2024, 4, 30, 10), 26 * 3600, 6.0)
    assert module_mean([Entry(ada, late), Entry(bob), Entry(cyd)]) == 12
    assert module_mean([Entry(ada), Entry(bob)]) == 21
    assert module_mean([Entry(cyd)]) == 0
    assert module_mean([]) is None
    too_late = Lateness(datetime(2024, 5, 1, 12), datetime(2024, 4, 30, 10), 26 * 3600, 45.0)
    assert Entry(ada, too_late).points == 0  # never below 0


def test_the_report_has_a_row_per_student_with_links_to_their_pages(recorded_course: Path) -> None:
    from tito.feedback_pages import write_all

    root = recorded_course
    write_all(root)
    index = write_report(root, now=NOW)
    html = index.read_text(encoding="utf-8")
    assert tables(html)["student-table"] == [
        ["student", "01_tensor / 30", "02_activations / -", "total"],
        ["ada Ada Lovelace", "24 late 1 day 2 hours: -6", "not graded", "24"],
        ["bob", "12 1 flag", "not graded", "12"],
        ["cyd Cyd Nguyen", "not graded", "-", "0"],
        ["dee Dee Adams", "-", "-", "-"],  # on the roster, nothing submitted
    ]
    hrefs = links(html)["student-table"]
    assert hrefs[1] == [None, "../feedback/ada/01_tensor/01_tensor.html", "../feedback/ada/02_activations/02_activations.html", None]
    assert hrefs[4] == [None, None, None, None]
    for row in hrefs:  # relative links that resolve from report/ on disk
        for href in filter(None, row):
            assert (index.parent / href).resolve().is_file()
    assert text_by_id(html)["generated"] == "2026-12-02 06:00 UTC"
    assert tables(html)["summary-table"][1][6] == "1"  # one late submission


def test_a_feedback_page_says_when_the_submission_came_in(recorded_course: Path) -> None:
    from tito.feedback_pages import write_all

    root = recorded_course
    write_all(root)
    ada = text_by_id((root / "feedback/ada/01_tensor/01_tensor.html").read_text(encoding="utf-8"))
    assert ada["submitted"] == "Submitted 2024-05-01 12:00 UTC, 1 day 2 hours after the due date (due 2024-04-30 10:00 UTC)."
    assert ada["late-penalty"] == ("Late penalty: 6 points; your score after it: 24 / 30. Policy: a late submission loses "
                                   "10% of its score per started day late (up to 15 minutes late: no penalty).")
    bob = text_by_id((root / "feedback/bob/01_tensor/01_tensor.html").read_text(encoding="utf-8"))
    assert bob["submitted"] == "Submitted 2024-04-30 09:00 UTC, on time (due 2024-04-30 10:00 UTC)."
    assert "late-penalty" not in bob
    no_due_date = text_by_id((root / "feedback/ada/02_activations/02_activations.html").read_text(encoding="utf-8"))
    assert no_due_date["submitted"] == "Submitted 2024-05-01 12:00 UTC."


def test_a_broken_gradebook_leaves_out_lateness_and_stops_nothing(graded_course: Path) -> None:
    from tito.feedback_pages import run as write_feedback

    root = graded_course
    (root / "gradebook.db").write_bytes(b"not a database" * 100)
    write_results(root, class_results())
    out = StringIO()
    pages = write_feedback(root, Console(file=out, width=300))
    assert len(pages) == 5
    assert "gradebook not read (DatabaseError: " in out.getvalue()
    assert "submitted" not in text_by_id((root / "feedback/ada/01_tensor/01_tensor.html").read_text(encoding="utf-8"))
    html = write_report(root).read_text(encoding="utf-8")
    assert [row[0] for row in tables(html)["student-table"][1:]] == ["ada", "bob", "cyd"]  # no roster, no names
    notes = text_by_id(html)["notes-list"]
    assert notes.startswith("gradebook not read (DatabaseError: ") and notes.endswith("names, roster and lateness left out")
