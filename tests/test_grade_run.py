"""The autograder end to end: a synthetic class graded in the sandbox, against its expectations.

These tests build a throwaway course (a copy of this one), write a small synthetic class into it,
and run the real `tito autograde` pipeline: sandbox, differential checks, nbgrader's gradebook.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tito import course
from tito.grade import gradebook
from tito.grade.model import Submission
from tito.grade.prepare import SubmissionError, prepare, read_submission
from tito.grade.run import autograde, find_submissions, load_result, remove_stale_work
from tito.grade.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
MODULES = ["01_tensor", "04_losses", "05_autograd"]
pytestmark = pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")


def make_course(dest: Path, published: tuple[str, ...] = ("01_tensor", "02_activations", "03_layers", "04_losses")) -> Path:
    """A copy of the course with its release and gradebook (what `make release` leaves), in the
    week when `published` are published (grading a module needs the modules before it)."""
    for name in ("source", "release", "tinytorch"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("*.ipynb") if name == "source" else None)
    shutil.copy(REPO / "nbgrader_config.py", dest)
    with (dest / "nbgrader_config.py").open("a") as config:
        config.write(f"c.PublishedReference.modules = {list(published)!r}\n")
    subprocess.run([sys.executable, "-m", "tito", "release"], cwd=dest, check=True, capture_output=True)
    return dest


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Six synthetic students on three modules (correct, bugs, stubs, a broken file), graded once."""
    from tito.synth.generate import generate_class

    root = make_course(tmp_path_factory.mktemp("course"))
    manifest = generate_class(root, 6, seed=3, modules=MODULES, mix={"bug": 2, "stubs": 1, "broken": 1, "late": 1})
    summary = autograde(root, course.discover(root), workers=2)
    return root, manifest, summary


def scores_in_gradebook(root: Path) -> dict[tuple[str, str], float]:
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute(
            "select s.student_id, a.name, sum(coalesce(g.manual_score, g.auto_score, 0)) "
            "from grade g join submitted_notebook n on g.notebook_id = n.id "
            "join submitted_assignment s on n.assignment_id = s.id join assignment a on s.assignment_id = a.id "
            "group by s.student_id, a.name").fetchall()
    return {(student, module): score for student, module, score in rows}


@pytest.mark.slow
def test_every_synthetic_submission_gets_exactly_its_expected_score(graded_class):
    from tito.demo import compare_with_expected

    root, manifest, summary = graded_class
    assert len(summary.graded) == 6 * len(MODULES)
    paired = compare_with_expected(root, summary.graded, manifest)
    determined = [(r, e) for r, e in paired if e is not None]
    assert len(determined) >= 12, "most of the class must have a determined expectation"
    wrong = [(r.student, r.module, r.score, e) for r, e in determined if r.score != e]
    assert wrong == []


@pytest.mark.slow
def test_the_gradebook_holds_the_same_scores_as_the_results(graded_class):
    root, _, summary = graded_class
    assert scores_in_gradebook(root) == {(r.student, r.module): r.score for r in summary.graded}


@pytest.mark.slow
def test_a_broken_file_is_recorded_with_its_reason_and_scores_zero(graded_class):
    root, manifest, summary = graded_class
    broken = [e for e in manifest.entries() if e.variant == "broken"]
    assert broken, "the mix asked for a broken file"
    for entry in broken:
        result = load_result(root, entry.student, entry.module)
        assert result.status == "error" and result.score == 0
        assert entry.reason.split(" (")[0] in result.reason


@pytest.mark.slow
def test_regrading_unchanged_submissions_is_a_no_op(graded_class):
    root, _, _ = graded_class
    again = autograde(root, course.discover(root), workers=2)
    assert again.graded == [] and again.skipped == 6 * len(MODULES)


@pytest.mark.slow
def test_a_changed_submission_is_regraded_and_only_it(graded_class):
    root, manifest, _ = graded_class
    correct = next(e for e in manifest.entries() if e.variant == "correct" and e.module == "04_losses")
    notebook = root / "submitted" / correct.student / "04_losses" / "04_losses.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('one more cell')"))
    nbformat.write(nb, notebook)
    again = autograde(root, course.discover(root), workers=2)
    assert [(r.student, r.module) for r in again.graded] == [(correct.student, "04_losses")]
    assert again.graded[0].score == 120


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_gradebook(tmp_path):
    """SIGKILL the grading process mid-batch, run again: same scores as one uninterrupted run."""
    from tito.synth.generate import generate_class

    root = make_course(tmp_path / "course")
    generate_class(root, 4, seed=5, modules=["02_activations"], mix={"bug": 1, "stubs": 1})
    command = [sys.executable, "-m", "tito", "autograde", "--workers", "1"]
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((root / "autograded").glob("*/*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list((root / "autograded").glob("*/*/result.json")))
    assert 1 <= done_before < 4, "the kill must land mid-batch"
    assert (root / ".tito" / f"work-{process.pid}").is_dir()  # the killed run could not clean up
    resumed = autograde(root, course.discover(root), workers=2)
    assert resumed.skipped == done_before and len(resumed.graded) == 4 - done_before
    assert list((root / ".tito").glob("work-*")) == []  # its scratch area went with the resumed run
    interrupted = scores_in_gradebook(root)
    shutil.rmtree(root / "autograded")
    (root / "gradebook.db").unlink()
    subprocess.run([sys.executable, "-m", "tito", "release"], cwd=root, check=True, capture_output=True)
    autograde(root, course.discover(root), workers=2)
    assert scores_in_gradebook(root) == interrupted


def test_only_the_scratch_areas_of_dead_runs_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid in (dead.pid, os.getpid()):
        (tmp_path / ".tito" / f"work-{pid}" / "s001-01_tensor-x").mkdir(parents=True)
    (tmp_path / ".tito" / "work-notes").mkdir()
    assert remove_stale_work(tmp_path) == [tmp_path / ".tito" / f"work-{dead.pid}"]
    assert sorted(p.name for p in (tmp_path / ".tito").iterdir()) == sorted([f"work-{os.getpid()}", "work-notes"])


def test_a_corrupt_gradebook_is_refused_and_left_untouched(tmp_path):
    db = tmp_path / "gradebook.db"
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    with pytest.raises(gradebook.GradebookError, match="not a usable SQLite gradebook"):
        gradebook.check_usable(f"sqlite:///{db}")
    assert db.read_bytes() == before


def write_submission(tmp_path: Path, content: bytes, name: str = "03_layers.ipynb") -> Submission:
    folder = tmp_path / "submitted" / "s1" / "03_layers"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    return Submission("s1", "03_layers", folder)


@pytest.mark.parametrize("content, reason", [
    (b"", "03_layers.ipynb: the file is empty"),
    (b'{"cells": [', "03_layers.ipynb: not valid JSON (Expecting value at line 1, column 12); the file is damaged or truncated"),
    (b"\xff\xfe\x00binary", "03_layers.ipynb: not a UTF-8 text file (byte 0 is 0xff); a notebook is JSON text"),
    (b'{"a": 1}', "03_layers.ipynb: JSON, but not a notebook (no 'nbformat' field)"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b'}, "cells": []}',
     "03_layers.ipynb: JSON nested too deeply to read (hundreds of levels of lists or objects inside one "
     "another); a notebook is never that deep"),
])
def test_unreadable_submissions_get_a_reason_that_names_the_file_and_the_problem(tmp_path, content, reason):
    with pytest.raises(SubmissionError) as error:
        read_submission(write_submission(tmp_path, content))
    assert str(error.value) == reason


def test_a_notebook_under_another_name_is_graded_with_a_note(tmp_path):
    release = (REPO / "release" / "03_layers" / "03_layers.ipynb").read_bytes()
    notebook, notes = read_submission(write_submission(tmp_path, release, name="layers_final_v2.ipynb"))
    assert len(notebook.cells) > 10
    assert notes == ["graded layers_final_v2.ipynb (expected the name 03_layers.ipynb)"]


def test_lone_surrogates_are_replaced_with_a_note_and_the_rest_is_kept(tmp_path):
    """JSON can escape half a UTF-16 pair (\\ud800) but no UTF-8 text can hold one: the cell file
    for the sandbox, the integrity scan's parse and the kept notebook all failed on it, which made
    the submission an internal grading error. A real pair (an emoji) is one character and stays."""
    release = json.loads((REPO / "release" / "03_layers" / "03_layers.ipynb").read_text())
    release["cells"].append({"cell_type": "code", "execution_count": None, "id": "odd", "metadata": {},
                             "outputs": [], "source": "s = '@LONE@ and @LONE@ but @PAIR@'"})
    text = json.dumps(release).replace("@LONE@", "\\udc00").replace("@PAIR@", "\\ud83d\\ude00")
    notebook, notes = read_submission(write_submission(tmp_path, text.encode()))
    assert notebook.cells[-1].source == "s = '\ufffd and \ufffd but \U0001f600'"
    assert notes == ["03_layers.ipynb: 2 invalid character(s) replaced by U+FFFD (lone UTF-16 surrogates "
                     "written as \\u escapes: no text file can hold them)"]
    nbformat.writes(notebook).encode("utf-8")  # what `keep` does: no UnicodeEncodeError


def test_a_missing_notebook_names_what_was_found(tmp_path):
    with pytest.raises(SubmissionError, match=r"no notebook 03_layers.ipynb in the submission \(found: notes.txt\)"):
        read_submission(write_submission(tmp_path, b"hello", name="notes.txt"))


def graded_indices(notebook) -> list[int]:
    return [i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade")]


def release_of(module: str):
    """The release notebook: grading's authority on every cell that is not the student's answer."""
    return nbformat.read(REPO / "release" / module / f"{module}.ipynb", as_version=4)


def test_an_untouched_release_needs_no_restoring():
    authority, release = release_of("01_tensor"), release_of("01_tensor")
    prepared = prepare(authority, release)
    assert prepared.flags == []
    assert [c.id for c in prepared.notebook.cells] == [c.id for c in authority.cells]


@pytest.mark.slow
def test_a_refused_module_names_what_to_publish(tmp_path):
    from tito.errors import TitoError
    from tito.synth.generate import generate_class

    root = make_course(tmp_path / "course", published=("01_tensor",))
    generate_class(root, 2, seed=1, modules=["01_tensor", "02_activations", "03_layers"],
                   mix={"bug": 0, "stubs": 0, "late": 0, "broken": 0})
    with pytest.raises(TitoError) as refused:
        autograde(root, course.discover(root), workers=1)
    assert str(refused.value) == (
        "grading 03_layers needs the earlier modules' reference, and "
        "02_activations is not published (an unpublished solution never enters a sandbox): add it to "
        "c.PublishedReference.modules in nbgrader_config.py once the deadline has passed, or set "
        "c.Grading.earlier_modules = 'student' to grade against each student's own earlier work")
    assert not (root / "autograded").exists()
    with (root / "nbgrader_config.py").open("a") as config:
        config.write('c.Grading.earlier_modules = "student"\n')
    summary = autograde(root, course.discover(root), workers=1)
    assert sorted((r.module, r.score) for r in summary.graded) == sorted(
        [(m, 120.0) for m in ("01_tensor", "02_activations", "03_layers")] * 2)


def test_tampered_test_cells_are_restored_and_flagged():
    import copy

    instructor, release = release_of("01_tensor"), release_of("01_tensor")
    tampered = copy.deepcopy(release)
    graded = graded_indices(tampered)
    tampered.cells[graded[4]].source = "pass"                                   # edited test
    tampered.cells[graded[2]].metadata.pop("nbgrader")                          # metadata stripped
    tampered.cells[graded[1]] = nbformat.v4.new_markdown_cell(tampered.cells[graded[1]].source,
                                                              id=tampered.cells[graded[1]].id)  # test -> markdown
    tampered.cells.insert(graded[3] + 1, copy.deepcopy(tampered.cells[graded[3]]))  # duplicated
    del tampered.cells[graded[0]]                                               # deleted
    prepared = prepare(instructor, tampered)
    assert [f.kind for f in prepared.flags] == ["changed-cell-type", "stripped-metadata", "duplicated-cell",
                                                "edited-locked-cell", "deleted-cell"]
    assert [c.id for c in prepared.notebook.cells] == [c.id for c in instructor.cells]
    for index in graded_indices(instructor):
        assert prepared.notebook.cells[index].source == instructor.cells[index].source


def test_the_students_answers_and_added_cells_are_kept():
    instructor, release = release_of("03_layers"), release_of("03_layers")
    solution = next(i for i, c in enumerate(release.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    release.cells[solution].source = release.cells[solution].source.replace(
        "raise NotImplementedError()", "return 'my answer'")
    release.cells.insert(solution + 1, nbformat.v4.new_code_cell("helper = 42"))
    prepared = prepare(instructor, release)
    sources = [c.source for c in prepared.notebook.cells]
    assert "helper = 42" in sources
    assert any("return 'my answer'" in s for s in sources)
    # what the student wrote: the answer they changed and the cell they added (the stubs they left
    # as released are not theirs)
    assert set(prepared.student_cells) == {solution, solution + 1}
    assert prepared.flags == []


def test_any_json_in_a_cells_metadata_or_fields_is_graded_not_an_internal_error():
    """A submitted file may hold any JSON where nbformat only logs a schema error: these used to
    crash the merge (AttributeError, unhashable grade_id) or writing the kept notebook
    (NotebookValidationError), which made the submission an internal grading error."""
    instructor, release = release_of("03_layers"), release_of("03_layers")
    data = json.loads(nbformat.writes(release))
    solution = next(i for i, c in enumerate(data["cells"]) if c["metadata"].get("nbgrader", {}).get("solution"))
    tests = graded_indices(release)
    data["cells"][solution]["metadata"]["nbgrader"] = "solution please"       # not an object
    data["cells"][solution]["source"] = "def answer():\n    return 42"
    data["cells"][tests[0]]["metadata"]["nbgrader"]["grade_id"] = ["a", "list"]  # not a string
    data["cells"][tests[1]]["metadata"]["nbgrader"] = [1, 2]
    data["cells"] += [
        {"cell_type": "code", "id": "n", "metadata": {"nbgrader": 5}, "execution_count": "7",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": 5}], "source": 5},
        {"cell_type": "raw", "id": "r", "metadata": {"format": 5}, "source": "a1"},
        {"cell_type": "heading", "id": "h h", "metadata": {}, "level": 1, "source": "Old heading"},
    ]
    submitted = nbformat.reads(json.dumps(data), as_version=4)
    prepared = prepare(instructor, submitted)
    cells = prepared.notebook.cells
    assert cells[solution].source == "def answer():\n    return 42"
    assert cells[solution].metadata == instructor.cells[solution].metadata
    assert [f.kind for f in prepared.flags] == ["stripped-metadata", "stripped-metadata"]
    added = [(c.cell_type, c.id, c.source, c.get("outputs"), c.metadata) for c in cells[-3:]]
    last = len(data["cells"]) - 1
    assert added == [("code", "n", "5", [], {}), ("raw", "r", "a1", None, {}),
                     ("markdown", f"added-{last}", "Old heading", None, {})]
    nbformat.validate(prepared.notebook)
    nbformat.writes(prepared.notebook)  # what `keep` does with it


def test_find_submissions_reads_nbgraders_layout(tmp_path):
    for student, module in [("b", "01_tensor"), ("a", "05_autograd"), ("a", "not_a_module")]:
        folder = tmp_path / "submitted" / student / module
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-11-20 14:03:11.123456 UTC\n")
    modules = course.discover(REPO)
    found = find_submissions(tmp_path, modules)
    assert [(s.student, s.module, s.timestamp) for s in found] == [
        ("a", "05_autograd", "2026-11-20 14:03:11.123456 UTC"), ("b", "01_tensor", "2026-11-20 14:03:11.123456 UTC")]


def test_results_round_trip_through_json_with_the_digest_of_the_graded_files(graded_class):
    from tito.grade.model import GradeResult

    root, _, summary = graded_class
    for result in summary.graded:
        stored = json.loads((root / "autograded" / result.student / result.module / "result.json").read_text())
        assert GradeResult.from_json(stored).to_json() == stored
        folder = root / "submitted" / result.student / result.module
        assert stored["digest"] == Submission(result.student, result.module, folder).digest()


@pytest.mark.slow
def test_the_catalogues_failing_checks_are_rederived_exactly():
    """The synthetic class's expected check failures are constants; re-run the checks to prove them."""
    from tito.synth.bugs import catalogue
    from tito.synth.derive import derive_checks

    derived = derive_checks(REPO)
    recorded = catalogue(course.discover(REPO))
    recorded = {("bug", b.name): tuple(b.failing_checks) for b in recorded.bugs} | dict(recorded.stub_failing_checks)
    assert derived == recorded
