"""Sandboxed notebook execution: real attack submissions (tests/fixtures/attacks/) and exact outcomes.

Each attack is a list of cells run by `execute` in the real sandbox; the assertions are on the
returned outcome and, where it matters, on the host (no surviving process, nothing read).
"""

from __future__ import annotations

import json
import os
import socket
import string
import time
from pathlib import Path

import pytest

from tito.course import discover, modules_before, select
from tito.build.partial import partial_reference
from tito.grade.execute import OUTPUTS_KEPT, ExecuteOutcome, execute
from tito.grade.sandbox import Limits, Sandbox

REPO = Path(__file__).resolve().parents[1]
ATTACKS = Path(__file__).resolve().parent / "fixtures" / "attacks"
MISSING = Sandbox.missing_layers()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"this machine cannot sandbox: {'; '.join(MISSING)}")

FAST = Limits(cell_timeout=2.0, notebook_timeout=60.0, output_bytes=64 * 2**10)


def cells_of(text: str) -> list[dict]:
    """`# %%`-separated code cells; notebook indexes 1, 3, 5, ... (markdown cells between)."""
    parts = text.split("\n# %%\n")[1:] if "\n# %%\n" in text else [text]
    return [{"index": 2 * i + 1, "source": part.strip("\n"), "grade_id": f"cell-{i}"} for i, part in enumerate(parts)]


def attack(name: str, **values) -> list[dict]:
    text = string.Template((ATTACKS / f"{name}.py").read_text()).substitute(values)
    return cells_of("\n" + text if text.startswith("# %%") else text)


def run(cells: list[dict], tmp_path: Path, limits: Limits = FAST, lib: Path | None = None) -> ExecuteOutcome:
    return execute(cells, sandbox=Sandbox(limits), scratch=tmp_path / "scratch", lib=lib)


def marker() -> str:
    return f"{4000 + os.getpid() % 1000}.{time.time_ns() % 10**9:09d}"


def survivors(mark: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if mark.encode() in f.read().split(b"\0"):
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_happy_path_exact_outcomes(tmp_path):
    cells = [
        {"index": 0, "source": "import numpy as np\nx = np.arange(3)\nprint('x is', x)\nx.sum()", "grade_id": None},
        {"index": 2, "source": "assert x.sum() == 3\nprint('passed')", "grade_id": "test_pass"},
        {"index": 3, "source": "assert x.sum() == 4, f'sum is {x.sum()}'", "grade_id": "test_fail"},
    ]
    out = run(cells, tmp_path)
    assert out.failure is None and out.malformed == 0
    first, passing, failing = out.cells
    assert (first.index, first.grade_id, first.ran, first.ename, first.stdout, first.stderr) == (0, None, True, None, "x is [0 1 2]\n", "")
    assert first.outputs == [
        {"output_type": "stream", "name": "stdout", "text": "x is [0 1 2]\n"},
        {"output_type": "execute_result", "data": {"text/plain": "np.int64(3)"}, "metadata": {}, "execution_count": 1},
    ]
    assert (passing.grade_id, passing.ran, passing.ename, passing.stdout, passing.passed) == ("test_pass", True, None, "passed\n", True)
    assert (failing.grade_id, failing.ename, failing.evalue, failing.passed) == ("test_fail", "AssertionError", "sum is 3", False)
    assert "assert x.sum() == 4" in failing.traceback and "\x1b[" not in failing.traceback
    assert failing.outputs[-1]["output_type"] == "error"
    assert 0 < out.startup < out.wall < 30


def test_jupyter_semantics(tmp_path):
    """Magics, warnings on stderr (nbgrader scores that 0), displays, figures, seeded randomness."""
    cells = [
        {"index": 0, "source": "%%time\ny = 1", "grade_id": None},
        {"index": 1, "source": "import warnings\nwarnings.warn('careful')", "grade_id": None},
        {"index": 2, "source": "import random, numpy as np\nprint(random.random(), np.random.rand())", "grade_id": None},
        {"index": 3, "source": "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()\nfrom IPython.display import display\ndisplay('shown')", "grade_id": None},
        {"index": 4, "source": "import random, numpy as np\nprint(random.random(), np.random.rand())", "grade_id": None},
    ]
    slow_ok = Limits(cell_timeout=30, output_bytes=2**20)  # matplotlib's first import builds a font cache
    out = run(cells, tmp_path, slow_ok)
    magic, warned, rand2, figure, rand4 = out.cells
    assert magic.ename is None and "Wall time" in magic.stdout
    assert warned.ename is None and "UserWarning: careful" in warned.stderr and not warned.passed
    assert [o["output_type"] for o in figure.outputs] == ["display_data", "display_data"], (figure.ename, figure.evalue)
    assert figure.outputs[0]["data"]["image/png"].startswith("iVBOR") and figure.stderr == ""
    assert rand2.stdout != rand4.stdout  # seeded per cell index...
    again = run(cells, tmp_path / "again", slow_ok)
    assert [c.stdout for c in again.cells[2::2]] == [rand2.stdout, rand4.stdout]  # ...identically every run


def test_cannot_read_outside_scratch(tmp_path):
    (tmp_path / "gradebook.db").write_text("hidden tests")
    (tmp_path / "student_b").mkdir()
    (tmp_path / "student_b" / "01_tensor.ipynb").write_text("{}")
    paths = ["../gradebook.db", str(tmp_path / "gradebook.db"), "../student_b/01_tensor.ipynb",
             str(REPO / "source" / "01_tensor" / "01_tensor.py"), str(REPO / "gradebook.db"),
             str(REPO / "tinytorch" / "core" / "tensor.py"), "/root/.bashrc"]
    out = run(attack("read_outside", paths=repr(paths), repo=str(REPO)), tmp_path)
    listing, imports = out.cells
    assert listing.ename is None, listing.traceback
    assert sorted(listing.stdout.splitlines()) == sorted(f"{p} -> FileNotFoundError 2" for p in paths)
    assert imports.stdout == "tito importable: False\nrepo listing: ['.venv']\nhome listing: ['.pyenv']\n"


def test_no_network(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        out = run(attack("network", port=listener.getsockname()[1], outside="1.1.1.1"), tmp_path)
    finally:
        listener.close()
    assert out.cells[0].stdout == "host: ConnectionRefusedError\noutside: OSError\ninterfaces: ['lo']\n"


def test_environment_and_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("TITO_GRADING", "1")
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    out = run(attack("env"), tmp_path)
    names, ids = out.cells[0].stdout.splitlines()
    assert not any(n.startswith(("NBGRADER", "TITO", "JPY")) for n in eval(names))
    assert "PYTHONHASHSEED" in names and "HOME" in names
    assert ids == "uid 65534 65534 []"


def test_per_cell_timeout_then_next_cell_runs(tmp_path):
    out = run(attack("infinite_loop"), tmp_path)
    before, loop, after = out.cells
    assert out.failure is None
    assert before.ename is None
    assert loop.ename == "CellTimeoutError" and "per-cell timeout" in loop.evalue and loop.ran
    assert after.ename is None and after.stdout == "after the loop 1\n"
    assert out.wall < FAST.cell_timeout + 10


@pytest.mark.slow
def test_cell_ignoring_interrupt_is_killed_at_grace(tmp_path):
    mark = marker()
    start = time.monotonic()
    out = run(attack("ignore_sigint", marker=mark), tmp_path)
    elapsed = time.monotonic() - start
    hung, later = out.cells
    assert hung.ename == "CellTimeoutError" and "ignored the interrupt" in hung.evalue
    assert hung.stdout == "looping\n"  # read back from the fd capture of a cell that never reported
    assert later.ename == "NotRun" and not later.ran and "ignored the interrupt" in later.evalue
    assert out.failure == f"cell {hung.index} timed out and ignored the interrupt; the kernel was killed"
    assert FAST.cell_timeout + 3 <= elapsed < FAST.cell_timeout + 20  # (+ startup on a loaded machine)
    assert survivors(mark) == []


@pytest.mark.slow
def test_notebook_timeout(tmp_path):
    cells = [{"index": 0, "source": "x = 1", "grade_id": None}] + [
        {"index": i, "source": "import time; time.sleep(100)", "grade_id": None} for i in range(1, 4)]
    limits = Limits(cell_timeout=60, notebook_timeout=5, output_bytes=2**16)
    out = run(cells, tmp_path, limits)
    assert [c.ename for c in out.cells] == [None, "NotebookTimeoutError", "NotRun", "NotRun"]
    assert out.failure == "notebook timeout after 5 s in cell 1"
    assert "notebook timeout after 5 s in cell 1" in out.cells[3].evalue
    assert 5 <= out.wall < 15


def test_big_output_is_capped_fast(tmp_path):
    start = time.monotonic()
    out = run(attack("big_output"), tmp_path)
    printed, written, small = out.cells
    cap = FAST.output_bytes
    assert printed.ename is None and printed.stdout.startswith("y" * 1000)
    assert cap <= len(printed.stdout) < cap + 100 and printed.stdout.endswith("truncated by the grader ...]\n")
    assert written.ename is None and cap <= len(written.stdout) < cap + 100
    assert small.stdout == "small\n"
    assert time.monotonic() - start < 30


@pytest.mark.slow
def test_a_cell_with_countless_small_outputs_keeps_its_report_and_the_cells_after_it(tmp_path):
    """250,000 displays of a number: each is small, together they made the cell's report longer
    than the supervisor reads, so that cell and every later one were lost ("kernel exited (status
    0)"). The runner keeps as many outputs as the supervisor does and says it dropped the rest."""
    limits = Limits(cell_timeout=60.0, notebook_timeout=90.0, output_bytes=64 * 2**10)
    cells = [
        {"index": 0, "source": "from IPython.display import display\nfor i in range(250_000):\n    display(i)",
         "grade_id": None},
        {"index": 1, "source": "print('after')", "grade_id": "later"},
    ]
    out = run(cells, tmp_path, limits)
    shown, later = out.cells
    assert out.failure is None and out.malformed == 0
    assert (shown.ran, shown.ename) == (True, None)
    kept = [o for o in shown.outputs if o["output_type"] == "display_data"]
    assert kept[:2] == [{"output_type": "display_data", "data": {"text/plain": "0"}, "metadata": {}},
                        {"output_type": "display_data", "data": {"text/plain": "1"}, "metadata": {}}]
    assert len(kept) == OUTPUTS_KEPT - 8 and kept[-1]["data"] == {"text/plain": str(OUTPUTS_KEPT - 9)}
    assert shown.outputs[-1] == {"output_type": "stream", "name": "stdout",
                                 "text": "\n[... further displayed outputs dropped by the grader ...]\n"}
    assert (later.ran, later.ename, later.stdout) == (True, None, "after\n")


def test_output_that_json_escapes_six_fold_keeps_the_report_readable(tmp_path):
    """A control character costs 6 bytes in the runner's JSON report: a cell that fills both
    streams and a display with them must still report, and the cells after it still count."""
    cap = 2**20
    limits = Limits(cell_timeout=30.0, notebook_timeout=60.0, output_bytes=cap)
    cells = [
        {"index": 0, "source": f"import sys\nfrom IPython.display import display\n"
                               f"sys.stdout.write('\\x01' * {2 * cap})\nsys.stderr.write('\\x02' * {2 * cap})\n"
                               f"display('\\x04' * {cap})\nraise ValueError('\\x03' * 10_000)",
         "grade_id": "noisy"},
        {"index": 1, "source": "print('after')", "grade_id": "later"},
    ]
    out = run(cells, tmp_path, limits)
    noisy, later = out.cells
    assert out.failure is None and out.malformed == 0
    assert (noisy.ran, noisy.ename, noisy.passed) == (True, "ValueError", False)
    assert noisy.evalue == "\x03" * 10_000
    assert noisy.stdout.startswith("\x01" * 1000) and noisy.stderr.startswith("\x02" * 1000)
    assert noisy.outputs[-2:] == [
        {"output_type": "stream", "name": "stdout", "text": "\n[... this cell's outputs cut short: too large to report ...]\n"},
        {"output_type": "error", "ename": "ValueError", "evalue": "\x03" * 10_000, "traceback": noisy.outputs[-1]["traceback"]}]
    assert (later.ran, later.ename, later.stdout) == (True, None, "after\n")


def test_a_cell_too_deep_to_compile_fails_alone(tmp_path):
    """IPython's run_cell raises RecursionError on `1 + 1 + ...` of 200,000 terms; the coroutine
    it had made warned "never awaited" on the NEXT cell's stderr, which failed that cell."""
    cells = [
        {"index": 0, "source": "x = " + " + ".join(["1"] * 200_000), "grade_id": None},
        {"index": 1, "source": "print('after')", "grade_id": "later"},
    ]
    out = run(cells, tmp_path)
    deep, later = out.cells
    assert out.failure is None
    assert (deep.ran, deep.ename) == (True, "RecursionError")
    assert (later.ran, later.ename, later.stdout, later.stderr, later.passed) == (True, None, "after\n", "", True)


def test_os_exit_names_the_cell(tmp_path):
    out = run(attack("os_exit"), tmp_path)
    first, exiting, later = out.cells
    assert first.ename is None
    assert out.failure == f"kernel exited (status 3) in cell {exiting.index}"
    assert exiting.ename == "DeadKernelError" and exiting.evalue == out.failure and exiting.stdout == "bye\n"
    assert later.ename == "NotRun" and out.failure in later.evalue


def test_sys_exit_is_a_cell_error_as_in_jupyter(tmp_path):
    out = run(attack("sys_exit"), tmp_path)
    exiting, later = out.cells
    assert (exiting.ename, exiting.evalue) == ("SystemExit", "3")
    assert later.stdout == "still here\n" and out.failure is None


def test_segfault_names_the_cell(tmp_path):
    out = run(attack("segfault"), tmp_path)
    first, crashing, later = out.cells
    assert out.failure == f"kernel died (signal 11: SIGSEGV) in cell {crashing.index}"
    assert crashing.ename == "DeadKernelError" and "Segmentation fault" in crashing.stderr  # faulthandler
    assert first.ename is None and later.ename == "NotRun"


@pytest.mark.slow
def test_memory_limit(tmp_path):
    limits = Limits(memory_bytes=2**30, cell_timeout=10, output_bytes=2**16)
    out = run(attack("memory"), tmp_path, limits)
    caught, uncaught, alive = out.cells
    assert caught.stdout == "MemoryError\n"
    assert uncaught.ename == "MemoryError"
    assert alive.stdout == "alive\n" and out.failure is None


@pytest.mark.slow
def test_fork_bomb_contained(tmp_path):
    mark = marker()
    out = run(attack("fork_bomb", marker=mark), tmp_path, Limits(cell_timeout=10, output_bytes=2**16))
    bomb, count = out.cells
    assert bomb.stdout == "refused forks: True\n", (bomb.traceback, out.failure)
    assert count.ename is None
    assert int(count.stdout.split(":")[1]) <= Limits().processes + 2  # the sandbox's own pid namespace
    assert survivors(mark) == []


def test_daemon_is_gone_after_the_run(tmp_path):
    mark = marker()
    out = run(attack("daemon", marker=mark), tmp_path)
    assert out.cells[0].stdout == "daemon started\n" and out.failure is None
    time.sleep(0.2)
    assert survivors(mark) == []


def test_file_size_and_open_files(tmp_path):
    cells = attack("file_size") + attack("open_files")
    cells[1]["index"] = 3
    out = run(cells, tmp_path)
    big, files = out.cells
    assert big.stdout == f"stopped: EFBIG {Limits().file_size_bytes // 2**20}\n"
    assert files.stdout == "stopped: EMFILE True\n"


def test_malformed_channel_lines_are_counted_and_ignored(tmp_path):
    out = run(attack("channel_garbage"), tmp_path)
    garbage, later = out.cells
    assert garbage.stdout == "done\n" and later.stdout == "next\n"
    assert out.malformed >= 2 and out.failure is None


def test_partial_reference_lacks_the_module_under_grade(tmp_path):
    """Grading 02_activations: the lib has 01_tensor's reference, never activations'."""
    modules = discover(REPO)
    (activations,) = select(modules, "02_activations")
    lib = partial_reference(REPO, tmp_path / "lib", modules_before(modules, activations))
    cells = [
        {"index": 0, "source": "from tinytorch.core.tensor import Tensor\nprint(type(Tensor([1.0])).__name__)", "grade_id": None},
        {"index": 1, "source": "import tinytorch.core.activations", "grade_id": None},
        {"index": 2, "source": "import tinytorch, os\nprint(os.path.dirname(tinytorch.__file__))", "grade_id": None},
    ]
    out = run(cells, tmp_path, lib=lib)
    tensor, activations_, where = out.cells
    assert tensor.stdout == "Tensor\n", tensor.traceback
    assert activations_.ename == "ModuleNotFoundError" and "tinytorch.core.activations" in activations_.evalue
    assert where.stdout == "/scratch/lib/tinytorch\n"


def test_empty_and_runner_failure(tmp_path):
    assert run([], tmp_path).cells == []
    bad = [{"index": 0, "source": "import builtins; builtins.int = None", "grade_id": None},
           {"index": 1, "source": "print(1)", "grade_id": None}]
    out = run(bad, tmp_path / "b")  # the student broke the runner itself: it dies, we report
    assert out.cells[0].ran and out.failure is not None and "cell 0" in out.failure
    assert out.cells[1].ename == "NotRun"


@pytest.mark.slow
def test_startup_time(tmp_path):
    """Interpreter + IPython + numpy inside the sandbox: the fixed cost per submission."""
    times = sorted(run([{"index": 0, "source": "1", "grade_id": None}], tmp_path / str(i)).startup for i in range(5))
    assert times[2] < 5.0
    (tmp_path / "startup.json").write_text(json.dumps(times))


@pytest.mark.slow
def test_cpu_limit_names_the_cell(tmp_path):
    limits = Limits(cpu_seconds=2, cell_timeout=20, output_bytes=2**16)
    cells = [{"index": 0, "source": "x = 1", "grade_id": None},
             {"index": 4, "source": "while True:\n    pass", "grade_id": "busy"},
             {"index": 5, "source": "print(x)", "grade_id": None}]
    out = run(cells, tmp_path, limits)
    assert out.failure == "kernel exceeded the CPU time limit (2 s, signal SIGXCPU) in cell 4"
    assert [c.ename for c in out.cells] == [None, "DeadKernelError", "NotRun"]
    assert out.wall < 20


def test_capture_symlink_out_of_scratch_is_not_followed(tmp_path):
    """A dying cell leaves its capture files for the supervisor (root) to read: a symlink planted
    there must not make it read a file outside scratch."""
    secret = tmp_path / "secret.txt"
    secret.write_text("gradebook contents")
    cells = [{"index": 0, "source": "import os, shutil\nshutil.rmtree('/scratch/.tito')\n"
              f"os.symlink({str(tmp_path)!r}, '/scratch/.tito')\nos.symlink('/scratch/x', '/scratch/y')\nos._exit(1)",
              "grade_id": None}]
    (tmp_path / "stdout").symlink_to(secret)
    out = run(cells, tmp_path)
    assert out.failure == "kernel exited (status 1) in cell 0"
    assert "gradebook" not in out.cells[0].stdout


def test_unsafe_mode_runs_the_same_runner(tmp_path, monkeypatch):
    from tito.grade import sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "_PROBE", ["bubblewrap (apt-get install bubblewrap)"])
    sb = Sandbox(FAST, unsafe=True)
    cells = [{"index": 0, "source": "import os\nprint(os.getcwd() == os.environ['HOME'])", "grade_id": None},
             {"index": 1, "source": "while True: pass", "grade_id": None},
             {"index": 2, "source": "print('next')", "grade_id": None}]
    out = execute(cells, sandbox=sb, scratch=tmp_path / "s", lib=None)
    assert [c.stdout for c in out.cells] == ["True\n", "", "next\n"]
    assert out.cells[1].ename == "CellTimeoutError" and (tmp_path / "s" / ".tito" / "stdout").exists()


# --------------------------------------------------------------------------- the output allow-list

PNG = "iVBORw0KGgoAAAANSUhEUg=="  # the PNG signature and the start of an IHDR chunk, base64

OFF_SWITCH = """import gc
runner = [g for g in gc.get_objects() if isinstance(g, dict) and 'KEEP_MIMETYPES' in g and 'Capture' in g]
for g in runner:
    g['KEEP_MIMETYPES'] = ('text/plain', 'image/png', 'text/html', 'application/javascript', 'image/svg+xml',
                           'text/markdown')
print(len(runner), 'allow-list switched off')"""


def test_the_supervisor_keeps_only_text_and_png_whatever_the_runner_sends(tmp_path):
    """Student code switches the runner's allow-list off inside the sandbox (it runs in the
    student's process), then displays script in every form: the supervisor keeps a display only
    when it holds nothing but text/plain and a real base64 PNG, with no metadata."""
    display = ("from IPython.display import display, HTML, Javascript, SVG, Markdown\n"
               "display(HTML('<script>window.__pwned = 1</script>'))\n"
               "display(Javascript('window.__pwned = 2'))\n"
               "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"window.__pwned = 3\"/>'))\n"
               "display(Markdown('<img src=x onerror=\"window.__pwned = 4\">'))\n"
               "display({'image/png': 'PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+'}, raw=True)\n"  # an SVG called a PNG
               f"display({{'image/png': {PNG!r}}}, raw=True, metadata={{'image/png': {{'width': '1 onload=x()'}}}})\n"
               f"display({{'image/png': {PNG!r}, 'text/plain': '<Figure>'}}, raw=True)\n"
               "print('<script>window.__pwned = 5</script>')\n"
               "HTML('<b>last</b>')")
    cells = [{"index": 0, "source": OFF_SWITCH, "grade_id": None},
             {"index": 1, "source": display, "grade_id": None},
             {"index": 2, "source": "raise ValueError('<img src=x onerror=alert(1)>')", "grade_id": None}]
    out = run(cells, tmp_path)
    switched, shown, raised = out.cells
    assert switched.outputs == [{"output_type": "stream", "name": "stdout", "text": "1 allow-list switched off\n"}]
    assert shown.ename is None and shown.outputs == [
        {"output_type": "display_data", "data": {"image/png": PNG}, "metadata": {}},  # (the runner sends no metadata)
        {"output_type": "display_data", "data": {"image/png": PNG, "text/plain": "<Figure>"}, "metadata": {}},
        {"output_type": "stream", "name": "stdout", "text": "<script>window.__pwned = 5</script>\n"},
    ]
    # errors and streams are kept as they are: text, escaped by whatever renders them
    assert [(o["output_type"], o.get("ename"), o.get("evalue")) for o in raised.outputs] == \
        [("error", "ValueError", "<img src=x onerror=alert(1)>")]


@pytest.mark.parametrize("output, kept", [
    ({"output_type": "stream", "name": "stdout", "text": "<script>x()</script>"}, True),
    ({"output_type": "stream", "name": "stdin", "text": "x"}, False),
    ({"output_type": "error", "ename": "E", "evalue": "<b>", "traceback": ["<b>"]}, True),
    ({"output_type": "error", "ename": "E", "evalue": "v", "traceback": [1]}, False),
    ({"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {}}, True),
    ({"output_type": "display_data", "data": {"text/plain": "x"}}, True),
    ({"output_type": "display_data", "data": {"text/plain": "x", "text/html": "<b>x</b>"}, "metadata": {}}, False),
    ({"output_type": "display_data", "data": {"application/javascript": "x()"}, "metadata": {}}, False),
    ({"output_type": "display_data", "data": {"image/svg+xml": "<svg/>"}, "metadata": {}}, False),
    ({"output_type": "display_data", "data": {"image/png": PNG}, "metadata": {}}, True),
    ({"output_type": "display_data", "data": {"image/png": "PHN2Zz4="}, "metadata": {}}, False),  # <svg>
    ({"output_type": "display_data", "data": {"image/png": "not base64!"}, "metadata": {}}, False),
    ({"output_type": "display_data", "data": {"image/png": PNG + "A" * 8 * 2**20}, "metadata": {}}, False),
    ({"output_type": "display_data", "data": {"text/plain": "x" * (2 * 2**20 + 1)}, "metadata": {}}, False),
    ({"output_type": "display_data", "data": {"image/png": PNG}, "metadata": {"image/png": {"width": 1}}}, False),
    ({"output_type": "display_data", "data": {}, "metadata": {}}, False),
    ({"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}, "execution_count": 3}, True),
    ({"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}, "execution_count": "<b>"}, False),
    ({"output_type": "update_display_data", "data": {"text/plain": "1"}, "metadata": {}}, False),
])
def test_valid_output_allow_list(output, kept):
    from tito.grade.execute import _valid_output

    assert _valid_output(output) is kept
