"""One sandbox session per submission: the checks in a pristine child, then the notebook.

`tito.grade.pipeline` runs the differential checks as a forked child of the notebook runner,
before any cell (`inner/checks_child.py`). These tests hold it to what two separate sandboxes
gave: the checks are over and handed in before the notebook starts, so no cell can change them;
nothing the checks start survives into the notebook; and a session that brings no checks back
is graded the separate way, with the same scores.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tito.course import discover
from tito.grade import pipeline
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
                                  work=tmp_path_factory.mktemp("work"))
    yield ctx
    ctx.cleanup()


@pytest.fixture
def separate_runs(monkeypatch) -> list[str]:
    """Records each time a submission was graded the separate way (two sandboxes)."""
    calls: list[str] = []
    original = pipeline._run_separately

    def spy(context, module, *args, **kwargs):
        calls.append(module.name)
        return original(context, module, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_run_separately", spy)
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
    assert [c.passed for c in result.checks] == [True] * len(result.checks) and len(result.checks) == 6
    assert separate_runs == []
    assert result.timings["checks"] > 0 and result.timings["execute"] > 0


def test_no_cell_can_change_the_checks_once_they_are_in(context, tmp_path, separate_runs):
    # a cell of the student's destroys the checks' results folder and prints forged result lines
    vandal = ("import os, shutil, json\n"
              "shutil.rmtree('/scratch/out', ignore_errors=True)\n"
              "os.makedirs('/scratch/out')\n"
              "open('/scratch/out/values.npz', 'wb').write(b'garbage')\n"
              "print(json.dumps({'scenario': 'mse', 'status': 'error', 'error': 'forged'}))\n"
              "print('vandalised', sorted(os.listdir('/scratch/out')))")
    result, executed = grade(context, tmp_path, "04_losses", solution("04_losses", extra_cell=vandal))
    assert last_output(executed).splitlines()[-1] == "vandalised ['values.npz']"
    assert total(result) == 120.0 and checkpoint(result).points == 20.0
    assert separate_runs == []


def test_what_the_checks_leave_running_is_gone_before_the_first_cell(context, tmp_path, separate_runs):
    # the student's module, imported by the checks, starts a daemon in a session of its own and
    # notes its pid; a cell of the notebook then looks for it
    daemon = ("import sys as _sys, subprocess as _subprocess\n"
              "if 'run_scenarios' in _sys.modules:\n"
              "    _proc = _subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
              "    open('/scratch/daemon.pid', 'w').write(str(_proc.pid))\n")
    probe = ("import os\n"
             "pid = open('/scratch/daemon.pid').read()\n"
             "print('daemon', 'alive' if os.path.exists(f'/proc/{pid}') else 'gone')")
    result, executed = grade(context, tmp_path, "03_layers",
                             solution("03_layers", export_append=daemon, extra_cell=probe))
    assert last_output(executed) == "daemon gone\n"
    assert total(result) == 120.0
    assert separate_runs == []


def test_a_session_without_checks_is_graded_the_separate_way(context, tmp_path, separate_runs):
    # imported by the checks child (and only there), the module kills the runner: the session
    # brings nothing back, and both halves run again in sandboxes of their own
    killer = ("import os as _os, sys as _sys, signal as _signal\n"
              "if 'run_scenarios' in _sys.modules:\n"
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
    assert CheckRun.from_event({"values_problem": "values.npz is not a regular file: results refused",
                                "values": "AAAA"}).values_problem == "values.npz is not a regular file: results refused"
