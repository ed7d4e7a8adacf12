"""Differential cases: the student's values against the reference's, compared outside.

Each module's spec (`source/NN_name/cases.py`) holds cases, each bound to one graded cell by its
grade id. The same cases run twice, on the same inputs (drawn from the submission's seed):

- in the sandbox, on the student's module k (built from the export cells of their notebook) with
  the published reference of modules < k beside it (credit isolation: an old bug is not charged
  twice) and never module k's reference;
- on the full reference package, in the supervisor's trusted reference process (`oracle.py`).

Only plain data crosses back: `out/values.pack` (a value pack, `inner/valuepack.py`: numbers,
booleans and strings, never a pickle), size-capped, opened without following links, its keys and
dtypes validated. Every comparison is made here,
so a student who makes their own process lie (patches numpy, fakes its output lines) still
fails: the numbers must equal the reference's. Each case agrees or not, as a whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import stat
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tito.build.student_module import _build_sources, _export_cells, _name_cells, _read, export_problems
from tito.course import Module, module_path
from tito.grade.inner import script, valuepack
from tito.grade.model import CheckResult
from tito.grade.oracle import Oracle, cases_file, course_order, module_key

RUNNER = "run_cases.py"  # inner scripts the checks need beside the spec, in the runner folder
KIT = "casekit.py"
PACK = "valuepack.py"
INNER = (RUNNER, KIT, PACK)

VALUES_FILE = "values.pack"  # in out/: the values of the cases that finished (`inner/valuepack.py`)
VALUES_CAP = 4 * 2**20  # bytes of values.pack; the reference's largest is 63 kB
MEMBERS_CAP = 5_000  # arrays in values.pack
MESSAGE_CAP = 300
SANDBOX_ROOT = "/scratch"


# ----------------------------------------------------------------------------- the student's run

@dataclass
class CheckPlan:
    """The cases of one submission, ready to run: the reference's answers for this submission's
    seed, the student's module written under `scratch/checks` (unless `failure` says why there is
    nothing to run)."""

    module: Module
    answers: Future  # the reference's answers for `seed`, computed outside while the session runs
    seed: int
    info: dict
    spans: dict = field(default_factory=dict)  # file (`tinytorch/core/x.py`) -> where its cells landed
    failure: str | None = None

    @property
    def reference(self) -> dict:
        """{"cases", "values"} of the reference (waits for the reference process if need be)."""
        return self.answers.result()

    @property
    def specs(self) -> list[dict]:
        return self.reference["cases"]

    @property
    def out(self) -> str:
        """The results folder, relative to the sandbox's working directory (/scratch)."""
        return "out"

    def case_args(self) -> list[str]:
        """The case runner's arguments after its own path (the spec, the results, the order),
        relative to /scratch, where the runner starts."""
        return ["runner/cases.py", self.out, "--module", module_key(self.module),
                "--modules", ",".join(course_order(self.module.root)), "--seed", str(self.seed)]

    def argv(self) -> list[str]:
        """The case runner's command, for a sandbox of the checks' own."""
        return [f"{SANDBOX_ROOT}/runner/{RUNNER}", *self.case_args()]


@dataclass
class CheckRun:
    """What one run of the case runner produced, wherever it ran (all of it untrusted)."""

    stdout: bytes
    stderr: bytes
    returncode: int | None
    timed_out: bool
    signal: int | None
    wall: float
    values: bytes | None = None  # values.pack as the run handed it over (None: read `out` instead)
    values_problem: str | None = None  # why the run could not hand values.pack over

    @classmethod
    def from_event(cls, event: dict) -> "CheckRun":
        """The runner's "checks" event (see `inner/checks_child.py`), every field checked: it
        comes from the sandbox."""
        def text(key: str) -> bytes:
            value = event.get(key)
            return value.encode("utf-8", "replace") if isinstance(value, str) else b""

        def integer(key: str) -> int | None:
            value = event.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        wall = event.get("wall")
        run = cls(stdout=text("stdout"), stderr=text("stderr")[-4000:], returncode=integer("returncode"),
                  timed_out=event.get("timed_out") is True, signal=integer("signal"),
                  wall=float(wall) if isinstance(wall, (int, float)) and 0 <= wall < 1e6 else 0.0, values=b"")
        problem, values = event.get("values_problem"), event.get("values")
        if isinstance(problem, str) and problem:
            run.values_problem = _cap(problem)
        elif isinstance(values, str):
            try:
                run.values = base64.b64decode(values, validate=True)
            except (binascii.Error, ValueError):
                run.values_problem = "the results came back garbled: results refused"
        elif values is not None:
            run.values_problem = "the results came back garbled: results refused"
        return run


def plan_checks(module: Module, notebook, scratch: Path, partial_lib: Path, *, oracle: Oracle,
                seed: int) -> CheckPlan:
    """Build the student's module under `scratch/checks/lib` (whatever is there is removed first,
    since a previous run of student code may have planted files or links) and ask the reference
    for its answers with `seed` (in the background: they are needed only to compare). `partial_lib` is the published reference of the modules < k
    (see `tito.build.partial`); the spec and the case runner go to `scratch/runner` (see
    `stage_runner`)."""
    plan = CheckPlan(module, oracle.answers_later(module, seed), seed,
                     {"reason": None, "returncode": None, "timed_out": False, "wall": 0.0, "signal": None,
                      "import": None, "cases": {}, "stderr": ""})
    try:
        problems = export_problems(notebook, module)
        built = _build_sources(_read(notebook), module)
    except Exception as error:  # an unreadable notebook: nothing to run
        plan.failure = f"cannot read the notebook's export cells: {error}"
        return plan
    if problems:
        plan.failure = "your module cannot be built: " + "; ".join(problems)
    elif not _export_cells(_read(notebook)):
        plan.failure = "your notebook has no `#| export` cells, so there is no module to check"
    else:
        files = {module_path(Path(), target): text for target, (text, _) in built.items()}
        plan.spans = {path.as_posix(): spans for path, (_, spans) in zip(files, built.values())}
        _build_scratch(Path(scratch), Path(partial_lib), files)
    return plan


def stage_runner(module: Module, folder: Path, names: tuple[str, ...] = INNER) -> None:
    """Copy the inner scripts `names` and the module's spec (as `cases.py`) into `folder`, which the
    sandbox mounts read-only at /scratch/runner."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(script(name), folder / name)
    shutil.copyfile(cases_file(module), folder / "cases.py")
    _readable(folder)


def fail_all(plan: CheckPlan) -> tuple[list[CheckResult], dict]:
    """Every case failed for the reason the plan gives (a module that cannot be built)."""
    return _all_fail(plan.specs, plan.info, plan.failure or "the checks did not run")


def run_checks(module: Module, notebook, *, sandbox, scratch: Path, partial_lib: Path, oracle: Oracle,
               seed: int, timeout: float) -> tuple[list[CheckResult], dict]:
    """Run module `module`'s cases in a sandbox of their own on the student's export cells;
    compare. (Grading runs them in the notebook's sandbox session instead, see
    `inner/checks_child.py`; this is the standalone path and the fallback.)

    `scratch` becomes the sandbox's /scratch (see `plan_checks`). Returns the CheckResults, in
    case order, and raw information for the integrity stage and the report.
    """
    plan = plan_checks(module, notebook, scratch, partial_lib, oracle=oracle, seed=seed)
    if plan.failure:
        return _all_fail(plan.specs, plan.info, plan.failure)
    stage_runner(module, Path(scratch) / "runner")
    readonly = [Path(scratch) / "runner", Path(scratch) / "checks"]
    outcome = sandbox.run(scratch, ["python", *plan.argv()], timeout=timeout, readonly=readonly,
                          env={"PYTHONPATH": f"{SANDBOX_ROOT}/checks/lib"})
    run = CheckRun(outcome.stdout, outcome.stderr, outcome.returncode, outcome.timed_out, outcome.signal,
                   outcome.wall)
    return score_checks(plan, run, Path(scratch) / "out", timeout)


def score_checks(plan: CheckPlan, run: CheckRun, out: Path | None, timeout: float) -> tuple[list[CheckResult], dict]:
    """Compare what `run` produced with the reference. The values come from `run.values` when the
    run handed them over, else from `out/values.pack`."""
    info, specs, module = plan.info, plan.specs, plan.module
    info.update(returncode=run.returncode, timed_out=run.timed_out, wall=run.wall,
                signal=run.signal, stderr=run.stderr[-4000:].decode(errors="replace"))
    header, lines = _parse_lines(run.stdout)
    if header and header.get("error"):
        header["error"] = _cells_named(str(header["error"])[:2000], plan.spans)
    info["import"] = header
    statuses = {}
    for line in lines:
        name = line.get("case")
        if isinstance(name, str) and name not in statuses:
            error = _cells_named(str(line.get("error") or "")[:2000], plan.spans)
            statuses[name] = {"status": line.get("status"), "error": _cap(error)}
    info["cases"] = statuses

    expected = {key for spec in specs for key in _keys(spec)}
    if run.values_problem:
        values, reason = {}, run.values_problem
    elif run.values:
        values, reason = parse_values(run.values, expected)
    elif run.values is not None:  # handed over: none were written (the per-case errors say why)
        values, reason = {}, None
    elif out is not None:
        values, reason = read_values(out, expected)
    else:
        values, reason = {}, None
    if reason:
        return _all_fail(specs, info, reason)
    fallback = _run_problem(run, header, timeout)
    results = [_compare(spec, plan.reference["values"], values, statuses.get(spec["case"]), fallback)
               for spec in specs]
    return results, info


def _cells_named(message: str, spans: dict) -> str:
    """`message` with each `<file> line N` of the student's files replaced by the cell and line."""
    for filename, file_spans in spans.items():
        message = _name_cells(message, file_spans, filename)
    return message


def _build_scratch(scratch: Path, partial_lib: Path, files: dict[Path, str]) -> None:
    """The lib the checks import: `partial_lib` plus the student's `files` (relative paths)."""
    scratch.mkdir(parents=True, exist_ok=True)
    for name in ("checks", "out"):
        _remove(scratch / name)
    lib = scratch / "checks" / "lib"
    shutil.copytree(partial_lib, lib, symlinks=False)
    for relative, source in files.items():
        target = lib / relative
        directory = target.parent
        while directory != lib:  # package __init__s above the module (tinytorch/, tinytorch/core/)
            directory.mkdir(parents=True, exist_ok=True)
            init = directory / "__init__.py"
            if not init.exists():
                init.write_text("", encoding="utf-8")
            directory = directory.parent
        target.write_text(source, encoding="utf-8")  # replaces module k's reference, should it be there
    _readable(scratch / "checks")  # readable (never writable) by the sandbox's uid, whatever the
                                   # modes of the copied folders were


def _readable(tree: Path) -> None:
    for directory, _, files in os.walk(tree):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)


def _remove(path: Path) -> None:
    """Remove a file, a link (never its target) or a directory tree (never following links)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)  # rmtree does not follow symlinks inside the tree
    elif os.path.lexists(path):
        path.unlink()


def _parse_lines(stdout: bytes) -> tuple[dict | None, list[dict]]:
    """(the import header, the case lines) of the runner's stdout; garbage is skipped."""
    header, lines = None, []
    for raw in stdout.splitlines()[:10_000]:
        if len(raw) > 100_000:
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict):
            continue
        if "case" in line:
            lines.append(line)
        elif "module" in line and header is None:
            header = line
    return header, lines


def read_values(out: Path, expected: set[str] | None = None, *, cap: int = VALUES_CAP) -> tuple[dict, str | None]:
    """Load `out/values.pack` written by untrusted code: ({key: array}, None) or ({}, reason).

    Refuses links and non-regular files, then everything `parse_values` refuses.
    """
    try:
        info = os.lstat(out)
    except FileNotFoundError:
        return {}, None  # nothing finished (the per-case errors say why)
    if not stat.S_ISDIR(info.st_mode):
        return {}, "the results directory was replaced by something else (a link?): results refused"
    path = out / VALUES_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return {}, None
    except OSError as error:
        return {}, f"{VALUES_FILE} cannot be opened safely ({error.strerror}): results refused"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return {}, f"{VALUES_FILE} is not a regular file: results refused"
        if info.st_size > cap:
            return {}, f"{VALUES_FILE} is {info.st_size / 2**20:.1f} MB, over the {cap / 2**20:.0f} MB cap: results refused"
        data = handle.read(cap + 1)
    return parse_values(data, expected, cap=cap)


def parse_values(data: bytes, expected: set[str] | None = None, *, cap: int = VALUES_CAP) -> tuple[dict, str | None]:
    """The arrays of an untrusted value pack: ({key: array}, None) or ({}, reason).

    Refuses anything over `cap` bytes, more than MEMBERS_CAP arrays, and anything but numbers,
    booleans and strings (`valuepack.unpack`). Keys outside `expected` are dropped.
    """
    if len(data) > cap:
        return {}, f"{VALUES_FILE} is {len(data) / 2**20:.1f} MB, over the {cap / 2**20:.0f} MB cap: results refused"
    try:
        values = valuepack.unpack(data, max_arrays=MEMBERS_CAP)
    except ValueError as error:
        return {}, _cap(f"{VALUES_FILE} refused ({error}): results refused")
    return {key: value for key, value in values.items() if expected is None or key in expected}, None


def _run_problem(outcome, header: dict | None, timeout: float) -> str:
    """Why a case without a result line has none (used for its message)."""
    if header and header.get("status") == "error":
        return _cap(str(header.get("error")))
    if outcome.timed_out:
        return f"the checks hit their {timeout:g} s time limit before this case finished"
    if outcome.signal:
        return f"the check run was killed (signal {outcome.signal}; out of memory?)"
    tail = outcome.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
    return _cap(f"the check run stopped before this case (exit status {outcome.returncode}: {tail[0]})")


def _keys(spec: dict) -> list[str]:
    return [f"{spec['case']}/{name}" for name in spec["keys"]]


def _compare(spec: dict, expected: dict, actual: dict, status: dict | None, fallback: str) -> CheckResult:
    """One case: agreed or not, with the first disagreement as its message. A hidden case's
    message never shows the reference's value (the student learns where, not what)."""
    name, weight, hidden = spec["case"], spec["points"] or 0.0, spec["hidden"]

    def result(message: str = "") -> CheckResult:
        return CheckResult(name=name, max_points=weight, points=0.0 if message else weight,
                           passed=not message, message=_cap(message), cell=spec["cell"], hidden=hidden)

    if status is None:
        return result(fallback)
    if status.get("status") != "ok":
        return result(status.get("error") or "the case raised an error")
    for key, value_name in zip(_keys(spec), spec["keys"]):
        if key not in actual:
            return result(f"{value_name}: missing from the results")
        problem = compare_values(value_name, expected[key], actual[key], spec["rtol"], spec["atol"],
                                 reveal=not hidden)
        if problem:
            return result(problem)
    return result()


def compare_values(name: str, expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float, *,
                   reveal: bool = True) -> str | None:
    """None when `actual` matches `expected`, else the first mismatch as a message (naming the
    expected value only when `reveal`)."""
    if not reveal:
        problem = compare_values(name, expected, actual, rtol, atol)
        return None if problem is None else f"{name}: got {_show(actual)}, which differs from the reference"
    kind = {"b": "boolean", "i": "integer", "u": "integer", "f": "float", "U": "string"}
    want, got = kind.get(expected.dtype.kind, "?"), kind.get(actual.dtype.kind, "?")
    if want == "string" or got == "string":
        if want != got or str(expected) != str(actual):
            return f"{name}: expected {_show(expected)} got {_show(actual)}"
        return None
    if want == "boolean" and got != "boolean":
        return f"{name}: expected a boolean, got {got} {_show(actual)}"
    if expected.shape != actual.shape:
        return f"{name}: expected shape {expected.shape} got {actual.shape} ({_show(actual)})"
    if want == "boolean" or (want == "integer" and got == "integer"):
        if not np.array_equal(expected, actual):
            return f"{name}: expected {_show(expected)} got {_show(actual)}"
        return None
    want_f, got_f = expected.astype(np.float64), actual.astype(np.float64)
    if not np.allclose(got_f, want_f, rtol=rtol, atol=atol, equal_nan=True):
        return f"{name}: expected {_show(expected)} got {_show(actual)}"
    return None


def _show(array: np.ndarray) -> str:
    if array.dtype.kind == "U":
        return repr(str(array))
    text = np.array2string(np.asarray(array), precision=6, threshold=12, edgeitems=3,
                           max_line_width=10_000, separator=" ")
    text = " ".join(text.split())  # one line, whatever the number of dimensions
    return text if len(text) <= 120 else text[:117] + "..."


def _all_fail(specs: list[dict], info: dict, reason: str) -> tuple[list[CheckResult], dict]:
    info["reason"] = reason
    return [CheckResult(name=s["case"], max_points=s["points"] or 0.0, points=0.0, passed=False,
                        message=_cap(reason), cell=s["cell"], hidden=s["hidden"]) for s in specs], info


def _cap(text: str) -> str:
    return text if len(text) <= MESSAGE_CAP else text[:MESSAGE_CAP - 3] + "..."
