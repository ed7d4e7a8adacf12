"""Grading on Dask: the same grades as the local pool, from workers that cannot see the course.

The cluster tests start a real `dask scheduler` and real `dask worker`s as subprocesses
(`benchmarks.dask_processes`), each its own, and stop them (checking nothing is left running).
The class is graded once on the local pool; every Dask run must record exactly that.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.dask_processes import DaskProcesses, processes_in
from test_grade_run import make_course, scores_in_gradebook
from tito import course
from tito.errors import TitoError
from tito.grade import config as grading_config
from tito.grade.course_build import course_build_id, module_build_id
from tito.grade.course_bundle import bundle_files, pack, unpack
from tito.grade.distributed import parse_cluster
from tito.grade.model import Submission
from tito.grade.run import autograde
from tito.grade.sandbox import Sandbox
from tito.grade.secret import course_secret
from tito.grade.task import make_task, unpack_task
from tito.grade.worker import BuildMismatch

REPO = Path(__file__).resolve().parents[1]
MODULES = ["01_tensor", "03_layers"]
STUDENTS = 4
needs_sandbox = pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")


@pytest.fixture(scope="module")
def ungraded(tmp_path_factory):
    """A course copy with a synthetic class written and nothing graded yet (copy before use); its
    secret is created now, so that every copy draws the same case inputs."""
    from tito.synth.generate import generate_class

    root = make_course(tmp_path_factory.mktemp("course"))
    generate_class(root, STUDENTS, seed=5, modules=MODULES, mix={"bug": 1, "stubs": 1})
    course_secret(grading_config.load(root).secret_file)
    return root


@pytest.fixture(scope="module")
def local_grades(ungraded, tmp_path_factory):
    """The class graded by the local pool: (course root, result.json contents by submission)."""
    root = shutil.copytree(ungraded, tmp_path_factory.mktemp("local") / "course")
    autograde(root, course.discover(root), workers=2)
    return root, results(root)


def fresh_copy(ungraded: Path, tmp_path: Path) -> Path:
    return shutil.copytree(ungraded, tmp_path / "course")


def results(root: Path) -> dict[tuple[str, str], dict]:
    """Every result.json under autograded/, without the timings (they differ run to run)."""
    found = {}
    for path in sorted((root / "autograded").glob("*/*/result.json")):
        data = json.loads(path.read_text())
        data.pop("timings")
        found[(data["student"], data["module"])] = data
    return found


def grade_rows(root: Path) -> dict[tuple[str, str], int]:
    """(student, module) -> grade rows in the gradebook (one per graded cell when recorded once)."""
    with sqlite3.connect(root / "gradebook.db") as db:
        return dict(((s, m), n) for s, m, n in db.execute(
            "select s.student_id, a.name, count(*) from grade g join submitted_notebook n on g.notebook_id = n.id "
            "join submitted_assignment s on n.assignment_id = s.id join assignment a on s.assignment_id = a.id "
            "group by s.student_id, a.name"))


def cells_per_module(root: Path) -> dict[str, int]:
    with sqlite3.connect(root / "gradebook.db") as db:
        return dict(db.execute("select a.name, count(*) from grade_cells g join base_cell c on g.id = c.id "
                               "join notebook n on c.notebook_id = n.id "
                               "join assignment a on n.assignment_id = a.id group by a.name"))


def assert_recorded_once_as_locally(root: Path, local_grades) -> None:
    local_root, local_results = local_grades
    assert results(root) == local_results
    assert scores_in_gradebook(root) == scores_in_gradebook(local_root)
    cells = cells_per_module(root)
    assert grade_rows(root) == {key: cells[key[1]] for key in local_results}
    assert len(local_results) == STUDENTS * len(MODULES)


def autograde_cli(root: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tito", "autograde", *options], cwd=root,
                            env=dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# --------------------------------------------------------------------------- as data, no cluster

def test_a_worker_unpacking_the_bundle_holds_the_same_build_of_every_module(tmp_path):
    modules = course.discover(REPO)
    worker_root = unpack(pack(REPO, modules), tmp_path / "worker")
    worker_modules = course.discover(worker_root)
    assert [m.name for m in worker_modules] == [m.name for m in modules]
    assert course_build_id(worker_root, worker_modules) == course_build_id(REPO, modules)
    shipped = {p.as_posix() for p in bundle_files(REPO, modules)}
    assert "nbgrader_config.py" in shipped and "source/01_tensor/cases.py" in shipped
    assert not [p for p in shipped if p.startswith(("submitted/", ".tito/", "gradebook"))]


def test_a_task_carries_the_files_and_the_earlier_notebooks_it_is_graded_with(tmp_path):
    student = tmp_path / "submitted" / "ada"
    (student / "03_layers" / "extra").mkdir(parents=True)
    (student / "03_layers" / "03_layers.ipynb").write_bytes(b"{}")
    (student / "03_layers" / "extra" / "notes.txt").write_bytes(b"\xff\x00")
    (student / "02_activations").mkdir()
    (student / "02_activations" / "02_activations.ipynb").write_bytes(b"earlier")
    modules = {m.name: m for m in course.discover(REPO)}
    submission = Submission("ada", "03_layers", student / "03_layers", "2026-01-02T03:04:05")
    task = make_task(submission, 42, "0123456789abcdef", [modules["01_tensor"], modules["02_activations"]])
    assert task.earlier == {"02_activations": b"earlier"}  # 01_tensor was never submitted
    unpacked = unpack_task(task, tmp_path / "worker")
    assert unpacked.digest() == submission.digest()
    assert (unpacked.student, unpacked.module, unpacked.timestamp) == ("ada", "03_layers", "2026-01-02T03:04:05")
    assert (unpacked.folder.parent / "02_activations" / "02_activations.ipynb").read_bytes() == b"earlier"


def test_cluster_option_names_the_worker_threads_or_says_what_it_expects():
    assert parse_cluster("local", 3) == 3
    assert parse_cluster("local:5", 3) == 5
    for bad in ("local:0", "local:", "tcp://x:1", "local:two"):
        with pytest.raises(TitoError) as refused:
            parse_cluster(bad, 3)
        assert str(refused.value) == f"--cluster {bad!r}: expected `local` or `local:N` (N worker threads)"


# --------------------------------------------------------------------------- a real cluster

@pytest.mark.slow
@needs_sandbox
def test_workers_that_cannot_see_the_course_grade_exactly_as_the_local_pool(ungraded, local_grades, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    with DaskProcesses(tmp_path / "dask", workers=2, hide=(root, local_grades[0])) as cluster:
        summary = autograde(root, course.discover(root), scheduler=cluster.address)
    assert len(summary.graded) == STUDENTS * len(MODULES)
    assert_recorded_once_as_locally(root, local_grades)
    for key in local_grades[1]:
        folder = Path(*key)
        assert ((root / "autograded" / folder / f"{key[1]}.ipynb").read_bytes()
                == (local_grades[0] / "autograded" / folder / f"{key[1]}.ipynb").read_bytes())
    assert processes_in(tmp_path / "dask") == []


@pytest.mark.slow
@needs_sandbox
def test_a_local_cluster_grades_exactly_as_the_local_pool_and_leaves_nothing_running(ungraded, local_grades, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    run = autograde_cli(root, "--cluster", "local:2")
    output, _ = run.communicate(timeout=600)
    assert run.returncode == 0, output
    assert f"graded {STUDENTS * len(MODULES)} submission(s)" in output and "ETA" in output
    assert_recorded_once_as_locally(root, local_grades)
    assert processes_in(root) == []  # the LocalCluster's scheduler and worker ran with cwd there


@pytest.mark.slow
@needs_sandbox
def test_a_worker_grades_against_the_students_own_earlier_modules_it_was_sent(tmp_path):
    from tito.synth.generate import generate_class

    root = make_course(tmp_path / "course", published=("01_tensor",))
    generate_class(root, 2, seed=1, modules=["01_tensor", "02_activations", "03_layers"],
                   mix={"bug": 0, "stubs": 0, "late": 0, "broken": 0})
    with (root / "nbgrader_config.py").open("a") as config:
        config.write('c.Grading.earlier_modules = "student"\n')
    modules = course.discover(root)
    with DaskProcesses(tmp_path / "dask", workers=1, hide=(root,)) as cluster:
        summary = autograde(root, modules, selected=[m for m in modules if m.name == "03_layers"],
                            scheduler=cluster.address)
    assert sorted((r.student, r.module, r.score) for r in summary.graded) == [
        ("s001", "03_layers", 120.0), ("s002", "03_layers", 120.0)]


@pytest.mark.slow
@needs_sandbox
def test_a_worker_running_another_build_refuses_instead_of_grading(ungraded, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    other = tmp_path / "other-tito"
    shutil.copytree(REPO / "tito", other / "tito", ignore=shutil.ignore_patterns("__pycache__"))
    with (other / "tito" / "grade" / "inner" / "casekit.py").open("a") as kit:
        kit.write("\n# a different version of the case kit\n")
    with DaskProcesses(tmp_path / "dask", workers=0) as cluster:
        cluster.start_worker(env=dict(os.environ, PYTHONPATH=str(other)))
        cluster.wait_for_workers(1)
        modules = course.discover(root)
        with pytest.raises(BuildMismatch) as refused:
            autograde(root, modules, selected=[modules[0]], scheduler=cluster.address)
    expected = module_build_id(root, modules, modules[0])
    assert re.fullmatch(
        rf"worker tcp://127\.0\.0\.1:\d+ holds build [0-9a-f]{{16}} of 01_tensor, the task of s\d+/01_tensor needs "
        rf"build {expected}: the course changed since this worker got it, or the worker runs another version of "
        r"tito; restart the worker with the instructor's environment", str(refused.value))
    assert not (root / "autograded").exists()


@pytest.mark.slow
@needs_sandbox
def test_a_worker_killed_mid_batch_has_its_submissions_graded_elsewhere_once(ungraded, local_grades, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    with DaskProcesses(tmp_path / "dask", workers=2, hide=(root,)) as cluster:
        run = autograde_cli(root, "--scheduler", cluster.address)
        victim = cluster.workers[0]
        deadline = time.monotonic() + 120
        while not list((tmp_path / "dask" / "worker0").glob("**/tito-course-*/.tito/work/task-*")):
            assert time.monotonic() < deadline and run.poll() is None, "worker0 never started a task"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)  # mid-task: its sandbox is running
        output, _ = run.communicate(timeout=600)
        assert victim.wait(timeout=10) == -signal.SIGKILL
    assert run.returncode == 0, output
    assert_recorded_once_as_locally(root, local_grades)
    for student, module in local_grades[1]:
        assert len(re.findall(rf"^  {student}/{module}: \d+/120 ", output, re.MULTILINE)) == 1, output
    assert "ETA" in output and f"graded {STUDENTS * len(MODULES)} submission(s)" in output


@pytest.mark.slow
@needs_sandbox
def test_a_submission_whose_workers_all_died_is_recorded_as_not_gradable_and_the_batch_goes_on(
        ungraded, local_grades, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    no_retry = dict(os.environ, PYTHONPATH=str(REPO), DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    with DaskProcesses(tmp_path / "dask", workers=2, env=no_retry) as cluster:
        run = autograde_cli(root, "--scheduler", cluster.address)
        deadline = time.monotonic() + 120
        while not list((tmp_path / "dask" / "worker0").glob("**/tito-course-*/.tito/work/task-*")):
            assert time.monotonic() < deadline and run.poll() is None, "worker0 never started a task"
            time.sleep(0.05)
        cluster.workers[0].send_signal(signal.SIGKILL)
        output, _ = run.communicate(timeout=600)
    assert run.returncode == 0, output
    graded = results(root)
    lost = {key: data for key, data in graded.items() if data["status"] == "error"}
    assert 1 <= len(lost) <= 2, output  # what worker0 was running, and what was queued on it
    for (student, module), data in lost.items():
        assert data["reason"].startswith("every Dask worker that took it died (Attempted to run task ")
        assert data["reason"].endswith(f"`tito autograde --force --student {student} --module {module}` grades it again")
        assert {c["points"] for c in data["cells"]} == {0.0}
        assert f"  {student}/{module}: not gradable: every Dask worker that took it died" in output
    assert {k: v for k, v in graded.items() if k not in lost} == {
        k: v for k, v in local_grades[1].items() if k not in lost}
    cells = cells_per_module(root)
    assert grade_rows(root) == {key: cells[key[1]] for key in local_grades[1]}


@pytest.mark.slow
@needs_sandbox
def test_the_instructors_process_killed_mid_batch_resumes_on_the_next_run(ungraded, local_grades, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    with DaskProcesses(tmp_path / "dask", workers=2) as cluster:
        run = autograde_cli(root, "--scheduler", cluster.address)
        deadline = time.monotonic() + 120
        while not list((root / "autograded").glob("*/*/result.json")):
            assert time.monotonic() < deadline and run.poll() is None, "nothing was recorded"
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
        done = len(results(root))
        assert 1 <= done < STUDENTS * len(MODULES)
        rerun = autograde_cli(root, "--scheduler", cluster.address)
        output, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, output
    assert f"({done} unchanged, skipped" in output
    assert_recorded_once_as_locally(root, local_grades)


@pytest.mark.slow
@needs_sandbox
def test_a_scheduler_lost_mid_run_is_a_clear_error_and_the_next_run_resumes(ungraded, local_grades, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    with DaskProcesses(tmp_path / "first", workers=1) as cluster:
        run = autograde_cli(root, "--scheduler", cluster.address)
        deadline = time.monotonic() + 120
        while not list((root / "autograded").glob("*/*/result.json")):
            assert time.monotonic() < deadline and run.poll() is None, "nothing was recorded"
            time.sleep(0.05)
        cluster.scheduler.send_signal(signal.SIGKILL)
        output, _ = run.communicate(timeout=60)
    assert run.returncode == 1, output
    assert re.search(rf"lost the Dask scheduler at {re.escape(cluster.address)} mid-run \(s\d+/\d\d_\w+ was not "
                     r"graded\); what was graded is recorded: start the scheduler again and rerun to grade the rest",
                     output), output
    done = len(results(root))
    with DaskProcesses(tmp_path / "second", workers=2) as cluster:
        rerun = autograde_cli(root, "--scheduler", cluster.address)
        output, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, output
    assert f"({done} unchanged, skipped" in output
    assert_recorded_once_as_locally(root, local_grades)


@pytest.mark.slow
@needs_sandbox
def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(ungraded, tmp_path):
    root = fresh_copy(ungraded, tmp_path)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.monotonic()
    with pytest.raises(TitoError) as unreachable:
        autograde(root, course.discover(root), scheduler=address)
    assert time.monotonic() - started < 15
    assert str(unreachable.value).startswith(f"cannot reach the Dask scheduler at {address} within 5 s (")
    assert str(unreachable.value).endswith("is `dask scheduler` running there, and is its port open to this machine?")
    assert not (root / "autograded").exists()
