"""The adversarial catalogue: hostile and broken submissions, each with its expected outcome.

Every kind is a submission folder built from the REAL release of a real module (01_tensor,
02_activations, 03_layers: cheap to grade): a correctly filled notebook (`tito.synth`), then the
attack injected into a solution cell or an added cell, or the file itself broken. Each kind says
what grading must record for it: status, exact score, flag kinds, a substring of the recorded
reason (the result's reason, a flag's evidence, a graded cell's or a case's message) and, for
escape attempts, strings that must never appear in the executed notebook (proof the attempt failed).

Two categories state their expectation by comparison instead of a typed number. A `forgery` kind
is built on a `Base` (a notebook with nothing written or a catalogued bug) and its score is its
TWIN's: a student who submits the same base without the attack, graded in the same batch; every
graded cell must score the same, and each cell the attack made pass in the notebook must be
flagged `tests-pass-checks-fail`. A `secrets` kind runs in a second course (`COURSES`) where an
earlier module is unpublished and students' own work stands in; what it printed is decoded and
searched for secrets (`tests/adversarial/secrets.py`).

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
# relu (10) and sigmoid (15) tests have already run and passed. A kernel that dies there keeps
# those 25 points and loses every later test cell (nbgrader's rule: a cell that did not run scores
# 0), but not the checkpoint's 20: its cases ran before the notebook, and they decide it.
AFTER_TANH = "activations-tanh"
BEFORE_DEATH = 25.0 + 20.0


@dataclass(frozen=True)
class Expect:
    status: str = "graded"  # "graded" | "error"
    score: float | None = FULL  # exact (None: computed, the twin's, see `twin`)
    flags: frozenset[str] = frozenset()  # flag kinds that must be recorded (others may be too)
    reason: str | None = None  # substring of the reason, a flag's evidence, a graded cell's message
    #                            or the executed notebook's outputs (what the student sees)
    cell: tuple[str, str] | None = None  # (grade_id, ename): that graded cell failed this way
    absent: tuple[str, ...] = ()  # never in the executed notebook: the attack's success markers
    twin: bool = False  # every graded cell scores exactly what the kind's base notebook WITHOUT
    #                     the attack scores (its twin student, graded in the same batch), and each
    #                     cell the attack made pass in the notebook is flagged tests-pass-checks-fail
    forges: bool = False  # (twin kinds) the attack makes at least one cell that fails in the twin
    #                       pass in the notebook: the notebook's verdict really was forged
    ran: str | None = None  # printed by the attack when it ran to its end (proof it was tried)
    secrets: bool = False  # the executed notebook and the feedback page are decoded (base64, zlib,
    #                        hex, reversal) and searched for every secret (see tests/adversarial/secrets.py)
    decoded: str | None = None  # public text the decoded outputs must hold: proof the decoding sees
    #                             what the attack sent out


@dataclass(frozen=True)
class Context:
    """What building a submission may need to know about the course it is graded in."""

    root: Path  # the throwaway course
    marker: str  # a number: attack processes are named `sleep <marker>` so the host can find them
    port: int  # a port the host listens on during the batch (the network attack aims at it)
    course: str = "main"  # which of the batch's courses this is (see COURSES)


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    module: str
    what: str
    build: Callable[[Context, Path, "Kind"], None] = field(repr=False)
    expect: Expect
    base: "Base | None" = None  # the notebook the attack is added to (twin kinds)
    course: str = "main"

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


# The courses a batch grades. "main": the modules before 03_layers are published (grading a
# module needs its earlier modules' reference, and only a published one may enter a sandbox).
# "secrets": only 01_tensor is published and the course grades against each student's own
# earlier work (c.Grading.earlier_modules = "student"): 02_activations' reference is a secret
# there, like the reference of the module under grade.
COURSES = {
    "main": {"published": ("01_tensor", "02_activations"), "earlier_modules": "published"},
    "secrets": {"published": ("01_tensor",), "earlier_modules": "student"},
}


@dataclass(frozen=True)
class Base:
    """A notebook an attack is added to: a module filled in correctly, with a catalogued bug, or
    up to a stub profile; `earlier` are the student's own submissions of earlier modules (for a
    course that grades against them). Its twin student submits exactly this, without the attack."""

    module: str
    bug: str | None = None
    profile: str | None = None
    earlier: tuple[tuple[str, str | None, str | None], ...] = ()  # (module, bug, profile)

    @property
    def twin(self) -> str:
        return "twin-" + "-".join([self.module, self.bug or "nobug", self.profile or "full"]
                                  + [e[0] for e in self.earlier])

    def notebook(self, ctx: Context) -> nbformat.NotebookNode:
        return filled(ctx, self.module, self.bug, self.profile)

    def write(self, ctx: Context, student: str, nb: nbformat.NotebookNode | None = None) -> None:
        write(ctx.root / "submitted" / student / self.module, self.module, nb or self.notebook(ctx))
        for module, bug, profile in self.earlier:
            write(ctx.root / "submitted" / student / module, module, filled(ctx, module, bug, profile))


def attacked(base: Base, *edits: Callable[[Context, nbformat.NotebookNode], None]):
    """`base` with each edit applied (cells added, code appended to a cell), then written."""
    def build(ctx: Context, folder: Path, kind: Kind) -> None:
        nb = base.notebook(ctx)
        for edit in edits:
            edit(ctx, nb)
        base.write(ctx, kind.student, nb)
    return build


def cell(source: str | Callable[[Context], str], after: str):
    """An edit: a new code cell after the cell `after` (a grade id) and the cells added there
    before it."""
    def edit(ctx: Context, nb) -> None:
        at = index_of(nb, after) + 1
        while at < len(nb.cells) and str(nb.cells[at].get("id", "")).startswith("attack-"):
            at += 1
        nb.cells.insert(at, nbformat.v4.new_code_cell(source(ctx) if callable(source) else source,
                                                      id=f"attack-{at}"))
    return edit


def append(grade_id: str, source: str | Callable[[Context], str]):
    """An edit: code appended to the cell `grade_id` (a solution cell: an export cell's code also
    runs when the case runner imports the student's module, before any notebook cell)."""
    def edit(ctx: Context, nb) -> None:
        nb.cells[index_of(nb, grade_id)].source += "\n" + (source(ctx) if callable(source) else source)
    return edit


def twins(kinds=None) -> dict[str, Base]:
    """The twin students the twin kinds of `kinds` need: name -> base."""
    return {k.base.twin: k.base for k in (KINDS if kinds is None else kinds) if k.expect.twin and k.base}


def course_paths(ctx: Context) -> list[str]:
    """Where the course's secrets are on the grading host, and relative paths a scratch
    directory inside the course would reach them by."""
    relative = [".tito/course-secret", "source/03_layers/03_layers.py", "source/02_activations/02_activations.py",
                "tinytorch/core/layers.py", "tinytorch/core/activations.py", "gradebook.db", "release/_reference"]
    return ([str(ctx.root / r) for r in relative] + [f"{up}{r}" for up in ("../", "../../", "../../../../")
                                                      for r in relative])


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


# ----------------------------------------------------------------------------- forgery and secrets

# Bases: the same notebooks, without the attack, are submitted by twin students in the same batch.
STUBS_02 = Base("02_activations", profile="none")  # nothing written: every test fails
SOFTMAX_02 = Base("02_activations", bug="softmax-no-shift")  # softmax overflows: one test fails
MEAN_01 = Base("01_tensor", bug="tensor-mean-no-divide")  # mean forgets to divide: one test fails
# in the secrets course: nothing written in 03_layers, and the student's own 02_activations (also
# nothing written) stands in for the unpublished reference of 02_activations
SECRET_03 = Base("03_layers", profile="none", earlier=(("02_activations", None, "none"),))
FIRST_02, FIRST_01 = "activations-relu", "tensor-as-tensor"  # last cells before the first test
FORGES = Expect(score=None, twin=True, forges=True)  # forges the notebook's verdicts, gains nothing
TRIES = Expect(score=None, twin=True)  # fails even in the notebook, gains nothing


def _channel(ending: str) -> str:
    return "# FORGE-CHANNEL\n" + fixture("forge_channel") + "\n" + ending


PLANT = ("import IPython\n"
         "def _forget(result):\n"
         "    result.error_before_exec = result.error_in_exec = None\n"
         "IPython.get_ipython().events.register('post_run_cell', _forget)\n"
         "print('PLANT SURVIVED')\n")
PLANT_IN_EXPORT = ("import os as _os\n"
                   "if 'get_ipython' not in globals():  # the cases phase: leave a module for the cells\n"
                   "    for _folder in ('/scratch', '/tmp', '/dev/shm', _os.getcwd(), _os.path.expanduser('~')):\n"
                   "        try:\n"
                   "            with open(_os.path.join(_folder, 'forged_verdicts.py'), 'w') as _f:\n"
                   f"                _f.write({PLANT!r})\n"
                   "        except OSError:\n"
                   "            pass\n")


IMPORT_PLANT = ("import sys\n"
                "sys.path[:0] = ['/scratch', '/tmp', '/dev/shm', '.']\n"
                "try:\n"
                "    import forged_verdicts\n"
                "except ImportError as error:\n"
                "    print('no plant:', error)\n")

PLANT_BY_CELL = ("import os\n"
                 "os.makedirs('/scratch/.ipython/profile_default/startup', exist_ok=True)\n"
                 "forged = ('import IPython\\n'\n"
                 "          'def _forget(result):\\n'\n"
                 "          '    result.error_before_exec = result.error_in_exec = None\\n'\n"
                 "          'IPython.get_ipython().events.register(\"post_run_cell\", _forget)\\n')\n"
                 "for path in ['/scratch/forged_by_cell.py', '/scratch/sitecustomize.py', '/scratch/usercustomize.py',\n"
                 "             '/scratch/.ipython/profile_default/startup/00-forge.py']:\n"
                 "    with open(path, 'w') as f:\n"
                 "        f.write(forged)\n")


# what the secrets kinds make raise in 03_layers (the functions its tests and cases call)
LAYERS_TARGETS = ("[(Module, ('parameters', 'zero_grad')), (Dense, ('__init__', 'forward')), "
                  "(Sequential, ('__init__', 'forward'))]")


FORGERY: tuple[Kind, ...] = (
    Kind("transformer-by-name", "forgery", "02_activations",
         "nothing written; an input transformer that blanks every later cell, reached through "
         "`globals()['get_' + 'ipython']()` and `getattr` with the name built from strings",
         attacked(STUBS_02, cell('shell = globals()["get_" + "ipython"]()\n'
                                 'getattr(shell, "input_" + "transformers_" + "cleanup").append(lambda lines: [])',
                                 FIRST_02)),
         FORGES, STUBS_02),
    Kind("transformer-via-builtins", "forgery", "02_activations",
         "nothing written; `exec` taken from `globals()['__builtins__']` installs a post-transformer "
         "that blanks every later cell",
         attacked(STUBS_02, cell('b = globals()["__builtins__"]\nb = b if isinstance(b, dict) else vars(b)\n'
                                 'b["ex" + "ec"]("get_ipython().input_transformers_post.append(lambda lines: [])")',
                                 FIRST_02)),
         FORGES, STUBS_02),
    Kind("transformer-escaped-call", "forgery", "02_activations",
         "softmax overflows; IPython's escaped-call syntax `/exec \"get_ipython()...\"` installs a "
         "transformer that blanks every later cell",
         # no whitespace inside: IPython splits an escaped call's arguments at it, quotes or not
         attacked(SOFTMAX_02, cell('/exec "get_ipython().input_transformers_cleanup.append(lambda*_:[])"',
                                   FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("transformer-behind-time", "forgery", "02_activations",
         "nothing written; the transformer installed behind a harmless `%time` line magic",
         attacked(STUBS_02, cell('%time getattr(get_ipython(), "input_transformers_" + "post")'
                                 '.append(lambda lines: [])', FIRST_02)),
         FORGES, STUBS_02),
    Kind("post-run-cell-behind-capture", "forgery", "02_activations",
         "softmax overflows; under `%%capture`, a `post_run_cell` event handler clears every "
         "cell's error from its result",
         attacked(SOFTMAX_02, cell("%%capture\ndef _forget(result):\n"
                                   "    result.error_before_exec = result.error_in_exec = None\n"
                                   "get_ipython().events.register('post_run_cell', _forget)", FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("run-cell-replaced", "forgery", "02_activations",
         "softmax overflows; `setattr(shell, 'run' + '_cell', ...)`: the shell's run_cell wrapped to "
         "drop every error",
         attacked(SOFTMAX_02, cell("_shell = get_ipython()\n_run = getattr(_shell, 'run' + '_cell')\n"
                                   "def _forged(raw_cell, *args, **kwargs):\n"
                                   "    result = _run(raw_cell, *args, **kwargs)\n"
                                   "    result.error_in_exec = result.error_before_exec = None\n"
                                   "    return result\n"
                                   "setattr(_shell, 'run' + '_cell', _forged)", FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("custom-exc-and-showtraceback", "forgery", "02_activations",
         "nothing written; `set_custom_exc` swallows every exception and `showtraceback` is replaced",
         attacked(STUBS_02, cell("shell = get_ipython()\n"
                                 "shell.set_custom_exc((BaseException,), lambda self, etype, value, tb, tb_offset=None: None)\n"
                                 "setattr(shell, 'show' + 'traceback', lambda *a, **k: None)\n"
                                 "setattr(shell, '_show' + 'traceback', lambda *a, **k: None)", FIRST_02)),
         TRIES, STUBS_02),
    Kind("ast-transformer", "forgery", "02_activations",
         "softmax overflows; an AST transformer wraps every later cell in `try/except BaseException` "
         "and turns its asserts into `pass`",
         attacked(SOFTMAX_02, cell(fixture("forge_ast"), FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("assertion-machinery", "forgery", "01_tensor",
         "mean forgets to divide; every `numpy.testing.assert_*`, numpy's and math's comparisons, "
         "unittest's asserts and `builtins.AssertionError` patched (names built from strings)",
         attacked(MEAN_01, cell(fixture("forge_asserts"), FIRST_01)),
         TRIES, MEAN_01),
    Kind("settrace-jumps-asserts", "forgery", "01_tensor",
         "mean forgets to divide; a `sys.settrace` function jumps over every `assert` of the tests "
         "(`frame.f_lineno`)",
         attacked(MEAN_01, cell(fixture("forge_settrace"), FIRST_01)),
         FORGES, MEAN_01),
    Kind("planted-module-from-cases", "forgery", "02_activations",
         "nothing written; the export cell, run by the case runner before the notebook, writes a "
         "module that forges verdicts to every writable folder; a later cell imports it",
         attacked(STUBS_02, append("activations-relu", PLANT_IN_EXPORT), cell(IMPORT_PLANT, FIRST_02)),
         Expect(score=None, twin=True, absent=("PLANT SURVIVED",)), STUBS_02),
    Kind("planted-module-by-cell", "forgery", "02_activations",
         "softmax overflows; a cell writes a verdict-forging module (and sitecustomize, usercustomize, "
         "an IPython startup file), a later cell imports it",
         attacked(SOFTMAX_02, cell(PLANT_BY_CELL, FIRST_02),
                  cell(IMPORT_PLANT.replace("forged_verdicts", "forged_by_cell"), FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("channel-forged-lines", "forgery", "02_activations",
         "nothing written; \"done, no error\" for this and every later cell, then \"end\", written "
         "straight to the runner's channel (a pipe found in /proc/self/fd)",
         attacked(STUBS_02, cell(_channel("_forge()"), FIRST_02)),
         FORGES, STUBS_02),
    Kind("channel-then-os-exit", "forgery", "02_activations",
         "softmax overflows; the forged lines on the channel, then `os._exit(0)` before the runner "
         "can say anything else",
         attacked(SOFTMAX_02, cell(_channel("_forge()\n_os._exit(0)"), FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("emit-patched-via-gc", "forgery", "02_activations",
         "softmax overflows; the runner's `emit`, found with `gc.get_objects()`, gets a new `__code__` "
         "that reports every cell as passed",
         attacked(SOFTMAX_02, cell(fixture("forge_emit"), FIRST_02)),
         FORGES, SOFTMAX_02),
    Kind("runner-cells-rewritten", "forgery", "02_activations",
         "nothing written; the runner's list of cells, looked for up `sys._getframe()` and "
         "`sys._current_frames()`, found with `gc.get_objects()`: every later cell's code becomes `pass`",
         attacked(STUBS_02, cell("# FORGE-CELLS\n" + fixture("forge_cells"), FIRST_02)),
         FORGES, STUBS_02),
    Kind("ptrace-the-runner", "forgery", "02_activations",
         "nothing written; a child process tries PTRACE_ATTACH and /proc/<ppid>/mem on the runner "
         "and on pid 1",
         attacked(STUBS_02, cell(fixture("forge_ptrace"), FIRST_02)),
         Expect(score=None, twin=True, absent=("ATTACHED", "MEM OPEN"), ran="ptrace refused"), STUBS_02),
    Kind("atexit-forged-lines", "forgery", "02_activations",
         "nothing written; an `atexit` handler writes the forged lines, then `Py_Exit(0)` (through "
         "ctypes) ends the interpreter so that it runs",
         attacked(STUBS_02, cell(_channel("import atexit, ctypes\natexit.register(_forge)\n"
                                          "ctypes.pythonapi.Py_Exit(0)"), FIRST_02)),
         FORGES, STUBS_02),
)


def _leak_cell(name: str, after: str = "layers-module", **values):
    return attacked(SECRET_03, cell(lambda ctx: fixture(name, **{k: (v(ctx) if callable(v) else v)
                                                                 for k, v in values.items()}), after))


SPEC_LINE = "case = registry(CASES)"  # in every spec (public): /scratch/runner/cases.py holds it
CELL_LINE = "#| default_exp core.layers"  # the release's first code cell (public): cells.json holds it
SECRETS: tuple[Kind, ...] = tuple(
    Kind(name, "secrets", "03_layers", what, build,
         Expect(score=None, twin=True, secrets=True, ran=ran, decoded=decoded), SECRET_03, course="secrets")
    for name, what, build, ran, decoded in (
        ("leak-cell-text", "`In`, `_ih`, every frame's locals up the stack, the runner's cells.json: base64",
         _leak_cell("leak_cell_text"), "LEAK-CELL-TEXT", CELL_LINE),
        ("leak-scratch", "every file of the working directory and its read-only mounts (runner, spec, "
         "modules): zlib + base64", _leak_cell("leak_scratch"), "LEAK-SCRATCH", SPEC_LINE),
        ("leak-filesystem", "walks `/` (all but /proc, /sys, /dev, /usr, the interpreter), globs "
         "`tinytorch/core/*.py`, opens the course's files by path: zlib + hex",
         _leak_cell("leak_filesystem", course_paths=lambda ctx: repr(course_paths(ctx))), "LEAK-FILESYSTEM", SPEC_LINE),
        ("leak-environment", "the environment, `/proc/<pid>/environ`, `cmdline`, `status` of every "
         "visible process (pid 1, the parent): each line reversed", _leak_cell("leak_environment"),
         "LEAK-ENVIRONMENT", "PYTHONPATH=/scratch/lib"),
        ("leak-memory", "the memory of every other visible process (`/proc/<pid>/maps` and `mem`): "
         "its strings, zlib + base64", _leak_cell("leak_memory"), "LEAK-MEMORY", None),
        ("leak-gc", "every string the runner's process holds (`gc.get_objects()`): zlib + base64",
         _leak_cell("leak_gc"), "LEAK-GC", CELL_LINE),
        ("leak-cases-phase", "code in the export cell, run by the case runner: its argv, environment, "
         "frames (spec, seed, values) and files, sent out in pieces as the cases' error messages",
         attacked(SECRET_03, append("layers-sequential", lambda ctx: fixture("leak_cases_phase",
                                                                             targets=LAYERS_TARGETS))),
         "RuntimeError: LEAK", '"argv"'),
        ("leak-display-and-errors", "the course secret, source, reference and gradebook by path, the "
         "working directory: as an image output (dropped: no PNG), as text (base64) and in every later test's error (hex)",
         _leak_cell("leak_display", after="layers-sequential", course_paths=lambda ctx: repr(course_paths(ctx)),
                    targets=LAYERS_TARGETS), "LEAK-DISPLAY", SPEC_LINE),
    ))


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
    Kind("countless-outputs", "resources", "02_activations",
         "displays 100,000 numbers and 1 MB of control characters (6 bytes each in the runner's report)",
         cell_attack("import sys\nfrom IPython.display import display\nfor i in range(100_000):\n    display(i)\n"
                     "sys.stdout.write('\\x01' * 2**21)\ndisplay('\\x04' * 2**20)"),
         Expect(reason="[... further displayed outputs dropped by the grader ...]")),
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
         "softmax kills its own process (SIGKILL) when a test calls it (and when a case does: the "
         "checkpoint keeps 13 of 20)",
         edit_solution("activations-softmax",
                       "_softmax = softmax\ndef softmax(x, axis=-1):\n    import os, signal\n"
                       "    os.kill(os.getpid(), signal.SIGKILL)\n"),
         Expect(score=63.0, flags=frozenset({"execution", "process-or-network"}),
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
         "nothing written; an IPython input transformer blanks every later cell: 0, as the same notebook without it",
         cell_attack("get_ipython().input_transformers_cleanup.append(lambda lines: [])",
                     after="activations-relu", profile="none"),
         Expect(score=0.0, twin=True, forges=True, flags=frozenset({"ipython-hook", "tests-pass-checks-fail"})),
         STUBS_02),
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
         "`builtins.isinstance` patched: breaks the kernel's own machinery, the kernel stops before "
         "the first test (the checkpoint's 20 come from its cases, which ran before the notebook)",
         cell_attack("import builtins\nbuiltins.isinstance = lambda *a: True",
                     module="01_tensor", after="tensor-as-tensor"),
         Expect(score=20.0, flags=frozenset({"builtins-patch", "execution"}), reason="kernel exited (status 1)")),
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
    Kind("import-other-libraries", "cheating", "02_activations",
         "imports torch, scipy, scikit-learn, sympy and pandas to hand the work to them",
         cell_attack("for name in ('torch', 'scipy', 'sklearn', 'sympy', 'pandas'):\n"
                     "    try:\n        __import__(name)\n        print('IMPORTED', name)\n"
                     "    except ImportError as error:\n        print(type(error).__name__, error)"),
         Expect(absent=("IMPORTED",), reason="ModuleNotFoundError No module named 'torch'")),
    Kind("site-packages-on-sys-path", "escape", "02_activations",
         "puts the host's site-packages folders on sys.path, then imports scipy",
         cell_attack("import site, sys, sysconfig\n"
                     "folders = site.getsitepackages() + [sysconfig.get_paths()['purelib'], '/usr/lib/python3/dist-packages']\n"
                     "sys.path.extend(folders)\n"
                     "try:\n    import scipy\n    print('IMPORTED scipy', scipy.__file__)\n"
                     "except ImportError as error:\n    print(type(error).__name__, error)"),
         Expect(absent=("IMPORTED",), reason="ModuleNotFoundError No module named 'scipy'")),
    Kind("allow-list-off", "markup", "01_tensor",
         "widens the runner's output allow-list through gc, then shows HTML, JavaScript and SVG outputs and an HTML value",
         cell_attack("import gc\nfrom IPython.display import HTML, Javascript, SVG, display\n"
                     "for holder in gc.get_objects():\n"
                     "    if isinstance(holder, dict) and isinstance(holder.get('KEEP_MIMETYPES'), tuple):\n"
                     "        holder['KEEP_MIMETYPES'] = ('text/plain', 'image/png', 'text/html', 'application/javascript',\n"
                     "                                    'image/svg+xml')\n"
                     "display(HTML('<b>PWNED-HTML</b><script>window.__pwned = 1</script>'))\n"
                     "display(Javascript('window.__pwned = 2'))\n"
                     "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"window.__pwned = 3\"></svg>'))\n"
                     "HTML('<img src=x onerror=\"window.__pwned = 4\">')",
                     module="01_tensor", after="tensor-as-tensor"),
         Expect(absent=("text/html", "application/javascript", "image/svg+xml", "__pwned"))),
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
    Kind("markup-bomb", "resources", "01_tensor",
         "markdown cells of 200,000 nested `<div>` (1 MB) and eight of 6,000 bold words each (cleaning nested tags grows with their square)",
         structure(lambda nb: _markup_bomb(nb)), Expect()),
    Kind("deep-expression", "malformed", "01_tensor",
         "an added cell `x = 1 + 1 + ...` of 200,000 terms, too deep for Python's parser (no kernel can compile it)",
         cell_attack("x = " + " + ".join(["1"] * 200_000), module="01_tensor", after="tensor-as-tensor"),
         Expect(reason="RecursionError")),
    Kind("deep-attributes", "malformed", "01_tensor",
         "an added cell `y = a.b.b...` 2,000 attributes deep: it parses, but is too deep to walk recursively",
         cell_attack("y = a" + ".b" * 2000, module="01_tensor", after="tensor-as-tensor"),
         Expect()),
    Kind("metadata-garbage", "malformed", "03_layers",
         "nbgrader metadata that is a string and a list, a grade_id that is a list, added cells with a number as "
         "source, a raw format that is a number and a v3 heading cell",
         raw_file(lambda ctx: _garbage_fields(correct_json(ctx)).encode()),
         Expect(flags=frozenset({"stripped-metadata"}))),
    Kind("lone-surrogates", "malformed", "03_layers",
         "a correct notebook with an added cell and a markdown cell holding `\\ud800` (half a UTF-16 pair: valid JSON, no valid text)",
         raw_file(lambda ctx: _with_lone_surrogates(correct_json(ctx)).encode()),
         Expect(flags=frozenset({"note"}), reason="2 invalid character(s) replaced by U+FFFD")),
    Kind("deep-json", "malformed", "03_layers", "a correct notebook whose added cell's metadata nests 100,000 lists",
         raw_file(lambda ctx: _nested_metadata(correct_json(ctx), 100_000).encode()),
         Expect(status="error", score=0.0, reason="JSON nested too deeply to read")),
    Kind("deep-metadata", "malformed", "03_layers",
         "a correct notebook whose added cell's metadata nests 500 lists (JSON reads it, nbformat's validation cannot)",
         raw_file(lambda ctx: _nested_metadata(correct_json(ctx), 500).encode()),
         Expect(status="error", score=0.0, reason="JSON nested too deeply to read")),
    Kind("huge-notebook", "malformed", "03_layers", "a correct notebook carrying 25 MB of saved outputs",
         lambda ctx, folder, kind: write(folder, "03_layers", _tap(filled(ctx, "03_layers"), _huge_outputs)),
         Expect(status="error", score=0.0, reason="larger than the 20 MB a notebook may have")),
) + FORGERY + SECRETS


def _markup_bomb(nb) -> None:
    nb.cells.append(nbformat.v4.new_markdown_cell("<div>" * 200_000, id="markup-bomb-nested"))
    nb.cells.extend(nbformat.v4.new_markdown_cell(f"part {i}: " + "<b>x</b> " * 6_000, id=f"markup-bomb-{i}")
                    for i in range(8))


def _garbage_fields(notebook_json: str) -> str:
    data = json.loads(notebook_json)
    cells = data["cells"]
    graded = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    solutions = [c for c in cells if c["metadata"].get("nbgrader", {}).get("solution")]
    solutions[0]["metadata"]["nbgrader"] = "solution please"
    graded[-1]["metadata"]["nbgrader"]["grade_id"] = ["not", "an", "id"]
    graded[-2]["metadata"]["nbgrader"] = [1, 2]
    cells += [{"cell_type": "code", "id": "garbage-code", "metadata": {"nbgrader": 5}, "execution_count": "7",
               "outputs": [], "source": 5},
              {"cell_type": "raw", "id": "garbage-raw", "metadata": {"format": 5}, "source": "raw"},
              {"cell_type": "heading", "id": "garbage heading", "metadata": {}, "level": 1, "source": "Old"}]
    return json.dumps(data)


def _with_lone_surrogates(notebook_json: str) -> str:
    data = json.loads(notebook_json)
    data["cells"].append({"cell_type": "code", "execution_count": None, "id": "lone-code", "outputs": [],
                          "metadata": {}, "source": "half = '@@'"})
    data["cells"].append({"cell_type": "markdown", "id": "lone-text", "metadata": {}, "source": "my @@ answer"})
    return json.dumps(data).replace("@@", "\\ud800")


def _nested_metadata(notebook_json: str, depth: int) -> str:
    """The notebook with one more code cell whose metadata holds lists `depth` deep."""
    data = json.loads(notebook_json)
    data["cells"].append({"cell_type": "code", "execution_count": None, "id": "deep-metadata", "outputs": [],
                          "metadata": {"nesting": "@@"}, "source": "print('deep')"})
    return json.dumps(data).replace('"@@"', "[" * depth + "]" * depth)


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
    """The submissions of `kinds` that belong to `ctx`'s course, and their twins."""
    mine = [kind for kind in kinds if kind.course == ctx.course]
    for kind in mine:
        kind.build(ctx, ctx.root / "submitted" / kind.student / kind.module, kind)
    for student, base in twins(mine).items():
        base.write(ctx, student)


def expected_submissions(course: str = "main", kinds=KINDS) -> set[tuple[str, str]]:
    """(student, module) of every submission graded in `course`'s batch (earlier modules that
    only stand in for the student's own work are not graded)."""
    mine = [kind for kind in kinds if kind.course == course]
    found = {(k.student, k.module) for k in mine} | {(s, b.module) for s, b in twins(mine).items()}
    if course == "main":
        found |= {(s, m) for s, entries in HONEST.items() for m, _, _ in entries}
    return found


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
    parts = ([result.reason or ""] + [f.evidence for f in result.flags] + [c.evalue or "" for c in result.cells]
             + [c.message for c in result.checks])
    return "\n".join(parts)


def twin_problems(kind: Kind, result, twin) -> list[str]:
    """A twin kind: the same score as its twin in every graded cell, and a tests-pass-checks-fail
    flag for every cell that passed in the notebook only because of the attack (it failed in the
    twin's) while its cases disagree with the reference."""
    if twin is None:
        return [f"no result for the twin {kind.base.twin}"]
    if twin.status != "graded":
        return [f"the twin {kind.base.twin} was not graded: {twin.reason}"]
    found = []
    mine, theirs = {c.grade_id: c for c in result.cells}, {c.grade_id: c for c in twin.cells}
    if list(mine) != list(theirs):
        return [f"graded cells {list(mine)} differ from the twin's {list(theirs)}"]
    gained = [f"{g}: {mine[g].points:g} (twin {theirs[g].points:g})" for g in mine if mine[g].points != theirs[g].points]
    if gained:
        found.append("per-cell scores differ from the unattacked twin's: " + ", ".join(gained))
    flagged = {f.evidence.split(" ", 1)[0] for f in result.flags if f.kind == "tests-pass-checks-fail"}
    failed_cases = {c.cell for c in result.checks if not c.passed}
    forged = [g for g in mine if mine[g].notebook_passed and not theirs[g].notebook_passed and g in failed_cases]
    unflagged = [g for g in forged if g not in flagged]
    if unflagged:
        found.append(f"cells forged to pass in the notebook without a tests-pass-checks-fail flag: {unflagged}")
    if kind.expect.forges and not forged:
        found.append("no cell was forged to pass in the notebook: the attack no longer fools the notebook's own "
                     "verdicts (the kind proves nothing until it does again: update it)")
    return found


def problems(kind: Kind, result, executed_text: str = "", twin=None) -> list[str]:
    """How `result` differs from what `kind` expects (empty: graded as expected); `twin` is the
    result of the kind's twin (twin kinds only)."""
    if result is None:
        return ["no result"]
    e, found = kind.expect, []
    if result.status != e.status:
        found.append(f"status {result.status} (expected {e.status}): {result.reason}")
    if e.twin and result.status == "graded":
        found += twin_problems(kind, result, twin)
    if e.ran and e.ran not in recorded_text(result) + executed_text:
        found.append(f"{e.ran!r} is nowhere in the results: the attack did not run to its end")
    if e.score is not None and result.score != e.score:
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
        score = f"{e.score:g}/{FULL:g}" if e.score is not None else "the unattacked twin's"
        if e.twin and e.score is not None:
            score += " (= twin)"
        flags = [f"`{f}`" for f in sorted(e.flags)]
        if e.twin and not e.secrets and "tests-pass-checks-fail" not in e.flags:
            flags.append("`tests-pass-checks-fail` on each cell it made pass"
                         + (" (at least one)" if e.forges else " (none: it fails in the notebook too)"))
        if e.secrets:
            extra += " (decoded: no secret in the notebook or the feedback)"
        lines.append(f"| {n} | `{kind.name}` | {kind.category} | {kind.module} | {kind.what}{extra} | {e.status} | "
                     f"{score} | {', '.join(flags) or '-'} | "
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
