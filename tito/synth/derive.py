"""Which graded cells a variant fails, found by running it the way grading does.

Two halves, as grading scores a cell: the notebook (the submission gets the locked cells back,
runs in a fresh kernel whose PYTHONPATH holds the reference of the earlier modules only, and a
graded cell fails by nbgrader's rule: an error, or anything written to stderr) and the module's
cases (run sandboxed on the student's module and compared with the reference, `failing_checks`).
Used to fill the catalogue's constants (`python -m tito.synth --derive --write`) and by the slow
tests that keep them honest.
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


def derive_checks(root: Path, *, workers: int = 2, seed: int = DERIVE_SEED) -> dict[tuple[str, str], tuple[str, ...]]:
    """failing_checks for every bug ("bug", name) and stub profile (module, profile)."""
    modules = {m.name: m for m in course.discover(root)}
    jobs = {("bug", b.name): (modules[b.module], b.name, None) for b in BUGS}
    jobs.update({(m.name, p): (m, None, p) for m in modules.values() for p in STUB_PROFILES})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(failing_checks, root, m, bug=b, profile=p, seed=seed)
                   for key, (m, b, p) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def write_catalogue(path: Path, cells: dict[tuple[str, str], tuple[str, ...]],
                    checks: dict[tuple[str, str], tuple[str, ...]]) -> None:
    """Rewrite the derived lists of `tito/synth/bugs.py` in place: each bug's `failing_cells` and
    `failing_checks`, and the stub profiles' two tables. Keys are ("bug", name) or
    (module, profile), as `derive_all` and `derive_checks` give them; nothing else changes."""
    import re

    text = path.read_text(encoding="utf-8")

    def listing(names: tuple[str, ...], indent: str) -> str:
        return "(\n" + "".join(f"{indent}    {name!r},\n" for name in names) + f"{indent})"

    for (kind, name), failing in cells.items():
        if kind == "bug":
            text = _replace_field(text, name, "failing_cells", listing(failing, " " * 8))
    for (kind, name), failing in checks.items():
        if kind == "bug":
            text = _replace_field(text, name, "failing_checks", listing(failing, " " * 8))
    for table, derived in (("STUB_FAILING_CELLS", cells), ("STUB_FAILING_CHECKS", checks)):
        for (module, profile), failing in derived.items():
            if module == "bug":
                continue
            pattern = re.compile(rf"(^{table}: .*?^    \({module!r}, {profile!r}\): )\((?:\)|\n.*?^    \))", re.S | re.M)
            text, count = pattern.subn(lambda m: m.group(1) + listing(failing, " " * 4), text, count=1)
            if not count:
                raise ValueError(f"{path}: no entry ({module!r}, {profile!r}) in {table}")
    path.write_text(text, encoding="utf-8")


def _replace_field(text: str, bug: str, field_name: str, value: str) -> str:
    import re

    start = text.index(f'Bug(\n        "{bug}",')
    end = text.index("\n    ),\n", start)
    block = text[start:end]
    pattern = re.compile(rf"^        {field_name}=\((?:\)|\n.*?^        \)),", re.S | re.M)
    if not pattern.search(block):
        raise ValueError(f"bug {bug!r} has no {field_name} to rewrite")
    block = pattern.sub(lambda m: f"        {field_name}={value},", block, count=1)
    return text[:start] + block + text[end:]
