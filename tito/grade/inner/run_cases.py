"""Run one module's cases and write their values (inside the sandbox, and for the reference).

    python run_cases.py CASES_FILE OUT_DIR --module KEY --modules K1,K2,... --seed N
    python run_cases.py --serve

Standard library and numpy only; it never imports tito. The spec file (`source/NN/cases.py`)
and `casekit.py` sit next to this script, and the tinytorch package to run the cases on is found
on PYTHONPATH. `--modules` is the course order (module keys, `tensor,activations,...`) and
`--module` the key of the module under grade: a case may load that module and the ones before it.
`--seed` is the submission's seed: each case draws its inputs from a generator made from it.

Output, all of it untrusted by the supervisor when it comes from the sandbox:
- stdout: one JSON line describing the module import ({"module", "file", "status", "error"}),
  then ONE JSON line per case: {"case", "cell", "hidden", "points", "status": "ok"|"error",
  "error", "keys", "rtol", "atol", "wall"};
- OUT_DIR/values.pack: every value of every case that finished, under `<case>/<name>`, numeric,
  boolean or short-string arrays only (a value pack, `valuepack.py`, written at the end, and every
  second while the cases run, so that a run killed half-way keeps most of what it had).

The cases run in a forked child, one after another: a case that hangs is killed at its time budget
even if the code under test swallows exceptions, and one that crashes the interpreter (or calls
sys.exit) loses only itself: a new child goes on with the next case.

`--serve` is the supervisor's trusted reference process: it reads one JSON request per line on
stdin ({"cases", "module", "modules", "seed"}), runs the cases on the reference package in this
process (no fork: the reference is trusted and the cases are pure) and answers each with one JSON
line {"header", "lines", "values": base64 of the value pack}.
"""

from __future__ import annotations

import os

# Tiny matrices: threads only cost time, and one thread keeps the floating-point order fixed.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import base64
import importlib
import importlib.util
import json
import re
import select
import signal
import struct
import sys
import time
import traceback

import numpy as np

import valuepack  # beside this script (its folder is on sys.path wherever it runs)

ERROR_CAP = 600  # characters of an error message
STRING_CAP = 200  # characters of a string value
VALUES_PER_CASE = 200
CHILD_OUTPUT_CAP = 16 * 2**20  # bytes one case may send back
WRITE_EVERY = 1.0  # seconds between rewrites of values.pack while cases run (a killed run keeps them)
KEY = re.compile(r"^[^\\\x00-\x1f\x7f]{1,80}$")  # a value's name
OPTIONS = ("--module", "--modules", "--seed")


def main(argv: list[str]) -> int:
    args = list(argv[1:])
    if args == ["--serve"]:
        return serve(sys.stdin, sys.stdout)
    options = {}
    for option in OPTIONS:
        if option in args:
            at = args.index(option)
            options[option] = args[at + 1]
            del args[at: at + 2]
    if len(args) != 2 or set(options) != set(OPTIONS):
        print(__doc__, file=sys.stderr)
        return 2
    cases_path, out_dir = os.path.abspath(args[0]), os.path.abspath(args[1])
    modules, module, seed = options["--modules"].split(","), options["--module"], int(options["--seed"])
    # sys.path entries must not depend on the cwd the code under test may change.
    sys.path[:] = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for `casekit`
    os.makedirs(out_dir, exist_ok=True)
    # Our JSON lines get a private copy of stdout; whatever the code under test prints (at import
    # or in a case) goes to stderr and can neither drown nor interleave with them.
    real_stdout = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    spec = _load(cases_path)
    casekit = importlib.import_module("casekit")
    import_error = _preimport(modules, module)
    print(json.dumps(_header(module, import_error)), file=real_stdout)

    values: dict[str, np.ndarray] = {}
    if import_error:
        outcomes = (("error", import_error, {}, 0.0) for _ in spec.CASES)
    else:
        outcomes = _run_in_children(spec.CASES, casekit.TT(modules, module), seed)
    written = time.monotonic()
    for case, (status, error, result, wall) in zip(spec.CASES, outcomes):
        for name, value in result.items():
            values[f"{case.name}/{name}"] = value
        if result and time.monotonic() - written > WRITE_EVERY:
            _write_values(out_dir, values)
            written = time.monotonic()
        print(json.dumps(_line(case, status, error, result, wall)), file=real_stdout)
    _write_values(out_dir, values)
    return 0


def serve(requests, replies) -> int:
    """The reference process: one request per line, one answer per line, until stdin closes."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    casekit = importlib.import_module("casekit")
    loaded: dict[str, object] = {}
    for raw in requests:
        request = json.loads(raw)
        path = request["cases"]
        if path not in loaded:
            loaded[path] = _load(path, name=f"cases_{len(loaded)}")
        modules, module, seed = request["modules"], request["module"], int(request["seed"])
        import_error = _preimport(modules, module)
        lines, values = [], {}
        for case in loaded[path].CASES:
            start = time.monotonic()
            if import_error:
                status, error, result = "error", import_error, {}
            else:
                status, error, result = _run_here(case, casekit.TT(modules, module), seed)
            values.update({f"{case.name}/{name}": value for name, value in result.items()})
            lines.append(_line(case, status, error, result, time.monotonic() - start))
        replies.write(json.dumps({"header": _header(module, import_error), "lines": lines,
                                  "values": base64.b64encode(valuepack.pack(values)).decode("ascii")}) + "\n")
        replies.flush()
    return 0


def _header(module: str, import_error: str | None) -> dict:
    return {"module": f"tinytorch.core.{module}", "file": _module_file(module),
            "status": "error" if import_error else "ok", "error": import_error}


def _line(case, status: str, error: str | None, result: dict, wall: float) -> dict:
    return {"case": case.name, "cell": case.cell, "hidden": case.hidden, "points": case.points,
            "status": status, "error": error, "keys": sorted(result), "rtol": case.rtol,
            "atol": case.atol, "wall": round(wall, 4)}


def _load(path: str, name: str = "module_cases"):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _preimport(modules: list[str], module: str) -> str | None:
    """Import every course module up to the one under grade; the first failure, as a message."""
    for name in modules[: modules.index(module) + 1]:
        dotted = f"tinytorch.core.{name}"
        try:
            importlib.import_module(dotted)
        except BaseException as error:  # SystemExit, KeyboardInterrupt from the code under test too
            where = "your module" if name == module else "the reference module"
            return _cap(f"importing {dotted} ({where}) failed: {_describe(error)}")
    return None


def _module_file(module: str) -> str | None:
    loaded = sys.modules.get(f"tinytorch.core.{module}")
    return getattr(loaded, "__file__", None)


def _run_here(case, tt, seed: int) -> tuple[str, str | None, dict]:
    """Run one case in this process (the trusted reference); (status, error, values)."""
    try:
        return "ok", None, _validate(case(tt, seed))
    except Exception as error:  # a case failing on the reference is a course bug: reported
        return "error", _cap(_describe(error)), {}


START_BUDGET = 10.0  # seconds a fresh child may take to report that it started its first case
MESSAGE = struct.Struct("!cII")  # kind (b"S" a case started, b"D" a case is done), case index, length


def _run_in_children(cases, tt, seed: int):
    """Yield (status, error, values, wall) for each case, in order.

    The cases run one after another in ONE forked child (a fork per case costs more than most
    cases do). A case that hangs past its budget, even swallowing every exception, or that ends
    its process is charged alone: the child is killed or found dead, and a new one goes on with
    the next case. Global state the code under test breaks in one case is seen by the later
    cases of the same child, as it would be in the notebook."""
    following = 0
    while following < len(cases):
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_end)
            _child(cases, following, tt, seed, write_end)  # never returns
        os.close(write_end)
        messages = _Messages(read_end)
        current, started = None, time.monotonic()
        while True:
            budget = cases[current].budget if current is not None else START_BUDGET
            message = messages.next(started + budget)
            index = following if current is None else current
            if message == "timeout":
                _kill(pid)
                yield "error", f"timed out after {cases[index].budget:g} s", {}, time.monotonic() - started
                following = index + 1
                break
            if message is None:  # the child is gone, in the middle of `index`
                status = _reap(pid)
                yield "error", _died(status), {}, time.monotonic() - started
                following = index + 1
                break
            kind, number, payload = message
            if kind == b"S" and number == following and current is None:
                current, started = number, time.monotonic()
            elif kind == b"D" and number == current:
                yield (*_parse_child(payload), time.monotonic() - started)
                following, current = number + 1, None
                if following == len(cases):
                    _reap(pid)
                    break
            else:  # the code under test wrote on our pipe: nothing it says counts
                _kill(pid)
                yield "error", "the case runner's channel was tampered with", {}, time.monotonic() - started
                following = index + 1
                break
        os.close(read_end)


def _child(cases, first: int, tt, seed: int, fd: int) -> None:
    # The code under test may print: its output goes to stderr, never into our channel.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    try:
        channel = os.fdopen(fd, "wb", buffering=0)
        for index in range(first, len(cases)):
            case = cases[index]
            _send(channel, b"S", index, b"")
            signal.alarm(int(case.budget) + 2)  # backstop; the parent kills us at the budget
            try:
                payload = _validate(case(tt, seed))
                head, body = {"status": "ok", "keys": sorted(payload)}, valuepack.pack(payload)
            except BaseException as error:
                head, body = {"status": "error", "error": _cap(_describe(error))}, b""
            signal.alarm(0)
            _send(channel, b"D", index, json.dumps(head).encode() + b"\n" + body)
    finally:
        os._exit(0)


def _send(channel, kind: bytes, index: int, payload: bytes) -> None:
    channel.write(MESSAGE.pack(kind, index, len(payload)) + payload)


class _Messages:
    """The child's messages, read with a deadline: (kind, index, payload), None at the end of the
    pipe, or "timeout"."""

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, b""

    def next(self, deadline: float):
        while True:
            if len(self.buffer) >= MESSAGE.size:
                kind, index, length = MESSAGE.unpack_from(self.buffer)
                if length > CHILD_OUTPUT_CAP:
                    return None
                if len(self.buffer) >= MESSAGE.size + length:
                    payload = self.buffer[MESSAGE.size: MESSAGE.size + length]
                    self.buffer = self.buffer[MESSAGE.size + length:]
                    return kind, index, payload
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk


def _reap(pid: int) -> int:
    """Wait for the child (killing it if it lingers after closing the pipe); its wait status."""
    for _ in range(100):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    _kill(pid)
    return signal.SIGKILL


def _validate(raw) -> dict[str, np.ndarray]:
    """A case's dict of values as plain arrays: numbers, booleans, short strings only."""
    if not isinstance(raw, dict):
        raise TypeError(f"a case must return a dict of values, got {type(raw).__name__}")
    if len(raw) > VALUES_PER_CASE:
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
        raise TypeError(f"value {key!r} is a {type(value).__name__}; cases return numbers, "
                        f"arrays or strings")
    if array.dtype.kind not in "biufU":
        raise TypeError(f"value {key!r} has dtype {array.dtype}; only numbers, booleans and strings")
    if array.dtype.kind == "U" and array.dtype.itemsize > 4 * STRING_CAP:
        raise TypeError(f"value {key!r}: strings longer than {STRING_CAP} characters")
    return array


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _parse_child(data: bytes) -> tuple[str, str | None, dict]:
    head, _, body = data.partition(b"\n")
    try:
        info = json.loads(head)
        if not isinstance(info, dict):
            raise ValueError(head)
    except ValueError:
        return "error", "the case's result came back garbled", {}
    if info.get("status") != "ok":
        return "error", _cap(str(info.get("error"))), {}
    try:
        values = valuepack.unpack(body, max_arrays=VALUES_PER_CASE)
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
    return f"the case ended the process (exit status {os.WEXITSTATUS(status)}) without a result"


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
    temporary = os.path.join(out_dir, ".values.tmp.pack")
    with open(temporary, "wb") as handle:
        handle.write(valuepack.pack(values))
    os.replace(temporary, os.path.join(out_dir, "values.pack"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
