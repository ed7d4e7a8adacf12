"""How the student runs tito, so that every message names a command that works as typed.

`make setup` installs tito into the course folder's .venv/ with a `tito` console script
(pyproject's [project.scripts]). That script is on PATH in JupyterLab's terminals (`make lab`
puts .venv/bin first) and in a shell that activated the environment; elsewhere it is
`.venv/bin/tito`. Messages say whichever of these the student can run from the course folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def tito_command() -> str:
    """`tito` when the `tito` on PATH is this environment's; else this environment's script by
    its path (relative to the current folder when inside it); else `<python> -m tito`."""
    script = Path(sys.prefix) / "bin" / "tito"
    found = shutil.which("tito")
    if found and script.is_file() and os.path.samefile(found, script):
        return "tito"
    if script.is_file():
        return _shown(script)
    return f"{_shown(Path(sys.executable))} -m tito"


def _shown(path: Path) -> str:
    """`path` relative to the current folder if it lies inside it, else absolute."""
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)
