"""`check_module("01_tensor")`: `tito check` from a cell of the student's own notebook.

A notebook's kernel runs in the notebook's folder, so the course root is found by walking up from
the current directory. What is checked is the SAVED notebook (a kernel cannot see unsaved edits),
in a fresh kernel, exactly as `tito check` does; the output says so and when it was saved.

The cell calling it sits in every module's closing section, so it also runs wherever the whole
notebook runs, and there it must do nothing:
- in a kernel tito started (`tito check` itself, `tito lint`, the synthetic class): UNDER_TITO is
  set, and a check inside a check would recurse;
- under nbgrader (its Validate button, a stock `nbgrader autograde`): NBGRADER_EXECUTION is set;
- in tito's grading sandbox tito is not importable, but grading never runs the cell: it is no
  nbgrader cell and no export cell (tito.grade.selection); an edited copy that fails to import
  is an ungraded cell, which costs no points (the integrity scan notes the import for a reviewer).
Everything heavy is imported only after those checks, so skipping costs no time.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from tito import UNDER_TITO
from tito.errors import TitoError

AGAIN = "save the notebook and run this cell again"


def check_module(module: str, notebook: str | Path | None = None) -> None:
    """Check the saved notebook of `module` (`01_tensor`, `01` or `tensor`) and show what passed,
    what failed with its first message, the checkpoint's result, and what to try next.

    `notebook` defaults to `<module name>.ipynb` in the current folder if there is one (the
    notebook this kernel belongs to), else the module's notebook under release/.
    """
    skipped = skip_reason()
    if skipped:
        print(f"skipped: {skipped}")
        return
    try:
        report = _check(module, notebook)
    except TitoError as error:
        print(f"error: {error}")
        return
    except KeyboardInterrupt:
        print("interrupted: the check stopped (the checkpoint did not run)")
        return
    _show(report)


def skip_reason() -> str | None:
    """Why this process must not run a check (None when it may)."""
    if os.environ.get(UNDER_TITO):
        return "running under tito"
    if os.environ.get("NBGRADER_EXECUTION"):
        return f"running under nbgrader ({os.environ['NBGRADER_EXECUTION']})"
    return None


def _check(name: str, notebook: str | Path | None):
    from tito import course
    from tito.student.check import check, limits

    here = Path.cwd()
    root = course.find_root(here)
    module = course.select(course.discover(root), name)[0]
    path = _notebook_path(here, module, notebook)
    print(f"checking the saved notebook {course.relpath(root, path)} (saved {_saved_at(path)}); "
          "save first to include your latest edits", flush=True)
    return check(root, module, path, limits=limits(root))


def _notebook_path(here: Path, module, notebook: str | Path | None) -> Path:
    if notebook is not None:
        return (here / notebook).resolve()
    beside = here / f"{module.name}.ipynb"
    return beside.resolve() if beside.is_file() else module.release_ipynb


def _saved_at(path: Path) -> str:
    """The notebook's modification time: the clock time today, with the date on other days."""
    if not path.is_file():
        raise TitoError(f"{path}: no such notebook")
    saved = datetime.fromtimestamp(path.stat().st_mtime)
    return saved.strftime("%H:%M:%S" if saved.date() == datetime.now().date() else "%Y-%m-%d %H:%M:%S")


def _show(report) -> None:
    """An HTML table in a notebook (with the text for plain front-ends), plain text elsewhere."""
    from tito.student import summary

    text = summary.as_text(report, AGAIN)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return
    display({"text/plain": text, "text/html": summary.as_html(report, AGAIN)}, raw=True)
