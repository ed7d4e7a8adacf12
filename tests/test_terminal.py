"""Names from students and files in the instructor's terminal (issue 9, item 4).

Each output that shows such a name is run on one that holds an ANSI escape (`\\x1b[2J` clears the
screen), a carriage return (rewrites the line), a closing markup tag that matches nothing (rich
raised MarkupError) and an opening one (rich applied it): the printed text must be the name with
its control characters written out and its markup shown as text, exactly.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from tito import cli
from tito.collect.__main__ import main as collect_main
from tito.grade.model import GradeResult
from tito.terminal import SafeConsole, escape, visible

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "x\x1b[2J\ry[/red][bold]z"
SHOWN = r"x\x1b[2J\ry[/red][bold]z"  # what the terminal must show for it
FOLDER = "x\x1b[2J\ry[bold]z"  # a folder name cannot hold the "/" of a closing tag
FOLDER_SHOWN = r"x\x1b[2J\ry[bold]z"
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def test_visible_writes_out_every_control_character() -> None:
    text = "a\x00b\x07\x08\t\n\x0b\x0c\r\x1b[31m\x7f\x80\x9b2J\u202eevil\u2066é ü 名 \\x1b"
    assert visible(text) == (r"a\x00b\x07\x08\t\n\x0b\x0c\r\x1b[31m\x7f\x80\x9b2J\u202eevil\u2066"
                             "é ü 名 \\x1b")
    assert visible("line one\nline\x1b two", newlines=True) == "line one\nline\\x1b two"
    assert escape(HOSTILE) == r"x\x1b[2J\ry\[/red]\[bold]z"
    assert visible(Path("/tmp/a\rb")) == r"/tmp/a\rb"


def _printed(console_class, *renderables, **kwargs) -> str:
    out = StringIO()
    console = console_class(file=out, width=200, highlight=False, **kwargs)
    for renderable in renderables:
        console.print(renderable)
    return out.getvalue()


def test_escape_prints_the_name_as_it_is() -> None:
    assert _printed(Console, f"[red]error:[/red] {escape(HOSTILE)} :smile:", emoji=False) == f"error: {SHOWN} :smile:\n"


def test_the_cli_console_never_writes_a_control_character_it_did_not_make() -> None:
    """The backstop: a string or a Text that did not go through `escape` (markup off)."""
    assert _printed(SafeConsole, Text(HOSTILE), f"a {HOSTILE}".replace("[", "("), emoji=False) == (
        "x\\x1b[2Jy[/red][bold]z\n"  # rich's Text itself drops a CR (and BEL, BS, VT, FF): gone, not shown
        "a x\\x1b(2J\\ry(/red](bold]z\n")
    assert _printed(SafeConsole, "two\nlines") == "two\nlines\n"


def test_autograde_line_escapes_the_student_and_the_reason() -> None:
    error = GradeResult(HOSTILE, "01_tensor", "ab" * 32, "error",
                        "lab[/red][bold]\x1b[2J\x9b31m.ipynb: not valid JSON\nsecond line")
    graded = GradeResult(HOSTILE, "01_tensor", "ab" * 32, "graded", None, timings={"total": 1.25})
    from tito.grade.run import _line

    # the progress bar's console is any rich Console: the line must be safe on a plain one
    assert _printed(Console, _line(error), _line(graded)) == (
        f"  {SHOWN}/01_tensor: not gradable: lab[/red][bold]\\x1b[2J\\x9b31m.ipynb: not valid JSON\n"
        f"  {SHOWN}/01_tensor: 0/0  (1.2 s)\n")


def _course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "source").symlink_to(REPO / "source")
    return root


def _empty_gradebook(root: Path) -> None:
    from nbgrader.api import Gradebook

    from tests.test_report import _alembic_head

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("nbgrader.api.get_alembic_version", _alembic_head)
        Gradebook(f"sqlite:///{root / 'gradebook.db'}", "tinytorch").close()


def test_roster_import_prints_hostile_ids_and_paths(tmp_path: Path, capsys, monkeypatch) -> None:
    root = _course(tmp_path)
    monkeypatch.chdir(tmp_path)
    _empty_gradebook(root)
    roster = tmp_path / "roster[bold]\x1b[2J.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "s001,Jane,Doe,jane@example.edu\n"
                      f"{HOSTILE.replace(chr(13), '')},A,B,a@example.edu\n"  # the CSV reader splits lines at CR
                      "[/red],C,D,c@example.edu\n"
                      "Points Possible [bold],,,\n", encoding="utf-8")
    assert collect_main(["--root", str(root), "roster", roster.name]) == 1
    out, err = capsys.readouterr()
    shown = r"roster[bold]\x1b[2J.csv"
    assert out.splitlines()[0].strip() == f"roster {shown}"
    assert "│ 1     │ 0       │ 0         │ 3        │ 0       │" in out
    rule = "is not usable as a folder name (letters, digits and . _ @ + - only, not starting with a symbol, at most 128)"
    assert err == (f"rejected {shown}:3: student id 'x\\x1b[2Jy[/red][bold]z' {rule}\n"
                   f"rejected {shown}:4: student id '[/red]' {rule}\n"
                   f"rejected {shown}:5: student id 'Points Possible [bold]' {rule}\n")


def test_lms_zip_report_prints_hostile_file_names_after_copying(tmp_path: Path, capsys) -> None:
    root = _course(tmp_path)
    download = tmp_path / "d.zip"
    with zipfile.ZipFile(download, "w") as archive:
        for name in (f"s001/{HOSTILE}.ipynb", f"{HOSTILE}.pdf"):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 6, 10, 0, 0)), NB)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\ns001,Jane,Doe,jane@example.edu\n")
    assert collect_main(["--root", str(root), "lms", str(download), "--module", "05_autograd",
                         "--roster", str(roster)]) == 1
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert rows == [
        # "/" in "[/red]" is a folder separator of the zip entry: the student's file is "red][bold]z.ipynb"
        f"│ s001/{SHOWN}.ipynb │ renamed  │ s001    │ matched s001 by folder s001/; renamed red][bold]z.ipynb -> "
        "05_autograd.ipynb │",
        f"│ {SHOWN}.pdf        │ rejected │         │ not a notebook (.pdf)"
        "                                                        │"]
    assert out.splitlines()[-1] == "1 renamed, 1 rejected"
    assert (root / "submitted" / "s001" / "05_autograd" / "05_autograd.ipynb").read_bytes() == NB
    assert "\x1b" not in out and "\r" not in out


def test_tito_check_error_shows_the_notebook_path(tmp_path: Path, capsys) -> None:
    notebook = tmp_path / f"{HOSTILE}.ipynb"
    assert cli.main(["--root", str(REPO), "check", "01_tensor", "--notebook", str(notebook)]) == 1
    out, err = capsys.readouterr()
    assert out == "checking 01_tensor ...\n"
    assert err == f"error: {tmp_path}/{SHOWN}.ipynb: no such notebook\n"


def _hostile_result(root: Path) -> None:
    folder = root / "autograded" / FOLDER / "01_tensor"
    folder.mkdir(parents=True)
    result = GradeResult(FOLDER, "01_tensor", "ab" * 32, "graded", None)
    (folder / "result.json").write_text(json.dumps(result.to_json()))


def test_feedback_and_report_commands_show_hostile_student_folders(tmp_path: Path, capsys) -> None:
    root = _course(tmp_path)
    _hostile_result(root)
    assert cli.main(["--root", str(root), "feedback"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == ("0 feedback page(s) written under feedback/\n"
                   f"skipped autograded/{FOLDER_SHOWN}/01_tensor/result.json: student or module name is not a plain "
                   "file name\n")
    assert cli.main(["--root", str(root), "report"]) == 0
    out, err = capsys.readouterr()
    assert "1 unreadable result file(s): listed in the report" in out
    assert "\x1b" not in out + err and "\r" not in out + err


def test_grades_command_shows_hostile_module_names(tmp_path: Path, capsys) -> None:
    """Module names come from the gradebook (nbgrader's assignments): printed as they are."""
    from nbgrader.api import Gradebook

    root = _course(tmp_path)
    _empty_gradebook(root)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "tinytorch") as gradebook:
        gradebook.add_assignment(HOSTILE)
        gradebook.add_student(HOSTILE, last_name=HOSTILE)
    assert cli.main(["--root", str(root), "grades"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"│ {SHOWN} (0) │ 0               │ 0/1         │ 0    │ -    │" in out
    assert out.splitlines()[-2:] == ["wrote grades.csv", "wrote grades_canvas.csv"]
    assert "\x1b" not in out and "\r" not in out
