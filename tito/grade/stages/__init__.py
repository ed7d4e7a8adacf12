"""The stages of grading one submission, in the order they run. Each is a module with
`run(job, context)`: it reads the fields of the `Job` that earlier stages filled in and fills in
its own (see `tito/grade/job.py`). Adding a step means adding one module to this list.

    read      the submitted file -> a notebook, or the exact reason it cannot be read
    prepare   merged with the release notebook: locked cells and stubs restored, tamper flags
    select    the code cells the sandbox executes
    plan      the submission's seed, the reference's answers for it, the student's module built
    session   ONE sandbox session: the cases in a pristine child, then the notebook's cells
    score     every graded cell's points, decided outside: notebook verdict AND cases agree
    review    flags for a human (tampering, disagreeing verdicts, suspicious code): never points
    keep      the executed notebook for formgrader
"""

from tito.grade.stages import keep, plan, prepare, read, review, score, select, session

STAGES = (read, prepare, select, plan, session, score, review, keep)
