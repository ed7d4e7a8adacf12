"""The local pool: submissions graded by threads of the supervisor's own process.

Each thread only waits on a submission's sandboxed processes, so threads suffice; the supervisor
hands each its seed and gets a `Graded` back, exactly as from a remote worker
(`tito.grade.distributed`), so `tito.grade.run` drives both the same way.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from tito import parsing
from tito.grade.context import GradingContext
from tito.grade.model import Submission
from tito.grade.pipeline import grade


class LocalPool:
    def __init__(self, context: GradingContext, workers: int):
        self.context = context
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> "LocalPool":
        parsing.serialize_all_parsing()  # CPython 3.11: two threads must never parse at once
        self._pool = ThreadPoolExecutor(max_workers=self.workers)
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)

    def capacity(self) -> int:
        """How many submissions to have in flight at once."""
        return self.workers

    def submit(self, submission: Submission) -> Future:
        """A future of the submission's `Graded`."""
        return self._pool.submit(grade, self.context, submission, self.context.seed(submission))
