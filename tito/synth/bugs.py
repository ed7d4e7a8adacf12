"""The realistic student bugs and stub profiles of the synthetic class, read from each module's
folder (`source/NN_name/bugs.py`), so that a module brings its own.

A bug is a small named edit of one function's solution. It records which graded cells it fails in
the notebook (`failing_cells`) and which cases of the module's spec (`source/NN_name/cases.py`)
disagree with the reference (`failing_checks`). Those lists are not guesses: they are derived by
executing the buggy submission the way grading runs it (the locked cells of the release, the
reference of earlier modules only, nbgrader's rule that an error or any stderr output fails a
cell; the cases sandboxed and compared outside) with
`python -m tito.synth --derive --write [--module NN_name]`, and slow tests derive them again and
compare. Change a source or a spec, re-derive. A cell scores 0 when it is in `failing_cells` or any
of its cases is in `failing_checks`.

A stub profile is a student who wrote only some functions: `first-half` fills the first half of
the module's solution regions (notebook order) and leaves the rest as released; `none` is the
release untouched. What each fails is derived the same way and kept in the module's `STUBS`.

A module without bugs.py has no bugs (its synthetic "bug" students submit correct work) and the
stub students' expectations are left undetermined.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from tito.course import Module
from tito.errors import TitoError

STUB_PROFILES = ("none", "first-half")


@dataclass(frozen=True)
class Bug:
    name: str
    cell: str  # grade_id of the solution cell the edits apply to
    function: str
    description: str
    edits: tuple[tuple[str, str], ...]  # (old, new): each old occurs exactly once in the filled cell
    failing_cells: tuple[str, ...] = ()  # derived by execution, see the module docstring
    failing_checks: tuple[str, ...] | None = None  # case names; None: not derived yet
    module: str = ""  # the module folder it was read from (set when read)

    @property
    def detected(self) -> bool:
        """False for a bug no graded cell notices (it still costs nothing: full score expected)."""
        return bool(self.failing_cells)


@dataclass(frozen=True)
class Stubs:
    """What a stub profile fails in one module (derived, like a bug's lists)."""

    failing_cells: tuple[str, ...] | None = None
    failing_checks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModuleBugs:
    """One module's bugs.py: its bugs and its stub profiles' derived failures."""

    bugs: tuple[Bug, ...] = ()
    stubs: dict[str, Stubs] = dataclasses.field(default_factory=dict)

    def bug(self, name: str) -> Bug | None:
        return next((b for b in self.bugs if b.name == name), None)


@dataclass(frozen=True)
class Catalogue:
    """Every module's bugs, for the tools and tests that look across modules."""

    bugs: tuple[Bug, ...]
    stub_failing_cells: dict[tuple[str, str], tuple[str, ...]]  # (module, profile) -> cells
    stub_failing_checks: dict[tuple[str, str], tuple[str, ...]]  # (module, profile) -> cases

    @property
    def by_name(self) -> dict[str, Bug]:
        return {bug.name: bug for bug in self.bugs}


_READ: dict[tuple[Path, int], ModuleBugs] = {}


def read(module: Module) -> ModuleBugs:
    """The module's bugs.py (nothing if it has none); an unreadable file is an error naming it."""
    path = module.bugs_py
    if not path.is_file():
        return ModuleBugs()
    key = (path.resolve(), path.stat().st_mtime_ns)
    if key not in _READ:
        _READ[key] = _load(module, path)
    return _READ[key]


def _load(module: Module, path: Path) -> ModuleBugs:
    namespace: dict = {"__name__": f"tito_bugs_{module.name}", "__file__": str(path)}
    where = module.rel(path)
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    except Exception as error:  # the author's file: say where it broke
        line = error.lineno if isinstance(error, SyntaxError) else _traceback_line(error, path)
        detail = error.msg if isinstance(error, SyntaxError) else error
        raise TitoError(f"{where}{f':{line}' if line else ''}: {type(error).__name__}: {detail}") from None
    bugs, stubs = namespace.get("BUGS", ()), namespace.get("STUBS", {})
    if not all(isinstance(b, Bug) for b in bugs) or not all(isinstance(s, Stubs) for s in stubs.values()):
        raise TitoError(f"{where}: BUGS must hold Bug(...) entries and STUBS map a profile to Stubs(...)")
    unknown = sorted(set(stubs) - set(STUB_PROFILES))
    if unknown:
        raise TitoError(f"{where}: unknown stub profile(s) {', '.join(unknown)} (known: {', '.join(STUB_PROFILES)})")
    names = [b.name for b in bugs]
    if len(set(names)) != len(names):
        raise TitoError(f"{where}: a bug name is used twice ({', '.join(sorted({n for n in names if names.count(n) > 1}))})")
    return ModuleBugs(tuple(dataclasses.replace(b, module=module.name) for b in bugs), dict(stubs))


def _traceback_line(error: BaseException, path: Path) -> int | None:
    frames = [f for f in _frames(error.__traceback__) if f.tb_frame.f_code.co_filename == str(path)]
    return frames[-1].tb_lineno if frames else None


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def bugs_of(module: Module) -> tuple[Bug, ...]:
    return read(module).bugs


def stubs_of(module: Module, profile: str) -> Stubs:
    return read(module).stubs.get(profile, Stubs())


def catalogue(modules: list[Module]) -> Catalogue:
    """Every module's bugs and stub profiles; a bug name used by two modules is an error (the
    CLI and tests name bugs without their module)."""
    bugs, cells, checks = [], {}, {}
    for module in modules:
        found = read(module)
        bugs += found.bugs
        for profile, stubs in found.stubs.items():
            if stubs.failing_cells is not None:
                cells[(module.name, profile)] = stubs.failing_cells
            if stubs.failing_checks is not None:
                checks[(module.name, profile)] = stubs.failing_checks
    seen: dict[str, str] = {}
    for bug in bugs:
        if bug.name in seen:
            raise TitoError(f"bug {bug.name!r} is in both source/{seen[bug.name]}/bugs.py and source/{bug.module}/bugs.py")
        seen[bug.name] = bug.module
    return Catalogue(tuple(bugs), cells, checks)
