"""Which graded cells a variant fails, found by running it the way grading does.

Two halves, as grading scores a cell: the notebook (the submission gets the locked cells back,
runs in a fresh kernel whose PYTHONPATH holds the reference of the earlier modules only, and a
graded cell fails by nbgrader's rule: an error, or anything written to stderr) and the module's
cases (run sandboxed on the student's module and compared with the reference, `failing_checks`).
Used to fill each module's `bugs.py` lists (`python -m tito.synth --derive --write [--module M]`)
and by the slow tests that keep them honest.
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
from tito.synth.bugs import STUB_PROFILES, Stubs, bugs_of, read
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


def derive_all(root: Path, *, modules: list[Module] | None = None, bugs: list[str] | None = None,
               stubs: bool = True, workers: int = 2, demos: bool = True) -> list[Derived]:
    """Derive the failing cells of every bug of `modules` (default: the course; or only the named
    bugs) and, if `stubs`, of every stub profile."""
    chosen = modules if modules is not None else course.discover(root)
    jobs = [(m, b.name, None) for m in chosen for b in bugs_of(m) if bugs is None or b.name in bugs]
    if stubs:
        jobs += [(m, None, p) for m in chosen for p in STUB_PROFILES]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(failing_cells, root, m, bug=b, profile=p, demos=demos) for m, b, p in jobs]
        return [f.result() for f in futures]


DERIVE_SEED = 1  # any seed gives the same lists: a spec's cases catch a bug under every seed


def failing_checks(root: Path, module: Module, *, bug: str | None = None, profile: str | None = None,
                   seed: int = DERIVE_SEED) -> tuple[str, ...]:
    """The cases a variant fails, run as grading runs them (sandboxed, compared with the reference)."""
    from tito.grade import config as grading_config
    from tito.grade.checks import run_checks
    from tito.grade.oracle import Oracle
    from tito.grade.sandbox import Sandbox

    notebook = with_instructor_cells(submission(module, bug=bug, profile=profile), to_notebook(module))
    oracle = Oracle(root)
    try:
        with tempfile.TemporaryDirectory(prefix="tito-synth-checks-") as tmp:
            reference = partial_reference(root, Path(tmp) / "reference",
                                          course.modules_before(course.discover(root), module))
            checks, _ = run_checks(module, notebook, sandbox=Sandbox(), scratch=Path(tmp) / "scratch",
                                   timeout=grading_config.load(root).cases_timeout,
                                   partial_lib=reference, oracle=oracle, seed=seed)
    finally:
        oracle.close()
    return tuple(c.name for c in checks if not c.passed)


def derive_checks(root: Path, *, modules: list[Module] | None = None, workers: int = 2,
                  seed: int = DERIVE_SEED) -> dict[tuple[str, str], tuple[str, ...]]:
    """failing_checks for every bug ("bug", name) and stub profile (module, profile) of `modules`
    (default: the course)."""
    chosen = modules if modules is not None else course.discover(root)
    jobs = {("bug", b.name): (m, b.name, None) for m in chosen for b in bugs_of(m)}
    jobs.update({(m.name, p): (m, None, p) for m in chosen for p in STUB_PROFILES})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(failing_checks, root, m, bug=b, profile=p, seed=seed)
                   for key, (m, b, p) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def write_bugs(module: Module, cells: dict[tuple[str, str], tuple[str, ...]],
               checks: dict[tuple[str, str], tuple[str, ...]]) -> Path:
    """Rewrite `module`'s bugs.py with the derived lists: each bug's `failing_cells` and
    `failing_checks`, and each stub profile's. Keys are ("bug", name) or (module, profile), as
    `derive_all` and `derive_checks` give them; the bugs themselves and the docstring stay."""
    import ast
    import dataclasses

    from tito.synth.render import render_bugs_file

    path = module.bugs_py
    current = read(module)
    bugs = [dataclasses.replace(b, failing_cells=cells.get(("bug", b.name), b.failing_cells),
                                failing_checks=checks.get(("bug", b.name), b.failing_checks)) for b in current.bugs]
    stubs = {p: Stubs(cells.get((module.name, p)), checks.get((module.name, p))) for p in STUB_PROFILES}
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) if path.is_file() else None
    path.write_text(render_bugs_file(module.name, bugs, stubs, docstring), encoding="utf-8")
    return path
