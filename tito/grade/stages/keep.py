"""keep: the executed notebook, as nbgrader's formgrader expects it, as bytes.

The supervisor writes them to autograded/<student>/<module>/ (`tito.grade.run`): a stage may run
on a remote worker, and the instructor's process is the only writer of autograded/.

Formgrader renders it in the instructor's Jupyter origin: every cell is made inert first
(`tito.grade.neutralise`: markdown as sanitised HTML, no attachments, raw cells as text); the
outputs are the ones the supervisor allowed (`tito.grade.execute._valid_output`)."""

from __future__ import annotations

import json

import nbformat

from tito.grade.job import Job
from tito.grade.neutralise import neutralise_cells


def run(job: Job, context) -> None:
    if not job.keep:
        return
    executed = nbformat.from_dict(json.loads(json.dumps(job.prepared.notebook)))
    outcomes = {o.index: o for o in job.outcome.cells}
    for index, cell in enumerate(executed.cells):
        if cell.cell_type == "code" and index in outcomes:
            cell.outputs = [nbformat.from_dict(o) for o in outcomes[index].outputs]
    neutralise_cells(executed.cells)
    job.executed = nbformat.writes(executed).encode("utf-8")
