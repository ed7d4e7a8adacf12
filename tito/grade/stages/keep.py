"""keep: the executed notebook, as nbgrader's formgrader expects it, under autograded/.

Formgrader renders it in the instructor's Jupyter origin: every cell is made inert first
(`tito.grade.neutralise`: markdown as sanitised HTML, no attachments, raw cells as text); the
outputs are the ones the supervisor allowed (`tito.grade.execute._valid_output`)."""

from __future__ import annotations

import json

import nbformat

from tito.grade.job import Job
from tito.grade.neutralise import neutralise_cell


def run(job: Job, context) -> None:
    if job.autograded is None:
        return
    executed = nbformat.from_dict(json.loads(json.dumps(job.prepared.notebook)))
    outcomes = {o.index: o for o in job.outcome.cells}
    for index, cell in enumerate(executed.cells):
        if cell.cell_type == "code" and index in outcomes:
            cell.outputs = [nbformat.from_dict(o) for o in outcomes[index].outputs]
        neutralise_cell(cell)
    path = job.autograded / f"{job.module.name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".ipynb.tmp")
    nbformat.write(executed, temporary)
    temporary.replace(path)
