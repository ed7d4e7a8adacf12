"""`tito submit NN_name`: hand a notebook in.

`--zip` writes `submissions/<student>_<module>.zip` holding `<student>_<module>.ipynb`, the name
`tito collect lms` matches to the student by its id prefix; the rest of the name is
`<module>.ipynb`, so the import reports it "matched", not "renamed".
Without `--zip`, nbgrader's own `submit` copies the notebook into the exchange, which needs
`c.Exchange.root` in nbgrader_config.py.
"""

from __future__ import annotations

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
from tito.student.command import tito_command
from tito.student.identity import checked
from tito.student.stack import STUB_LINE

YOUR_CODE = re.compile(r"^\s*# YOUR CODE HERE\s*$")  # nbgrader's line above each solution stub


def readable_notebook(module: Module, notebook: Path | None) -> Path:
    """The notebook to submit (default: the module's under release/), if nbformat can read it."""
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
    checked(student)
    path = readable_notebook(module, notebook)
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


def submit_exchange(root: Path, module: Module, student: str, notebook: Path | None = None) -> str:
    """`nbgrader submit` of the notebook as `student` (nbgrader would take the login name);
    returns nbgrader's output. Needs c.Exchange.root."""
    exchange = exchange_root(root)
    if not exchange:
        raise TitoError("no nbgrader exchange is configured (c.Exchange.root in nbgrader_config.py); "
                        f"use `{tito_command()} submit {module.name} --zip` and upload the zip to your LMS")
    path = readable_notebook(module, notebook)
    with tempfile.TemporaryDirectory(prefix="tito-submit-") as tmp:
        folder = Path(tmp) / module.name  # nbgrader submits a folder named after the assignment
        folder.mkdir()
        shutil.copyfile(path, folder / f"{module.name}.ipynb")
        done = subprocess.run([sys.executable, "-m", "nbgrader", "submit", str(folder),
                               f"--CourseDirectory.student_id={checked(student)}"], cwd=root,
                              capture_output=True, text=True, timeout=300)
    output = (done.stdout + done.stderr).strip()
    if done.returncode:
        raise TitoError(f"nbgrader submit failed (exit {done.returncode}): {output.splitlines()[-1] if output else ''}")
    return output


def untouched_stubs(path: Path) -> int:
    """How many solution stubs the notebook has if every one is still in place (each
    `# YOUR CODE HERE` of a solution cell still followed by `raise NotImplementedError()`), else 0."""
    stubs = 0
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code" or not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            continue
        lines = cell.source.splitlines()
        for here, below in zip(lines, lines[1:] + [""]):
            if YOUR_CODE.match(here):
                if not STUB_LINE.match(below):
                    return 0
                stubs += 1
    return stubs


def confirm_untouched(module: Module, path: Path, yes: bool, ask) -> None:
    """Stop before submitting a notebook with every solution stub still in place (the release as
    it came, or a notebook whose work was never saved) unless the student confirms: `yes`, or
    `ask` (a prompt; None when nobody can answer) answered with y."""
    stubs = untouched_stubs(path)
    if not stubs or yes:
        return
    warning = (f"{path.name} looks untouched: all {stubs} of its solution stubs (`raise NotImplementedError()`) "
               "are still in place. Did you save your work (Ctrl+S)?")
    if ask is not None and ask(f"warning: {warning} Submit it anyway? [y/N] ").strip().lower() in ("y", "yes"):
        return
    raise TitoError(f"{warning} Nothing was submitted" + ("" if ask is not None else
                    f"; to submit it as it is, run again with --yes"))
