"""plan: the reference's answers for the submission's seed, and the student's module built.

The seed comes with the job: the supervisor derives it from the course secret and the submitted
files (`tito.grade.secret`), so the secret never leaves the instructor's process, even when the
stages run on a remote worker. The reference's answers are computed outside, in the trusted reference process, and stay there. The
package the student's code runs beside holds only published references (or, by the course's
choice, the student's own earlier modules): never the reference of module k, never an
unpublished solution.
"""

from __future__ import annotations

from tito.grade.checks import plan_checks
from tito.grade.job import Job, Ungradable


def run(job: Job, context) -> None:
    refusal = context.refusal(job.module)
    if refusal:
        raise Ungradable(refusal)
    job.lib = context.earlier_lib(job.module, job.submission.folder.parent, job.scratch / "earlier")
    job.plan = plan_checks(job.module, job.prepared.notebook, job.scratch / "session", job.lib,
                           oracle=context.oracle, seed=job.seed)
