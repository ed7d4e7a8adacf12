"""Differential checkpoint checks: the student's values against the reference's, decided outside.

For module k, `scenarios/NN_name.py` asks the checkpoint's capability question as values. The
same scenarios run twice:

- on the FULL reference package, in a plain subprocess (trusted); the values are cached under
  `.tito/reference/<module>-<hash>.npz`, the hash covering the scenario files, the runner and
  the reference modules, so editing any of them recomputes;
- in the sandbox, on the student's module k (built from the export cells of their notebook)
  with the reference of modules < k beside it (credit isolation: an old bug is not charged
  twice) and never module k's reference.

Only plain data crosses back: `out/values.npz`, size-capped, opened without following links,
loaded with `allow_pickle=False`, its keys and dtypes validated. Every comparison is made here,
so a student who makes their own process lie (patches numpy, fakes its output lines) still
fails: the numbers must equal the reference's. Points are all or nothing per scenario.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from tito.build.export import HEADER, _split_future_imports, _strip_markers, public_names
from tito import parsing
from tito.course import PACKAGE, Module, discover
from tito.errors import TitoError
from tito.grade.model import CheckResult
from tito.source import DIRECTIVE, SOLUTION_MARKER, is_exported

HERE = Path(__file__).resolve().parent
SCENARIO_DIR = HERE / "scenarios"
COMMON = SCENARIO_DIR / "_common.py"
RUNNER = HERE / "inner" / "run_scenarios.py"

VALUES_CAP = 4 * 2**20  # bytes of values.npz (and of its uncompressed members together); the
                        # reference's largest is 63 kB
MEMBERS_CAP = 5_000  # arrays in values.npz
MESSAGE_CAP = 300
REFERENCE_TIMEOUT = 300.0
CHECKS_TIMEOUT = 60.0  # seconds for one submission's scenarios, import included
SANDBOX_ROOT = "/scratch"
META_KEY = "__meta__"


# ----------------------------------------------------------------------------- the student's module

def student_module_source(notebook, module: Module) -> str:
    """The text of the student's `tinytorch/core/<x>.py`: their `#| export` cells, as `tito export`
    would write it (directives and solution markers dropped, `from __future__` first, `__all__`).

    `notebook` is a path or a notebook node. The code is never executed here. Cells that do not
    parse are kept as they are (importing the module will then fail with the student's own
    SyntaxError; `export_problems` names the cell).
    """
    return _build_source(_read(notebook), module)[0]


def _build_source(notebook, module: Module) -> tuple[str, list[tuple[int, list[int], str]]]:
    """(module text, [(first line in the module, the cell's line numbers, cell label)]), so
    that an error in the module can name the notebook cell and line it came from."""
    cells = [(index, code) for index, code in _export_cells(notebook) if code]
    body = "\n\n\n".join(code for _, code in cells)
    future, rest = _split_future_imports(body)
    try:
        names = public_names(body)
    except SyntaxError:
        names = None
    parts = [HEADER.format(source=f"the student's notebook ({module.name})"), *future]
    if names is not None:
        parts.append("__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]")
    head = "\n\n".join(p for p in parts if p) + "\n\n"
    text = (head + rest).rstrip("\n") + "\n"
    spans, line = [], head.count("\n") + 1
    for index, code in cells:
        cell = notebook.cells[index]
        original = _kept_line_numbers(cell.source)
        if len(original) != len(code.splitlines()):
            original = list(range(1, len(code.splitlines()) + 1))
        kept = [n for n, l in zip(original, code.splitlines()) if not l.startswith("from __future__ import")]
        label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
        spans.append((line, kept, label))
        line += len(kept) + 2
    return text, spans


def _kept_line_numbers(source: str) -> list[int]:
    """The 1-based line numbers of a cell that `_strip_markers` keeps, in order."""
    lines = source.splitlines()
    kept = [n for n, l in enumerate(lines, 1) if not DIRECTIVE.match(l) and not SOLUTION_MARKER.match(l)]
    while kept and not lines[kept[0] - 1].strip():
        kept.pop(0)
    while kept and not lines[kept[-1] - 1].strip():
        kept.pop()
    return kept


def _name_cells(message: str, spans: list, filename: str) -> str:
    """'tinytorch/core/x.py line 413' -> "cell 'autograd-backward', line 28": what the student sees."""
    def replace(match):
        number = int(match.group(1))
        for first, lines, label in spans:
            if first <= number < first + len(lines):
                return f"cell {label!r}, line {lines[number - first]}"
        return match.group(0)

    return re.sub(re.escape(filename) + r" line (\d+)", replace, message)


def export_problems(notebook) -> list[str]:
    """One message per export cell that does not parse (empty when the module can be built)."""
    problems = []
    for index, code in _export_cells(_read(notebook)):
        try:
            parsing.parse(code)
        except SyntaxError as error:
            problems.append(f"export cell {index} does not parse (line {error.lineno}: {error.msg})")
    return problems


def _read(notebook) -> nbformat.NotebookNode:
    if isinstance(notebook, (str, Path)):
        return nbformat.read(str(notebook), as_version=4)
    return notebook


def _export_cells(notebook) -> list[tuple[int, str]]:
    return [(index, _strip_markers(cell.source)) for index, cell in enumerate(notebook.cells)
            if is_exported(cell)]


# ----------------------------------------------------------------------------- scenario files

def scenario_file(module: Module) -> Path:
    path = SCENARIO_DIR / f"{module.name}.py"
    if not path.is_file():
        raise TitoError(f"no checkpoint scenarios for {module.name} (expected {path})")
    return path


def module_key(module: Module) -> str:
    """`tensor` for `tinytorch.core.tensor`: the name the scenarios' loader uses."""
    return module.export_module.rsplit(".", 1)[-1]


def _copy_runner(scenarios: Path, dest: Path) -> tuple[Path, Path]:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(RUNNER, dest / "run_scenarios.py")
    shutil.copyfile(COMMON, dest / "_common.py")
    shutil.copyfile(scenarios, dest / scenarios.name)
    return dest / "run_scenarios.py", dest / scenarios.name


# ----------------------------------------------------------------------------- reference values

def _reference_files(module: Module) -> list[Path]:
    """The reference package files the scenarios of `module` may load (modules 1..k + inits)."""
    root = module.root
    package = root / PACKAGE
    files = sorted(p for p in package.rglob("__init__.py"))
    for other in discover(root):
        if other.number <= module.number:
            files.append(other.export_target)
    return files


def reference_key(module: Module) -> str:
    sha = hashlib.sha256()
    for path in [scenario_file(module), COMMON, RUNNER, *_reference_files(module)]:
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    sha.update(f"{np.__version__} {platform.python_version()} {platform.machine()}".encode())
    return sha.hexdigest()[:16]


def reference_values(module: Module, *, refresh: bool = False) -> dict:
    """The reference's answers: {"scenarios": [spec, ...], "values": {key: array}, "wall": s}.

    Each spec is {"scenario", "points", "rtol", "atol", "keys"}. Computed once on the full
    reference package in a plain subprocess and cached on disk; a scenario that fails on the
    reference is a course bug and raises.
    """
    cache = module.root / ".tito" / "reference" / f"{module.name}-{reference_key(module)}.npz"
    if not refresh and cache in _MEMO:
        return _MEMO[cache]
    with _REFERENCE_LOCK:  # the pool's workers all need it when a run starts: compute it once
        if not refresh and cache in _MEMO:
            return _MEMO[cache]
        return _reference_values(module, cache, refresh)


def _reference_values(module: Module, cache: Path, refresh: bool) -> dict:
    if cache.is_file() and not refresh:
        try:
            _MEMO[cache] = _load_reference(cache)
            return _MEMO[cache]
        except (OSError, ValueError, KeyError):
            pass  # a corrupt cache is recomputed
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tito-reference-") as tmp:
        tmp = Path(tmp)
        lib = tmp / "lib"
        for path in _reference_files(module):
            copy = lib / path.relative_to(module.root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
        runner, scenarios = _copy_runner(scenario_file(module), tmp / "checks")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NBGRADER_", "TITO_"))}
        env.update({"PYTHONPATH": str(lib), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "MPLBACKEND": "Agg"})
        try:
            done = subprocess.run([sys.executable, str(runner), str(scenarios), str(tmp / "out")],
                                  cwd=tmp, env=env, capture_output=True, timeout=REFERENCE_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise TitoError(f"{module.name}: the reference scenarios took over {REFERENCE_TIMEOUT:g} s") from error
        header, lines = _parse_lines(done.stdout)
        problems = [f"{line['scenario']}: {line.get('error')}" for line in lines if line.get("status") != "ok"]
        if done.returncode != 0 or header is None or header.get("status") != "ok" or problems or not lines:
            detail = "; ".join(problems) or (header or {}).get("error") or done.stderr.decode(errors="replace")[-2000:]
            raise TitoError(f"{module.name}: the checkpoint scenarios fail on the reference package: {detail}")
        values = _load_npz_trusted(tmp / "out" / "values.npz")
    specs = [{"scenario": line["scenario"], "points": float(line["points"]), "rtol": float(line["rtol"]),
              "atol": float(line["atol"]), "keys": list(line["keys"])} for line in lines]
    result = {"scenarios": specs, "values": values, "wall": time.perf_counter() - start}
    _store_reference(cache, result)
    _MEMO[cache] = result
    return result


_MEMO: dict[Path, dict] = {}  # cache file -> its contents, for the life of the process
_REFERENCE_LOCK = threading.Lock()


def _store_reference(cache: Path, result: dict) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"scenarios": result["scenarios"], "wall": result["wall"]})
    temporary = cache.with_suffix(f".{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **{META_KEY: np.array(meta)}, **result["values"])
    os.replace(temporary, cache)


def _load_reference(cache: Path) -> dict:
    with np.load(cache, allow_pickle=False) as loaded:
        meta = json.loads(str(loaded[META_KEY]))
        values = {key: loaded[key] for key in loaded.files if key != META_KEY}
    return {"scenarios": meta["scenarios"], "values": values, "wall": meta.get("wall", 0.0)}


def _load_npz_trusted(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as loaded:
        return {key: loaded[key] for key in loaded.files}


# ----------------------------------------------------------------------------- the student's run

@dataclass
class CheckPlan:
    """The checks of one submission, ready to run: the reference's specs, the student's module
    written into `scratch` (unless `failure` says why there is nothing to run)."""

    module: Module
    specs: list[dict]
    reference: dict
    info: dict
    spans: list = field(default_factory=list)
    failure: str | None = None

    @property
    def scenario(self) -> str:
        """The scenario file as the sandbox sees it."""
        return f"{SANDBOX_ROOT}/checks/{scenario_file(self.module).name}"

    @property
    def out(self) -> str:
        """The results folder as the sandbox sees it."""
        return f"{SANDBOX_ROOT}/out"

    def argv(self) -> list[str]:
        """The scenario runner's arguments, for a sandbox of the checks' own."""
        return [f"{SANDBOX_ROOT}/checks/run_scenarios.py", self.scenario, self.out]


@dataclass
class CheckRun:
    """What one run of the scenario runner produced, wherever it ran (all of it untrusted)."""

    stdout: bytes
    stderr: bytes
    returncode: int | None
    timed_out: bool
    signal: int | None
    wall: float
    values: bytes | None = None  # values.npz as the run handed it over (None: read `out` instead)
    values_problem: str | None = None  # why the run could not hand values.npz over

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


def plan_checks(module: Module, notebook, scratch: Path, partial_lib: Path) -> CheckPlan:
    """Build the student's module and the runner under `scratch` (its `lib/`, `checks/` and `out/`
    are this function's: whatever is there is removed first, since a previous run of student code
    may have planted files or links there). `partial_lib` is a partial reference package
    (modules < k only, see `tito.build.partial`)."""
    reference = reference_values(module)
    plan = CheckPlan(module, reference["scenarios"], reference,
                     {"reason": None, "returncode": None, "timed_out": False, "wall": 0.0, "signal": None,
                      "import": None, "scenarios": {}, "stderr": "", "reference_wall": reference["wall"]})
    try:
        problems = export_problems(notebook)
        source, plan.spans = _build_source(_read(notebook), module)
    except Exception as error:  # an unreadable notebook: nothing to run
        plan.failure = f"cannot read the notebook's export cells: {error}"
        return plan
    if problems:
        plan.failure = "your module cannot be built: " + "; ".join(problems)
    elif not _export_cells(_read(notebook)):
        plan.failure = "your notebook has no `#| export` cells, so there is no module to check"
    else:
        _build_scratch(module, Path(scratch), Path(partial_lib), source)
    return plan


def fail_all(plan: CheckPlan) -> tuple[list[CheckResult], dict]:
    """Every scenario failed for the reason the plan gives (a module that cannot be built)."""
    return _all_fail(plan.specs, plan.info, plan.failure or "the checks did not run")


def run_checks(module: Module, notebook, *, sandbox, scratch: Path, partial_lib: Path,
               timeout: float = CHECKS_TIMEOUT) -> tuple[list[CheckResult], dict]:
    """Run module `module`'s scenarios in a sandbox of their own on the student's export cells;
    compare. (Grading runs them in the notebook's sandbox session instead, see
    `inner/checks_child.py`; this is the standalone path and the fallback.)

    `scratch` becomes the sandbox's /scratch (see `plan_checks`). Returns the CheckResults, in
    scenario order, and raw information for the integrity stage and the report.
    """
    plan = plan_checks(module, notebook, scratch, partial_lib)
    if plan.failure:
        return _all_fail(plan.specs, plan.info, plan.failure)
    outcome = sandbox.run(scratch, ["python", *plan.argv()], timeout=timeout,
                          env={"PYTHONPATH": f"{SANDBOX_ROOT}/checks/lib"})
    run = CheckRun(outcome.stdout, outcome.stderr, outcome.returncode, outcome.timed_out, outcome.signal,
                   outcome.wall)
    return score_checks(plan, run, Path(scratch) / "out", timeout)


def score_checks(plan: CheckPlan, run: CheckRun, out: Path | None, timeout: float) -> tuple[list[CheckResult], dict]:
    """Compare what `run` produced with the reference. The values come from `run.values` when the
    run handed them over, else from `out/values.npz`."""
    info, specs, module = plan.info, plan.specs, plan.module
    info.update(returncode=run.returncode, timed_out=run.timed_out, wall=run.wall,
                signal=run.signal, stderr=run.stderr[-4000:].decode(errors="replace"))
    header, lines = _parse_lines(run.stdout)
    module_file = "/".join(module.export_module.split(".")) + ".py"
    if header and header.get("error"):
        header["error"] = _name_cells(str(header["error"])[:2000], plan.spans, module_file)
    info["import"] = header
    statuses = {}
    for line in lines:
        name = line.get("scenario")
        if isinstance(name, str) and name not in statuses:
            error = _name_cells(str(line.get("error") or "")[:2000], plan.spans, module_file)
            statuses[name] = {"status": line.get("status"), "error": _cap(error)}
    info["scenarios"] = statuses

    expected = {key for spec in specs for key in _keys(spec)}
    if run.values_problem:
        values, reason = {}, run.values_problem
    elif run.values:
        values, reason = parse_values(run.values, expected)
    elif run.values is not None:  # handed over: none were written (the per-scenario errors say why)
        values, reason = {}, None
    elif out is not None:
        values, reason = read_values(out, expected)
    else:
        values, reason = {}, None
    if reason:
        return _all_fail(specs, info, reason)
    fallback = _run_problem(run, header, timeout)
    results = [_compare(spec, plan.reference["values"], values, statuses.get(spec["scenario"]), fallback)
               for spec in specs]
    return results, info


def _build_scratch(module: Module, scratch: Path, partial_lib: Path, source: str) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    for name in ("checks", "out"):
        _remove(scratch / name)
    lib = scratch / "checks" / "lib"
    shutil.copytree(partial_lib, lib, symlinks=False)
    target = lib.joinpath(*module.export_module.split(".")).with_suffix(".py")
    directory = target.parent
    while directory != lib:  # package __init__s above the module (tinytorch/, tinytorch/core/)
        directory.mkdir(parents=True, exist_ok=True)
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
        directory = directory.parent
    target.write_text(source, encoding="utf-8")  # replaces module k's reference, should it be there
    _copy_runner(scenario_file(module), scratch / "checks")
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
    """(the import header, the scenario lines) of the runner's stdout; garbage is skipped."""
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
        if "scenario" in line:
            lines.append(line)
        elif "module" in line and header is None:
            header = line
    return header, lines


def read_values(out: Path, expected: set[str] | None = None, *, cap: int = VALUES_CAP) -> tuple[dict, str | None]:
    """Load `out/values.npz` written by untrusted code: ({key: array}, None) or ({}, reason).

    Refuses links and non-regular files, then everything `parse_values` refuses.
    """
    try:
        info = os.lstat(out)
    except FileNotFoundError:
        return {}, None  # nothing finished (the per-scenario errors say why)
    if not stat.S_ISDIR(info.st_mode):
        return {}, "the results directory was replaced by something else (a link?): results refused"
    path = out / "values.npz"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return {}, None
    except OSError as error:
        return {}, f"values.npz cannot be opened safely ({error.strerror}): results refused"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return {}, "values.npz is not a regular file: results refused"
        if info.st_size > cap:
            return {}, f"values.npz is {info.st_size / 2**20:.1f} MB, over the {cap / 2**20:.0f} MB cap: results refused"
        data = handle.read(cap + 1)
    return parse_values(data, expected, cap=cap)


def parse_values(data: bytes, expected: set[str] | None = None, *, cap: int = VALUES_CAP) -> tuple[dict, str | None]:
    """The arrays of an untrusted values.npz: ({key: array}, None) or ({}, reason).

    Refuses anything over `cap` bytes (packed or unpacked), too many members, and anything that
    needs a pickle. Keys outside `expected` are dropped.
    """
    if len(data) > cap:
        return {}, f"values.npz is {len(data) / 2**20:.1f} MB, over the {cap / 2**20:.0f} MB cap: results refused"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MEMBERS_CAP:
                return {}, f"values.npz holds {len(members)} arrays (cap {MEMBERS_CAP}): results refused"
            if sum(m.file_size for m in members) > cap:
                return {}, "values.npz unpacks to more than the cap: results refused"
        values = {}
        with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
            for key in loaded.files:
                if expected is not None and key not in expected:
                    continue
                array = loaded[key]
                if array.dtype.kind not in "biufU":
                    return {}, f"values.npz: {key} has dtype {array.dtype}: results refused"
                values[key] = array
    except ValueError as error:  # allow_pickle=False refusing an object array lands here
        if "pickle" in str(error).lower() or "object" in str(error).lower():
            return {}, "values.npz holds an object array (pickles are refused): results refused"
        return {}, _cap(f"values.npz is not a valid archive ({error}): results refused")
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        return {}, _cap(f"values.npz is not a valid archive ({error}): results refused")
    return values, None


def _run_problem(outcome, header: dict | None, timeout: float) -> str:
    """Why a scenario without a result line has none (used for its message)."""
    if header and header.get("status") == "error":
        return _cap(str(header.get("error")))
    if outcome.timed_out:
        return f"the checks hit their {timeout:g} s time limit before this scenario finished"
    if outcome.signal:
        return f"the check run was killed (signal {outcome.signal}; out of memory?)"
    tail = outcome.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
    return _cap(f"the check run stopped before this scenario (exit status {outcome.returncode}: {tail[0]})")


def _keys(spec: dict) -> list[str]:
    return [f"{spec['scenario']}/{name}" for name in spec["keys"]]


def _compare(spec: dict, expected: dict, actual: dict, status: dict | None, fallback: str) -> CheckResult:
    name, points = spec["scenario"], spec["points"]

    def fail(message: str) -> CheckResult:
        return CheckResult(name=name, max_points=points, points=0.0, passed=False, message=_cap(message))

    if status is None:
        return fail(fallback)
    if status.get("status") != "ok":
        return fail(status.get("error") or "the scenario raised an error")
    for key, value_name in zip(_keys(spec), spec["keys"]):
        if key not in actual:
            return fail(f"{value_name}: missing from the results")
        problem = compare_values(value_name, expected[key], actual[key], spec["rtol"], spec["atol"])
        if problem:
            return fail(problem)
    return CheckResult(name=name, max_points=points, points=points, passed=True, message="")


def compare_values(name: str, expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float) -> str | None:
    """None when `actual` matches `expected`, else the first mismatch as a message."""
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
    return [CheckResult(name=s["scenario"], max_points=s["points"], points=0.0, passed=False,
                        message=_cap(reason)) for s in specs], info


def _cap(text: str) -> str:
    return text if len(text) <= MESSAGE_CAP else text[:MESSAGE_CAP - 3] + "..."
