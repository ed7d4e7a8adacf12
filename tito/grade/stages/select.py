"""select: the code cells the sandbox executes (`tito.grade.selection` says which and why)."""

from __future__ import annotations

from tito.grade.job import CellToRun, Job
from tito.grade.selection import cells_to_run


def run(job: Job, context) -> None:
    notebook = job.prepared.notebook
    job.cells = [CellToRun(index, notebook.cells[index].source,
                           notebook.cells[index].metadata.get("nbgrader", {}).get("grade_id"))
                 for index in cells_to_run(notebook, job.prepared.student_cells)]
