"""The reference's answers to a module's cases, for one submission's seed (trusted, outside).

Every graded point compares the student's values with these. They are computed per submission,
because the inputs are drawn from the submission's seed, so a student cannot know them in
advance; they never enter a sandbox.

Starting an interpreter and importing numpy per submission would cost more than the cases
themselves, so one long-lived process (`inner/run_cases.py --serve`) answers every request of a
grading run, one at a time, on a private copy of the course's full reference package. It is
restarted if it dies; a case that fails on the reference is a course bug and raises.

The answers are needed only when the student's values are compared, after the sandbox session:
`answers_later` asks in the background, so the reference computes while the session runs and
neither waits for the other (with one request at a time, a worker asking while another's request
ran used to sit idle beside a free CPU).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tito.course import PACKAGE, Module, discover
from tito.errors import TitoError
from tito.grade.inner import script, valuepack

MAX_VALUES = 100_000  # arrays in one answer (the reference is trusted: this bounds a runaway spec)
REFERENCE_TIMEOUT = 300.0  # seconds for one module's cases on the reference


def module_key(module: Module) -> str:
    """`tensor` for `tinytorch.core.tensor`: the name the cases' `tt` loader uses."""
    return module.export_module.rsplit(".", 1)[-1]


def course_order(root: Path) -> list[str]:
    """The module keys in course order (tito.course is the only place that knows the order)."""
    return [module_key(m) for m in discover(root)]


def cases_file(module: Module) -> Path:
    path = module.cases_py
    if not path.is_file():
        raise TitoError(f"{module.rel(path)}: missing: every module needs its spec of cases "
                        f"(see source/AUTHORING.md)")
    return path


class Oracle:
    """The reference process of one course; `answers(module, seed)` is thread-safe."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._home: Path | None = None
        self._memo: dict[tuple[str, int], dict] = {}
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oracle")

    def answers(self, module: Module, seed: int) -> dict:
        """{"header", "cases": [spec...], "values": {key: array}} of `module`'s cases on the
        reference with `seed`. Each spec is {"case", "cell", "hidden", "points", "rtol", "atol",
        "keys"}."""
        key = (module.name, int(seed))
        with self._lock:
            if key not in self._memo:
                if len(self._memo) > 256:
                    self._memo.clear()
                self._memo[key] = self._ask(module, int(seed))
            return self._memo[key]

    def answers_later(self, module: Module, seed: int) -> Future:
        """`answers(module, seed)`, computed in the background; `.result()` waits for it (and
        raises what `answers` would)."""
        return self._background.submit(self.answers, module, seed)

    def close(self) -> None:
        self._background.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._stop()
            if self._home is not None:
                shutil.rmtree(self._home, ignore_errors=True)
                self._home = None

    # ------------------------------------------------------------------ the process

    def _ask(self, module: Module, seed: int) -> dict:
        request = {"cases": str(self._home_files()[1] / module.name / "cases.py"),
                   "module": module_key(module), "modules": course_order(self.root), "seed": seed}
        for attempt in (1, 2):  # a dead process is restarted once
            process = self._running()
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                line = _readline(process, REFERENCE_TIMEOUT)
            except (OSError, TimeoutError) as error:
                self._stop()
                if attempt == 2:
                    raise TitoError(f"{module.name}: the reference process failed: {error}") from None
                continue
            return _decode(module, json.loads(line))
        raise AssertionError("not reached")

    def _home_files(self) -> tuple[Path, Path]:
        """(lib with the full reference package, folder of every module's spec), copied once."""
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="tito-oracle-"))
            shutil.copytree(self.root / PACKAGE, self._home / "lib" / PACKAGE,
                            ignore=shutil.ignore_patterns("__pycache__"))
            for module in discover(self.root):
                dest = self._home / "cases" / module.name
                dest.mkdir(parents=True)
                shutil.copyfile(cases_file(module), dest / "cases.py")
        return self._home / "lib", self._home / "cases"

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            lib, _ = self._home_files()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NBGRADER_", "TITO_"))}
            env.update({"PYTHONPATH": str(lib), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                        "MPLBACKEND": "Agg"})
            self._process = subprocess.Popen(
                [sys.executable, str(script("run_cases.py")), "--serve"], cwd=self._home, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
            self._process = None


def _readline(process: subprocess.Popen, timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not result:
        raise TimeoutError(f"no answer within {timeout:g} s")
    if not result[0]:
        raise OSError("the process ended")
    return result[0]


def _decode(module: Module, answer: dict) -> dict:
    header, lines = answer["header"], answer["lines"]
    problems = [f"{line['case']}: {line.get('error')}" for line in lines if line.get("status") != "ok"]
    if header.get("status") != "ok" or problems or not lines:
        detail = "; ".join(problems) or header.get("error") or "no cases"
        raise TitoError(f"{module.name}: the cases fail on the reference package: {detail}")
    values = valuepack.unpack(base64.b64decode(answer["values"]), max_arrays=MAX_VALUES)
    specs = [{"case": line["case"], "cell": line["cell"], "hidden": bool(line["hidden"]),
              "points": None if line["points"] is None else float(line["points"]),
              "rtol": float(line["rtol"]), "atol": float(line["atol"]), "keys": list(line["keys"])}
             for line in lines]
    return {"header": header, "cases": specs, "values": values}
