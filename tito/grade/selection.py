"""Which cells grading executes (shared by the autograder and the lint that proves it safe)."""

from __future__ import annotations


def cells_to_run(notebook, student_cells) -> list[int]:
    """The code cells grading executes: everything that defines or tests the module.

    That is every cell with nbgrader metadata (solutions, tests, given locked code), every
    exported cell, and every cell the student wrote or changed. The instructor's own narrative
    demos and analyses are skipped: the tests never depend on them (the lint proves it for every
    module, rule `tests-self-contained`), and they are most of a notebook's running time.
    """
    authored = set(student_cells)
    return [i for i, c in enumerate(notebook.cells)
            if c.cell_type == "code" and (i in authored or c.metadata.get("nbgrader") or is_exported(c.source))]


def is_exported(source: str) -> bool:
    return any(line.strip().startswith(("#| export", "#| default_exp")) for line in source.splitlines())
