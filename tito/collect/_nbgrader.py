"""What nbgrader needs from its environment when called from Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def scripts_on_path() -> None:
    """nbgrader runs the `alembic` executable (beside our python) when it creates or opens a
    gradebook; `.venv/bin/python -m tito.collect` does not put `.venv/bin` on PATH."""
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, path]) if path else scripts
