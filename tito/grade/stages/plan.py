"""plan: the submission's seed, the reference's answers for it, and the student's module built.

The seed is derived from the course secret and the submitted files (`tito.grade.secret`); the
reference's answers are computed outside, in the trusted reference process, and stay there. The
package the student's code runs beside holds only published references (or, by the course's
choice, the student's own earlier modules): never the reference of module k, never an
unpublished solution.
"""

from __future__ import annotations

from tito.grade.checks import plan_checks
from tito.grade.job import Job, Ungradable
from tito.grade.secret import submission_seed


def run(job: Job, context) -> None:
    refusal = context.refusal(job.module)
    if refusal:
        raise Ungradable(refusal)
    job.seed = submission_seed(context.secret, job.submission.student, job.module.name, job.result.digest)
    job.lib = context.earlier_lib(job.module, job.submission.student, job.scratch / "earlier")
    job.plan = plan_checks(job.module, job.prepared.notebook, job.scratch / "session", job.lib,
                           oracle=context.oracle, seed=job.seed)
