"""What every submission of a grading run shares: the course, its settings, the sandbox, the
reference process, the secret, and the per-run builds (earlier modules, the release notebooks).

Built once per run by `tito.grade.run`; the stages (`tito.grade.stages`) read it, never write
it, except through the locked builders below.
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path

import nbformat

from tito.build.partial import copy_package_inits, partial_reference
from tito.course import Module, modules_before
from tito.errors import TitoError
from tito.grade import config as grading_config
from tito.grade.oracle import Oracle
from tito.grade.sandbox import Sandbox
from tito.grade.model import Submission
from tito.grade.secret import course_secret, submission_seed

VERSIONED_PACKAGES = ("numpy", "nbgrader", "ipython", "nbformat", "tinytorch-course")


@dataclass
class GradingContext:
    """The shared state of one grading run (see the module docstring).

    `published`: the modules whose reference may stand in for a student's earlier module (the
    config's c.PublishedReference.modules unless the caller says otherwise, as the demo does)."""

    root: Path
    modules: list[Module]
    sandbox: Sandbox
    work: Path = field(default=None)  # scratch area for this run
    settings: grading_config.Settings = field(default=None)
    published: list[Module] | None = None

    def __post_init__(self):
        if self.work is None:
            self.work = Path(tempfile.mkdtemp(prefix="tito-grade-"))
        if self.settings is None:
            self.settings = grading_config.load(self.root)
        if self.published is None:
            from tito.release.published import published_modules

            self.published = published_modules(self.root, self.modules)
        self.oracle = Oracle(self.root)
        self._libs: dict[str, Path] = {}
        self._releases: dict[str, nbformat.NotebookNode] = {}
        # the pool's workers ask for these at the same moment when a run starts: one builds, the
        # others wait (two builders writing one folder left a worker copying truncated files)
        self._lock = threading.Lock()

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name == name)

    @cached_property
    def secret(self) -> bytes:
        return course_secret(self.settings.secret_file)

    def seed(self, submission: Submission) -> int:
        """The seed `submission`'s case inputs are drawn from; computed where the secret is, in the
        supervisor, which hands it to whoever grades (a thread here or a remote worker)."""
        return submission_seed(self.secret, submission.student, submission.module, submission.digest())

    def unpublished_before(self, module: Module) -> list[Module]:
        """The earlier modules with no published reference (what grading `module` would need)."""
        names = {m.name for m in self.published}
        return [m for m in modules_before(self.modules, module) if m.name not in names]

    def refusal(self, module: Module) -> str | None:
        """Why `module` cannot be graded under the course's policy, or None."""
        missing = self.unpublished_before(module)
        if not missing or self.settings.earlier_modules == "student":
            return None
        names = ", ".join(m.name for m in missing)
        return (f"grading {module.name} needs the earlier modules' reference, and {names} "
                f"{'is' if len(missing) == 1 else 'are'} not published (an unpublished solution never "
                f"enters a sandbox): add {'it' if len(missing) == 1 else 'them'} to "
                f"c.PublishedReference.modules in nbgrader_config.py once the deadline has passed, or set "
                f"c.Grading.earlier_modules = 'student' to grade against each student's own earlier work")

    def published_lib(self, module: Module) -> Path:
        """The published reference of the modules before `module` (never its own, never an
        unpublished one), built once per run."""
        with self._lock:
            if module.name not in self._libs:
                names = {m.name for m in self.published}
                earlier = [m for m in modules_before(self.modules, module) if m.name in names]
                dest = self.work / "published" / module.name
                partial_reference(self.root, dest, earlier)
                self._libs[module.name] = dest
            return self._libs[module.name]

    def earlier_lib(self, module: Module, student_dir: Path, dest: Path) -> Path:
        """The package the student's module k runs beside: the published reference (shared by the
        run's submissions: every sandbox gets its own copy of it), plus, when the course grades
        against the student's own earlier work, their own modules where none is published (read
        from `student_dir`, the folder holding the student's module folders, and written to
        `dest`, theirs alone)."""
        missing = self.unpublished_before(module) if self.settings.earlier_modules == "student" else []
        if not missing:
            return self.published_lib(module)
        shutil.copytree(self.published_lib(module), dest, dirs_exist_ok=True)
        for earlier in missing:
            self._student_module(earlier, student_dir, dest)
        return dest

    def _student_module(self, module: Module, student_dir: Path, dest: Path) -> None:
        from tito.build.student_module import student_module_files

        notebook = student_dir / module.name / f"{module.name}.ipynb"
        if not notebook.is_file():
            return  # nothing to stand in: importing it fails, and says which module is missing
        try:
            files = student_module_files(notebook, module)
        except Exception:  # an unreadable earlier notebook is graded (and reported) on its own
            return
        for relative, source in files.items():
            copy_package_inits(self.root, dest, relative)
            (dest / relative).write_text(source, encoding="utf-8")

    def release(self, module: Module) -> nbformat.NotebookNode:
        """The release notebook: the authority on every cell that is not the student's answer.

        It holds the locked tests and the stubs students got, and nothing secret: no solution, no
        hidden test (hidden coverage lives in the spec's hidden cases, outside). So whatever a
        submission lost is put back from what every student has anyway."""
        with self._lock:
            if module.name not in self._releases:
                if not module.release_ipynb.is_file():
                    raise TitoError(f"{module.rel(module.release_ipynb)}: missing; run `make release`")
                self._releases[module.name] = nbformat.read(module.release_ipynb, as_version=4)
            return self._releases[module.name]

    @cached_property
    def versions(self) -> dict[str, str]:
        found = {"python": platform.python_version()}
        for package in VERSIONED_PACKAGES:
            try:
                found[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                pass
        return found

    def cleanup(self) -> None:
        self.oracle.close()
        shutil.rmtree(self.work, ignore_errors=True)
