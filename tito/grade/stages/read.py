"""read: the submitted notebook, or the exact reason it cannot be read (named file, problem)."""

from __future__ import annotations

from tito.grade.job import Job, Ungradable
from tito.grade.prepare import SubmissionError, read_submission


def run(job: Job, context) -> None:
    try:
        job.submitted, job.notes = read_submission(job.submission)
    except SubmissionError as error:
        raise Ungradable(str(error)) from None
