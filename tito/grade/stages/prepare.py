"""prepare: the submission merged with the release notebook.

The release is the authority on every cell that is not the student's answer (locked tests, given
code, the stubs of a deleted solution cell): it is what every student already has, so nothing
put back can carry a solution or a hidden test into the sandbox.
"""

from __future__ import annotations

from tito.grade.job import Job
from tito.grade.prepare import prepare


def run(job: Job, context) -> None:
    job.prepared = prepare(context.release(job.module), job.submitted)
