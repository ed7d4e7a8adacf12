"""Which graded cells a variant fails, found by running it the way grading does.

The submission gets the instructor's locked cells back (hidden tests included), runs in a fresh
kernel whose PYTHONPATH holds the reference of the earlier modules only, and a graded cell fails
by nbgrader's rule: an error, or anything written to stderr. Used to fill the catalogue's
constants (`python -m tito.synth --derive`) and by the slow test that keeps them honest.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tito import course
from tito.build.notebooks import to_notebook
from tito.build.partial import partial_reference
from tito.course import Module
from tito.execute import execute_notebook, kernel_env
from tito.source import is_exported, nbgrader_meta
from tito.synth.bugs import BUGS, STUB_PROFILES
from tito.synth.notebook import with_instructor_cells
from tito.synth.variants import submission


@dataclass(frozen=True)
class Derived:
    module: str
    kind: str  # "bug" | "stubs" | "correct"
    name: str  # bug name, stub profile, or "reference"
    failing_cells: tuple[str, ...]  # in notebook order
    detail: dict[str, str]  # grade_id -> why it failed (ename: evalue, or "stderr: ...")


def failing_cells(root: Path, module: Module, *, bug: str | None = None, profile: str | None = None,
                  timeout: int = 60, demos: bool = True) -> Derived:
    """Run the variant and name the graded cells it fails.

    `demos=False` leaves out the code cells that are neither nbgrader cells nor `#| export` cells
    (the narrative's demos and measurements): the authoring rules forbid tests to depend on them,
    and they are most of the run time. `--derive` runs everything, as grading does.
    """
    modules = course.discover(root)
    notebook = with_instructor_cells(submission(module, bug=bug, profile=profile), to_notebook(module))
    if not demos:
        notebook.cells = [c for c in notebook.cells
                          if c.cell_type != "code" or nbgrader_meta(c) or is_exported(c)]
    with tempfile.TemporaryDirectory(prefix="tito-synth-") as tmp:
        reference = partial_reference(root, Path(tmp) / "reference", course.modules_before(modules, module))
        cwd = Path(tmp) / "work"
        cwd.mkdir()
        run = execute_notebook(notebook, cwd=cwd, env=kernel_env([reference]), timeout=timeout)
    failing, detail = [], {}
    for outcome in run.graded:
        if not outcome.passed or outcome.stderr:
            failing.append(outcome.grade_id)
            why = f"{outcome.ename}: {outcome.evalue}" if not outcome.passed else f"stderr: {outcome.stderr}"
            detail[outcome.grade_id] = why.strip().splitlines()[0][:200] if why.strip() else why
    kind = "bug" if bug else "stubs" if profile else "correct"
    return Derived(module.name, kind, bug or profile or "reference", tuple(failing), detail)


def derive_all(root: Path, *, bugs: list[str] | None = None, stubs: bool = True, workers: int = 2,
               demos: bool = True) -> list[Derived]:
    """Derive the catalogue: every bug (or the named ones) and, if `stubs`, every stub profile."""
    modules = {m.name: m for m in course.discover(root)}
    jobs = [(modules[b.module], b.name, None) for b in BUGS if bugs is None or b.name in bugs]
    if stubs:
        jobs += [(m, None, p) for m in modules.values() for p in STUB_PROFILES]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(failing_cells, root, m, bug=b, profile=p, demos=demos) for m, b, p in jobs]
        return [f.result() for f in futures]


def failing_checks(root: Path, module: Module, *, bug: str | None = None, profile: str | None = None) -> tuple[str, ...]:
    """The differential checkpoint scenarios a variant fails, run as grading runs them (sandboxed)."""
    from tito.grade.checks import run_checks
    from tito.grade.sandbox import Sandbox

    notebook = with_instructor_cells(submission(module, bug=bug, profile=profile), to_notebook(module))
    with tempfile.TemporaryDirectory(prefix="tito-synth-checks-") as tmp:
        reference = partial_reference(root, Path(tmp) / "reference", course.modules_before(course.discover(root), module))
        checks, _ = run_checks(module, notebook, sandbox=Sandbox(), scratch=Path(tmp) / "scratch", partial_lib=reference)
    return tuple(c.name for c in checks if not c.passed)


def derive_checks(root: Path, *, workers: int = 2) -> dict[tuple[str, str], tuple[str, ...]]:
    """failing_checks for every bug ("bug", name) and stub profile (module, profile)."""
    modules = {m.name: m for m in course.discover(root)}
    jobs = {("bug", b.name): (modules[b.module], b.name, None) for b in BUGS}
    jobs.update({(m.name, p): (m, None, p) for m in modules.values() for p in STUB_PROFILES})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(failing_checks, root, m, bug=b, profile=p) for key, (m, b, p) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}
