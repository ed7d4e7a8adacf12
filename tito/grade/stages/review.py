"""review: flags for a human. They never change points (every point is decided in `score`).

Tampering with the notebook's structure (from prepare), the static scan of the student's code
for hooks and patches (advisory: `tito.grade.integrity`), a cell whose notebook verdict and cases
disagree, a run that stopped early, and notes about the file.
"""

from __future__ import annotations

from tito.grade import integrity
from tito.grade.job import Job
from tito.grade.model import Flag


def run(job: Job, context) -> None:
    prepared, result = job.prepared, job.result
    student_sources = [(i, prepared.notebook.cells[i].source) for i in prepared.student_cells
                       if prepared.notebook.cells[i].cell_type == "code"]
    result.flags = (prepared.flags + integrity.scan(student_sources, module=job.module.export_modules)
                    + integrity.cross_check(result.cells, job.checks))
    if job.outcome.failure:
        result.flags.append(Flag("execution", job.outcome.failure))
    result.flags += [Flag("note", note) for note in job.notes]
