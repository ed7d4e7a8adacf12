"""The student's side of tito: the modules that `tito check`, `tito build`, `tito submit` and
`check_module` import, and no others.

The other stages are the instructor's: some hold grading details or solution text (the grader's
scenarios, the synthetic class's bug catalogue), and none of them can run without source/. The
kit's tests run the whole student flow on this copy, so a module missing here fails them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tito
from tito.errors import TitoError

STUDENT_TOOLS = (
    "__init__.py", "__main__.py", "cli.py", "errors.py",
    "course.py",  # finds the modules in release/ when there is no source/
    "execute.py", "source.py", "parsing.py",  # runs the student's notebook in a fresh kernel
    "build/__init__.py", "build/partial.py", "build/export.py",  # the student's module, written as export writes it
    "grade/checks.py", "grade/model.py",  # what the student's export cells must pass to be built
    "release/__init__.py", "release/generate.py", "release/published.py",  # nbgrader_config.py, read as nbgrader reads it
    "student/*.py",
)


def copy_tools(dest: Path) -> None:
    """Copy the student's side of the running tito into `dest/tito/`."""
    package = Path(tito.__file__).resolve().parent
    for pattern in STUDENT_TOOLS:
        found = sorted(package.glob(pattern))
        if not found:
            raise TitoError(f"tito/{pattern}: no such file; update tito.kit.tools.STUDENT_TOOLS")
        for path in found:
            target = dest / "tito" / path.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
