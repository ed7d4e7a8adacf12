"""A course whose gradebook is a real PostgreSQL database (tests/postgres.py starts the server).

One synthetic class is graded once, for the whole module, the way an instructor does it, every
step a real process:
`tito release` records the assignments, `tito collect roster` the students, `python -m tito
autograde` grades, a second `tito autograde` started meanwhile is refused, the first is SIGKILLed
mid-batch and the next run finishes the class. Then the rows are read with SQL, and every reader of
the gradebook is asked: stock `nbgrader db student list` and `nbgrader export`, `tito grades`,
`tito report`, and formgrader's gradebook API in a running JupyterLab.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e.lab_helpers import running_lab
from postgres import PostgresServer
from tito.grade.gradebook import describe
from tito.grade.run import load_result
from tito.grade.sandbox import Sandbox
from tito.synth.generate import ROSTER, ClassManifest, generate_class

REPO = Path(__file__).resolve().parents[1]
MODULE = "02_activations"
STUDENTS = 10  # graded one at a time, enough to outlast a second run starting up
ABSENT = "s099"  # on the roster, submitted nothing
BIN = Path(sys.executable).parent  # the venv's nbgrader
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")]


@dataclass
class GradedOnPostgres:
    root: Path
    server: PostgresServer
    database: str
    manifest: ClassManifest  # the synthetic class and its expected scores
    holder_pid: int  # the autograde run that was SIGKILLed mid-batch
    refused: subprocess.CompletedProcess  # the autograde started while it ran
    done_before_kill: int
    resumed: subprocess.CompletedProcess  # the run after the kill


def tito(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tito", *args], cwd=root, capture_output=True, text=True,
                          timeout=600)


def make_course(dest: Path, db_url: str) -> Path:
    """A copy of the course, published up to MODULE, its gradebook the PostgreSQL database `db_url`."""
    for name in ("source", "release", "tinytorch"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("*.ipynb") if name == "source" else None)
    for name in ("nbgrader_config.py", "jupyter_server_config.py"):
        shutil.copy(REPO / name, dest)
    with (dest / "nbgrader_config.py").open("a") as config:
        config.write(f"c.PublishedReference.modules = ['01_tensor']\nc.CourseDirectory.db_url = {db_url!r}\n")
    assert tito(dest, "release").returncode == 0
    return dest


@pytest.fixture(scope="module")
def graded(postgres, tmp_path_factory) -> GradedOnPostgres:
    database = f"course_{os.getpid()}"
    root = make_course(tmp_path_factory.mktemp("course"), postgres.create_database(database))
    manifest = generate_class(root, STUDENTS, seed=5, modules=[MODULE], mix={"bug": 1, "stubs": 1})
    with (root / ROSTER).open("a") as roster_file:
        roster_file.write(f"{ABSENT},Ada,Absent,ada.absent@students.example.edu\n")
    assert tito(root, "collect", "roster", ROSTER).returncode == 0
    holder = subprocess.Popen([sys.executable, "-m", "tito", "autograde", "--workers", "1"], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((root / "autograded").glob("*/*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    refused = tito(root, "autograde")
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    done_before_kill = len(list((root / "autograded").glob("*/*/result.json")))
    resumed = tito(root, "autograde", "--workers", "2")
    return GradedOnPostgres(root, postgres, database, manifest, holder.pid, refused, done_before_kill, resumed)


def test_a_second_run_is_refused_at_once_naming_the_gradebook_and_the_run(graded):
    url = graded.server.url(graded.database)
    message = "".join(graded.refused.stderr.split())
    assert graded.refused.returncode == 1
    assert "".join(f"{describe(url)}: another `tito autograde` is grading into this gradebook "
                   f"(pid {graded.holder_pid} on ".split()) in message
    assert "nothingwasgraded:runagainonceithasfinished" in message


def test_the_killed_run_left_no_lock_and_the_next_run_graded_the_rest(graded):
    assert 1 <= graded.done_before_kill < STUDENTS, "the kill must land mid-batch"
    assert graded.resumed.returncode == 0, graded.resumed.stderr
    assert f"graded {STUDENTS - graded.done_before_kill} submission(s)" in graded.resumed.stdout + graded.resumed.stderr


def scores_in_postgres(graded: GradedOnPostgres) -> dict[str, float]:
    rows = graded.server.sql(graded.database, (
        "SELECT s.student_id, sum(coalesce(g.manual_score, g.auto_score, 0)) FROM grade g "
        "JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment s ON n.assignment_id = s.id "
        "JOIN assignment a ON s.assignment_id = a.id WHERE a.name = %s GROUP BY s.student_id"), MODULE)
    return {student: float(score) for student, score in rows}


def test_the_postgres_tables_hold_every_expected_score_once(graded):
    from tito.demo import compare_with_expected

    results = [load_result(graded.root, e.student, e.module) for e in graded.manifest.entries()]
    scores = scores_in_postgres(graded)
    assert scores == {r.student: r.score for r in results}
    determined = [(r, e) for r, e in compare_with_expected(graded.root, results, graded.manifest) if e is not None]
    assert determined and [(r.student, r.score) for r, _ in determined] == [(r.student, e) for r, e in determined]
    submissions = graded.server.sql(graded.database, "SELECT student_id, count(*) FROM submitted_assignment "
                                    "GROUP BY student_id")
    assert sorted(submissions) == [(r.student, 1) for r in sorted(results, key=lambda r: r.student)]
    flags = graded.server.sql(graded.database, "SELECT student, module, kind FROM tito_flags")
    assert sorted(flags) == sorted((r.student, r.module, f.kind) for r in results for f in r.flags)


def roster(graded: GradedOnPostgres) -> list[dict]:
    with (graded.root / ROSTER).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_stock_nbgrader_lists_and_exports_the_postgres_gradebook(graded):
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    listed = subprocess.run([str(BIN / "nbgrader"), "db", "student", "list"], cwd=graded.root, capture_output=True,
                            text=True, timeout=120, env=environment)
    assert listed.returncode == 0, listed.stderr
    for student in roster(graded):
        assert f"{student['id']} ({student['last_name']}, {student['first_name']}) -- {student['email']}" in listed.stdout
    exported = subprocess.run([str(BIN / "nbgrader"), "export", "--to", "exported.csv"], cwd=graded.root,
                              capture_output=True, text=True, timeout=120, env=environment)
    assert exported.returncode == 0, exported.stderr
    with (graded.root / "exported.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == MODULE]
    assert {row["student_id"]: float(row["score"]) for row in rows} == {**scores_in_postgres(graded), ABSENT: 0.0}


def test_tito_grades_and_report_read_the_postgres_gradebook(graded):
    assert tito(graded.root, "grades").returncode == 0
    with (graded.root / "grades_canvas.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))[1:]  # after Canvas's "Points Possible" row
    scores = scores_in_postgres(graded)
    column = f"{MODULE} (120)"
    expected = {f"{s['last_name']}, {s['first_name']}": f"{scores[s['id']]:g}" if s["id"] in scores else ""
                for s in roster(graded)}  # the absent student's cell is empty: Canvas leaves it alone
    assert {row["Student"]: row[column] for row in rows} == expected
    assert tito(graded.root, "report").returncode == 0
    page = (graded.root / "report" / "index.html").read_text()
    # the class is the gradebook's roster (11 students), not only those who submitted (10)
    assert f'<div class="tile"><b>{STUDENTS + 1}</b><span>students</span></div>' in page
    assert f'<td><code>{MODULE}</code></td><td class="n">{STUDENTS + 1}</td><td class="n">{STUDENTS}</td>' in page


def test_formgrader_api_answers_from_the_postgres_gradebook(graded, tmp_path):
    with running_lab(graded.root, tmp_path / "lab") as lab:
        with urllib.request.urlopen(lab.url(f"formgrader/api/submissions/{MODULE}"), timeout=60) as response:
            submissions = json.loads(response.read())
        with urllib.request.urlopen(lab.url("formgrader/api/students"), timeout=60) as response:
            students = json.loads(response.read())
    assert {s["student"]: s["score"] for s in submissions if s["submitted"]} == scores_in_postgres(graded)
    assert sorted((s["id"], s["first_name"], s["last_name"]) for s in students) == sorted(
        (s["id"], s["first_name"], s["last_name"]) for s in roster(graded))
