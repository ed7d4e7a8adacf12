"""`tito check NN_name`: the student's notebook in a fresh kernel, then the module's checkpoint on
the student's own exported module, with a friendly summary.

Only what the student has is run: their notebook (the release has visible tests only) and the
public checkpoint. The kernel sees the earlier modules only, never this module's reference: each
from the published reference when the instructor published it (the autograder uses the
reference too), else from the student's own finished notebook. A module that is neither stops
the check with what to do. The checkpoint runs on the student's module plus those modules.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tito import course, parsing
from tito.course import Module
from tito.errors import TitoError
from tito.execute import CellOutcome, execute_notebook, kernel_env
from tito.source import grade_id, is_exported
from tito.student.checkpoint_run import MESSAGE_LINES
from tito.student.stack import MISSING, STUDENT, Choice, choose, copies, how_to_get, misnamed, write_stack

FRAME = re.compile(r", in ([A-Za-z_][\w.]*)\(")
ARROW = re.compile(r"^-+>\s*\d+\s+(.*)$")
SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")
ENDLESS = "look for a loop that never ends (or a very slow computation)"
KERNEL_EXTENSIONS = ("tito.student.assertions",)  # a failing bare `assert` shows the values it compared


@dataclass(frozen=True)
class CellReport:
    grade_id: str
    points: float
    passed: bool
    message: str = ""  # the first failure, one line
    hint: str = ""  # what to try next


@dataclass
class CheckpointReport:
    file: str
    passed: bool
    summary: str
    failures: list[str] = field(default_factory=list)
    problem: str = ""  # the student's module could not be built / imported


@dataclass(frozen=True)
class Limits:
    """The check's time limits, grading's own (nbgrader_config.py): each cell's, and the whole
    notebook's (which also bounds the checkpoint's run)."""

    cell: int = 60
    total: int = 900


@dataclass
class CheckReport:
    module: str
    notebook: str
    cells: list[CellReport]
    checkpoint: CheckpointReport | None
    kernel_error: str | None = None
    earlier: list[Choice] = field(default_factory=list)  # where each earlier module came from
    unparsable: list[str] = field(default_factory=list)  # export cells that do not parse, first of all
    copies: list[str] = field(default_factory=list)  # other notebooks beside the module's own, not checked

    @property
    def passed(self) -> bool:
        return (not self.kernel_error and not self.unparsable and all(c.passed for c in self.cells)
                and (self.checkpoint is None or self.checkpoint.passed))


def limits(root: Path) -> Limits:
    """The per-cell and whole-notebook time limits grading uses (nbgrader_config.py), so a check
    times out like grading."""
    from tito.release import load_config

    config = load_config(root)
    grading = config.Grading if "Grading" in config else {}
    return Limits(int(config.Execute.get("timeout", Limits.cell)),
                  int(grading.get("notebook_timeout", Limits.total)))


def checkpoint_file(root: Path, module: Module) -> Path | None:
    return module.checkpoint_py


def check(root: Path, module: Module, notebook: Path | None = None, *, notebooks: Path | None = None,
          limits: Limits = Limits(), seeds: int = 1) -> CheckReport:
    """Run the student's notebook and the module's checkpoint; never raises for student errors
    (Ctrl+C raises KeyboardInterrupt at once, the checkpoint left unrun).

    `notebooks` is the folder of the student's other notebooks (default release/), read for the
    earlier modules the instructor has not published.
    """
    root = root.resolve()
    path = (notebook or module.release_ipynb).resolve()
    if not path.is_file():
        raise TitoError(f"{course.relpath(root, path)}: no such notebook" + (f"; {misnamed(path)}" if misnamed(path) else ""))
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:
        raise TitoError(f"{path}: not a readable notebook ({type(error).__name__}: {error})") from None
    earlier = earlier_modules(root, module, notebooks or root / "release")
    under_check = Choice(module, STUDENT, "the notebook under check", path, nb)
    with tempfile.TemporaryDirectory(prefix="tito-check-") as tmp:
        earlier_root = write_stack(root, Path(tmp) / "earlier", earlier)
        run = execute_notebook(nb, cwd=path.parent, env=kernel_env([earlier_root]), timeout=limits.cell,
                               total_timeout=limits.total, extensions=KERNEL_EXTENSIONS)
        unparsable = unparsable_export_cells(nb)
        cells = [_cell_report(o, bool(unparsable)) for o in run.graded]
        checkpoint = _checkpoint(root, module, nb, earlier + [under_check], Path(tmp) / "stack", seeds, limits)
    return CheckReport(module.name, course.relpath(root, path), cells, checkpoint, run.kernel_error, earlier,
                       unparsable, [p.name for p in copies(path)] if notebook is None else [])


def unparsable_export_cells(nb) -> list[str]:
    """`export cell 'tensor-class' line 12: invalid syntax: def f(x` for each `#| export` cell that
    does not parse, its line counted in the cell as the student sees it. Everything the cell
    defines is then undefined, so every test using it fails with a NameError: this comes first."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if not is_exported(cell):
            continue
        try:
            parsing.parse(cell.source)
        except SyntaxError as error:
            name = grade_id(cell) or f"cell {index + 1}"
            text = (error.text or "").strip()
            problems.append(f"export cell {name!r} line {error.lineno}: {error.msg}" + (f": {text}" if text else ""))
    return problems


def earlier_modules(root: Path, module: Module, notebooks: Path) -> list[Choice]:
    """Every module before `module`, from the published reference or else the student's finished
    notebook; raises, saying what to do, when one is neither (the notebook could not import it)."""
    modules = course.modules_before(course.discover(root), module)
    choices = [choose(m, notebooks, prefer_reference=True) for m in modules]
    missing = [c for c in choices if c.owner == MISSING]
    if missing:
        raise TitoError("\n".join(f"{module.name} needs {c.module.name}: {how_to_get(root, c)}" for c in missing))
    return choices


def _cell_report(outcome: CellOutcome, unparsable: bool = False) -> CellReport:
    name = outcome.grade_id or f"cell {outcome.index}"
    if outcome.passed:
        if outcome.stderr.strip():  # nbgrader scores a cell with stderr output 0
            return CellReport(name, outcome.points, False, "the cell wrote to stderr: "
                              + outcome.stderr.strip().splitlines()[-1][:200],
                              "nbgrader gives 0 points to a test cell that prints to stderr (a warning counts)")
        return CellReport(name, outcome.points, True)
    if unparsable and outcome.ename == "NameError":
        hint = "fix the export cell that does not parse (above) first: what it defines does not exist"
    else:
        hint = _hint(outcome)
    return CellReport(name, outcome.points, False, _message(outcome), hint)


def _message(outcome: CellOutcome) -> str:
    """The error and the first lines of its message: numpy's asserts show the values there."""
    lines = [line.rstrip()[:300] for line in (outcome.evalue or "").splitlines() if line.strip()]
    if lines:
        return f"{outcome.ename}: " + "\n".join(lines[:MESSAGE_LINES])
    if outcome.ename == "NotImplementedError":
        return "NotImplementedError: a `raise NotImplementedError()` stub was reached"
    failing = [m.group(1).strip() for m in map(ARROW.match, outcome.traceback.splitlines()) if m]
    where = f" at `{failing[-1]}`" if failing else ""
    return f"{outcome.ename}{where}"


def _hint(outcome: CellOutcome) -> str:
    frames = FRAME.findall(outcome.traceback)
    function = frames[-1] if frames else None
    if outcome.ename == "NotImplementedError":
        return f"implement `{function}` first" if function else "replace the `raise NotImplementedError()` stubs above"
    if outcome.ename == "AssertionError":
        return "read the assertion: your function returns something, but not what the test expects"
    if outcome.ename == "NameError":
        return "run the cells above this one first (or a name is misspelt)"
    if outcome.ename == "CellTimeoutError":
        return f"{ENDLESS} in `{function}`, where it was stopped" if function else ENDLESS
    return f"the error comes from `{function}`" if function else "read the traceback in the notebook"


def _checkpoint(root: Path, module: Module, nb, stack_choices: list[Choice], stack: Path,
                seeds: int, limits: Limits) -> CheckpointReport | None:
    file = checkpoint_file(root, module)
    if file is None:
        return None
    rel = course.relpath(root, file)
    problems = unparsable_export_cells(nb)
    if problems:
        return CheckpointReport(rel, False, "not run", problem="; ".join(problems))
    write_stack(root, stack, stack_choices)
    failures_json = stack / "failures.json"
    command = [sys.executable, "-m", "pytest", str(file), f"--tinytorch-root={stack}", "-q", "--tb=no",
               "--color=no", f"--checkpoint-seeds={seeds}", "-p", "no:cacheprovider", "-p", "no:randomly",
               "-p", "tito.student.checkpoint_run", f"--tito-test-timeout={limits.cell}",
               f"--tito-failures={failures_json}",
               "-o", "addopts="]  # --color=no: a notebook's kernel forces colour on, and the codes showed
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=limits.total)
    except subprocess.TimeoutExpired:
        return CheckpointReport(rel, False, "not run", problem=f"it did not finish within {limits.total} s: "
                                f"{ENDLESS} in your module's code that it calls")
    lines = done.stdout.splitlines()
    summary = next((l.strip("= ") for l in reversed(lines) if SUMMARY.search(l)), "")
    if done.returncode == 4 or (done.returncode and not summary):  # a usage error: the module did not import
        text = (done.stderr or done.stdout).strip().splitlines()
        return CheckpointReport(rel, False, "not run", problem=(text[-1] if text else f"pytest exit {done.returncode}"))
    return CheckpointReport(rel, done.returncode == 0, summary, _first_failures(failures_json))


def _first_failures(failures_json: Path, count: int = 3) -> list[str]:
    """`where: message` of the first `count` distinct failures (the same one under several seeds
    counts once)."""
    distinct = []
    for failure in json.loads(failures_json.read_text(encoding="utf-8")) if failures_json.is_file() else []:
        line = f"{failure['where']}: {failure['message']}"
        if line not in distinct:
            distinct.append(line)
    return distinct[:count]
