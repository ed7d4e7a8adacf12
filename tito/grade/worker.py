"""A Dask worker's side of grading: the course it received, and the tasks it grades with it.

`CoursePlugin` is registered by the supervisor (`tito.grade.distributed`); the scheduler keeps it
and hands it to every worker, including those that join later. It carries the course bundle
(`tito.grade.course_bundle`), unpacked into the worker's local directory: the worker needs no
access to the course directory, only the course's Python environment and bubblewrap.

A task names the build of its module it must be graded with; a worker whose unpacked course has a
different build (another course registered since, or a different tito installed on this machine)
refuses it with `BuildMismatch` instead of grading against stale references.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from tito import parsing
from tito.course import discover
from tito.errors import TitoError
from tito.grade.context import GradingContext
from tito.grade.course_bundle import unpack
from tito.grade.course_build import module_build_id
from tito.grade.pipeline import Graded, grade
from tito.grade.sandbox import Limits, Sandbox
from tito.grade.task import GradingTask, unpack_task

PLUGIN = "tito-course"


class BuildMismatch(TitoError):
    """A task meant for another build of the course than the one this worker holds."""


class WorkerContext(GradingContext):
    """A grading context without the course secret: a worker gets each task's seed instead."""

    @property
    def secret(self) -> bytes:
        raise TitoError("a worker never holds the course secret: the supervisor sends each task's seed")


class CoursePlugin(WorkerPlugin):
    """The course a worker grades with (see the module docstring)."""

    name = PLUGIN

    def __init__(self, bundle: bytes, limits: Limits, unsafe: bool, published: list[str]):
        """`unsafe`: the supervisor grades without isolation, so workers may too (`Sandbox`)."""
        self.bundle, self.limits, self.unsafe, self.published = bundle, limits, unsafe, published

    def setup(self, worker) -> None:
        parsing.serialize_all_parsing()  # a worker with several threads parses in each
        self.address = worker.address
        self.root = unpack(self.bundle, Path(tempfile.mkdtemp(prefix="tito-course-", dir=worker.local_directory)))
        modules = discover(self.root)
        self.context = WorkerContext(self.root, modules, Sandbox(self.limits, unsafe=self.unsafe),
                                     work=self.root / ".tito" / "work",
                                     published=[m for m in modules if m.name in self.published])
        self.context.work.mkdir(parents=True)
        self._builds: dict[str, str] = {}
        self._lock = threading.Lock()

    def teardown(self, worker) -> None:
        self.context.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)

    def build(self, module: str) -> str:
        with self._lock:
            if module not in self._builds:
                context = self.context
                self._builds[module] = module_build_id(self.root, context.modules, context.module(module))
            return self._builds[module]

    def grade(self, task: GradingTask) -> Graded:
        held = self.build(task.module)
        if held != task.build:
            raise BuildMismatch(f"worker {self.address} holds build {held} of {task.module}, the task of "
                                f"{task.student}/{task.module} needs build {task.build}: the course changed "
                                "since this worker got it, or the worker runs another version of tito; "
                                "restart the worker with the instructor's environment")
        folder = Path(tempfile.mkdtemp(prefix="task-", dir=self.context.work))
        try:
            return grade(self.context, unpack_task(task, folder), task.seed)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def grade_task(task: GradingTask) -> Graded:
    """What the supervisor submits to the cluster: one submission through the stages, here."""
    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN)
    if plugin is None:
        raise TitoError(f"worker {worker.address} has no course to grade with (plugin {PLUGIN!r} missing)")
    return plugin.grade(task)
