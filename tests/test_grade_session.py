"""One sandbox session per submission: the cases in a pristine child, then the notebook.

The session stage (`tito.grade.stages.session`) runs the module's cases as a forked child of the
notebook runner, before any cell (`inner/checks_child.py`). These tests hold it to what two
separate sandboxes gave: the cases are over and handed in before the notebook starts, so no cell
can change them; nothing the cases start or write survives into the notebook (no process, no
file, no shared memory, no writable folder on sys.path); and a session that brings no case
results back is graded the separate way, with the same scores.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tito.course import discover
from tito.grade import pipeline
from tito.grade.stages import session
from tito.grade.model import Submission
from tito.grade.sandbox import Sandbox
from tito.source import read_source

REPO = Path(__file__).resolve().parents[1]
MODULES = {m.name: m for m in discover(REPO)}
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    ctx = pipeline.GradingContext(REPO, list(MODULES.values()), Sandbox(),
                                  work=tmp_path_factory.mktemp("work"), published=list(MODULES.values()))
    yield ctx
    ctx.cleanup()


@pytest.fixture
def separate_runs(monkeypatch) -> list[str]:
    """Records each time a submission was graded the separate way (two sandboxes)."""
    calls: list[str] = []
    original = session._separately

    def spy(job, context):
        calls.append(job.module.name)
        return original(job, context)

    monkeypatch.setattr(session, "_separately", spy)
    return calls


def solution(name: str, *, export_append: str = "", extra_cell: str = "") -> nbformat.NotebookNode:
    """The instructor's solution as a submission; `export_append` goes at the end of the first
    export cell (module-level code of the student's module), `extra_cell` becomes a new code cell
    of the student's at the end of the notebook."""
    notebook = read_source(MODULES[name].source_py)
    if export_append:
        first = next(c for c in notebook.cells if c.cell_type == "code" and "#| export" in c.source)
        first.source += "\n" + export_append
    if extra_cell:
        notebook.cells.append(nbformat.v4.new_code_cell(extra_cell))
    return notebook


def grade(context, tmp_path: Path, name: str, notebook) -> tuple:
    folder = tmp_path / "submitted" / "s1" / name
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{name}.ipynb")
    autograded = tmp_path / "autograded"
    result = pipeline.grade_one(context, Submission("s1", name, folder), autograded)
    executed = nbformat.read(autograded / f"{name}.ipynb", as_version=4) if result.status == "graded" else None
    return result, executed


def total(result) -> float:
    return sum(c.points for c in result.cells)


def checkpoint(result):
    return next(c for c in result.cells if c.grade_id == pipeline.checkpoint_cell_id(result.module))


def last_output(executed) -> str:
    return "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.output_type == "stream")


def test_an_honest_submission_is_graded_in_one_session(context, tmp_path, separate_runs):
    result, _ = grade(context, tmp_path, "04_losses", solution("04_losses"))
    assert (result.status, total(result)) == ("graded", 120.0)
    assert all(c.passed for c in result.checks) and sum(c.points for c in result.checks) == 20
    assert separate_runs == []
    assert result.timings["checks"] > 0 and result.timings["execute"] > 0


def test_no_cell_can_change_the_checks_once_they_are_in(context, tmp_path, separate_runs):
    # a cell of the student's destroys the checks' results folder and prints forged result lines
    vandal = ("import os, shutil, json\n"
              "shutil.rmtree('/scratch/out', ignore_errors=True)\n"
              "os.makedirs('/scratch/out')\n"
              "open('/scratch/out/values.pack', 'wb').write(b'garbage')\n"
              "print(json.dumps({'scenario': 'mse', 'status': 'error', 'error': 'forged'}))\n"
              "print('vandalised', sorted(os.listdir('/scratch/out')))")
    result, executed = grade(context, tmp_path, "04_losses", solution("04_losses", extra_cell=vandal))
    assert last_output(executed).splitlines()[-1] == "vandalised ['values.pack']"
    assert total(result) == 120.0 and checkpoint(result).points == 20.0
    assert separate_runs == []


def test_what_the_checks_leave_running_is_gone_before_the_first_cell(context, tmp_path, separate_runs):
    # the student's module, imported by the checks, starts a daemon in a session of its own and
    # notes its pid; a cell of the notebook then looks for it
    daemon = ("import sys as _sys, subprocess as _subprocess\n"
              "if 'run_cases' in _sys.modules:\n"
              "    _proc = _subprocess.Popen(['sleep', '1000'], start_new_session=True)\n")
    probe = ("import os\n"
             "def cmdline(pid):\n"
             "    try:\n"
             "        return open(f'/proc/{pid}/cmdline', 'rb').read()\n"
             "    except OSError:\n"
             "        return b''\n"
             "alive = [p for p in os.listdir('/proc') if p.isdigit() and cmdline(p).startswith(b'sleep')]\n"
             "print('daemon', 'alive' if alive else 'gone')")
    result, executed = grade(context, tmp_path, "03_layers",
                             solution("03_layers", export_append=daemon, extra_cell=probe))
    assert last_output(executed) == "daemon gone\n"
    assert total(result) == 120.0
    assert separate_runs == []


PLANT = ("import sys as _sys\n"
         "if 'run_cases' in _sys.modules:\n"
         "    import ctypes as _ctypes, os as _os\n"
         "    for _path in ('/scratch/numpy_forged.py', '/scratch/lib2.py', '/tmp/note', '/dev/shm/note'):\n"
         "        open(_path, 'w').write('FORGED = True\\n')\n"
         "    _os.makedirs('/scratch/hidden/deep', exist_ok=True)\n"
         "    open('/scratch/hidden/deep/x.py', 'w').write('FORGED = True\\n')\n"
         "    _os.chmod('/scratch/hidden', 0)\n"
         "    _libc = _ctypes.CDLL(None)\n"
         "    _libc.shmget(4242, 4096, 0o1666)\n")

LOOK = ("import os, sys\n"
        "def seen(path):\n"
        "    return os.path.lexists(path)\n"
        "found = [p for p in ('/scratch/numpy_forged.py', '/scratch/lib2.py', '/tmp/note', '/dev/shm/note',\n"
        "                     '/scratch/hidden') if seen(p)]\n"
        "shm = open('/proc/sysvipc/shm').read().splitlines()[1:]\n"
        "writable = [p for p in sys.path if os.path.isdir(p or '.') and os.access(p or '.', os.W_OK)]\n"
        "import ctypes\n"
        "dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)\n"
        "blocked = []\n"
        "for target in ('/scratch/runner/run_notebook.py', '/scratch/lib/tinytorch/__init__.py'):\n"
        "    try:\n"
        "        open(target, 'a').close()\n"
        "    except OSError:\n"
        "        blocked.append(target)\n"
        "print('found', found, 'shm', len(shm), 'writable', writable, 'dumpable', dumpable, 'blocked', len(blocked))")


def test_nothing_the_cases_write_reaches_the_cells(context, tmp_path, separate_runs):
    # the student's module, imported by the cases (and only there), plants files in every place
    # it can write, hides one behind a mode-000 folder and makes a System V shared memory segment;
    # the notebook's cells find none of it, no folder they can write is on sys.path, the runner
    # and the earlier modules are read-only, and the runner cannot be traced
    result, executed = grade(context, tmp_path, "03_layers",
                             solution("03_layers", export_append=PLANT, extra_cell=LOOK))
    assert last_output(executed) == "found [] shm 0 writable [] dumpable 0 blocked 2\n"
    assert total(result) == 120.0
    assert separate_runs == []


def test_a_session_without_checks_is_graded_the_separate_way(context, tmp_path, separate_runs):
    # imported by the checks child (and only there), the module kills the runner: the session
    # brings nothing back, and both halves run again in sandboxes of their own
    killer = ("import os as _os, sys as _sys, signal as _signal\n"
              "if 'run_cases' in _sys.modules:\n"
              "    _os.kill(_os.getppid(), _signal.SIGKILL)\n")
    result, _ = grade(context, tmp_path, "02_activations", solution("02_activations", export_append=killer))
    assert separate_runs == ["02_activations"]
    assert (result.status, total(result)) == ("graded", 120.0)
    assert not [f for f in result.flags if f.kind == "execution"]


def test_a_module_that_cannot_be_built_runs_no_checks_but_the_notebook(context, tmp_path, separate_runs):
    notebook = solution("01_tensor")
    cell = next(c for c in notebook.cells if c.cell_type == "code" and "#| export" in c.source
                and "class Tensor" in c.source)
    cell.source = cell.source.replace("class Tensor", "class Tensor(", 1)  # a syntax error
    result, _ = grade(context, tmp_path, "01_tensor", notebook)
    assert separate_runs == []
    assert result.checks and all(c.points == 0 for c in result.checks)
    assert all(c.message.startswith("your module cannot be built: export cell ") for c in result.checks)
    assert result.timings["checks"] == 0.0


def test_the_checks_event_is_validated_field_by_field():
    from tito.grade.checks import CheckRun

    run = CheckRun.from_event({"event": "checks", "stdout": 5, "stderr": "x" * 5000, "returncode": True,
                               "signal": "9", "timed_out": "yes", "wall": -3, "values": "@@not base64@@"})
    assert (run.stdout, len(run.stderr), run.returncode, run.signal, run.timed_out, run.wall) == (b"", 4000, None, None, False, 0.0)
    assert run.values_problem == "the results came back garbled: results refused"
    assert CheckRun.from_event({"values": None}).values == b""  # handed over: nothing was written
    assert CheckRun.from_event({"values_problem": "values.pack is not a regular file: results refused",
                                "values": "AAAA"}).values_problem == "values.pack is not a regular file: results refused"


def test_a_deleted_solution_cell_comes_back_as_the_release_stub_never_the_solution(context, tmp_path):
    # every answer cell deleted: what grading puts back is what every student already has
    release = nbformat.read(MODULES["02_activations"].release_ipynb, as_version=4)
    release.cells = [c for c in release.cells if not c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    result, executed = grade(context, tmp_path, "02_activations", release)
    assert total(result) == 0.0
    assert {f.kind for f in result.flags} >= {"deleted-cell"}
    solution = read_source(MODULES["02_activations"].source_py)
    answers = [c.source for c in solution.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    lines = answers[1].splitlines()
    begin, end = (lines.index(next(line for line in lines if f"### {mark} SOLUTION" in line)) for mark in ("BEGIN", "END"))
    body = max((line.strip() for line in lines[begin + 1:end]), key=len)
    assert len(body) > 20  # the longest line of the solution region
    assert all(body not in c.source for c in executed.cells)


def test_a_forged_notebook_verdict_gains_nothing_and_is_flagged_for_every_cell(context, tmp_path):
    # nothing written; an input transformer blanks every later cell, so every test "passes"
    release = nbformat.read(MODULES["02_activations"].release_ipynb, as_version=4)
    first = next(i for i, c in enumerate(release.cells) if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    release.cells.insert(first + 1, nbformat.v4.new_code_cell(
        "getattr(globals()['get_' + 'ipython'](), 'input_transformers_' + 'post').append(lambda lines: ['pass\\n'])"))
    result, _ = grade(context, tmp_path, "02_activations", release)
    assert total(result) == 0.0
    forged = [c.grade_id for c in result.cells if c.notebook_passed]
    assert forged == [c.grade_id for c in result.cells]  # the notebook's verdicts were all forged
    flagged = [f.evidence.split(" ", 1)[0] for f in result.flags if f.kind == "tests-pass-checks-fail"]
    assert flagged == forged
