"""docs/curriculum.md stays true: its module table is the modules in source/, in course order, with
their export targets, points, graded cells, checkpoints and the questions those checkpoints ask.

A new module fails here until its row is added; the message gives the row to paste.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tito import course
from tito.source import nbgrader_meta, read_source

REPO = Path(__file__).resolve().parents[1]
CURRICULUM = REPO / "docs" / "curriculum.md"
ROW = re.compile(r"^\| (?P<module>\d\d_\w+) \| (?P<exports>`[\w.]+`(?:, `[\w.]+`)*) \| (?P<builds>.*) \| (?P<points>\d+(?:\.\d+)?) "
                 r"\((?P<cells>\d+)\) \| `(?P<checkpoint>checkpoint_\w+\.py)`: \"(?P<question>[^\"]+)\" \|$")
QUESTION = re.compile(r'^Question: "(?P<question>[^"]+)"$', re.M)


def table() -> dict[str, dict]:
    return {m["module"]: m.groupdict() for line in CURRICULUM.read_text(encoding="utf-8").splitlines()
            if (m := ROW.match(line))}


def facts(module: course.Module) -> dict:
    """What the row of `module` must say, read from its folder."""
    graded = [nbgrader_meta(c) for c in read_source(module.source_py).cells if nbgrader_meta(c).get("grade")]
    checkpoint = module.checkpoint_py
    docstring = ast.get_docstring(ast.parse(checkpoint.read_text(encoding="utf-8"))) if checkpoint else ""
    question = QUESTION.search(docstring or "")
    return {"module": module.name, "exports": ", ".join(f"`{dotted}`" for dotted in module.export_modules),
            "points": f"{sum(float(c['points']) for c in graded):g}", "cells": str(len(graded)),
            "checkpoint": checkpoint.name if checkpoint else "(none)",
            "question": question["question"] if question else "(no `Question: \"...\"` line in its docstring)"}


def test_the_module_table_is_the_modules_in_source() -> None:
    rows = table()
    modules = course.discover(REPO)
    missing = [m for m in modules if m.name not in rows]
    assert not missing, "docs/curriculum.md has no row for " + "; ".join(
        f"{m.name} (add: | {f['module']} | {f['exports']} | what the student builds | {f['points']} ({f['cells']}) "
        f"| `{f['checkpoint']}`: \"{f['question']}\" |)" for m in missing for f in [facts(m)])
    assert list(rows) == [m.name for m in modules], "rows for modules that are not in source/, or out of order"


def test_each_row_says_what_its_module_folder_says() -> None:
    rows = table()
    for module in (m for m in course.discover(REPO) if m.name in rows):  # a missing row: the test above
        row = {key: value for key, value in rows[module.name].items() if key != "builds"}
        assert row == facts(module), f"docs/curriculum.md: the row of {module.name}"
