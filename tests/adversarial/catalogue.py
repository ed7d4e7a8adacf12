"""The adversarial catalogue: hostile and broken submissions, each with its expected outcome.

Every kind is a submission folder built from the REAL release of a real module (01_tensor,
02_activations, 03_layers: cheap to grade): a correctly filled notebook (`tito.synth`), then the
attack injected into a solution cell or an added cell, or the file itself broken. Each kind says
what grading must record for it: status, exact score, flag kinds, a substring of the recorded
reason (the result's reason, a flag's evidence or a graded cell's message) and, for escape
attempts, strings that must never appear in the executed notebook (proof the attempt failed).

`python -m tests.adversarial.catalogue --markdown` prints the table that docs/security.md holds;
`--write-docs` puts it there (a test checks the page has the current table, so it cannot go stale).
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

ATTACKS = Path(__file__).resolve().parents[1] / "fixtures" / "attacks"
FULL = 120.0  # every module's points (20 of them on the checkpoint cell)

# Where an added attack cell goes in 02_activations: after the tanh solution cell, so the
# relu (15) and sigmoid (20) tests have already run and passed. A kernel that dies there keeps
# those 35 points and loses everything after it (nbgrader's rule: a cell that did not run scores 0).
AFTER_TANH = "activations-tanh"
BEFORE_DEATH = 35.0


@dataclass(frozen=True)
class Expect:
    status: str = "graded"  # "graded" | "error"
    score: float = FULL  # exact
    flags: frozenset[str] = frozenset()  # flag kinds that must be recorded (others may be too)
    reason: str | None = None  # substring of the reason, a flag's evidence, a graded cell's message
    #                            or the executed notebook's outputs (what the student sees)
    cell: tuple[str, str] | None = None  # (grade_id, ename): that graded cell failed this way
    absent: tuple[str, ...] = ()  # never in the executed notebook: the attack's success markers


@dataclass(frozen=True)
class Context:
    """What building a submission may need to know about the course it is graded in."""

    root: Path  # the throwaway course
    marker: str  # a number: attack processes are named `sleep <marker>` so the host can find them
    port: int  # a port the host listens on during the batch (the network attack aims at it)


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    module: str
    what: str
    build: Callable[[Context, Path, "Kind"], None] = field(repr=False)
    expect: Expect

    @property
    def student(self) -> str:
        return f"adv-{self.name}"


# ----------------------------------------------------------------------------- building blocks

def module_of(root: Path, name: str):
    from tito import course

    return course.select(course.discover(root), name)[0]


def filled(ctx: Context, module: str, bug: str | None = None, profile: str | None = None) -> nbformat.NotebookNode:
    from tito.synth.variants import submission

    return copy.deepcopy(submission(module_of(ctx.root, module), bug=bug, profile=profile))


def index_of(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def graded_ids(nb) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def add_cell(nb, source: str, after: str, name: str) -> None:
    nb.cells.insert(index_of(nb, after) + 1, nbformat.v4.new_code_cell(source, id=f"attack-{name}"[:64]))


def write(folder: Path, module: str, nb) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{module}.ipynb")


def fixture(name: str, **values) -> str:
    """An attack from tests/fixtures/attacks/ (already proven at the executor level), as one cell."""
    import string

    text = string.Template((ATTACKS / f"{name}.py").read_text()).substitute(values)
    return "\n".join(line for line in text.splitlines() if line.strip() != "# %%")


def cell_attack(source: str | Callable[[Context], str], module: str = "02_activations", after: str = AFTER_TANH,
                bug: str | None = None, profile: str | None = None):
    """A correct (or buggy, or stub) notebook with one added cell holding the attack."""
    def build(ctx: Context, folder: Path, kind: Kind) -> None:
        nb = filled(ctx, module, bug, profile)
        add_cell(nb, source(ctx) if callable(source) else source, after, kind.name)
        write(folder, module, nb)
    return build


def edit_solution(cell: str, append: str | Callable[[Context], str], module: str = "02_activations",
                  bug: str | None = None, profile: str | None = None):
    """The attack appended to a solution cell (an export cell: it also runs in the checks)."""
    def build(ctx: Context, folder: Path, kind: Kind) -> None:
        nb = filled(ctx, module, bug, profile)
        target = nb.cells[index_of(nb, cell)]
        target.source += "\n" + (append(ctx) if callable(append) else append)
        write(folder, module, nb)
    return build


def structure(edit: Callable[[nbformat.NotebookNode], None], module: str = "01_tensor"):
    def build(ctx: Context, folder: Path, kind: Kind) -> None:
        nb = filled(ctx, module)
        edit(nb)
        write(folder, module, nb)
    return build


def raw_file(content: Callable[[Context], bytes], module: str = "03_layers", name: str | None = None):
    def build(ctx: Context, folder: Path, kind: Kind) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / (name or f"{module}.ipynb")).write_bytes(content(ctx))
    return build


def correct_json(ctx: Context, module: str = "03_layers") -> str:
    return nbformat.writes(filled(ctx, module))


# ----------------------------------------------------------------------------- the attacks

def _edit_locked(nb) -> None:
    test = nb.cells[index_of(nb, "tensor-arithmetic")]
    test.source = "# the test, edited away\npass"


def _to_markdown(nb) -> None:
    i = index_of(nb, "tensor-matmul")
    old = nb.cells[i]
    nb.cells[i] = nbformat.v4.new_markdown_cell(old.source, id=old.id, metadata=copy.deepcopy(old.metadata))


def _delete(nb) -> None:
    del nb.cells[index_of(nb, "tensor-reductions")]


def _duplicate(nb) -> None:
    i = index_of(nb, "tensor-creation")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))


def _strip_metadata(nb) -> None:
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)


def _stub_with_edited_tests(nb) -> None:
    """Nothing written, and every visible test replaced by `pass`: the restored tests fail."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cell.source = "pass"


def _extra_big_file(ctx: Context, folder: Path, kind: Kind) -> None:
    write(folder, "03_layers", filled(ctx, "03_layers"))
    with open(folder / "dataset.bin", "wb") as f:
        f.truncate(500 * 2**20)  # sparse: 500 MB long, no disk used


def _nbformat3(ctx: Context, folder: Path, kind: Kind) -> None:
    nb = filled(ctx, "03_layers")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "03_layers.ipynb").write_text(nbformat.writes(nbformat.convert(nb, 3)))


def _wrong_name(ctx: Context, folder: Path, kind: Kind) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(filled(ctx, "03_layers"), folder / "03_layers (1) final.ipynb")


def _missing(ctx: Context, folder: Path, kind: Kind) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "answers.py").write_text("# I wrote it in a script instead\n")


def _latin1(ctx: Context) -> bytes:
    text = correct_json(ctx).replace("\"cells\": [", "\"cells\": [{\"cell_type\": \"markdown\", \"id\": \"enc\", "
                                     "\"metadata\": {}, \"source\": \"R\u00e9ponses de l'\u00e9l\u00e8ve\"},", 1)
    return text.encode("latin-1")


def _read_paths(ctx: Context, *relative: str) -> str:
    """Absolute and relative paths of course files; prints LEAKED for any it can read."""
    paths = [str(ctx.root / r) for r in relative] + ["../../" + r for r in relative] + ["../" + r for r in relative]
    return ("import os\nfor path in %r:\n"
            "    try:\n        with open(path, 'rb') as f:\n            print('LEAKED', path, f.read(40))\n"
            "    except OSError as error:\n        print('refused', path, type(error).__name__)\n") % (paths,)


def _write_gradebook(ctx: Context) -> str:
    db = str(ctx.root / "gradebook.db")
    return ("import sqlite3\n"
            f"for path in [{db!r}, '../gradebook.db', '../../gradebook.db']:\n"
            "    try:\n"
            "        c = sqlite3.connect(path)\n"
            "        c.execute(\"update grade set auto_score = 999\")\n"
            "        c.commit()\n"
            "        print('WROTE', path)\n"
            "    except Exception as error:\n"
            "        print('refused', path, type(error).__name__)\n"
            f"for path in [{str(ctx.root / 'PLANTED.txt')!r}, {str(ctx.root.parent / 'PLANTED-parent.txt')!r},\n"
            f"             {str(ctx.root / 'pwned.txt')!r}, '/tmp/pwned-{ctx.marker}', '../../pwned.txt']:\n"
            "    try:\n"
            "        with open(path, 'w') as f:\n"
            "            f.write('pwned')\n"
            "        print('WROTE', path) if not path.startswith('/tmp') else None\n"
            "    except OSError as error:\n"
            "        print('refused', path, type(error).__name__)\n")


def _network(ctx: Context) -> str:
    return fixture("network", port=ctx.port, outside="1.1.1.1")


def _env(ctx: Context) -> str:
    return ("import os\n"
            "hints = sorted(k for k in os.environ if k.startswith(('NBGRADER', 'TITO', 'JPY')))\n"
            "print('HINTS' if hints else 'no hints', hints)\n"
            "if os.environ.get('NBGRADER_EXECUTION'):\n"
            "    raise SystemExit('I am being graded: behave')\n")


KINDS: tuple[Kind, ...] = (
    # resources ------------------------------------------------------------------------------
    Kind("infinite-loop", "resources", "02_activations", "`while True: pass` in an added cell",
         cell_attack("while True:\n    pass"),
         Expect(reason="per-cell timeout")),
    Kind("sleep-past-timeout", "resources", "02_activations", "`time.sleep(3600)` in an added cell",
         cell_attack("import time\ntime.sleep(3600)"),
         Expect()),
    Kind("memory-bomb", "resources", "02_activations", "allocates 1 GB blocks until refused, keeps them",
         cell_attack("hoard = []\nwhile True:\n    hoard.append(bytearray(2**30))"),
         Expect()),
    Kind("fork-bomb", "resources", "02_activations", "forks in a loop for 1 s; every copy forks too",
         cell_attack(lambda ctx: fixture("fork_bomb", marker=ctx.marker)),
         Expect(flags=frozenset({"process-or-network"}))),
    Kind("thread-bomb", "resources", "02_activations", "starts sleeping threads until refused",
         cell_attack("import threading, time\nthreads = []\ntry:\n    for _ in range(100000):\n"
                     "        t = threading.Thread(target=time.sleep, args=(3600,), daemon=True)\n"
                     "        t.start()\n        threads.append(t)\nexcept RuntimeError as error:\n"
                     "    print('refused after', len(threads), error)"),
         Expect()),
    Kind("print-100mb", "resources", "02_activations", "prints 100 MB, then writes 5 MB to fd 1",
         cell_attack(fixture("big_output")),
         Expect(reason="[... output truncated by the grader ...]")),
    Kind("write-1gb-file", "resources", "02_activations", "writes 1 GB to a scratch file and to /tmp",
         cell_attack("for path in ['big.bin', '/tmp/big.bin']:\n    try:\n        with open(path, 'wb') as f:\n"
                     "            for _ in range(1024):\n                f.write(b'\\0' * 2**20)\n"
                     "        print('WROTE 1 GB', path)\n    except OSError as error:\n"
                     "        print('stopped', path, error.errno)"),
         Expect(absent=("WROTE 1 GB",))),
    Kind("ignore-sigint", "resources", "02_activations", "ignores SIGINT, starts a daemon, loops forever",
         cell_attack(lambda ctx: fixture("ignore_sigint", marker=ctx.marker)),
         Expect(score=BEFORE_DEATH, flags=frozenset({"execution", "process-or-network"}),
                reason="ignored the interrupt")),
    # crashes ------------------------------------------------------------------------------------
    Kind("sys-exit", "crashes", "02_activations", "`sys.exit(3)` in an added cell",
         cell_attack("import sys\nsys.exit(3)"),
         Expect()),
    Kind("os-exit", "crashes", "02_activations", "`os._exit(3)` in an added cell: the kernel process ends",
         cell_attack("import os\nos._exit(3)"),
         Expect(score=BEFORE_DEATH, flags=frozenset({"execution"}), reason="kernel exited (status 3) in cell")),
    Kind("segfault", "crashes", "02_activations", "`ctypes.string_at(0)`: SIGSEGV",
         cell_attack("import ctypes\nctypes.string_at(0)"),
         Expect(score=BEFORE_DEATH, flags=frozenset({"execution", "native-code"}), reason="SIGSEGV")),
    Kind("kernel-dies-mid-test", "crashes", "02_activations",
         "softmax kills its own process (SIGKILL) when a test calls it",
         edit_solution("activations-softmax",
                       "_softmax = softmax\ndef softmax(x, axis=-1):\n    import os, signal\n"
                       "    os.kill(os.getpid(), signal.SIGKILL)\n"),
         Expect(score=45.0, flags=frozenset({"execution", "process-or-network"}),
                cell=("activations-softmax-test", "DeadKernelError"), reason="SIGKILL")),
    Kind("recursion", "crashes", "02_activations", "unbounded recursion in an added cell",
         cell_attack("def down(n):\n    return down(n + 1)\ndown(0)"),
         Expect()),
    Kind("recursion-limit-raised", "crashes", "02_activations",
         "`sys.setrecursionlimit(10**9)`, then recursion through C (`repr` of a 100000-deep list)",
         cell_attack("import sys\nsys.setrecursionlimit(10**9)\nx = []\nfor _ in range(100000):\n    x = [x]\nrepr(x)"),
         Expect(score=BEFORE_DEATH, flags=frozenset({"execution"}), reason="kernel died (signal 11: SIGSEGV)")),
    # escape -------------------------------------------------------------------------------------
    Kind("read-source", "escape", "01_tensor", "reads source/ and the reference tinytorch/ by path",
         cell_attack(lambda ctx: _read_paths(ctx, "source/01_tensor/01_tensor.py", "tinytorch/core/tensor.py"),
                     module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"filesystem-probe"}), absent=("LEAKED",))),
    Kind("read-gradebook", "escape", "01_tensor", "reads gradebook.db (hidden tests live there)",
         cell_attack(lambda ctx: _read_paths(ctx, "gradebook.db"), module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"filesystem-probe"}), absent=("LEAKED",))),
    Kind("read-other-student", "escape", "01_tensor", "reads another student's submission",
         cell_attack(lambda ctx: _read_paths(ctx, "submitted/honest-correct/01_tensor/01_tensor.ipynb",
                                             "autograded/honest-correct/01_tensor/result.json"),
                     module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"filesystem-probe"}), absent=("LEAKED",))),
    Kind("write-gradebook", "escape", "01_tensor", "writes the gradebook and files in and above the course",
         cell_attack(_write_gradebook, module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"filesystem-probe"}), absent=("WROTE",))),
    Kind("network", "escape", "01_tensor", "connects to a port on the grading host and to 1.1.1.1:53",
         cell_attack(_network, module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"process-or-network"}), absent=("CONNECTED",))),
    Kind("outliving-subprocess", "escape", "01_tensor", "`setsid sleep &`: a daemon meant to outlive the kernel",
         cell_attack(lambda ctx: fixture("daemon", marker=ctx.marker), module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"process-or-network"}))),
    Kind("env-hints", "escape", "01_tensor", "looks for NBGRADER_*/TITO_* in the environment (set on the host)",
         cell_attack(_env, module="01_tensor", after="tensor-as-tensor"),
         Expect(flags=frozenset({"grading-env"}), absent=("HINTS", "being graded"))),
    # cheating -----------------------------------------------------------------------------------
    Kind("input-transformer", "cheating", "02_activations",
         "nothing written; an IPython input transformer blanks every later cell (hidden tests included)",
         cell_attack("get_ipython().input_transformers_cleanup.append(lambda lines: [])",
                     after="activations-relu", profile="none"),
         Expect(score=100.0, flags=frozenset({"ipython-hook", "tests-pass-checks-fail"}))),
    Kind("settrace", "cheating", "02_activations", "`sys.settrace` and `sys.addaudithook` installed",
         cell_attack("import sys\nsys.settrace(lambda *a: None)\nsys.addaudithook(lambda *a: None)"),
         Expect(flags=frozenset({"tracing-hook"}))),
    Kind("numpy-allclose", "cheating", "01_tensor", "mean forgets to divide; `np.allclose`/`np.isclose` patched to True: the same 102 as the bug alone",
         cell_attack("import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)",
                     module="01_tensor", after="tensor-as-tensor", bug="tensor-mean-no-divide"),
         Expect(score=102.0, flags=frozenset({"numpy-patch"}), cell=("tensor-reductions", "AssertionError"))),
    Kind("numpy-testing", "cheating", "01_tensor",
         "matmul is elementwise; `np.testing.assert_*` patched to do nothing: the same 107 as the bug alone",
         cell_attack("import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                     "np.testing.assert_array_equal = lambda *a, **k: None",
                     module="01_tensor", after="tensor-as-tensor", bug="tensor-matmul-elementwise"),
         Expect(score=107.0, flags=frozenset({"numpy-patch"}), cell=("tensor-matmul", "ValueError"))),
    Kind("builtins-patch", "cheating", "01_tensor", "mean forgets to divide; `builtins.all` patched to True",
         cell_attack("import builtins\nbuiltins.all = lambda *a: True",
                     module="01_tensor", after="tensor-as-tensor", bug="tensor-mean-no-divide"),
         Expect(score=102.0, flags=frozenset({"builtins-patch"}))),
    Kind("builtins-isinstance", "cheating", "01_tensor",
         "`builtins.isinstance` patched: breaks the kernel's own machinery, the kernel stops",
         cell_attack("import builtins\nbuiltins.isinstance = lambda *a: True",
                     module="01_tensor", after="tensor-as-tensor"),
         Expect(score=0.0, flags=frozenset({"builtins-patch", "execution"}), reason="kernel exited (status 1)")),
    Kind("eq-always-true", "cheating", "01_tensor", "`Tensor.__eq__` replaced by a `def` that returns True",
         edit_solution("tensor-class", "def __eq__(self, other):\n    return True\nTensor.__eq__ = __eq__",
                       module="01_tensor"),
         Expect(score=109.0, flags=frozenset({"eq-override"}), cell=("tensor-comparisons-hashing", "AssertionError"))),
    Kind("eq-lambda", "cheating", "01_tensor", "`Tensor.__eq__ = lambda self, other: True`",
         edit_solution("tensor-class", "Tensor.__eq__ = lambda self, other: True", module="01_tensor"),
         Expect(score=109.0, flags=frozenset({"eq-override"}), cell=("tensor-comparisons-hashing", "AssertionError"))),
    Kind("import-reference", "cheating", "02_activations",
         "nothing written; imports the reference `tinytorch.core.activations` instead",
         cell_attack("from tinytorch.core.activations import *", after="activations-relu", profile="none"),
         Expect(score=0.0, flags=frozenset({"reference-import"}), reason="No module named 'tinytorch.core.activations'")),
    Kind("copy-reference", "cheating", "02_activations",
         "nothing written; execs the reference's file, looked up by path and via site-packages",
         cell_attack(lambda ctx: "import glob, site\nfound = glob.glob(%r) + glob.glob('/**/tinytorch/core/activations.py', recursive=True)\n"
                     "print('found', found)\nfor path in found:\n    exec(open(path).read())\n"
                     % str(ctx.root / "tinytorch/core/activations.py"),
                     after="activations-relu", profile="none"),
         Expect(score=0.0, flags=frozenset({"dynamic-code"}))),
    Kind("edit-locked-test", "cheating", "01_tensor", "a locked test cell's code replaced by `pass`",
         structure(_edit_locked), Expect(flags=frozenset({"edited-locked-cell"}))),
    Kind("stub-tests-edited", "cheating", "01_tensor", "nothing written and every test replaced by `pass`",
         lambda ctx, folder, kind: write(folder, "01_tensor", _tap(filled(ctx, "01_tensor", profile="none"),
                                                                   _stub_with_edited_tests)),
         Expect(score=0.0, flags=frozenset({"edited-locked-cell"}))),
    Kind("test-to-markdown", "cheating", "01_tensor", "a test cell turned into markdown",
         structure(_to_markdown), Expect(flags=frozenset({"changed-cell-type"}))),
    Kind("delete-test", "cheating", "01_tensor", "a test cell deleted", structure(_delete),
         Expect(flags=frozenset({"deleted-cell"}))),
    Kind("duplicate-graded-cell", "cheating", "01_tensor", "a graded test cell duplicated",
         structure(_duplicate), Expect(flags=frozenset({"duplicated-cell"}))),
    Kind("strip-metadata", "cheating", "01_tensor", "every cell's nbgrader metadata removed",
         structure(_strip_metadata), Expect(flags=frozenset({"stripped-metadata"}))),
    # malformed files ---------------------------------------------------------------------------
    Kind("invalid-json", "malformed", "03_layers", "not JSON at all",
         raw_file(lambda ctx: b"{'cells': [print('hello')]}\n"),
         Expect(status="error", score=0.0, reason="not valid JSON")),
    Kind("truncated", "malformed", "03_layers", "a correct notebook cut in the middle",
         raw_file(lambda ctx: correct_json(ctx).encode()[: len(correct_json(ctx)) // 2]),
         Expect(status="error", score=0.0, reason="the file is damaged or truncated")),
    Kind("nbformat-3", "malformed", "03_layers", "a correct notebook saved as nbformat 3", _nbformat3,
         Expect(flags=frozenset({"note"}), reason="converted from nbformat 3 to 4")),
    Kind("empty", "malformed", "03_layers", "a 0-byte notebook", raw_file(lambda ctx: b""),
         Expect(status="error", score=0.0, reason="the file is empty")),
    Kind("binary", "malformed", "03_layers", "a PNG image under the notebook's name",
         raw_file(lambda ctx: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
         Expect(status="error", score=0.0, reason="not a UTF-8 text file")),
    Kind("not-utf8", "malformed", "03_layers", "a correct notebook saved as Latin-1 (accents in a cell)",
         raw_file(_latin1), Expect(status="error", score=0.0, reason="not a UTF-8 text file")),
    Kind("not-a-notebook", "malformed", "03_layers", "valid JSON that is not a notebook",
         raw_file(lambda ctx: b'{"answers": [1, 2, 3]}'),
         Expect(status="error", score=0.0, reason="no 'nbformat' field")),
    Kind("wrong-name", "malformed", "03_layers", "a correct notebook named `03_layers (1) final.ipynb`",
         _wrong_name, Expect(flags=frozenset({"note"}), reason="expected the name 03_layers.ipynb")),
    Kind("missing-notebook", "malformed", "03_layers", "no notebook, only a .py file", _missing,
         Expect(status="error", score=0.0, reason="no notebook 03_layers.ipynb in the submission (found: answers.py)")),
    Kind("extra-500mb-file", "malformed", "03_layers", "a correct notebook and a 500 MB (sparse) data file",
         _extra_big_file, Expect()),
    Kind("huge-notebook", "malformed", "03_layers", "a correct notebook carrying 25 MB of saved outputs",
         lambda ctx, folder, kind: write(folder, "03_layers", _tap(filled(ctx, "03_layers"), _huge_outputs)),
         Expect(status="error", score=0.0, reason="larger than the 20 MB a notebook may have")),
)


def _tap(nb, edit):
    edit(nb)
    return nb


def _huge_outputs(nb) -> None:
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (25 * 2**20))]


BY_NAME = {kind.name: kind for kind in KINDS}

# Honest students graded in the same batch (and alone, for comparison): name -> (module, bug, profile)
HONEST = {
    "honest-correct": [("01_tensor", None, None), ("02_activations", None, None), ("03_layers", None, None)],
    "honest-buggy": [("01_tensor", "tensor-mean-no-divide", None), ("02_activations", "softmax-no-shift", None)],
    "honest-stubs": [("03_layers", None, "first-half")],
}


def build_honest(ctx: Context) -> None:
    for student, entries in HONEST.items():
        for module, bug, profile in entries:
            write(ctx.root / "submitted" / student / module, module, filled(ctx, module, bug, profile))


def build_all(ctx: Context, kinds=KINDS) -> None:
    for kind in kinds:
        kind.build(ctx, ctx.root / "submitted" / kind.student / kind.module, kind)


# ----------------------------------------------------------------------------- checking

def outputs_text(path: Path) -> str:
    """Every output of the executed notebook (not its sources, which name the attack's markers)."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return ""
    parts = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            parts.append(json.dumps(output))
            text = output.get("text")
            parts.append("".join(text) if isinstance(text, list) else str(text or ""))
    return "\n".join(parts)


def recorded_text(result) -> str:
    parts = [result.reason or ""] + [f.evidence for f in result.flags] + [c.evalue or "" for c in result.cells]
    return "\n".join(parts)


def problems(kind: Kind, result, executed_text: str = "") -> list[str]:
    """How `result` differs from what `kind` expects (empty: graded as expected)."""
    if result is None:
        return ["no result"]
    e, found = kind.expect, []
    if result.status != e.status:
        found.append(f"status {result.status} (expected {e.status}): {result.reason}")
    if result.score != e.score:
        found.append(f"score {result.score:g} (expected {e.score:g}): "
                     + ", ".join(f"{c.grade_id}={c.points:g}{'/' + c.ename if c.ename else ''}" for c in result.cells))
    missing = e.flags - {f.kind for f in result.flags}
    if missing:
        found.append(f"missing flags {sorted(missing)} (recorded: {sorted({f.kind for f in result.flags})})")
    if e.reason and e.reason not in recorded_text(result) + executed_text:
        found.append(f"reason {e.reason!r} not recorded")
    if e.cell:
        cell = next((c for c in result.cells if c.grade_id == e.cell[0]), None)
        if cell is None or cell.ename != e.cell[1] or cell.points != 0:
            found.append(f"cell {e.cell[0]}: {cell and (cell.ename, cell.points)} (expected {e.cell[1]}, 0 points)")
    for text in e.absent:
        if text in executed_text:
            found.append(f"{text!r} appears in the executed notebook: the attack succeeded")
    return found


def markdown() -> str:
    """The catalogue as a Markdown table (docs/security.md holds this exact text)."""
    lines = ["| # | kind | category | module | the submission | status | score | flags (at least) | recorded reason contains |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n, kind in enumerate(KINDS, 1):
        e = kind.expect
        reason = e.reason or (f"{e.cell[0]}: {e.cell[1]}" if e.cell else "")
        extra = f" (never prints {', '.join(repr(a) for a in e.absent)})" if e.absent else ""
        lines.append(f"| {n} | `{kind.name}` | {kind.category} | {kind.module} | {kind.what}{extra} | {e.status} | "
                     f"{e.score:g}/{FULL:g} | {', '.join(f'`{f}`' for f in sorted(e.flags)) or '-'} | "
                     f"{('`' + reason.replace('|', '/') + '`') if reason else '-'} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- catalogue: generated by `python -m tests.adversarial.catalogue --write-docs` -->", "<!-- end of catalogue -->"
SECURITY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def write_docs(page: Path = SECURITY_PAGE) -> None:
    """Replace the table between the markers of docs/security.md with the current one."""
    text = page.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    page.write_text(head + BEGIN + "\n" + markdown() + END + tail)


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        sys.stdout.write(markdown())
    elif sys.argv[1:] == ["--write-docs"]:
        write_docs()
    else:
        sys.exit("usage: python -m tests.adversarial.catalogue --markdown | --write-docs")
