"""Reading every `autograded/<student>/<module>/result.json` back into `GradeResult`s.

Feedback pages and the instructor's report both start here. A result file that cannot be read
(corrupt JSON, a schema mismatch, names that disagree with its folders) never stops the others:
it becomes an `Unreadable` entry with a reason, which the report lists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tito.grade.model import GradeResult

RESULT_FILE = "result.json"
# One path component, no dot-dot, no separators: student ids and module names become folder
# names of feedback/ and links of the report.
SAFE_NAME = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._@+-]{1,128}$")


NOTE = "note"  # a Flag of this kind is information (e.g. "graded x.ipynb, expected y.ipynb"), not for review


def review_flags(result: GradeResult) -> list:
    """The flags a reviewer must look at (every kind but "note")."""
    return [f for f in result.flags if f.kind != NOTE]


def notes(result: GradeResult) -> list:
    return [f for f in result.flags if f.kind == NOTE]


@dataclass(frozen=True)
class Unreadable:
    path: Path
    reason: str


@dataclass
class Results:
    """Every result found, sorted by (module, student), and the files that could not be read."""

    results: list[GradeResult] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    def modules(self) -> list[str]:
        return sorted({r.module for r in self.results})

    def students(self) -> list[str]:
        return sorted({r.student for r in self.results})

    def of_module(self, module: str) -> list[GradeResult]:
        return [r for r in self.results if r.module == module]


def is_safe_name(name: object) -> bool:
    return isinstance(name, str) and bool(SAFE_NAME.match(name))


def result_paths(root: Path) -> list[Path]:
    autograded = root / "autograded"
    return sorted(autograded.glob(f"*/*/{RESULT_FILE}")) if autograded.is_dir() else []


def read_result(path: Path) -> GradeResult:
    """One result.json; ValueError (with the reason) when it is not a sound GradeResult."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read it: {error}") from error
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    try:
        result = GradeResult.from_json(data)
    except TypeError as error:
        raise ValueError(f"not a GradeResult: {error}") from error
    student, module = path.parent.parent.name, path.parent.name
    if (result.student, result.module) != (student, module):
        raise ValueError(f"names {result.student!r}/{result.module!r} but sits in {student}/{module}/")
    if not (is_safe_name(result.student) and is_safe_name(result.module)):
        raise ValueError("student or module name is not a plain file name")
    if result.status not in ("graded", "error"):
        raise ValueError(f"unknown status {result.status!r}")
    return result


def load_results(root: Path) -> Results:
    loaded = Results()
    for path in result_paths(root):
        try:
            loaded.results.append(read_result(path))
        except ValueError as error:
            loaded.unreadable.append(Unreadable(path, str(error)))
    loaded.results.sort(key=lambda r: (r.module, r.student))
    return loaded
