"""Run one module's checkpoint scenarios and write their values (runs INSIDE the sandbox).

    python run_scenarios.py SCENARIO_FILE OUT_DIR

Standard library and numpy only; it never imports tito. The scenario file and `_common.py` sit
next to each other (the supervisor copies them into the scratch directory), and the tinytorch
package to test is found on PYTHONPATH.

Output, all of it untrusted by the supervisor, which compares the values with the reference's:
- stdout: one JSON line describing the module import ({"module", "file", "status", "error"}),
  then ONE JSON line per scenario: {"scenario", "status": "ok"|"error", "error", "keys",
  "points", "rtol", "atol", "wall"};
- OUT_DIR/values.npz: every value of every scenario that finished, under `<scenario>/<name>`,
  numeric, boolean or short-string arrays only (written with np.savez, rewritten after each
  scenario so that a run killed half-way keeps what it had).

Each scenario runs in a forked child: a scenario that hangs is killed at its time budget even if
the code under test swallows exceptions, one that crashes the interpreter (or calls sys.exit)
loses only itself, and global state it breaks (a leaked `no_grad`, a monkeypatch) cannot leak
into the next scenario.
"""

from __future__ import annotations

import os

# Tiny matrices: threads only cost time, and one thread keeps the floating-point order fixed.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import importlib
import importlib.util
import io
import json
import re
import select
import signal
import sys
import time
import traceback

import numpy as np

ERROR_CAP = 600  # characters of an error message
STRING_CAP = 200  # characters of a string value
VALUES_PER_SCENARIO = 200
CHILD_OUTPUT_CAP = 16 * 2**20  # bytes one scenario may send back
KEY = re.compile(r"^[^\\\x00-\x1f\x7f]{1,80}$")  # a file name inside the .npz


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    scenario_path, out_dir = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    # sys.path entries must not depend on the cwd the code under test may change.
    sys.path[:] = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    sys.path.insert(0, os.path.dirname(scenario_path))  # for `_common`
    os.makedirs(out_dir, exist_ok=True)
    # Our JSON lines get a private copy of stdout; whatever the code under test prints (at import
    # or in a scenario) goes to stderr and can neither drown nor interleave with them.
    real_stdout = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    scenarios_module = _load(scenario_path)
    common = importlib.import_module("_common")
    module = scenarios_module.MODULE
    limit = common.MODULES[module]
    import_error = _preimport(common, limit, module)
    header = {"module": f"{common.PACKAGE}.{module}", "file": _module_file(common, module),
              "status": "error" if import_error else "ok", "error": import_error}
    print(json.dumps(header), file=real_stdout)

    values: dict[str, np.ndarray] = {}
    for scenario in scenarios_module.SCENARIOS:
        start = time.monotonic()
        if import_error:
            status, error, result = "error", import_error, {}
        else:
            status, error, result = _run_forked(scenario, common.TT(limit))
        for name, value in result.items():
            values[f"{scenario.name}/{name}"] = value
        if result:
            _write_values(out_dir, values)
        line = {"scenario": scenario.name, "status": status, "error": error,
                "keys": sorted(result), "points": scenario.points, "rtol": scenario.rtol,
                "atol": scenario.atol, "wall": round(time.monotonic() - start, 4)}
        print(json.dumps(line), file=real_stdout)
    _write_values(out_dir, values)
    return 0


def _load(path: str):
    spec = importlib.util.spec_from_file_location("checkpoint_scenarios", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _preimport(common, limit: int, module: str) -> str | None:
    """Import every course module up to the one under grade; the first failure, as a message."""
    for name, number in sorted(common.MODULES.items(), key=lambda item: item[1]):
        if number > limit:
            break
        dotted = f"{common.PACKAGE}.{name}"
        try:
            importlib.import_module(dotted)
        except BaseException as error:  # SystemExit, KeyboardInterrupt from the code under test too
            where = "your module" if name == module else "the reference module"
            return _cap(f"importing {dotted} ({where}) failed: {_describe(error)}")
    return None


def _module_file(common, module: str) -> str | None:
    loaded = sys.modules.get(f"{common.PACKAGE}.{module}")
    return getattr(loaded, "__file__", None)


def _run_forked(scenario, tt) -> tuple[str, str | None, dict]:
    """Run one scenario in a child process; (status, error, values)."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        _child(scenario, tt, write_end)
        os._exit(0)  # not reached
    os.close(write_end)
    data, timed_out = _read_until(read_end, pid, scenario.budget)
    os.close(read_end)
    if timed_out:
        _kill(pid)
        return "error", f"timed out after {scenario.budget:g} s", {}
    _, status = os.waitpid(pid, 0)
    return _parse_child(data, status)


def _child(scenario, tt, fd: int) -> None:
    # The code under test may print: its output goes to stderr, never into our JSON lines.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(scenario.budget) + 2)  # backstop; the parent kills us at the budget
    try:
        raw = scenario(tt)
        payload = _validate(raw)
        buffer = io.BytesIO()
        np.savez(buffer, **payload)
        head = {"status": "ok", "keys": sorted(payload)}
        body = buffer.getvalue()
    except BaseException as error:
        head = {"status": "error", "error": _cap(_describe(error))}
        body = b""
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(json.dumps(head).encode() + b"\n" + body)
    finally:
        os._exit(0)


def _validate(raw) -> dict[str, np.ndarray]:
    """A scenario's dict of values as plain arrays: numbers, booleans, short strings only."""
    if not isinstance(raw, dict):
        raise TypeError(f"a scenario must return a dict of values, got {type(raw).__name__}")
    if len(raw) > VALUES_PER_SCENARIO:
        raise ValueError(f"too many values ({len(raw)})")
    out = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise ValueError(f"bad value name {key!r}")
        out[key] = _as_array(key, value)
    return out


def _as_array(key: str, value) -> np.ndarray:
    if isinstance(value, str):
        if len(value) > STRING_CAP:
            value = value[:STRING_CAP]
        return np.array(value)
    if isinstance(value, (bool, int, float, np.generic, np.ndarray, list, tuple)):
        array = np.array(value)
    else:
        raise TypeError(f"value {key!r} is a {type(value).__name__}; scenarios return numbers, "
                        f"arrays or strings")
    if array.dtype.kind not in "biufU":
        raise TypeError(f"value {key!r} has dtype {array.dtype}; only numbers, booleans and strings")
    if array.dtype.kind == "U" and array.dtype.itemsize > 4 * STRING_CAP:
        raise TypeError(f"value {key!r}: strings longer than {STRING_CAP} characters")
    return array


def _read_until(fd: int, pid: int, budget: float) -> tuple[bytes, bool]:
    """Everything the child writes, until it closes the pipe or the budget runs out."""
    deadline = time.monotonic() + budget
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > CHILD_OUTPUT_CAP:
            _kill(pid)
            return b"", False
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _parse_child(data: bytes, status: int) -> tuple[str, str | None, dict]:
    head, _, body = data.partition(b"\n")
    try:
        info = json.loads(head)
    except ValueError:
        return "error", _died(status), {}
    if info.get("status") != "ok":
        return "error", _cap(str(info.get("error"))), {}
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as loaded:
            values = {key: loaded[key] for key in loaded.files}
    except Exception as error:
        return "error", _cap(f"unreadable values: {error}"), {}
    return "ok", None, values


def _died(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        if number == signal.SIGALRM:
            return "timed out"
        if number == signal.SIGKILL:
            return "killed (out of memory or CPU time?)"
        return f"the interpreter died with signal {name}"
    return f"the scenario ended the process (exit status {os.WEXITSTATUS(status)}) without a result"


def _describe(error: BaseException) -> str:
    """`Type: message`, plus where in tinytorch it happened (innermost frame in the package)."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f"{os.sep}tinytorch{os.sep}" in f.filename]
    if frames:
        frame = frames[-1]
        short = frame.filename[frame.filename.rfind(f"{os.sep}tinytorch{os.sep}") + 1:]
        text += f" (in {frame.name}, {short} line {frame.lineno})"
    return text


def _cap(text: str) -> str:
    return text if len(text) <= ERROR_CAP else text[:ERROR_CAP - 3] + "..."


def _write_values(out_dir: str, values: dict) -> None:
    temporary = os.path.join(out_dir, ".values.tmp.npz")
    with open(temporary, "wb") as handle:
        np.savez(handle, **values)
    os.replace(temporary, os.path.join(out_dir, "values.npz"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
