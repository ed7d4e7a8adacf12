"""Report stage: grade exports and the instructor's report.

    export_grades(root)  -> grades.csv          nbgrader's own CSV export of the gradebook
    export_canvas(root)  -> grades_canvas.csv   a Canvas gradebook import file
    write_report(root)   -> report/index.html   summary, students, figures, flagged and ungradable submissions
    run_grades(root, console), run_report(root, console): the `tito grades` / `tito report` commands

Results are read through `tito.results`, which the feedback pages share. Attributes are imported
on first use: importing the package costs neither matplotlib nor nbgrader.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "export_grades": "tito.report.grades",
    "export_canvas": "tito.report.grades",
    "write_report": "tito.report.html",
    "run_grades": "tito.report.command",
    "run_report": "tito.report.command",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tito.report' has no attribute {name!r}")
