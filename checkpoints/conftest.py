"""Checkpoints run only for the modules the tinytorch under test has reached.

On a student's build (`TINYTORCH_ROOT=.tito/student-build make checkpoints` after `tito build`)
a checkpoint whose modules are not all in the build, or whose own module is the published
reference rather than the student's work, is skipped with the reason, instead of failing to
import or passing on the instructor's code; the summary says where each module came from
(tito/student/reached.py). On the reference package (the default) every checkpoint runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tito.course import discover
from tito.student import reached

COURSE = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"^checkpoint_(\d\d)_\w+\.py$")
_FOUND = pytest.StashKey[dict]()


def _judged(config: pytest.Config) -> dict[str, str] | None:
    """Each module's origin in the package under test; None for the course's own reference."""
    if _FOUND not in config.stash:
        package = Path(sys.modules["tinytorch"].__file__).resolve().parent  # the root conftest imported it
        own = package == COURSE / "tinytorch"
        config.stash[_FOUND] = None if own else reached.origins(discover(COURSE), package.parent)
    return config.stash[_FOUND]


class _NotReached(pytest.Module):
    """A checkpoint file that is not imported: its collection is skipped with the reason."""

    reason = ""

    def collect(self):
        raise pytest.skip.Exception(f"{self.path.name}: {self.reason}", allow_module_level=True)


def pytest_pycollect_makemodule(module_path: Path, parent):
    match = NUMBER.match(module_path.name)
    found = _judged(parent.config)
    if not match or found is None:
        return None
    reason = reached.skip_reason(int(match[1]), discover(COURSE), found)
    if reason is None:
        return None
    module = _NotReached.from_parent(parent, path=module_path)
    module.reason = reason
    return module


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    found = _judged(config)
    if found is not None:
        terminalreporter.write_line(reached.summary(found))
