"""The autograder's settings, read from nbgrader_config.py like every other course setting.

Stock nbgrader ignores the `Grading` section; tito reads it through the same loader, so one file
holds the course's limits. The per-cell timeout is nbgrader's own `c.Execute.timeout`: a graded
cell gets the same time under `tito autograde` as under `nbgrader autograde`.

    c.Execute.timeout = 60                 # seconds per cell (nbgrader's setting)
    c.Grading.notebook_timeout = 900       # seconds for a whole notebook
    c.Grading.cases_timeout = 60           # seconds for a submission's cases, import included
    c.Grading.memory_mb = 2048             # address space of the sandbox
    c.Grading.earlier_modules = "published"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from traitlets import Enum, Float, Int, TraitError, Unicode
from traitlets.config import Configurable

from tito.course import CONFIG_FILE
from tito.errors import TitoError
from tito.grade.sandbox import Limits


class Grading(Configurable):
    """`c.Grading.*` in nbgrader_config.py: the sandbox's limits and the grading policy."""

    notebook_timeout = Float(900.0, help="Seconds a whole notebook may run.").tag(config=True)
    cases_timeout = Float(60.0, help="Seconds for a submission's differential cases, import "
                                     "of the student's module included.").tag(config=True)
    memory_mb = Int(2048, help="Address space of the sandbox, in MiB.").tag(config=True)
    cpu_seconds = Int(600, help="CPU seconds of the sandbox (SIGXCPU, then SIGKILL).").tag(config=True)
    processes = Int(64, help="Processes the sandbox's user may run at once.").tag(config=True)
    file_size_mb = Int(64, help="Largest file the sandbox may write, in MiB.").tag(config=True)
    open_files = Int(256, help="Open files per sandboxed process.").tag(config=True)
    output_bytes = Int(2**20, help="Bytes kept of each stream a cell prints.").tag(config=True)
    secret_file = Unicode(".tito/course-secret", help=(
        "The course secret (relative to the course root), created on first use: each "
        "submission's case inputs are drawn from a seed derived from it, so no student can know "
        "them in advance. Keep it out of the student kit; never commit it.")).tag(config=True)
    earlier_modules = Enum(("published", "student"), "published", help=(
        "What stands in for the modules before the one under grade. 'published': their "
        "published reference (c.PublishedReference.modules); grading refuses a module whose "
        "earlier modules are not all published, because an unpublished solution must never "
        "enter a sandbox. 'student': the published reference where there is one, else the "
        "student's own submission of that module.")).tag(config=True)


@dataclass(frozen=True)
class Settings:
    """What grading reads from the config, checked."""

    limits: Limits
    cases_timeout: float
    secret_file: Path
    earlier_modules: str


def load(root: Path) -> Settings:
    """The course's grading settings; a bad value is an error naming the file and the setting."""
    from tito.release.generate import load_config

    config = load_config(root)
    try:
        grading = Grading(config=config)
        cell_timeout = float(config.Execute.get("timeout", 60))
    except (TraitError, TypeError, ValueError) as error:
        raise TitoError(f"{CONFIG_FILE}: {error}") from None
    if cell_timeout <= 0 or grading.notebook_timeout <= 0 or grading.cases_timeout <= 0:
        raise TitoError(f"{CONFIG_FILE}: c.Execute.timeout, c.Grading.notebook_timeout and "
                        "c.Grading.cases_timeout must be positive numbers of seconds")
    limits = Limits(memory_bytes=grading.memory_mb * 2**20, cpu_seconds=grading.cpu_seconds,
                    processes=grading.processes, file_size_bytes=grading.file_size_mb * 2**20,
                    open_files=grading.open_files, cell_timeout=cell_timeout,
                    notebook_timeout=grading.notebook_timeout, output_bytes=grading.output_bytes)
    return Settings(limits=limits, cases_timeout=grading.cases_timeout,
                    secret_file=Path(root) / grading.secret_file, earlier_modules=grading.earlier_modules)
