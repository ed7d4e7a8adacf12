"""`tito submit NN_name`: hand a notebook in.

`--zip` writes `submissions/<student>_<module>.zip` holding `<student>_<module>.ipynb`, the name
`tito collect lms` matches to the student by its id prefix; the rest of the name is
`<module>.ipynb`, so the import reports it "matched", not "renamed".
Without `--zip`, nbgrader's own `submit` copies the notebook into the exchange, which needs
`c.Exchange.root` in nbgrader_config.py.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

from tito.course import Module
from tito.errors import TitoError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+-]*$")  # no "_": the importer splits the name there


def default_student() -> str:
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def _notebook(module: Module, notebook: Path | None) -> Path:
    path = (notebook or module.release_ipynb).resolve()
    if not path.is_file():
        raise TitoError(f"{path}: no such notebook")
    try:
        nbformat.read(str(path), as_version=4)
    except Exception as error:
        raise TitoError(f"{path}: not a readable notebook ({type(error).__name__}: {error}); "
                        "fix it before submitting") from None
    return path


def submit_zip(root: Path, module: Module, student: str, notebook: Path | None = None) -> Path:
    """Write `submissions/<student>_<module>.zip` (replacing an older one) and return its path."""
    if not STUDENT_ID.match(student):
        raise TitoError(f"{student!r} is not a student id the LMS import can match "
                        "(letters, digits, '.', '@', '+', '-'; no '_' or spaces)")
    path = _notebook(module, notebook)
    name = f"{student}_{module.name}"
    dest = root / "submissions" / f"{name}.zip"
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, f"{name}.ipynb")  # the entry's time is the notebook's: its submission time
    partial.replace(dest)
    return dest


def exchange_root(root: Path) -> str | None:
    from tito.release import load_config

    config = load_config(root)
    value = config.Exchange.get("root") if "Exchange" in config else None
    return str(value) if value else None


def submit_exchange(root: Path, module: Module, notebook: Path | None = None) -> str:
    """`nbgrader submit` of the notebook; returns nbgrader's output. Needs c.Exchange.root."""
    exchange = exchange_root(root)
    if not exchange:
        raise TitoError("no nbgrader exchange is configured (c.Exchange.root in nbgrader_config.py); "
                        f"use `tito submit {module.name} --zip` and upload the zip to your LMS")
    path = _notebook(module, notebook)
    with tempfile.TemporaryDirectory(prefix="tito-submit-") as tmp:
        folder = Path(tmp) / module.name  # nbgrader submits a folder named after the assignment
        folder.mkdir()
        shutil.copyfile(path, folder / f"{module.name}.ipynb")
        done = subprocess.run([sys.executable, "-m", "nbgrader", "submit", str(folder)], cwd=root,
                              capture_output=True, text=True, timeout=300)
    output = (done.stdout + done.stderr).strip()
    if done.returncode:
        raise TitoError(f"nbgrader submit failed (exit {done.returncode}): {output.splitlines()[-1] if output else ''}")
    return output
