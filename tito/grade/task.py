"""One submission's grading as data: what a remote worker needs besides the course's bundle.

No shared filesystem is assumed: the task carries the submitted files themselves, the seed the
supervisor derived from the course secret (which never leaves the instructor's machine), and the
build id of the course the grade must be computed with (`tito.grade.course_build`). Under
`c.Grading.earlier_modules = "student"` it also carries the student's earlier notebooks, which
stand in for unpublished earlier modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tito.course import Module
from tito.grade.model import Submission


@dataclass(frozen=True)
class GradingTask:
    student: str
    module: str
    files: dict[str, bytes]  # the submission folder's files, by path relative to it
    seed: int
    build: str  # `module_build_id` of the course this submission must be graded with
    timestamp: str | None = None
    earlier: dict[str, bytes] = field(default_factory=dict)  # earlier module name -> its notebook


def make_task(submission: Submission, seed: int, build: str, earlier: list[Module]) -> GradingTask:
    """The task of `submission`; `earlier` are the modules whose notebook the student's own work
    stands in for (empty unless the course grades against it)."""
    files = {p.relative_to(submission.folder).as_posix(): p.read_bytes()
             for p in sorted(submission.folder.rglob("*")) if p.is_file()}
    student_dir = submission.folder.parent
    notebooks = {m.name: student_dir / m.name / f"{m.name}.ipynb" for m in earlier}
    return GradingTask(submission.student, submission.module, files, seed, build, submission.timestamp,
                       {name: path.read_bytes() for name, path in notebooks.items() if path.is_file()})


def unpack_task(task: GradingTask, dest: Path) -> Submission:
    """Write the task's files under `dest/<student>/` as they were under submitted/<student>/;
    returns the submission, whose digest is the one the supervisor computed."""
    student_dir = dest / task.student
    for name, notebook in task.earlier.items():
        _write(student_dir / name / f"{name}.ipynb", notebook)
    folder = student_dir / task.module
    for relative, data in task.files.items():
        _write(folder / relative, data)
    folder.mkdir(parents=True, exist_ok=True)
    return Submission(task.student, task.module, folder, task.timestamp)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
