"""tito.collect: roster CSV into the gradebook, LMS downloads and nbgrader's exchange into submitted/."""

from __future__ import annotations

import os
import pwd
import shutil
import zipfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tito.collect import import_lms, import_roster, read_roster_csv
from tito.collect.__main__ import main as collect_main
from tito.collect.roster import RosterEntry
from tito.errors import TitoError

REPO = Path(__file__).resolve().parents[1]
MODULE = "05_autograd"


@pytest.fixture(scope="module")
def course_factory(tmp_path_factory: pytest.TempPathFactory):
    """Course directories of their own: nbgrader_config.py (+ an exchange root) and an empty
    gradebook, created once per module. A new gradebook asks the `alembic` executable for its
    schema version (a second Python process, seconds on a loaded machine): ask in this process."""
    template = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("nbgrader.api.get_alembic_version", _alembic_head)
        Gradebook(f"sqlite:///{template}", "tinytorch").close()

    def make(root: Path, exchange: Path | None = None) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        config = (REPO / "nbgrader_config.py").read_text()
        if exchange is not None:
            config += f"\nc.Exchange.root = {str(exchange)!r}\n"
        (root / "nbgrader_config.py").write_text(config)
        shutil.copy(template, root / "gradebook.db")
        return root

    return make


def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///unused.db") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


def _db(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def _students(db_url: str) -> list[tuple]:
    with Gradebook(db_url, "tinytorch") as gradebook:
        return sorted((s.id, s.first_name, s.last_name, s.email, s.lms_user_id) for s in gradebook.students)


# ---------------------------------------------------------------------------------------------- roster


def test_roster_rows_into_the_gradebook(course_factory, tmp_path: Path) -> None:
    root = course_factory(tmp_path / "course")
    csv = root / "roster.csv"
    csv.write_text(
        "id,first_name,last_name,email\n"
        "s001,Jane,Doe,jane.doe@example.edu\n"
        "s002,Zoë,O'Brien,zoe.obrien@example.edu\n"
        "\n"
        ",No,Id,noid@example.edu\n"
        "s003,Bad,Mail,not-an-email\n"
        "s001,Jane,Again,jane2@example.edu\n"
        "../x,Path,Escape,p@example.edu\n"
        "s004,Too,Many,t@example.edu,extra\n"
        '"s005","García-López, Jr.",Ana,ana@example.edu\n', encoding="utf-8")
    report = import_roster(csv, _db(root), "tinytorch")
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    assert report.rejected == [
        f"{csv}:5: no student id",
        f"{csv}:6: email 'not-an-email' is not an email address",
        f"{csv}:7: student id 's001' already on line 2",
        f"{csv}:8: student id '../x' is not usable as a folder name (letters, digits and . _ @ + - only, "
        "not starting with a symbol, at most 128)",
        f"{csv}:9: 5 fields but the header has 4 (an unquoted comma?)",
    ]
    assert _students(_db(root)) == [
        ("s001", "Jane", "Doe", "jane.doe@example.edu", None),
        ("s002", "Zoë", "O'Brien", "zoe.obrien@example.edu", None),
        ("s005", "García-López, Jr.", "Ana", "ana@example.edu", None),
    ]
    csv.write_text("id,first_name,last_name,email\ns001,Jane,Doe,jane@new.example.edu\ns002,Zoë,O'Brien,"
                   "zoe.obrien@example.edu\n", encoding="utf-8")
    again = import_roster(csv, _db(root), "tinytorch")
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 1, 1, [])
    assert _students(_db(root))[0] == ("s001", "Jane", "Doe", "jane@new.example.edu", None)


def test_canvas_gradebook_export(course_factory, tmp_path: Path) -> None:
    csv = tmp_path / "canvas.csv"
    csv.write_text(
        "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,05 autograd (1234)\n"
        "    Points Possible,,,,,100\n"
        '"Doe, Jane",12345,900001,jdoe,Section A,\n'
        '"van der Berg, Sven",12346,900002,svdberg,Section A,88\n'
        '"Student, Test",99999,,,Section A,\n', encoding="utf-8")
    roster = read_roster_csv(csv)
    assert roster.entries == [RosterEntry("jdoe", "Jane", "Doe", None, "12345"),
                              RosterEntry("svdberg", "Sven", "van der Berg", None, "12346")]
    assert roster.skipped == [f"{csv}:2: 'Points Possible' is not a student (skipped)",
                              f"{csv}:5: 'Student, Test' is not a student (skipped)"]
    root = course_factory(tmp_path / "course")
    assert collect_main(["--root", str(root), "roster", str(csv)]) == 0
    assert _students(_db(root)) == [("jdoe", "Jane", "Doe", None, "12345"),
                                    ("svdberg", "Sven", "van der Berg", None, "12346")]


def test_roster_without_an_id_column(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("name,mail\nJane Doe,j@example.edu\n")
    with pytest.raises(TitoError, match=r"r.csv:1: no student id column"):
        read_roster_csv(csv)


# ---------------------------------------------------------------------------------------------- LMS


ROSTER = [
    RosterEntry("s001", "Jane", "Doe", "jane@example.edu"),
    RosterEntry("s002", "Sven", "van der Berg", None, "12346"),
    RosterEntry("s003", "Zoë", "O'Brien"),
    RosterEntry("s004", "Ana", "García-López"),
    RosterEntry("s005", "Li", "Wang"),
    RosterEntry("s006", "Ben", "Brown"),
]
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


def _zip(path: Path, entries: list[tuple[str, bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, when in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            archive.writestr(info, data)
    return path


def test_lms_zip_import_report(tmp_path: Path) -> None:
    root = tmp_path / "course"
    existing = root / "submitted" / "s006" / MODULE
    existing.mkdir(parents=True)
    (existing / f"{MODULE}.ipynb").write_bytes(NB.replace(b"{}", b'{"newer": 1}'))
    (existing / "timestamp.txt").write_text("2026-11-07 09:00:00.000000 UTC")
    big = b'{"cells": [' + b" " * 5000 + b"]}"
    download = _zip(tmp_path / "download.zip", [
        ("doe_jane_12345_67890_05_autograd.ipynb", NB, (2026, 11, 6, 10, 0, 0)),
        ("vanderbergsven_late_12346_67891_lab5.ipynb", NB + b" ", (2026, 11, 7, 1, 2, 4)),
        ("s003/05_autograd.ipynb", NB, (2026, 11, 5, 8, 0, 0)),
        ("s004_05_autograd.ipynb", NB, (2026, 11, 5, 8, 0, 0)),
        ("garcialopez_ana_555_67893_05_autograd-1.ipynb", NB + b"\n", (2026, 11, 6, 8, 0, 0)),
        ("../../evil.ipynb", NB, (2026, 11, 6, 8, 0, 0)),
        ("s005_notes.pdf", b"%PDF-1.4", (2026, 11, 6, 8, 0, 0)),
        ("mallory_eve_999_111_05_autograd.ipynb", NB, (2026, 11, 6, 8, 0, 0)),
        ("s005_05_autograd.ipynb", big, (2026, 11, 6, 8, 0, 0)),
        ("s006_05_autograd.ipynb", NB, (2026, 11, 6, 8, 0, 0)),
        ("__MACOSX/._s001_05_autograd.ipynb", b"\0\0", (2026, 11, 6, 8, 0, 0)),
    ])
    report = import_lms(download, root, MODULE, ROSTER, max_bytes=4096)
    rows = [(f.file, f.status, f.student, f.reason) for f in report.files]
    assert rows == [
        ("doe_jane_12345_67890_05_autograd.ipynb", "matched", "s001", "matched s001 by Canvas name 'doe_jane'"),
        ("vanderbergsven_late_12346_67891_lab5.ipynb", "renamed", "s002",
         "matched s002 by Canvas user id 12346; renamed lab5.ipynb -> 05_autograd.ipynb; marked late by Canvas"),
        ("s003/05_autograd.ipynb", "matched", "s003", "matched s003 by folder s003/"),
        ("s004_05_autograd.ipynb", "duplicate", "s004",
         "s004 has a newer file in this download: garcialopez_ana_555_67893_05_autograd-1.ipynb "
         "(2026-11-06 08:00:00.000000 UTC)"),
        ("garcialopez_ana_555_67893_05_autograd-1.ipynb", "renamed", "s004",
         "matched s004 by Canvas name 'garcialopez_ana'; renamed 05_autograd-1.ipynb -> 05_autograd.ipynb"),
        ("../../evil.ipynb", "rejected", None, "the path escapes the download folder (zip-slip); not extracted"),
        ("s005_notes.pdf", "rejected", None, "not a notebook (.pdf)"),
        ("mallory_eve_999_111_05_autograd.ipynb", "rejected", None,
         "no roster student has Canvas id 999 or the name 'mallory_eve'"),
        ("s005_05_autograd.ipynb", "rejected", None, "4.9 KB, larger than the 4.0 KB cap for a notebook"),
        ("s006_05_autograd.ipynb", "kept-existing", "s006",
         "submitted/s006/05_autograd/05_autograd.ipynb already holds a newer submission "
         "(2026-11-07 09:00:00.000000 UTC) than this file (2026-11-06 08:00:00.000000 UTC); not overwritten"),
        ("__MACOSX/._s001_05_autograd.ipynb", "rejected", None, "macOS metadata, not a submission"),
    ]
    assert report.counts() == {"matched": 2, "renamed": 2, "duplicate": 1, "kept-existing": 1, "unchanged": 0,
                               "rejected": 5}
    submitted = root / "submitted"
    assert sorted(p.relative_to(submitted).as_posix() for p in submitted.rglob("*") if p.is_file()) == [
        f"s00{n}/{MODULE}/{name}" for n in (1, 2, 3, 4, 6) for name in (f"{MODULE}.ipynb", "timestamp.txt")]
    assert (submitted / "s002" / MODULE / f"{MODULE}.ipynb").read_bytes() == NB + b" "
    assert (submitted / "s002" / MODULE / "timestamp.txt").read_text() == "2026-11-07 01:02:04.000000 UTC"
    assert (submitted / "s004" / MODULE / f"{MODULE}.ipynb").read_bytes() == NB + b"\n"
    assert not (tmp_path / "evil.ipynb").exists() and not (root.parent / "evil.ipynb").exists()
    # importing again changes nothing; a newer download replaces the older submission, and says so
    again = import_lms(download, root, MODULE, ROSTER, max_bytes=4096)
    assert [f.status for f in again.files if f.student == "s001"] == ["unchanged"]
    newer = _zip(tmp_path / "newer.zip", [("s001_05_autograd.ipynb", NB + b"  ", (2026, 11, 6, 11, 0, 0))])
    (result,) = import_lms(newer, root, MODULE, ROSTER).files
    assert (result.status, result.reason) == (
        "matched", "matched s001 by id prefix s001; replaced an older submission (2026-11-06 10:00:00.000000 UTC)")


def test_lms_folder_import_and_ambiguous_names(tmp_path: Path) -> None:
    download = tmp_path / "download"
    (download / "s001").mkdir(parents=True)
    (download / "s001" / "homework.ipynb").write_bytes(NB)
    (download / "chen_li_1_2_05_autograd.ipynb").write_bytes(b"")
    (download / "s003.ipynb").write_bytes(b"{not json")
    os.symlink("/etc/passwd", download / "s005_05_autograd.ipynb")
    os.utime(download / "s001" / "homework.ipynb", (1_790_000_000, 1_790_000_000))
    roster = ROSTER + [RosterEntry("s007", "Li", "Chen"), RosterEntry("s008", "Chen", "Li")]
    course = tmp_path / "course"
    (course / "source" / MODULE).mkdir(parents=True)  # so that "05" can be looked up
    shutil.copy(REPO / "source" / MODULE / f"{MODULE}.py", course / "source" / MODULE)
    report = import_lms(download, course, "05", roster)
    rows = sorted((f.file, f.status, f.student, f.reason) for f in report.files)
    assert rows == [
        ("chen_li_1_2_05_autograd.ipynb", "rejected", None,
         "the Canvas name 'chen_li' fits several roster students (s007, s008) and no one has Canvas id 1"),
        ("s001/homework.ipynb", "renamed", "s001",
         "matched s001 by folder s001/; renamed homework.ipynb -> 05_autograd.ipynb"),
        ("s003.ipynb", "renamed", "s003", "matched s003 by file name s003.ipynb; renamed s003.ipynb -> "
         "05_autograd.ipynb; not valid notebook JSON: grading will record an error for it"),
        ("s005_05_autograd.ipynb", "rejected", None, "a symbolic link, not a file; not followed"),
    ]
    stamp = tmp_path / "course" / "submitted" / "s001" / MODULE / "timestamp.txt"
    assert stamp.read_text() == "2026-09-21 14:13:20.000000 UTC"


def test_lms_cli_prints_the_table(course_factory, tmp_path: Path, capsys) -> None:
    root = course_factory(tmp_path / "course")
    csv = root / "roster.csv"
    csv.write_text("id,first_name,last_name,email\ns001,Jane,Doe,jane@example.edu\n")
    download = _zip(tmp_path / "d.zip", [("doe_jane_1_2_05_autograd.ipynb", NB, (2026, 11, 6, 10, 0, 0)),
                                         ("x.txt", b"", (2026, 11, 6, 10, 0, 0))])
    assert collect_main(["--root", str(root), "lms", str(download), "--module", MODULE, "--roster", str(csv)]) == 1
    out = capsys.readouterr().out
    assert "doe_jane_1_2_05_autograd.ipynb" in out and "matched" in out and "not a notebook (.txt)" in out
    assert "1 matched, 1 rejected" in out
    # the roster from the gradebook
    assert collect_main(["--root", str(root), "roster", str(csv)]) == 0
    assert collect_main(["--root", str(root), "lms", str(download), "--module", MODULE]) == 1
    assert "unchanged" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- exchange


@pytest.mark.slow
def test_exchange_round_trip(course_factory, tmp_path: Path) -> None:
    """release_assignment (instructor) -> fetch_assignment + submit (two fake students) -> collect."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    from tito.collect.exchange import collect_from_exchange
    from tito.release import load_config

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    root = course_factory(tmp_path / "course", exchange)
    # both fake students submit as the user running the test: say so (the collect refuses a folder
    # not owned by its student's unix user; tests/test_collect_exchange.py uses real users)
    me = pwd.getpwuid(os.geteuid()).pw_name
    with (root / "nbgrader_config.py").open("a") as handle:
        handle.write(f"\nc.SafeExchangeCollect.unix_users = {{'s001': {me!r}, 's002': {me!r}}}\n")
    shutil.copytree(REPO / "release" / MODULE, root / "release" / MODULE)
    config = load_config(root)
    result = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config).release_assignment(MODULE)
    assert result["success"], result

    def as_student(student: str, home: Path, edit: bytes) -> None:
        student_config = load_config(root)
        student_config.Exchange.assignment_dir = str(home)
        coursedir = CourseDirectory(config=student_config)
        coursedir.assignment_id, coursedir.student_id = MODULE, student
        authenticator = Authenticator(config=student_config)
        if not (home / MODULE).exists():
            ExchangeFetchAssignment(coursedir=coursedir, authenticator=authenticator, config=student_config).start()
        notebook = home / MODULE / f"{MODULE}.ipynb"
        notebook.write_bytes(notebook.read_bytes().replace(b"# YOUR CODE HERE", b"# " + edit, 1))
        ExchangeSubmit(coursedir=coursedir, authenticator=authenticator, config=student_config).start()

    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    as_student("s001", tmp_path / "alice", b"first try")
    as_student("s002", tmp_path / "bob", b"bob")
    import_roster(_write(root / "roster.csv", "id,first_name,last_name,email\ns001,A,L,a@x.edu\n"), _db(root), "tinytorch")

    report = collect_from_exchange(root, MODULE)
    assert [(s.student, s.status, s.on_roster) for s in report.students] == [
        ("s001", "new", True), ("s002", "new", False)]
    submitted = root / "submitted" / "s001" / MODULE
    assert b"# first try" in (submitted / f"{MODULE}.ipynb").read_bytes()
    first_stamp = (submitted / "timestamp.txt").read_text()
    assert first_stamp.endswith(" UTC") and report.students[0].timestamp == first_stamp

    as_student("s001", tmp_path / "alice", b"second try")  # a resubmission: the newest is collected
    report = collect_from_exchange(root, MODULE)
    assert [(s.student, s.status) for s in report.students] == [("s001", "updated"), ("s002", "unchanged")]
    assert b"# second try" in (submitted / f"{MODULE}.ipynb").read_bytes()
    assert (submitted / "timestamp.txt").read_text() > first_stamp


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
