"""Grading on a Dask cluster (`tito autograde --scheduler tcp://HOST:PORT` or `--cluster local[:N]`).

The supervisor registers the course with the cluster once per run (`tito.grade.worker`:
the bundle of its grading inputs, unpacked by every worker, present or joining later), then
submits one task per submission: its files, its seed, its module's build id
(`tito.grade.task`). A worker grades it through the same stages as the local pool and returns a
`Graded`; the supervisor's main thread writes the gradebook and autograded/ (`tito.grade.run`).
A worker that dies mid-task has its tasks rescheduled by the scheduler on another worker; the
supervisor records each submission once, when its future completes. A task that every worker it
went to died with (`distributed.scheduler.allowed-failures` + 1 of them) is recorded as not
gradable, with the reason, and the batch goes on.

docs/scaling.md says how to start schedulers and workers on several machines.
"""

from __future__ import annotations

import re
from concurrent.futures import CancelledError, Future

from distributed import Client, KilledWorker, LocalCluster

from tito.errors import TitoError
from tito.grade.context import GradingContext
from tito.grade.course_build import module_build_id
from tito.grade.course_bundle import pack
from tito.grade.model import Submission
from tito.grade.pipeline import Graded, not_graded
from tito.grade.task import make_task
from tito.grade.worker import CoursePlugin, grade_task

CONNECT_TIMEOUT = 5  # seconds to reach the scheduler before saying it cannot be reached
WORKER_TIMEOUT = 60  # seconds to wait for a first worker to join
QUEUED_PER_THREAD = 2  # tasks in flight per worker thread: one running, one ready to start
LOCAL_CLUSTER = re.compile(r"^local(?::(?P<workers>[1-9]\d*))?$")


def parse_cluster(spec: str, default_workers: int) -> int:
    """The number of worker threads `--cluster local[:N]` asks for."""
    match = LOCAL_CLUSTER.match(spec)
    if not match:
        raise TitoError(f"--cluster {spec!r}: expected `local` or `local:N` (N worker threads)")
    return int(match["workers"] or default_workers)


class DaskPool:
    """Submissions graded by a Dask cluster's workers; the interface of `tito.grade.pool.LocalPool`.

    `local_workers`: a LocalCluster of one worker with that many threads, in this process. A grading
    thread only waits on its submission's sandboxed processes (the isolation is the sandbox's, not
    the worker's), so a worker process of its own would add only its start and stop to every run:
    3.4 s, which cost a 60-submission class 14% of its throughput (docs/benchmarks.md). The path is
    otherwise Dask's own: scheduler, plugin, course bundle, tasks and futures."""

    def __init__(self, context: GradingContext, *, scheduler: str | None = None, local_workers: int | None = None):
        self.context = context
        self.scheduler, self.local_workers = scheduler, local_workers
        self._cluster = self._client = None
        self._builds: dict[str, str] = {}

    def __enter__(self) -> "DaskPool":
        try:
            if self.local_workers is not None:
                self._cluster = LocalCluster(n_workers=1, threads_per_worker=self.local_workers, processes=False,
                                             dashboard_address=None)
            self.scheduler = self._cluster.scheduler_address if self._cluster else self.scheduler
            self._client = _connect(self.scheduler)
            context = self.context
            self._client.register_plugin(CoursePlugin(pack(context.root, context.modules), context.sandbox.limits,
                                                      not context.sandbox.isolated,
                                                      [m.name for m in context.published]))
            self._wait_for_a_worker()
        except BaseException:
            self.__exit__()
            raise
        self._executor = self._client.get_executor(pure=False)
        return self

    def __exit__(self, *exc) -> None:
        for closable in (self._client, self._cluster):
            if closable is not None:
                closable.close()

    def capacity(self) -> int:
        """Tasks to keep in flight: enough to keep every worker thread busy, as workers come and go,
        without loading the scheduler with the whole class's files at once."""
        return QUEUED_PER_THREAD * max(1, sum(self._client.nthreads().values()))

    def submit(self, submission: Submission) -> Future:
        """A future of the submission's `Graded`, computed on some worker."""
        module = self.context.module(submission.module)
        if module.name not in self._builds:
            self._builds[module.name] = module_build_id(self.context.root, self.context.modules, module)
        earlier = self.context.unpublished_before(module) if self.context.settings.earlier_modules == "student" else []
        task = make_task(submission, self.context.seed(submission), self._builds[module.name], earlier)
        graded = Future()
        self._executor.submit(grade_task, task).add_done_callback(
            lambda done: self._settle(graded, done, submission))
        return graded

    def _settle(self, graded: Future, done: Future, submission: Submission) -> None:
        """Pass the task's outcome on; a task that killed its workers becomes a recorded reason."""
        try:
            graded.set_result(done.result())
        except KilledWorker as error:
            reason = (f"every Dask worker that took it died ({str(error).split('. ')[0]}): a worker machine was "
                      "lost, or this submission brings workers down; `tito autograde --force --student "
                      f"{submission.student} --module {submission.module}` grades it again")
            graded.set_result(Graded(not_graded(self.context, submission, reason)))
        except CancelledError:  # the client lost the scheduler: every pending task is cancelled
            graded.set_exception(TitoError(
                f"lost the Dask scheduler at {self.scheduler} mid-run ({submission.student}/"
                f"{submission.module} was not graded); what was graded is recorded: start the scheduler again and "
                "rerun to grade the rest"))
        except BaseException as error:  # a worker's refusal: the supervisor raises it
            graded.set_exception(error)

    def _wait_for_a_worker(self) -> None:
        try:
            self._client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except TimeoutError:
            raise TitoError(f"no Dask worker joined the scheduler at {self.scheduler} within "
                            f"{WORKER_TIMEOUT} s: start `dask worker <address>` on a grading machine") from None


def _connect(address: str) -> Client:
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise TitoError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} s ({error}); "
                        "is `dask scheduler` running there, and is its port open to this machine?") from None
