"""The `tito` command line: exit codes and messages that name the file and the problem."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tito.cli import main
from tito_helpers import BROKEN, MODULE_A, built_course, built_template, make_course  # noqa: F401


def test_export_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_course(tmp_path / "course")
    assert main(["--root", str(root), "export", "--check"]) == 1
    err = capsys.readouterr().err
    assert "tinytorch/core/fixture_a.py: missing (from source/01_fixture_a/01_fixture_a.py)" in err
    assert not (root / "tinytorch" / "core" / "fixture_a.py").exists()
    assert main(["--root", str(root), "export"]) == 0
    assert main(["--root", str(root), "export", "--check"]) == 0
    target = root / "tinytorch" / "core" / "fixture_b.py"
    target.write_text(target.read_text().replace("add_one(add_one(x))", "x + 2"))
    capsys.readouterr()
    assert main(["--root", str(root), "export", "--check"]) == 1
    assert "tinytorch/core/fixture_b.py: stale" in capsys.readouterr().err


def test_modules_and_notebooks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_course(tmp_path / "course")
    assert main(["--root", str(root), "modules"]) == 0
    out = capsys.readouterr().out
    assert "01_fixture_a" in out and "tinytorch/core/fixture_b.py" in out
    assert main(["--root", str(root), "notebooks", "--module", "02"]) == 0
    assert (root / "source" / "02_fixture_b" / "02_fixture_b.ipynb").is_file()
    assert not (root / "source" / MODULE_A / f"{MODULE_A}.ipynb").exists()


def test_unknown_module_and_missing_course_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_course(tmp_path / "course")
    assert main(["--root", str(root), "notebooks", "--module", "99_nope"]) == 1
    assert "no module called '99_nope'" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--root", str(empty), "modules"]) == 1
    assert "no modules" in capsys.readouterr().err


def test_release_and_static_lint(built_course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(built_course)
    assert main(["--root", root, "release", "--module", MODULE_A]) == 0
    assert main(["--root", root, "lint", "--no-execute"]) == 0
    assert "01_fixture_a" in capsys.readouterr().out
    shutil.copy(BROKEN / "file_ref.py", built_course / "source" / MODULE_A / f"{MODULE_A}.py")
    assert main(["--root", root, "lint", "--no-execute", "--module", MODULE_A]) == 1
    out = capsys.readouterr().out
    assert f"source/{MODULE_A}/{MODULE_A}.py:13: cell 2 (a-add-one): [file-ref]" in out


def test_release_failure_exits_nonzero_naming_the_module(built_course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(BROKEN / "solution_placement.py", built_course / "source" / MODULE_A / f"{MODULE_A}.py")
    cases = built_course / "source" / MODULE_A / "cases.py"  # this source has no test-scaler cell
    cases.write_text(cases.read_text().split('@case("test-scaler")')[0])
    assert main(["--root", str(built_course), "release", "--module", MODULE_A]) == 1
    assert "01_fixture_a: nbgrader generate_assignment failed" in capsys.readouterr().err


def test_python_dash_m_tito_finds_the_course_from_a_subdirectory(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = make_course(tmp_path / "course")
    done = subprocess.run([sys.executable, "-m", "tito", "modules"], cwd=root / "source" / MODULE_A,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "release/" not in done.stdout and "02_fixture_b" in done.stdout


def test_a_delegated_command_that_succeeds_exits_zero(built_course: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`tito collect ...` hands its arguments to tito.collect; that command's exit code 0 is tito's,
    not a cue to parse the arguments again as a tito command (which fails on them)."""
    (built_course / "roster.csv").write_text("id,first_name,last_name,email\ns001,Ada,Lovelace,ada@example.org\n")
    monkeypatch.chdir(built_course)
    assert main(["collect", "roster", "roster.csv"]) == 0
    assert "unrecognized arguments" not in capsys.readouterr().err


def test_a_delegated_command_after_root_is_found(built_course: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`tito --root DIR collect ...`: DIR is --root's value, not the command."""
    roster = built_course / "roster.csv"
    roster.write_text("id,first_name,last_name,email\ns002,Grace,Hopper,grace@example.org\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--root", str(built_course), "collect", "roster", str(roster)]) == 0
    assert "unrecognized arguments" not in capsys.readouterr().err
    with sqlite3.connect(built_course / "gradebook.db") as db:
        assert db.execute("select first_name from student where id = 's002'").fetchone() == ("Grace",)
