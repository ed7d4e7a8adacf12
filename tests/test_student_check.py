"""`tito check` when the student's code goes wrong the ways students' code does: a loop that
never ends, Ctrl+C, an export cell that does not parse, a wrong value.

Each notebook is the solution of module 01 (`tito.synth.variants.submission`) with one
realistic mistake put in; the check runs the way a student runs it (`python -m tito check` in
a subprocess, or `tito.cli.main`), on the real course, and is read back from what it prints.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tito import UNDER_TITO, course
from tito.cli import main
from tito.execute import execute_notebook
from tito.student.check import check
from tito.student.command import tito_command
from tito.synth.variants import submission

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TENSOR = course.select(course.discover(REPO), "01")[0]
POW = '    def __pow__(self, exponent: float) -> "Tensor":\n'


def _tensor_with(tmp_path: Path, old: str, new: str, name: str = "01_tensor.ipynb") -> Path:
    """Module 01's solution with `old` replaced by `new` in its export cells (exactly once)."""
    nb = submission(TENSOR)
    cells = [c for c in nb.cells if "#| export" in c.source and old in c.source]
    assert len(cells) == 1, f"{old!r} is in {len(cells)} export cells"
    cells[0].source = cells[0].source.replace(old, new, 1)
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def _endless_pow(tmp_path: Path, marker: Path | None = None) -> Path:
    """`__pow__` that loops for ever (touching `marker` once it is in the loop)."""
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()" if marker else "pass"
    return _tensor_with(tmp_path, POW, POW + f"        while True:\n            {touch}\n")


def _course_with_limits(dest: Path, cell: int, total: int) -> Path:
    """A copy of what `tito check` reads (release, checkpoints, config) whose config sets the
    per-cell and whole-notebook time limits."""
    dest.mkdir()
    for name in ("nbgrader_config.py", "conftest.py"):
        shutil.copy(REPO / name, dest / name)
    for name in ("release", "checkpoints"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    with (dest / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"c.Execute.timeout = {cell}\nc.Grading.notebook_timeout = {total}\n")
    return dest


def _student_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (UNDER_TITO, "NBGRADER_EXECUTION", "TINYTORCH_ROOT")}
    env["PYTHONPATH"] = str(REPO)
    return env


def _said(text: str) -> str:
    return " ".join(text.split())


def _rows(out: str) -> dict[str, list[str]]:
    """The rows of the check's table by test cell, each cell's wrapped lines joined by spaces."""
    rows: dict[str, list[str]] = {}
    name = None
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells[0]:
            name, rows[cells[0]] = cells[0], cells[1:]
        else:
            rows[name] = [" ".join(filter(None, pair)) for pair in zip(rows[name], cells[1:])]
    return rows


def test_a_loop_that_never_ends_is_stopped_in_each_cell_and_in_the_checkpoint_and_named(tmp_path: Path) -> None:
    """Before: no output for the checkpoint's 600 s, then a raw subprocess.TimeoutExpired."""
    root = _course_with_limits(tmp_path / "course", cell=3, total=120)
    notebook = _endless_pow(tmp_path)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tito", "--root", str(root), "check", "01", "--notebook",
                           str(notebook)], cwd=REPO, env=_student_env(), capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert time.monotonic() - started < 200
    out = _said(done.stdout)
    hint = "look for a loop that never ends (or a very slow computation) in `Tensor.__pow__`, where it was stopped"
    rows = _rows(done.stdout)
    for cell in ("tensor-arithmetic", "tensor-graph-records"):  # the two cells that call `**`
        assert rows[cell] == ["15", "failed", "CellTimeoutError: no reply from the kernel within the 3 s per-cell "
                              "timeout", hint], out
    assert [cell for cell, row in rows.items() if row[1] == "failed"] == ["tensor-arithmetic", "tensor-graph-records"]
    assert re.search(r"checkpoint checkpoints/checkpoint_01_tensor\.py: failed \(2 failed, 18 passed in [\d.]+s\) "
                     r"tinytorch/core/tensor\.py:\d+: CheckpointTimeout: the test ran longer than 3 s; it was "
                     r"stopped in `Tensor\.__pow__` \(tinytorch/core/tensor\.py:\d+\): look for a loop that never "
                     r"ends there", out), out
    assert f"next: {hint} (cell tensor-arithmetic)" in out


def test_the_whole_notebook_has_a_time_limit_too(tmp_path: Path) -> None:
    """The cell running when it runs out is stopped and named; the cells after it do not run."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (
        "import time\ntime.sleep(1)", "time.sleep(30)", "x = 1")])
    started = time.monotonic()
    run = execute_notebook(nb, cwd=tmp_path, timeout=20, total_timeout=6)
    assert time.monotonic() - started < 20
    assert [(o.passed, o.ename, o.evalue) for o in run.outcomes] == [
        (True, None, None),
        (False, "CellTimeoutError", "the notebook's 6 s overall time limit ran out in this cell"),
        (False, "NotExecuted", "not run: the notebook's 6 s overall time limit had run out")]


def test_ctrl_c_stops_the_check_at_once_says_so_and_exits_130(tmp_path: Path) -> None:
    """Before: Ctrl+C killed the kernel, every cell after it "failed", and the run went on into
    the checkpoint, which hung again."""
    marker = tmp_path / "in-the-loop"
    notebook = _endless_pow(tmp_path, marker)
    check = subprocess.Popen([sys.executable, "-m", "tito", "check", "01", "--notebook", str(notebook)], cwd=REPO,
                             env=_student_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)  # its own process group, as a terminal's foreground job
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and check.poll() is None:
            time.sleep(0.2)
        assert marker.exists(), "the kernel never reached the loop"
        os.killpg(check.pid, signal.SIGINT)  # what Ctrl+C in a terminal does
        pressed = time.monotonic()
        out, err = check.communicate(timeout=30)
    finally:
        if check.poll() is None:
            os.killpg(check.pid, signal.SIGKILL)
    assert time.monotonic() - pressed < 15
    assert check.returncode == 130, out + err
    assert err == "interrupted (Ctrl+C): `tito check` stopped; nothing after that ran\n"
    assert out == "checking 01_tensor ...\n"  # no table of "failed" cells, no checkpoint


def test_an_export_cell_that_does_not_parse_is_reported_first_with_its_line(tmp_path: Path, capsys) -> None:
    """Before: only "NameError: name 'Tensor' is not defined" on every test, "run the cells above"."""
    notebook = _tensor_with(tmp_path, POW, POW.replace("(self, exponent", "(self exponent"))
    cell = next(c for c in nbformat.read(str(notebook), as_version=4).cells if "def __pow__(self exponent" in c.source)
    line = next(n for n, text in enumerate(cell.source.splitlines(), 1) if "def __pow__" in text)
    assert main(["--root", str(REPO), "check", "01", "--notebook", str(notebook)]) == 1
    lines = capsys.readouterr().out.splitlines()
    problem = f"export cell 'tensor-class' line {line}: invalid syntax: def __pow__(self exponent: float) -> \"Tensor\":"
    assert lines[2] == (f"{problem} (fix this first: what the cell defines does not exist, so the tests that "
                        "use it fail)"), lines[:4]
    said = _said("\n".join(lines))
    assert said.count("fix the export cell that does not parse (above) first: what it defines does not exist") == 9
    assert "run the cells above this one first" not in said
    assert f"checkpoint checkpoints/checkpoint_01_tensor.py: not run: {problem}" in lines
    assert lines[-1] == (f"next: fix export cell 'tensor-class' line {line} so that it parses, then run "
                         f"`{tito_command()} check 01_tensor` again")


def test_a_wrong_value_shows_the_values_compared(tmp_path: Path) -> None:
    """Before: "AssertionError: Not equal to tolerance rtol=1e-06, atol=0" and nothing else, for the
    notebook's tests and the checkpoint's alike."""
    notebook = _tensor_with(tmp_path, 'self._data + other._data, "add"', 'self._data - other._data, "add"')
    report = check(REPO, TENSOR, notebook)
    arithmetic = next(c for c in report.cells if c.grade_id == "tensor-arithmetic")
    assert arithmetic.message == "\n".join([
        "AssertionError: Not equal to tolerance rtol=1e-06, atol=0",
        "Mismatched elements: 6 / 6 (100%)",
        "First 5 mismatches are at indices:",
        " [0, 0]: -9.0 (ACTUAL), 11.0 (DESIRED)",
        " [0, 1]: -18.0 (ACTUAL), 22.0 (DESIRED)",
        " [0, 2]: -27.0 (ACTUAL), 33.0 (DESIRED)"])
    assert report.checkpoint is not None and not report.checkpoint.passed
    assert re.fullmatch("\n".join([
        r"checkpoints/checkpoint_01_tensor\.py:\d+: AssertionError:",
        "Arrays are not equal",
        re.escape("Mismatched elements: 4 / 4 (100%)"),
        "Mismatch at indices:",
        re.escape(" [0, 0]: -9.0 (ACTUAL), 11 (DESIRED)"),
        re.escape(" [0, 1]: -18.0 (ACTUAL), 22 (DESIRED)")]), report.checkpoint.failures[0])


def test_a_failing_bare_assert_shows_the_values_it_compared(tmp_path: Path) -> None:
    """`assert kept.shape == (2, 1)` alone says nothing of what `kept.shape` was; before, the
    check said "AssertionError at `assert kept.shape == (2, 1)`"."""
    notebook = _tensor_with(tmp_path, "self._data.sum(axis=axis, keepdims=keepdims)", "self._data.sum(axis=axis)")
    report = check(REPO, TENSOR, notebook)
    reductions = next(c for c in report.cells if c.grade_id == "tensor-reductions")
    assert reductions.message == "AssertionError: kept.shape = (2,)"
